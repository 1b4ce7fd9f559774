#include "engine/restore.h"

#include <grp.h>
#include <pwd.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "archive/disk_writer.h"
#include "archive/manifest.h"
#include "core/error.h"
#include "core/file.h"
#include "core/sha256.h"
#include "engine/archive_reader.h"
#include "engine/archive_signature.h"
#include "engine/delta_restore.h"
#include "engine/file_reader.h"
#include "engine/ordered_pool.h"
#include "engine/point.h"
#include "engine/restore_writers.h"

namespace gb {
namespace {

class PathFilter {
 public:
  explicit PathFilter(const std::vector<std::string>& paths) {
    for (const auto& p : paths) {
      std::string n = NormaliseFilterPath(p);
      if (n.empty()) {
        all_ = true;
        return;
      }
      paths_.push_back(n);
    }
    all_ = paths_.empty();
  }
  bool Wanted(const std::string& path) const {
    if (all_) return true;
    for (const auto& p : paths_)
      if (path == p ||
          (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/'))
        return true;
    return false;
  }
  // A directory on the way to a wanted path.
  bool Ancestor(const std::string& path) const {
    for (const auto& p : paths_)
      if (p.size() > path.size() && p.compare(0, path.size(), path) == 0 && p[path.size()] == '/')
        return true;
    return false;
  }
  const std::vector<std::string>& paths() const { return paths_; }
  bool all() const { return all_; }

 private:
  std::vector<std::string> paths_;
  bool all_ = false;
};

std::string LocateArchive(Workspace& ws, const RestoreOptions& opts, const std::string& name) {
  if (PathExists(ws.ArchivePath(name))) return ws.ArchivePath(name);
  for (const auto& d : opts.archive_dirs)
    if (PathExists(ChildPath(d, name))) return ChildPath(d, name);
  return "";
}

bool UserKnown(const std::string& name) {
  struct passwd pw, *res = nullptr;
  char buf[4096];
  return ::getpwnam_r(name.c_str(), &pw, buf, sizeof buf, &res) == 0 && res;
}

bool GroupKnown(const std::string& name) {
  struct group gr, *res = nullptr;
  char buf[4096];
  return ::getgrnam_r(name.c_str(), &gr, buf, sizeof buf, &res) == 0 && res;
}

// Reports what libarchive could not apply (xattrs on a file system without
// them, security.* as a user) and the owners the restore could not give back:
// as a user, those of other users; as root, user and group names unknown here
// (restored by the recorded id). One line per cause, not one per file.
void ReportMetadataNotRestored(Catalog& catalog, int64_t set_id, int point_seq,
                               const PathFilter& filter, const DiskWriter& disk,
                               const RestoreOptions& opts, Progress& progress,
                               RestoreResult* result) {
  for (const auto& m : disk.metadata_not_restored()) {
    progress.Notice(JoinPath(disk.target(), m.path), "metadata not restored: " + m.what, true);
    ++result->metadata_not_restored;
  }
  const uid_t me = ::geteuid();
  const bool root = me == 0;
  if (root && opts.numeric_owner) return;
  struct Cause {
    uint64_t count = 0;
    std::string example;
  };
  std::map<std::string, Cause> causes;
  std::map<std::string, bool> known;  // "u:name" / "g:name"
  auto note = [&](const std::string& cause, const std::string& path) {
    Cause& c = causes[cause];
    if (c.count++ == 0) c.example = path;
  };
  auto cur = catalog.State(set_id, point_seq);
  while (cur->Next()) {
    const Entry& e = cur->entry();
    if (!filter.Wanted(e.path)) continue;
    if (!root) {
      if (e.uid != me)
        note(
            "owner not restored: entries of other users are now yours (restoring owners needs "
            "root)",
            e.path);
      continue;
    }
    auto check = [&](bool user, const std::string& name, uint32_t id) {
      if (name.empty()) return;
      auto [it, fresh] = known.try_emplace((user ? "u:" : "g:") + name, false);
      if (fresh) it->second = user ? UserKnown(name) : GroupKnown(name);
      if (!it->second)
        note(std::string(user ? "user " : "group ") + name + " is unknown here: restored as " +
                 (user ? "uid " : "gid ") + std::to_string(id) + " (the recorded id)",
             e.path);
    };
    check(true, e.uname, e.uid);
    check(false, e.gname, e.gid);
  }
  for (const auto& [what, c] : causes) {
    progress.Notice(JoinPath(disk.target(), c.example),
                    what + "; " + std::to_string(c.count) + " entries", true);
    result->metadata_not_restored += c.count;
  }
}

// Regular files up to this size are read whole from the archive and handed to
// the writer threads in batches; larger ones stream to a writer thread as they
// are read. The writers hold at most kWriteAheadBytes of file data and
// kWriteAheadBatches batches.
constexpr uint64_t kHeldFileMax = 1 << 20;
constexpr uint64_t kWriteAheadBytes = 32 << 20;
constexpr size_t kWriteAheadBatches = 64;
constexpr int kWriters = 4;

// Why a file whose data fails its hash check is not restored.
std::string HashMismatch(const std::string& archive) {
  return "content does not match the backed-up hash (archive " + archive +
         " is damaged); file removed";
}

// Calls fn(offset, bytes) over the whole file at `path`, in order.
void ReadFileData(const std::string& path,
                  const std::function<void(uint64_t, std::span<const uint8_t>)>& fn) {
  Fd in = OpenRead(path);
  std::vector<uint8_t> buf(1 << 20);
  uint64_t pos = 0;
  while (size_t n = PreadFull(in.get(), buf.data(), buf.size(), pos, path)) {
    fn(pos, {buf.data(), n});
    pos += n;
  }
}

}  // namespace

std::vector<BackupRecord> NeededArchives(Catalog& catalog, const RestoreOptions& opts) {
  BackupRecord point = ResolvePoint(catalog, opts.at);
  PathFilter filter(opts.paths);
  std::vector<BackupRecord> chain = catalog.BackupsOfSet(point.set_id);
  chain.resize(static_cast<size_t>(point.seq) + 1);
  std::vector<bool> needed(chain.size(), false);
  DeltaRestore deltas(catalog, point.set_id, "");
  bool any = false;
  auto cur = catalog.State(point.set_id, point.seq);
  while (cur->Next()) {
    const Entry& e = cur->entry();
    if (!filter.Wanted(e.path)) continue;
    any = true;
    if (e.type == EntryType::kFile) deltas.Plan(e, cur->data_seq(), &needed);
    if (e.type == EntryType::kFile || e.type == EntryType::kHardlink)
      needed[static_cast<size_t>(cur->data_seq())] = true;
  }
  if (!any) {
    std::string what = filter.all() ? "nothing" : "no path matching";
    for (const auto& p : filter.paths()) what += " /" + p;
    throw Error(Code::kNotFound, "backup " + BackupId(point) + " holds " + what);
  }
  std::vector<BackupRecord> out;
  for (size_t j = 0; j < chain.size(); ++j)
    if (needed[j]) out.push_back(chain[j]);
  return out;
}

RestoreResult RunRestore(Workspace& ws, Progress& progress, const RestoreOptions& opts) {
  Catalog& catalog = ws.catalog();
  RestoreResult result;
  result.point = ResolvePoint(catalog, opts.at);
  const int64_t set_id = result.point.set_id;
  const int point_seq = result.point.seq;
  PathFilter filter(opts.paths);
  std::vector<BackupRecord> chain = catalog.BackupsOfSet(set_id);
  chain.resize(static_cast<size_t>(point_seq) + 1);

  // Pass 1 over the catalog: totals, which archives hold wanted data, links,
  // the directories to make.
  std::vector<bool> needed(chain.size(), false);
  std::vector<Entry> dirs;  // in key order: parents first
  DeltaRestore deltas(catalog, set_id, ws.config().cache_dir);
  std::map<std::pair<int, std::string>, std::vector<Entry>> links;  // (seq, target) -> links
  uint64_t total_files = 0, total_bytes = 0;
  bool any = false;
  {
    auto cur = catalog.State(set_id, point_seq);
    while (cur->Next()) {
      const Entry& e = cur->entry();
      if (e.type == EntryType::kDir && !filter.Wanted(e.path) && filter.Ancestor(e.path))
        dirs.push_back(e);
      if (!filter.Wanted(e.path)) continue;
      any = true;
      if (e.type == EntryType::kDir) {
        dirs.push_back(e);
      } else if (e.type == EntryType::kFile) {
        needed[static_cast<size_t>(cur->data_seq())] = true;
        deltas.Plan(e, cur->data_seq(), &needed);
        ++total_files;
        total_bytes += e.size;
      } else if (e.type == EntryType::kHardlink) {
        needed[static_cast<size_t>(cur->seq())] = true;
        links[{cur->seq(), e.target}].push_back(e);
      }
    }
  }
  if (!any) {
    std::string what = filter.all() ? "nothing" : "no path matching";
    for (const auto& p : filter.paths()) what += " /" + p;
    throw Error(Code::kNotFound, "backup " + BackupId(result.point) + " holds " + what);
  }
  std::string target =
      opts.target_dir.empty() ? "glacier-restore-" + BackupId(result.point) : opts.target_dir;
  result.target_dir = target;
  std::vector<std::string> paths(chain.size());
  for (size_t j = 0; j < chain.size(); ++j) {
    if (!needed[j]) continue;
    paths[j] = LocateArchive(ws, opts, chain[j].name);
    if (paths[j].empty())
      throw Error(Code::kNotFound, "archive " + chain[j].name + " is not in the local cache " +
                                       ws.config().cache_dir +
                                       " (it is in the vault: restore "
                                       "retrieves it when the vault is reachable)");
  }
  // Who wrote them, before a byte of them is read.
  for (size_t j = 0; j < chain.size(); ++j)
    if (needed[j])
      CheckSignatureBeside(ws.config(),
                           SignedThing::Archive(chain[j].name, set_id, chain[j].archive_sha256),
                           paths[j], progress);

  // The key must open the archives before anything is written: a missing or wrong
  // identity leaves no empty tree behind.
  for (size_t j = 0; j < chain.size(); ++j)
    if (needed[j]) ArchiveReader(ws.config(), paths[j]);

  DiskWriter disk(target, opts.overwrite);
  disk.SetMetadataOptions(opts.xattrs, opts.numeric_owner);
  const int threads = ws.config().threads;
  OrderedPool pool(threads > 0 ? std::min(threads, kWriters) : kWriters, kWriteAheadBytes,
                   kWriteAheadBatches);
  RestoreWriters writers(pool, disk);
  auto problem = [&](const std::string& path, const EntryError& err) {
    if (err.exists()) {
      ++result.existing;
      progress.Notice(JoinPath(target, path), "exists; left alone (use --overwrite to replace)",
                      true);
    } else {
      ++result.failed;
      progress.Notice(JoinPath(target, path), err.message, true);
    }
  };
  auto failure = [&](const std::string& path, const std::string& message) {
    problem(path, EntryError{EntryError::Kind::kFailed, message});
  };

  // Directories, parents first. Their metadata lands at Close().
  progress.Phase("restoring", total_files, total_bytes);
  for (const Entry& e : dirs) {
    EntryError err;
    if (disk.Dir(e, &err))
      ++result.dirs;
    else
      problem(e.path, err);
  }
  std::vector<Entry>().swap(dirs);

  // A damaged archive ends the restore. Before it does, every wanted path left
  // unrestored is named (the files of archive j from key `from` on, the later
  // archives' files, the symlinks) and the error says how much was restored.
  auto damaged = [&](size_t j, const std::string& from, bool inclusive, const Error& e) {
    uint64_t left = 0;
    auto cur = catalog.State(set_id, point_seq);
    while (cur->Next()) {
      const Entry& e2 = cur->entry();
      if (!filter.Wanted(e2.path)) continue;
      size_t seq = static_cast<size_t>(cur->seq());
      std::string key = PathKey(e2.path);
      bool data = e2.type == EntryType::kFile || e2.type == EntryType::kHardlink;
      if (!(e2.type == EntryType::kSymlink ||
            (data && (seq > j || (seq == j && (inclusive ? key >= from : key > from))))))
        continue;
      ++left;
      progress.Notice(JoinPath(target, e2.path),
                      "not restored: archive " + chain[j].name + " is damaged", true);
    }
    return Error(e.code(), std::string(e.what()) + "; " + std::to_string(result.files) +
                               " file(s) were restored into " + target + " and verified, the " +
                               std::to_string(left) + " path(s) listed above were not");
  };

  // Pass 2: file data, archive by archive, in lockstep with the catalog.
  uint64_t done_files = 0, done_bytes = 0;
  auto rebuilt = [&](const Entry& e) {
    ++result.files;
    result.bytes += e.size;
    ++done_files;
    done_bytes += e.size;
    progress.Update(done_files, done_bytes);
  };
  for (size_t j = 0; j < chain.size(); ++j) {
    if (!needed[j]) continue;
    const int seq = static_cast<int>(j);
    result.archives_read.push_back(chain[j].name);
    ArchiveReader reader(ws.config(), paths[j]);
    auto cur = catalog.State(set_id, point_seq);
    bool have = cur->Next();
    std::set<std::string> missing;  // wanted data this archive should hold
    // `s`: the backup that holds the entry's data (data_seq).
    auto pass = [&](const Entry& e, int s) {
      if (s == seq && e.type == EntryType::kFile && filter.Wanted(e.path) &&
          !deltas.Handles(e.path))
        missing.insert(e.path);
    };
    TarMember m;
    std::string last_key;  // of the last file member reached
    auto next_member = [&] {
      try {
        return reader.tar().Next(&m);
      } catch (const Error& e) {
        if (e.code() != Code::kCorruption) throw;
        writers.Drain();  // what was read before is reported first
        throw damaged(j, last_key, false, e);
      }
    };
    while (next_member()) {
      const std::string& path = m.entry.path;
      if (deltas.Wants(seq, m)) writers.Drain();  // its files are reported in archive order
      DeltaRestore::Use use =
          deltas.Consume(seq, chain[j].name, m, reader.tar(), disk, failure, rebuilt);
      if (use == DeltaRestore::Use::kConsumed) continue;
      // The member's data: from the tar, or from the copy a chain kept of it.
      auto read_data = [&](const std::function<void(uint64_t, std::span<const uint8_t>)>& fn) {
        if (use == DeltaRestore::Use::kKept)
          ReadFileData(deltas.kept(), fn);
        else
          reader.tar().ReadData(fn);
      };
      if (m.other || m.entry.type != EntryType::kFile || path.rfind(".glacier-backup/", 0) == 0)
        continue;
      last_key = PathKey(path);
      if (!IsSafeRelativePath(path)) {
        result.corrupt = true;
        failure(path, "archive " + chain[j].name + " holds a member with an unsafe path; refused");
        continue;
      }
      std::string key = PathKey(path);
      while (have && PathKey(cur->entry().path) < key) {
        pass(cur->entry(), cur->data_seq());
        have = cur->Next();
      }
      // For a metadata-only entry the data is an earlier archive's, the
      // metadata (mode, owner, xattrs, ACLs) the entry's own.
      bool current = have && cur->entry().path == path && cur->data_seq() == seq &&
                     cur->entry().type == EntryType::kFile;
      Entry meta = current ? cur->entry() : Entry{};
      if (current && have) have = cur->Next();
      auto lit = links.find({seq, path});
      std::vector<Entry> dests;
      if (current && filter.Wanted(path)) dests.push_back(meta);
      if (lit != links.end())
        for (const auto& l : lit->second) dests.push_back(l);
      if (dests.empty()) continue;
      // Hard links carry their target's hash and size, so links whose target
      // is superseded at this point still restore and verify.
      if (!current) meta = dests[0];
      Entry first = dests[0];
      first.type = EntryType::kFile;
      first.size = meta.size;
      if (meta.size <= kHeldFileMax) {
        auto file = std::make_shared<RestoredFile>();
        file->bytes.reserve(meta.size);
        try {
          read_data([&](uint64_t off, std::span<const uint8_t> d) {
            DiskWriter::CheckWithinSize(first, off, d.size());  // before it is held
            file->Hold(off, d);
          });
        } catch (const Error& e) {
          if (e.code() != Code::kCorruption) throw;
          writers.Drain();
          throw damaged(j, PathKey(path), true, e);
        }
        if (meta.has_hash) file->expected = meta.hash;  // checked on the writer thread
        dests[0] = std::move(first);
        file->dests = std::move(dests);
        writers.AddFile(std::move(file), [&, archive = chain[j].name](RestoredFile& file) {
          const Entry& e = file.dests[0];
          if (!file.written) {
            EntryError err = file.err;
            if (file.hash_mismatch) {
              result.corrupt = true;
              err = {EntryError::Kind::kFailed, HashMismatch(archive)};
            }
            problem(e.path, err);
            return;
          }
          disk.FileDone(file.file);
          ++result.files;
          result.bytes += e.size;
          ++done_files;
          done_bytes += e.size;
          progress.Update(done_files, done_bytes);
          for (size_t k = 1; k < file.dests.size(); ++k) {
            if (!file.link_errors[k - 1])
              ++result.hardlinks;
            else
              problem(file.dests[k].path, *file.link_errors[k - 1]);
          }
        });
        continue;
      }
      writers.Drain();  // files before this one are reported first
      EntryError err;
      if (!disk.BeginFile(first, &err)) {
        problem(first.path, err);
        continue;
      }
      Sha256 sha;
      uint64_t pos = 0;
      try {
        read_data([&](uint64_t off, std::span<const uint8_t> d) {
          disk.WriteBlock(off, d);  // first: it refuses data past the recorded size
          if (off > pos) sha.UpdateZeros(off - pos);
          sha.Update(d);
          pos = off + d.size();
          progress.Update(done_files, done_bytes + pos);
        });
      } catch (const Error& e) {
        disk.Remove(first.path);  // a damaged or cut archive leaves no half-written file
        if (e.code() == Code::kCorruption) throw damaged(j, PathKey(path), true, e);
        throw;
      } catch (...) {
        disk.Remove(first.path);
        throw;
      }
      if (pos < meta.size) sha.UpdateZeros(meta.size - pos);
      bool ok = disk.EndFile(&err);
      if (ok && (!meta.has_hash || sha.Final() != meta.hash)) {
        ok = false;
        err.kind = EntryError::Kind::kFailed;
        result.corrupt = true;
        err.message = HashMismatch(chain[j].name);
        disk.Remove(first.path);
      }
      if (!ok) {
        problem(first.path, err);
        continue;
      }
      ++result.files;
      result.bytes += meta.size;
      ++done_files;
      done_bytes += meta.size;
      for (size_t k = 1; k < dests.size(); ++k) {
        if (disk.HardLink(dests[k], first.path, &err))
          ++result.hardlinks;
        else
          problem(dests[k].path, err);
      }
    }
    writers.Drain();
    while (have) {
      pass(cur->entry(), cur->data_seq());
      have = cur->Next();
    }
    result.corrupt |= !missing.empty();
    for (const auto& p : missing)
      failure(p, "archive " + chain[j].name + " holds no data for this file");
  }

  deltas.ReportUnfinished(failure);

  // Last, FIFOs, devices and symlinks (on the writer threads), so nothing is
  // ever written through a restored symlink.
  const bool root = ::geteuid() == 0;
  {
    auto made = [&](const Entry& e, const EntryError* err) {
      if (!err)
        ++result.symlinks;
      else
        problem(e.path, *err);
    };
    auto cur = catalog.State(set_id, point_seq);
    while (cur->Next()) {
      const Entry& e = cur->entry();
      if (!filter.Wanted(e.path)) continue;
      if (e.type == EntryType::kSymlink) {
        writers.AddSymlink(e, made);
        continue;
      }
      bool device = e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice;
      if (!device && e.type != EntryType::kFifo) continue;
      EntryError err;
      if (device && !root)
        failure(e.path, std::string(EntryTypeName(e.type)) + " " + std::to_string(major(e.rdev)) +
                            "," + std::to_string(minor(e.rdev)) +
                            " not restored: creating a device node needs root");
      else if (disk.Special(e, &err))
        ++result.specials;
      else
        problem(e.path, err);
    }
    writers.Drain();
  }
  disk.Close();
  ReportMetadataNotRestored(catalog, set_id, point_seq, filter, disk, opts, progress, &result);
  return result;
}

}  // namespace gb
