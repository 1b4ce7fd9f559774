#include "engine/verify.h"

#include <set>

#include "archive/manifest.h"
#include "catalog/delta_catalog.h"
#include "catalog/vault_state.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "engine/archive_reader.h"
#include "engine/archive_signature.h"

namespace gb {
namespace {

// Reads one archive through and compares it with the catalog rows of its backup.
void CheckContents(Workspace& ws, const BackupRecord& b, Progress& progress, VerifyResult& r) {
  const std::string path = ws.ArchivePath(b.name);
  auto report = [&](const std::string& what) {
    ++r.problems;
    progress.Notice(path, what, true);
  };
  ArchiveReader reader(ws.config(), path);
  TarMember m;
  if (!reader.tar().Next(&m) || m.entry.path != kManifestMember) {
    report("first member is not the manifest");
    r.corrupt = true;
    return;
  }
  uint64_t manifest_entries = 0;
  BackupMeta meta =
      ParseManifest(reader.tar().ReadAll(kMaxManifestBytes), [&](Entry&&) { ++manifest_entries; });
  if (meta.name != b.name || meta.set_id != b.set_id || meta.seq != b.seq)
    report("manifest describes " + meta.name + ", not this backup");
  auto cur = ws.catalog().EntriesOf(b.set_id, b.seq);
  DeltaLookup deltas(ws.catalog().db(), b.set_id);
  bool have = cur->Next();
  // Files whose data this archive holds (a metadata-only entry's is earlier).
  auto next_file = [&]() {
    // Entries stored as deltas are checked when restored (their data is a delta member).
    while (have && (cur->entry().type != EntryType::kFile || cur->entry().content_unchanged ||
                    deltas.Find(b.seq, cur->entry().path)))
      have = cur->Next();
  };
  next_file();
  bool saw_checksums = false;
  while (reader.tar().Next(&m)) {
    if (m.entry.path == kChecksumsMember) {
      saw_checksums = true;
      reader.tar().ReadAll(kMaxChecksumsBytes);
      continue;
    }
    if (m.entry.type != EntryType::kFile || m.entry.path.rfind(".glacier-backup/", 0) == 0)
      continue;
    std::string key = PathKey(m.entry.path);
    while (have && PathKey(cur->entry().path) < key) {
      report("no data for " + cur->entry().path);
      have = cur->Next();
      next_file();
    }
    if (!(have && cur->entry().path == m.entry.path)) continue;  // not recorded (skipped)
    ++r.files;
    // Holes are hashed as zeros: only as many as the catalog's size, whatever
    // the member declares (a few KiB may claim a "1 TiB sparse file").
    const uint64_t size = cur->entry().size;
    bool matches = m.entry.size <= size && cur->entry().has_hash;
    if (matches) {
      Sha256 sha;
      uint64_t pos = 0;
      reader.tar().ReadData([&](uint64_t off, std::span<const uint8_t> d) {
        if (off > pos) sha.UpdateZeros(off - pos);
        sha.Update(d);
        pos = off + d.size();
      });
      if (pos < size) sha.UpdateZeros(size - pos);
      matches = sha.Final() == cur->entry().hash;
    }
    if (!matches) {
      report("content of " + m.entry.path + " does not match the catalog");
      r.corrupt = true;
    }
    have = cur->Next();
    next_file();
    progress.Update(r.files, r.bytes);
  }
  while (have) {
    report("no data for " + cur->entry().path);
    have = cur->Next();
    next_file();
  }
  if (!saw_checksums) {
    report("archive ends without its checksums member (truncated?)");
    r.corrupt = true;
  }
}

}  // namespace

VerifyResult RunVerify(Workspace& ws, Progress& progress, const VerifyOptions& opts) {
  VerifyResult r;
  std::vector<BackupRecord> backups = ws.catalog().Backups();
  std::set<int64_t> uploaded_sets;
  for (const SetRecord& s : ws.catalog().Sets())
    if (s.uploaded) uploaded_sets.insert(s.id);
  std::set<std::string> uploaded_archives;
  for (const UploadRecord& u : VaultState(ws.catalog()).Uploads("done"))
    if (!u.backup_name.empty()) uploaded_archives.insert(u.backup_name);
  // Progress counts what is checked: archives, or with --read-data the files inside them.
  uint64_t total = 0, total_bytes = 0;
  for (const BackupRecord& b : backups) {
    if (!PathExists(ws.ArchivePath(b.name))) continue;
    total_bytes += b.archive_size;
    if (!opts.read_data) {
      ++total;
      continue;
    }
    for (auto cur = ws.catalog().EntriesOf(b.set_id, b.seq); cur->Next();)
      if (cur->entry().type == EntryType::kFile) ++total;
  }
  progress.Phase("verifying", total, total_bytes);
  for (const BackupRecord& b : backups) {
    const std::string path = ws.ArchivePath(b.name);
    auto report = [&](const std::string& what) {
      ++r.problems;
      progress.Notice(path, what, true);
    };
    if (!PathExists(path)) {
      if (uploaded_sets.count(b.set_id) || uploaded_archives.count(b.name)) {
        ++r.in_vault_only;  // `verify --vault` checks those
        continue;
      }
      report("archive missing from the local cache (and not uploaded)");
      continue;
    }
    ++r.archives;
    Sha256 sha;
    uint64_t size = 0;
    {
      FileSource f(path);
      std::vector<uint8_t> buf(1 << 20);
      while (size_t n = f.Read(buf)) {
        sha.Update(buf.data(), n);
        size += n;
      }
    }
    r.bytes += size;
    std::string sha256 = Hex(sha.Final());
    if (size != b.archive_size || sha256 != b.archive_sha256) {
      report(size != b.archive_size
                 ? "archive is " + std::to_string(size) + " bytes, " +
                       std::to_string(b.archive_size) + " were written: truncated or replaced"
                 : "archive's SHA-256 is " + sha256 + ", " + b.archive_sha256 +
                       " was written: damaged or replaced");
      r.corrupt = true;
      if (!opts.read_data) continue;
    } else {
      // The bytes are the ones written; were they written by a trusted signer?
      try {
        CheckSignatureBeside(ws.config(), SignedThing::Archive(b.name, b.set_id, b.archive_sha256),
                             path, progress);
      } catch (const Error& e) {
        if (e.code() != Code::kCorruption) throw;
        report(e.what());
        r.corrupt = true;
        continue;
      }
    }
    if (opts.read_data) {
      try {
        CheckContents(ws, b, progress, r);
      } catch (const Error& e) {
        if (e.code() == Code::kNoKey) throw;
        report(e.what());
        if (e.code() == Code::kCorruption) r.corrupt = true;
      }
    }
    progress.Update(opts.read_data ? r.files : r.archives, r.bytes);
  }
  return r;
}

}  // namespace gb
