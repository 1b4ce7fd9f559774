#include "engine/catalog_copy.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "archive/manifest.h"
#include "archive/zstd_stream.h"
#include "catalog/delta_catalog.h"
#include "core/error.h"
#include "core/hex.h"
#include "core/line_reader.h"
#include "core/untrusted_json.h"
#include "engine/archive_name.h"
#include "engine/encryption.h"

namespace gb {

using nlohmann::json;

namespace {

// No archive is anywhere near this; a bigger claim is a forgery, not data.
constexpr uint64_t kMaxArchiveSize = uint64_t{1} << 50;

Error Refused(const std::string& why) { return Error(Code::kCorruption, "catalog copy: " + why); }

bool IsSha256Hex(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// A backup row of a copy is used to build paths and read archives: everything
// about it is checked before it reaches the catalog. `expected_seq` is its place.
void CheckBackup(const BackupRecord& r, int expected_seq) {
  const std::string which =
      "backup " + std::to_string(r.seq) + " of set " + std::to_string(r.set_id);
  std::optional<ArchiveName> an = ArchiveName::ParseFileName(r.name);
  if (!an)
    throw Refused(which + " is named \"" + r.name.substr(0, 100) +
                  "\", which is not an archive name (like 20261127T030700Z-s0004-full" +
                  kArchiveSuffix + "); the copy is forged or damaged and was not used");
  if (an->set_id != r.set_id || an->seq != r.seq || an->time != r.time)
    throw Refused(which + " is named " + r.name +
                  ", which belongs to another backup; the copy is forged or damaged");
  if (r.seq != expected_seq)
    throw Refused("set " + std::to_string(r.set_id) + " lists backup " + std::to_string(r.seq) +
                  " where backup " + std::to_string(expected_seq) + " belongs");
  if (r.archive_size > kMaxArchiveSize)
    throw Refused(which + " claims an archive of " + std::to_string(r.archive_size) + " bytes");
  if (!IsSha256Hex(r.archive_sha256)) throw Refused(which + " has no valid SHA-256");
}

}  // namespace

void WriteCatalogCopy(const Config& config, Catalog& catalog, int64_t set_id, ByteSink& out) {
  auto set = catalog.GetSet(set_id);
  if (!set) throw Error(Code::kNotFound, "no set " + std::to_string(set_id) + " in the catalog");
  std::unique_ptr<ByteSink> enc = NewArchiveEncryptor(config, out);
  ZstdSink z(*enc, 9, 0);
  json head = {{"format", kCatalogCopyFormat},
               {"set", {{"id", set->id}, {"created", set->created}}}};
  if (set->completed) head["set"]["completed"] = *set->completed;
  json backups = json::array();
  for (const BackupRecord& b : catalog.BackupsOfSet(set_id))
    backups.push_back({{"seq", b.seq},
                       {"time", b.time},
                       {"name", b.name},
                       {"archive_size", b.archive_size},
                       {"archive_sha256", b.archive_sha256},
                       {"files", b.files},
                       {"bytes", b.bytes},
                       {"deleted", b.deleted},
                       {"skipped", b.skipped},
                       {"host", b.host}});
  head["backups"] = backups;
  std::string line = head.dump() + "\n";
  z.Write(AsBytes(line));
  for (const BackupRecord& b : catalog.BackupsOfSet(set_id)) {
    auto cur = catalog.EntriesOf(set_id, b.seq);
    while (cur->Next()) {
      line = json{{"seq", b.seq}, {"entry", EntryToJson(cur->entry())}}.dump() + "\n";
      z.Write(AsBytes(line));
    }
  }
  ForEachDelta(catalog.db(), set_id, [&](const DeltaRecord& d) {
    json j{{"seq", d.seq},
           {"basis_seq", d.basis_seq},
           {"basis_sha256", Hex(d.basis_hash)},
           {"sha256", Hex(d.hash)}};
    Entry named;
    named.path = d.path;
    named.type = EntryType::kDeleted;  // only the path, spelt as entries spell it
    j["path"] = EntryToJson(named);
    if (!d.basis_path.empty()) {
      named.path = d.basis_path;
      j["basis_path"] = EntryToJson(named);
    }
    z.Write(AsBytes(json{{"delta", j}}.dump() + "\n"));
  });
  z.Finish();
}

int64_t ReadCatalogCopy(const Config& config, Catalog& catalog, ByteSource& in) {
  std::unique_ptr<ByteSource> plain = NewArchiveDecryptor(config, in);
  ZstdSource z(*plain);
  LineReader lines(z);
  std::string line;
  try {
    if (!lines.Next(&line)) throw Error(Code::kCorruption, "catalog copy: empty");
    json head = ParseUntrustedJson(line);
    if (head.value("format", "") != kCatalogCopyFormat)
      throw Error(Code::kCorruption, "catalog copy: unknown format");
    int64_t set_id = head.at("set").at("id");
    if (set_id <= 0) throw Refused("invalid set number " + std::to_string(set_id));
    Catalog::Writer w(catalog);
    Statement(catalog.db(), "DELETE FROM entries WHERE set_id=?1").Bind(1, set_id).Run();
    Statement(catalog.db(), "DELETE FROM backups WHERE set_id=?1").Bind(1, set_id).Run();
    Statement(catalog.db(), "DELETE FROM deltas WHERE set_id=?1").Bind(1, set_id).Run();
    Statement s(catalog.db(),
                "INSERT OR REPLACE INTO sets(id, created, completed) VALUES(?1, ?2, ?3)");
    s.Bind(1, set_id).Bind(2, head["set"].at("created").get<int64_t>());
    if (head["set"].contains("completed"))
      s.Bind(3, head["set"]["completed"].get<int64_t>());
    else
      s.BindNull(3);
    s.Run();
    int seqs = 0;  // backups are numbered 0, 1, 2... in order
    for (const json& b : head.at("backups")) {
      BackupRecord r;
      r.set_id = set_id;
      r.seq = b.at("seq");
      r.time = b.at("time");
      r.name = b.at("name");
      r.archive_size = b.at("archive_size");
      r.archive_sha256 = b.at("archive_sha256");
      r.files = b.value("files", uint64_t{0});
      r.bytes = b.value("bytes", uint64_t{0});
      r.deleted = b.value("deleted", uint64_t{0});
      r.skipped = b.value("skipped", uint64_t{0});
      r.host = b.value("host", "");
      CheckBackup(r, seqs);
      ++seqs;
      w.AddBackup(r);
    }
    if (seqs == 0) throw Refused("set " + std::to_string(set_id) + " lists no backups");
    // One entry a line, streamed: a copy of millions of rows never sits in memory.
    while (lines.Next(&line)) {
      if (line.empty()) continue;
      json row = ParseUntrustedJson(line);
      if (auto d = row.find("delta"); d != row.end()) {
        DeltaRecord r;
        r.set_id = set_id;
        r.seq = d->at("seq");
        r.path = EntryFromJson(d->at("path")).path;
        r.basis_seq = d->at("basis_seq");
        if (d->contains("basis_path")) r.basis_path = EntryFromJson(d->at("basis_path")).path;
        if (r.basis_path == r.path) r.basis_path.clear();
        if (r.seq < 0 || r.seq >= seqs || r.basis_seq < 0 || !BasisPrecedes(r))
          throw Refused("a delta of backup " + std::to_string(r.seq) + " against backup " +
                        std::to_string(r.basis_seq) + ", which the set does not allow");
        auto basis = Unhex(d->at("basis_sha256").get<std::string>());
        auto hash = Unhex(d->at("sha256").get<std::string>());
        if (!basis || !hash || basis->size() != 32 || hash->size() != 32)
          throw Error(Code::kCorruption, "catalog copy: bad delta hash");
        std::copy(basis->begin(), basis->end(), r.basis_hash.begin());
        std::copy(hash->begin(), hash->end(), r.hash.begin());
        AddDelta(catalog.db(), r);
        continue;
      }
      int seq = row.at("seq").get<int>();
      if (seq < 0 || seq >= seqs)
        throw Refused("an entry of backup " + std::to_string(seq) +
                      ", which the set does not list");
      w.AddEntry(set_id, seq, EntryFromJson(row.at("entry")));
    }
    w.Commit();
    return set_id;
  } catch (const json::exception& e) {
    throw Error(Code::kCorruption, std::string("catalog copy: malformed: ") + e.what());
  }
}

}  // namespace gb
