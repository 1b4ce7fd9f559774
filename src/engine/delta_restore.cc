#include "engine/delta_restore.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "archive/rsync_delta_chain.h"
#include "core/error.h"
#include "core/file_system.h"
#include "core/sha256.h"
#include "engine/delta_backup.h"
#include "engine/file_reader.h"

namespace gb {
namespace {

Fd CreateScratch(const std::string& path) {
  Fd fd(Fs().Open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) ThrowErrno("create " + path);
  return fd;
}

// Streams the rebuilt version into the restore target, hashing it.
class DiskSink : public ByteSink {
 public:
  explicit DiskSink(DiskWriter& disk) : disk_(disk) {}
  void Write(std::span<const uint8_t> d) override {
    disk_.WriteBlock(pos_, d);
    sha.Update(d);
    pos_ += d.size();
  }
  using ByteSink::Write;
  void Finish() override {}
  uint64_t bytes() const { return pos_; }
  Sha256 sha;

 private:
  DiskWriter& disk_;
  uint64_t pos_ = 0;
};

}  // namespace

DeltaRestore::DeltaRestore(Catalog& catalog, int64_t set_id, std::string scratch_dir)
    : catalog_(catalog),
      set_id_(set_id),
      any_(SetHasDeltas(catalog.db(), set_id)),
      deltas_(catalog.db(), set_id),
      scratch_dir_(std::move(scratch_dir)) {}

DeltaRestore::~DeltaRestore() {
  for (auto& [key, v] : versions_) Drop(v);
}

std::string DeltaRestore::ScratchPath() {
  MakeDirs(scratch_dir_, 0700);
  return JoinPath(scratch_dir_, std::string(AtomicFile::kTempPrefix) + "rebuild-" +
                                    std::to_string(::getpid()) + "-" + std::to_string(counter_++));
}

void DeltaRestore::Drop(Version& v) {
  if (!v.scratch.empty()) Fs().Unlink(v.scratch.c_str());
  v.scratch.clear();
}

DeltaRestore::Version& DeltaRestore::Ensure(int seq, const std::string& path, const Digest& hash,
                                            std::vector<bool>* needed) {
  auto [it, fresh] = versions_.try_emplace(Key{seq, path});
  Version& v = it->second;
  if (!fresh) return v;
  v.hash = hash;
  if (static_cast<size_t>(seq) < needed->size()) (*needed)[static_cast<size_t>(seq)] = true;
  if (std::optional<DeltaRecord> d = deltas_.Find(seq, path)) {
    if (!BasisPrecedes(*d))
      throw Error(Code::kCorruption, "catalog: the delta of /" + path + " at backup " +
                                         std::to_string(seq) + " refers forward");
    v.hash = d->hash;
    v.basis = Key{d->basis_seq, d->BasisPath()};
    v.delta = std::move(d);
    Version& basis = Ensure(v.delta->basis_seq, v.delta->BasisPath(), v.delta->basis_hash, needed);
    ++basis.waiting;
  }
  return v;
}

bool DeltaRestore::Plan(const Entry& e, int seq, std::vector<bool>* needed) {
  if (!any_ || !deltas_.Find(seq, e.path)) return false;
  Ensure(seq, e.path, e.hash, needed).dests.push_back(e);
  dests_.insert(e.path);
  return true;
}

void DeltaRestore::Release(Version& v) {
  Drop(v);
  if (!v.basis) return;
  Version& b = versions_.at(*v.basis);
  if (--b.waiting == 0 && b.state != Version::State::kWaiting) Release(b);
}

void DeltaRestore::Fail(Version& v, const Problem& problem, const std::string& err) {
  v.state = Version::State::kFailed;
  for (const Entry& d : v.dests) problem(d.path, err);
  if (v.waiting == 0)
    Release(v);
  else
    Drop(v);  // the versions built on it fail when their members arrive
}

void DeltaRestore::WriteDests(Version& v, DiskWriter& disk, const Problem& problem,
                              const Restored& restored) {
  std::vector<const Version*> steps;  // v, its basis, ..., the whole version
  for (const Version* w = &v;; w = &versions_.at(*w->basis)) {
    steps.push_back(w);
    if (!w->basis) break;
  }
  const Version& base = *steps.back();
  Fd base_fd = OpenRead(base.scratch);
  std::vector<Fd> delta_files;
  std::vector<int> delta_fds;
  RsyncDeltaChain chain(base.size);
  try {
    for (auto it = steps.rbegin() + 1; it != steps.rend(); ++it) {
      const Version& step = **it;
      delta_files.push_back(OpenRead(step.scratch));
      delta_fds.push_back(delta_files.back().get());
      chain.Apply(delta_fds.back(), step.size,
                  "the delta of /" + step.delta->path + " in archive " + step.archive);
    }
  } catch (const Error& e) {
    if (e.code() != Code::kCorruption) throw;
    Fail(v, problem, std::string(e.what()) + "; not restored");
    return;
  }
  const std::string& last = v.archive;
  if (InPlace(v, steps, chain) && disk.CanAdopt(v.dests[0], base.scratch)) {
    // The base's scratch file, patched, becomes the one destination: the
    // version is written once, not copied from the scratch file again.
    const Entry& dest = v.dests[0];
    {
      Fd rw(Fs().Open(base.scratch.c_str(), O_RDWR | O_CLOEXEC));
      if (!rw.valid()) ThrowErrno("open " + base.scratch);
      try {
        chain.PatchBase(rw.get(), delta_fds, base.scratch);
      } catch (const Error& e) {
        if (e.code() != Code::kCorruption) throw;
        Fail(v, problem, std::string(e.what()) + "; not restored");
        return;
      }
    }
    if (HashFile(base.scratch) != dest.hash) {
      problem(dest.path, "rebuilt from the deltas up to archive " + last +
                             ", its content does not match the backed-up hash (damaged); "
                             "not restored");
      return;
    }
    EntryError err;
    switch (disk.AdoptFile(dest, base.scratch, &err)) {
      case DiskWriter::Adopted::kDone:
        restored(dest);
        return;
      case DiskWriter::Adopted::kFailed:
        problem(dest.path, err.message);
        return;
      case DiskWriter::Adopted::kOtherFileSystem:  // moved since CanAdopt
        // Copied below; the base file is the whole version now.
        chain = RsyncDeltaChain(chain.size());
        delta_fds.clear();
        break;
    }
  }
  for (const Entry& dest : v.dests) {
    if (chain.size() != dest.size) {
      problem(dest.path, "rebuilt from the deltas up to archive " + last + ", it would have " +
                             std::to_string(chain.size()) + " bytes, not the " +
                             std::to_string(dest.size) + " backed up (damaged); not restored");
      continue;
    }
    EntryError err;
    if (!disk.BeginFile(dest, &err)) {
      problem(dest.path, err.message);
      continue;
    }
    DiskSink sink(disk);
    try {
      chain.WriteTo(base_fd.get(), delta_fds, sink);
    } catch (const Error& e) {
      disk.Remove(dest.path);  // a failed rebuild leaves no half-written file
      if (e.code() != Code::kCorruption) throw;
      problem(dest.path, std::string(e.what()) + "; not restored");
      continue;
    } catch (...) {
      disk.Remove(dest.path);
      throw;
    }
    bool ok = disk.EndFile(&err);
    if (ok && (sink.bytes() != dest.size || sink.sha.Final() != dest.hash)) {
      ok = false;
      err.message = "rebuilt from the deltas up to archive " + last +
                    ", its content does not match the backed-up hash (damaged); file removed";
      disk.Remove(dest.path);
    }
    if (ok)
      restored(dest);
    else
      problem(dest.path, err.message);
  }
}

bool DeltaRestore::InPlace(const Version& v, const std::vector<const Version*>& steps,
                           const RsyncDeltaChain& chain) const {
  if (v.dests.size() != 1 || v.waiting != 0 || chain.size() != v.dests[0].size) return false;
  for (const Version* w : steps)  // each needed only by the next step
    if (w != &v && (w->waiting != 1 || !w->dests.empty())) return false;
  return chain.BaseStaysInPlace();
}

bool DeltaRestore::Wants(int seq, const TarMember& m) const {
  if (versions_.empty() || m.other || m.entry.type != EntryType::kFile) return false;
  const std::string& name = m.entry.path;
  const std::string prefix = kDeltaMemberPrefix;
  bool is_delta = name.compare(0, prefix.size(), prefix) == 0;
  auto it = versions_.find(Key{seq, is_delta ? name.substr(prefix.size()) : name});
  return it != versions_.end() && is_delta == it->second.delta.has_value() &&
         it->second.state == Version::State::kWaiting;
}

DeltaRestore::Use DeltaRestore::Consume(int seq, const std::string& archive, const TarMember& m,
                                        TarReader& tar, DiskWriter& disk, const Problem& problem,
                                        const Restored& restored) {
  kept_.clear();
  if (!Wants(seq, m)) return Use::kNo;
  const std::string& name = m.entry.path;
  const std::string prefix = kDeltaMemberPrefix;
  bool is_delta = name.compare(0, prefix.size(), prefix) == 0;
  Version& v = versions_.at(Key{seq, is_delta ? name.substr(prefix.size()) : name});

  if (is_delta) {
    const Version& basis = versions_.at(*v.basis);
    if (basis.state != Version::State::kArrived) {
      Fail(v, problem,
           "the version its delta in archive " + archive + " applies to (/" + v.basis->second +
               " in backup " + std::to_string(v.basis->first) +
               " of the set) is damaged or missing; not restored");
      return Use::kConsumed;
    }
  }
  // Kept as stored: the whole version (which the caller may restore too), or
  // the delta, composed when a version built on it is written.
  v.scratch = ScratchPath();
  v.archive = archive;
  Fd fd = CreateScratch(v.scratch);
  Sha256 sha;
  uint64_t pos = 0;
  tar.ReadData([&](uint64_t off, std::span<const uint8_t> d) {
    if (!is_delta) {
      if (off > pos) sha.UpdateZeros(off - pos);
      sha.Update(d);
    }
    PwriteFull(fd.get(), d, off, v.scratch);
    pos = off + d.size();
  });
  if (Fs().Ftruncate(fd.get(), static_cast<off_t>(m.entry.size)) != 0)
    ThrowErrno("truncate " + v.scratch);
  v.size = m.entry.size;
  if (!is_delta) {
    if (pos < m.entry.size) sha.UpdateZeros(m.entry.size - pos);
    kept_ = v.scratch;
    // On a mismatch the file stays for the caller, who checks its own hash.
    v.state = sha.Final() == v.hash ? Version::State::kArrived : Version::State::kFailed;
    return Use::kKept;
  }
  v.state = Version::State::kArrived;
  if (!v.dests.empty()) WriteDests(v, disk, problem, restored);
  if (v.waiting == 0 && v.state == Version::State::kArrived) Release(v);
  return Use::kConsumed;
}

void DeltaRestore::ReportUnfinished(const Problem& problem) {
  for (auto& [key, v] : versions_) {
    if (v.state != Version::State::kWaiting || v.dests.empty()) continue;
    // The earliest step that never arrived.
    Key missing = key;
    const Version* w = &v;
    while (w->basis && versions_.at(*w->basis).state == Version::State::kWaiting) {
      missing = *w->basis;
      w = &versions_.at(missing);
    }
    Fail(v, problem,
         (w->delta ? "the delta of /" + missing.second + " in backup "
                   : "the version /" + missing.second + " its deltas apply to, in backup ") +
             std::to_string(missing.first) + " of the set, is missing; not restored");
  }
}

}  // namespace gb
