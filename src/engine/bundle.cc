#include "engine/bundle.h"

#include <nlohmann/json.hpp>

#include "archive/ustar.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"
#include "core/untrusted_json.h"
#include "engine/archive_name.h"
#include "engine/archive_signature.h"
#include "engine/catalog_copy.h"

namespace gb {

using nlohmann::json;

std::string CatalogCopyPath(const Workspace& ws, int64_t set_id) {
  return ws.ArchivePath("s" + std::to_string(set_id) + ".catalog.zst.age");
}

// Signs what has no signature yet (written before signatures; its SHA-256 is
// checked first), then checks the signature as a reader would before upload.
static void SignAndCheck(const Workspace& ws, const ArchiveSigner& signer, const std::string& path,
                         const SignedThing& what) {
  if (!PathExists(SignaturePath(path))) signer.SignFile(path, what);
  Progress quiet;
  CheckSignatureBeside(ws.config(), what, path, quiet);
}

static std::string MemberPrefix(int64_t set_id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "glacier-backup-s%04lld/", static_cast<long long>(set_id));
  return buf;
}

UploadItem PrepareBundle(Workspace& ws, int64_t set_id) {
  UploadItem item;
  item.set_id = set_id;
  item.source = std::make_unique<ConcatSource>();
  std::vector<BackupRecord> backups = ws.catalog().BackupsOfSet(set_id);
  if (backups.empty()) throw Error(Code::kInternal, "set without backups");
  item.first_time = backups.front().time;
  item.last_time = backups.back().time;
  item.backups = static_cast<int>(backups.size());
  std::string copy = CatalogCopyPath(ws, set_id);
  if (!PathExists(copy)) {
    AtomicFile f(copy, 0600);
    WriteCatalogCopy(ws.config(), ws.catalog(), set_id, f.sink());
    f.Commit();
  }
  const std::optional<ArchiveSigner> signer = ArchiveSigner::Load(ws.config());
  item.is_signed = signer.has_value();
  auto sign_and_check = [&](const std::string& path, const SignedThing& what) {
    if (signer) SignAndCheck(ws, *signer, path, what);
  };
  std::string prefix = MemberPrefix(set_id);
  ConcatSource& src = *item.source;
  // The signature member: one header and one block (kSignatureMemberSize).
  auto add_signature = [&](const std::string& path, const std::string& member, int64_t time) {
    if (!signer) return;
    std::string sig = SignaturePath(path);
    uint64_t size = FileSource(sig).Size();
    if (size > kMaxSignatureSize) throw Error(Code::kCorruption, sig + ": not a signature");
    src.AddBytes(UstarFileHeader(member + kSignatureSuffix, size, time));
    src.AddFile(sig, size);
    src.AddZeros(UstarPadding(size));
  };
  sign_and_check(copy, SignedThing::CatalogCopy(set_id));
  uint64_t copy_size = FileSource(copy).Size();
  src.AddBytes(UstarFileHeader(prefix + "catalog.json.zst.age", copy_size, item.last_time));
  item.catalog_offset = src.Size();
  item.catalog_length = copy_size;
  src.AddFile(copy, copy_size);
  src.AddZeros(UstarPadding(copy_size));
  add_signature(copy, prefix + "catalog.json.zst.age", item.last_time);
  for (const BackupRecord& b : backups) {
    std::string path = ws.ArchivePath(b.name);
    if (!PathExists(path))
      throw Error(Code::kNotFound, "archive " + path + " of set " + std::to_string(set_id) +
                                       " is missing from the cache; it cannot be uploaded");
    sign_and_check(path, SignedThing::Archive(b.name, set_id, b.archive_sha256));
    src.AddBytes(UstarFileHeader(prefix + b.name, b.archive_size, b.time));
    src.AddFile(path, b.archive_size);
    src.AddZeros(UstarPadding(b.archive_size));
    add_signature(path, prefix + b.name, b.time);
  }
  src.AddZeros(kUstarTrailer);
  return item;
}

