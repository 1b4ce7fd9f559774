#include "engine/recover_from_archives.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <new>

#include "archive/manifest.h"
#include "catalog/delta_catalog.h"
#include "catalog/vault_state.h"
#include "core/error.h"
#include "core/file.h"
#include "core/file_system.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "engine/archive_reader.h"
#include "engine/archive_signature.h"
#include "engine/delta_backup.h"
#include "engine/point.h"

namespace gb {
namespace {

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

struct FileDigest {
  uint64_t size = 0;
  std::string sha256;
};

// Hashes `from`, and copies it to `to` atomically unless `to` is empty.
FileDigest CopyHashed(const std::string& from, const std::string& to) {
  FileSource src(from);
  std::unique_ptr<AtomicFile> out;
  if (!to.empty()) out = std::make_unique<AtomicFile>(to, 0600);
  HashingSink h(out ? &out->sink() : nullptr);
  Pump(src, h);
  h.Finish();
  if (out) out->Commit();
  return {h.bytes(), Hex(h.digest())};
}

// What one archive says about itself, checked byte by byte.
struct ScannedArchive {
  BackupMeta meta;
  BackupRecord record;
  std::vector<Entry> entries;  // as the catalog records them
  std::vector<DeltaRecord> deltas;
};

class ArchiveImporter {
 public:
  ArchiveImporter(Workspace& ws, Progress& progress, RecoverResult& r)
      : ws_(ws), cfg_(ws.config()), progress_(progress), r_(r) {}

