#include "engine/restore.h"

#include <map>
#include <set>

#include "archive/disk_writer.h"
#include "archive/manifest.h"
#include "core/error.h"
#include "core/file.h"
#include "core/sha256.h"
#include "engine/archive_reader.h"
#include "engine/delta_restore.h"
#include "engine/point.h"

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

bool IsExistsError(const std::string& err) {
  return err.find("exists") != std::string::npos || err.find("Exists") != std::string::npos;
}

std::string LocateArchive(Workspace& ws, const RestoreOptions& opts, const std::string& name) {
  if (PathExists(ws.ArchivePath(name))) return ws.ArchivePath(name);
  for (const auto& d : opts.archive_dirs)
    if (PathExists(JoinPath(d, name))) return JoinPath(d, name);
  return "";
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
    if (e.type == EntryType::kFile) deltas.Plan(e, cur->seq(), &needed);
    if (e.type == EntryType::kFile || e.type == EntryType::kHardlink)
      needed[static_cast<size_t>(cur->seq())] = true;
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

  // Pass 1 over the catalog: totals, which archives hold wanted data, links.
  std::vector<bool> needed(chain.size(), false);
  DeltaRestore deltas(catalog, set_id, ws.config().cache_dir);
  std::map<std::pair<int, std::string>, std::vector<Entry>> links;  // (seq, target) -> links
  uint64_t total_files = 0, total_bytes = 0;
  bool any = false;
  {
    auto cur = catalog.State(set_id, point_seq);
    while (cur->Next()) {
      const Entry& e = cur->entry();
      if (!filter.Wanted(e.path)) continue;
      any = true;
      if (e.type == EntryType::kFile) {
        needed[static_cast<size_t>(cur->seq())] = true;
        deltas.Plan(e, cur->seq(), &needed);
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

  DiskWriter disk(target, opts.overwrite);
  auto problem = [&](const std::string& path, const std::string& err) {
    if (IsExistsError(err)) {
      ++result.existing;
      progress.Notice(JoinPath(target, path), "exists; left alone (use --overwrite to replace)",
                      true);
    } else {
      ++result.failed;
      progress.Notice(JoinPath(target, path), err, true);
    }
  };

  // Pass 2: directories, parents first (key order). Their metadata lands at Close().
  progress.Phase("restoring", total_files, total_bytes);
  {
    auto cur = catalog.State(set_id, point_seq);
    while (cur->Next()) {
      const Entry& e = cur->entry();
      if (e.type != EntryType::kDir || !(filter.Wanted(e.path) || filter.Ancestor(e.path)))
        continue;
      std::string err;
      if (disk.Dir(e, &err))
        ++result.dirs;
      else if (!IsExistsError(err))
        problem(e.path, err);
    }
  }

  // Pass 3: file data, archive by archive, in lockstep with the catalog.
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
    auto pass = [&](const Entry& e, int s) {
      if (s == seq && e.type == EntryType::kFile && filter.Wanted(e.path) &&
          !deltas.Handles(e.path))
        missing.insert(e.path);
    };
    TarMember m;
    while (reader.tar().Next(&m)) {
      const std::string& path = m.entry.path;
      if (deltas.Consume(seq, chain[j].name, m, reader.tar(), disk, problem, rebuilt)) continue;
      if (m.other || m.entry.type != EntryType::kFile || path.rfind(".glacier-backup/", 0) == 0)
        continue;
      if (!IsSafeRelativePath(path)) {
        problem(path, "archive member has an unsafe path; refused");
        continue;
      }
      std::string key = PathKey(path);
      while (have && PathKey(cur->entry().path) < key) {
        pass(cur->entry(), cur->seq());
        have = cur->Next();
      }
      bool current = have && cur->entry().path == path && cur->seq() == seq &&
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
      std::string err;
      if (!disk.BeginFile(first, &err)) {
        problem(first.path, err);
        continue;
      }
      Sha256 sha;
      uint64_t pos = 0;
      try {
        reader.tar().ReadData([&](uint64_t off, std::span<const uint8_t> d) {
          if (off > pos) sha.UpdateZeros(off - pos);
          sha.Update(d);
          disk.WriteBlock(off, d);
          pos = off + d.size();
          progress.Update(done_files, done_bytes + pos);
        });
      } catch (...) {
        disk.Remove(first.path);  // a damaged or cut archive leaves no half-written file
        throw;
      }
      if (pos < meta.size) sha.UpdateZeros(meta.size - pos);
      bool ok = disk.EndFile(&err);
      if (ok && (!meta.has_hash || sha.Final() != meta.hash)) {
        ok = false;
        err = "content does not match the backed-up hash (archive " + chain[j].name +
              " is damaged); file removed";
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
    while (have) {
      pass(cur->entry(), cur->seq());
      have = cur->Next();
    }
    for (const auto& p : missing)
      problem(p, "archive " + chain[j].name + " holds no data for this file");
  }

  deltas.ReportUnfinished(problem);

  // Pass 4: symlinks last, so nothing is ever written through one.
  {
    auto cur = catalog.State(set_id, point_seq);
    while (cur->Next()) {
      const Entry& e = cur->entry();
      if (e.type != EntryType::kSymlink || !filter.Wanted(e.path)) continue;
      std::string err;
      if (disk.Symlink(e, &err))
        ++result.symlinks;
      else
        problem(e.path, err);
    }
  }
  disk.Close();
  return result;
}

}  // namespace gb