UploadItem PrepareSingle(Workspace& ws, const BackupRecord& b) {
  UploadItem item;
  item.set_id = b.set_id;
  item.backup_name = b.name;
  item.first_time = item.last_time = b.time;
  item.backups = 1;
  item.source = std::make_unique<ConcatSource>();
  const std::string path = ws.ArchivePath(b.name);
  item.source->AddFile(path, b.archive_size);
  if (const std::optional<ArchiveSigner> signer = ArchiveSigner::Load(ws.config())) {
    SignAndCheck(ws, *signer, path, SignedThing::Archive(b.name, b.set_id, b.archive_sha256));
    // The signature after the archive, padded to one block.
    std::string sig = ReadFileToString(SignaturePath(path));
    sig.resize(kMaxSignatureSize, '\0');
    item.source->AddBytes(Bytes(sig.begin(), sig.end()));
    item.is_signed = true;
  }
  return item;
}

std::string DescribeUpload(const UploadItem& item, const std::string& host,
                           const std::string& token) {
  json j = {{"tool", kDescriptionTool},
            {"format", item.is_signed ? kSignedDescriptionFormat : kDescriptionFormat},
            {"kind", item.backup_name.empty() ? "bundle" : "archive"},
            {"host", host.substr(0, 64)},
            {"set", item.set_id},
            {"first", FormatIsoUtc(item.first_time)},
            {"last", FormatIsoUtc(item.last_time)},
            {"backups", item.backups},
            {"token", token}};
  if (item.backup_name.empty())
    j["catalog"] = {item.catalog_offset, item.catalog_length};
  else
    j["name"] = item.backup_name;
  // ensure_ascii keeps the description printable ASCII whatever the host name.
  std::string d = j.dump(-1, ' ', true);
  if (d.size() > 1024) throw Error(Code::kInternal, "archive description too long");
  return d;
}

std::optional<ParsedDescription> ParseDescription(const std::string& description) {
  try {
    json j = ParseUntrustedJson(description);
    if (!j.is_object() || j.value("tool", "") != kDescriptionTool) return std::nullopt;
    ParsedDescription p;
    p.format = j.value("format", kDescriptionFormat);
    p.kind = j.value("kind", "");
    p.host = j.value("host", "");
    p.token = j.value("token", "");
    p.set_id = j.at("set");
    p.backup_name = j.value("name", "");
    if (auto t = ParseUtc(j.value("first", ""))) p.first_time = *t;
    if (auto t = ParseUtc(j.value("last", ""))) p.last_time = *t;
    if (j.contains("catalog") && j["catalog"].is_array() && j["catalog"].size() == 2) {
      p.catalog_offset = j["catalog"][0].get<uint64_t>();
      p.catalog_length = j["catalog"][1].get<uint64_t>();
    }
    // Checked here, where it enters: a name is an archive name of its set, a
    // range does not wrap around. Anything else is not a description of ours.
    if (p.set_id <= 0 || (p.kind != "bundle" && p.kind != "archive")) return std::nullopt;
    if (p.kind == "archive") {
      std::optional<ArchiveName> an = ArchiveName::ParseFileName(p.backup_name);
      if (!an || an->set_id != p.set_id) return std::nullopt;
    } else if (!p.backup_name.empty()) {
      return std::nullopt;
    }
    if (p.catalog_offset && *p.catalog_length > UINT64_MAX - *p.catalog_offset) return std::nullopt;
    return p;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

int64_t PlausibleCreationTime(int64_t claimed, int64_t date) {
  constexpr int64_t kFirstPlausible = 1136073600;  // 2006-01-01T00:00:00Z
  // Clocks differ: an upload seconds after the listing began may carry a later time.
  constexpr int64_t kClockSkew = 86400;
  if (claimed < kFirstPlausible || claimed > date + kClockSkew) return date;
  return claimed;
}

VaultArchive UpstreamArchive(const ArchiveInfo& listed,
                             const std::optional<ParsedDescription>& description, int64_t date) {
  VaultArchive v;
  v.archive_id = listed.id;
  v.description = listed.description;
  v.size = listed.size;
  v.tree_hash = listed.tree_hash;
  v.created = PlausibleCreationTime(listed.created, date);
  v.origin = "upstream";
  v.last_seen_upstream = date;
  if (const auto& d = description) {
    v.set_id = d->set_id;
    v.backup_name = d->backup_name;
    v.catalog_offset = d->catalog_offset;
    v.catalog_length = d->catalog_length;
  }
  return v;
}

}  // namespace gb