  // Imports every usable archive; returns the sets it added to.
  std::vector<int64_t> Import(const std::vector<ArchiveFile>& files) {
    std::map<int64_t, std::map<int, ArchiveFile>> sets;
    uint64_t total = 0;
    for (const ArchiveFile& f : files) {
      auto [it, inserted] = sets[f.an.set_id].emplace(f.an.seq, f);
      if (!inserted) {
        Problem(f.path, "a second archive for backup " + std::to_string(f.an.seq) + " of set " +
                            std::to_string(f.an.set_id) + " (besides " + it->second.name +
                            "); ignored");
        continue;
      }
      struct stat st;
      if (::stat(f.path.c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_size);
    }
    progress_.Phase("reading archives", files.size(), total);
    std::vector<int64_t> added;
    for (auto it = sets.begin(); it != sets.end(); ++it) {
      // The first backup of a later set closes this one.
      std::optional<int64_t> next_set_time;
      if (auto next = std::next(it); next != sets.end() && !next->second.empty())
        next_set_time = next->second.begin()->second.an.time;
      for (const SetRecord& s : ws_.catalog().Sets())
        if (s.id > it->first && (!next_set_time || s.created < *next_set_time))
          next_set_time = s.created;
      if (ImportSet(it->first, it->second, next_set_time)) added.push_back(it->first);
    }
    return added;
  }

 private:
  void Problem(const std::string& what, const std::string& msg, bool corrupt = false) {
    ++r_.problems;
    r_.corrupt |= corrupt;
    progress_.Notice(what, msg, true);
  }

  bool ImportSet(int64_t set_id, const std::map<int, ArchiveFile>& archives,
                 std::optional<int64_t> next_set_time) {
    const ArchiveFile& first = archives.begin()->second;
    if (ws_.catalog().GetSet(set_id)) {
      Problem(first.path,
              "set " + std::to_string(set_id) +
                  " is already in the catalog; kept it, its archives were not imported");
      return false;
    }
    int expected = 0;
    std::string parent;
    std::optional<int64_t> last_time;
    bool cut = false;
    for (const auto& [seq, file] : archives) {
      if (cut) {
        Problem(file.path, "not imported: an earlier backup of set " + std::to_string(set_id) +
                               " is unusable, so this one cannot be restored" + KeepHint(file));
        continue;
      }
      if (seq != expected) {
        Problem(file.path,
                "backup " + std::to_string(expected) + " of set " + std::to_string(set_id) +
                    " is missing, so this one cannot be restored; not imported" + KeepHint(file));
        cut = true;
        continue;
      }
      std::optional<ScannedArchive> s = Take(file, set_id, seq, parent);
      if (!s) {
        cut = true;
        continue;
      }
      Catalog::Writer w(ws_.catalog());
      if (seq == 0) {
        Statement(ws_.catalog().db(),
                  "INSERT INTO sets(id, created, completed) VALUES(?1, ?2, NULL)")
            .Bind(1, set_id)
            .Bind(2, s->meta.time)
            .Run();
      }
      w.AddBackup(s->record);
      for (const Entry& e : s->entries) w.AddEntry(set_id, seq, e);
      for (DeltaRecord d : s->deltas) {
        d.set_id = set_id;
        d.seq = seq;
        AddDelta(ws_.catalog().db(), d);
      }
      w.Commit();
      r_.restorable.push_back(BackupId(s->record));
      parent = file.name;
      last_time = s->meta.time;
      ++expected;
      progress_.Update(static_cast<uint64_t>(r_.restorable.size()), 0);
    }
    if (expected == 0) return false;
    std::optional<int64_t> completed;
    if (next_set_time)
      completed = std::max(*next_set_time, *last_time);
    else if (expected - 1 >= cfg_.max_incrementals || cut)
      completed = *last_time;
    if (completed) {
      Catalog::Writer w(ws_.catalog());
      w.CompleteSet(set_id, *completed);
      w.Commit();
    }
    return true;
  }

  std::string KeepHint(const ArchiveFile& file) const {
    if (!SameFile(Dirname(file.path), cfg_.cache_dir)) return "";
    return " (the next backup removes it from the cache; move it elsewhere to keep it)";
  }

  // Copies one archive into the cache and reads it through; nullopt (reported)
  // when it cannot be used.
  std::optional<ScannedArchive> Take(const ArchiveFile& file, int64_t set_id, int seq,
                                     const std::string& parent) {
    const std::string cached = ws_.ArchivePath(file.name);
    const bool in_place = SameFile(file.path, cached);
    std::optional<ScannedArchive> s;
    try {
      // Who wrote it, before its name, size or a byte of it is used.
      const std::optional<std::string> signature = ReadSignatureBeside(file.path);
      const SignatureCheck check = CheckSignature(cfg_, SignedThing::Archive(file.name, set_id),
                                                  signature, file.path, progress_);
      if (signature && !in_place) WriteFileAtomic(SignaturePath(cached), *signature, 0600);
      FileDigest d = CopyHashed(file.path, in_place ? "" : cached);
      s = Scan(cached, file.name,
               check == SignatureCheck::kVerified ? UINT64_MAX : UnsignedHoleBudget(d.size));
      if (s) {
        s->record.archive_size = d.size;
        s->record.archive_sha256 = d.sha256;
        const BackupMeta& m = s->meta;
        if (m.name != file.name || m.set_id != set_id || m.seq != seq || m.parent != parent) {
          Problem(file.path, "its manifest describes " + m.name + " (set " +
                                 std::to_string(m.set_id) + ", parent " +
                                 (m.parent.empty() ? "none" : m.parent) +
                                 "), not this file; not imported" + KeepHint(file));
          s.reset();
        }
      }
    } catch (const Error& e) {
      if (e.code() == Code::kNoKey) throw;
      Problem(file.path, std::string(e.what()) + "; not imported" + KeepHint(file),
              e.code() == Code::kCorruption);
      s.reset();
    } catch (const std::bad_alloc&) {
      // Only an archive that claims more than it holds asks for this much.
      Problem(
          file.path,
          "asks for more memory than there is (damaged or forged); not imported" + KeepHint(file),
          true);
      s.reset();
    }
    if (!s && !in_place) {
      Fs().Unlink(cached.c_str());
      Fs().Unlink(SignaturePath(cached).c_str());
    }
    return s;
  }

  // Reads the archive through and turns its manifest into catalog rows.
  std::optional<ScannedArchive> Scan(const std::string& path, const std::string& name,
                                     uint64_t max_hole_bytes) {
    ArchiveContents c = ReadArchiveContents(cfg_, path, max_hole_bytes);
    ScannedArchive s;
    s.meta = c.meta;
    s.deltas = c.deltas;
    for (DeltaRecord& d : s.deltas) {
      d.seq = s.meta.seq;
      if (!BasisPrecedes(d))
        throw Error(Code::kCorruption, path + ": the delta of " + d.path + " refers to backup " +
                                           std::to_string(d.basis_seq) + " of its set, " +
                                           d.BasisPath() + ", which does not precede it");
    }
    std::vector<Entry>& manifest = c.manifest;
    const std::map<std::string, Digest>& checksums = c.checksums;
    BackupRecord& rec = s.record;
    rec.set_id = s.meta.set_id;
    rec.seq = s.meta.seq;
    rec.time = s.meta.time;
    rec.name = name;
    rec.host = s.meta.host;
    // A file is recorded only if its data was stored (it has a checksum); a
    // hard link whose first name was not stored holds the data itself.
    auto as_stored_file = [&](Entry& e, const std::string& data_path) {
      e.hash = checksums.at(data_path);
      e.has_hash = true;
      e.size = c.stored.at(data_path);
      e.changed_while_read = c.changed_while_read.count(data_path) > 0;
    };
    for (Entry& e : manifest) {
      switch (e.type) {
        case EntryType::kDeleted:
          ++rec.deleted;
          break;
        case EntryType::kDir:
        case EntryType::kSymlink:
        case EntryType::kFifo:
        case EntryType::kCharDevice:
        case EntryType::kBlockDevice:
          ++rec.files;
          break;
        case EntryType::kFile:
          if (e.content_unchanged && e.has_hash) {  // its data is in an earlier archive
            ++rec.files;
            break;
          }
          if (!checksums.count(e.path)) {
            ++rec.skipped;
            continue;
          }
          as_stored_file(e, e.path);
          ++rec.files;
          rec.bytes += e.size;
          break;
        case EntryType::kHardlink:
          if (checksums.count(e.path)) {
            e.type = EntryType::kFile;
            e.target.clear();
            as_stored_file(e, e.path);
            rec.bytes += e.size;
          } else if (checksums.count(e.target)) {
            as_stored_file(e, e.target);
          } else {
            ++rec.skipped;
            continue;
          }
          ++rec.files;
          break;
      }
      s.entries.push_back(std::move(e));
    }
    return s;
  }

  Workspace& ws_;
  const Config& cfg_;
  Progress& progress_;
  RecoverResult& r_;
};

}  // namespace

void ClaimCatalog(Workspace& ws, const RecoverOptions& opts, const std::string& how, int64_t now) {
  VaultState vs(ws.catalog());
  if (vs.GetMeta(kRecoverMarker)) return;
  size_t sets = ws.catalog().Sets().size();
  if (sets > 0 && !opts.force)
    throw Error(Code::kInvalidArgument,
                "the catalog " + ws.catalog().path() + " already holds " + std::to_string(sets) +
                    " set(s); recover rebuilds the catalog of a lost machine. Use --force to add "
                    "what is missing (the sets already in the catalog are kept as they are)");
  vs.SetMeta(kRecoverMarker, how + " " + FormatIsoUtc(now));
}

std::vector<std::string> AllBackupIds(Catalog& c) {
  std::vector<std::string> ids;
  for (const BackupRecord& b : c.Backups()) ids.push_back(BackupId(b));
  return ids;
}

std::vector<int64_t> ImportArchiveFiles(Workspace& ws, const std::vector<ArchiveFile>& files,
                                        Progress& progress, RecoverResult& result) {
  return ArchiveImporter(ws, progress, result).Import(files);
}

RecoverResult RecoverFromArchives(Workspace& ws, const std::string& dir, Progress& progress,
                                  Clock& clock, const RecoverOptions& opts) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) throw Error(Code::kNotFound, "no directory " + dir);
    ThrowErrno("open directory " + dir);
  }
  std::vector<ArchiveFile> files;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    const std::string suffix = kArchiveSuffix;
    if (name.size() <= suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    auto an = ArchiveName::Parse(name);
    if (!an) {
      progress.Notice(JoinPath(dir, name), "not named like a glacier-backup archive; ignored",
                      false);
      continue;
    }
    files.push_back({JoinPath(dir, name), name, *an});
  }
  ::closedir(d);
  if (files.empty())
    throw Error(Code::kNotFound,
                "no glacier-backup archives (*" + std::string(kArchiveSuffix) + ") in " + dir);
  ClaimCatalog(ws, opts, "archives", clock.NowSeconds());
  RecoverResult r;
  r.sets_recovered = ImportArchiveFiles(ws, files, progress, r);
  r.restorable = AllBackupIds(ws.catalog());
  r.complete = true;
  r.passes = 1;
  return r;
}

}  // namespace gb
