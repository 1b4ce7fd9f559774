#include "engine/delta_restore.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "archive/rsync_delta.h"
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

void PwriteAll(int fd, std::span<const uint8_t> d, uint64_t off, const std::string& path) {
  size_t done = 0;
  while (done < d.size()) {
    ssize_t n = Fs().Pwrite(fd, d.data() + done, d.size() - done, static_cast<off_t>(off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ThrowErrno("write " + path);
    done += static_cast<size_t>(n);
  }
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
  if (std::optional<DeltaRecord> d = FindDelta(catalog_.db(), set_id_, seq, path)) {
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
  if (!any_ || !FindDelta(catalog_.db(), set_id_, seq, e.path)) return false;
  Ensure(seq, e.path, e.hash, needed).dests.push_back(e);
  dests_.insert(e.path);
  return true;
}

void DeltaRestore::Built(Version& v) {
  v.state = Version::State::kBuilt;
  if (v.basis) {
    Version& b = versions_.at(*v.basis);
    if (--b.waiting == 0) Drop(b);
  }
  if (v.waiting == 0) Drop(v);
}

void DeltaRestore::Fail(Version& v, const Problem& problem, const std::string& err) {
  v.state = Version::State::kFailed;
  for (const Entry& d : v.dests) problem(d.path, err);
  if (v.basis) {
    Version& b = versions_.at(*v.basis);
    if (--b.waiting == 0) Drop(b);
  }
  Drop(v);
}

void DeltaRestore::WriteFrom(const Version& v, const Entry& dest, DiskWriter& disk,
                             const Problem& problem, const Restored& restored) {
  EntryError err;
  if (!disk.BeginFile(dest, &err)) {
    problem(dest.path, err.message);
    return;
  }
  Fd in = OpenRead(v.scratch);
  Sha256 sha;
  std::vector<uint8_t> buf(1 << 20);
  uint64_t pos = 0;
  try {
    while (size_t n = PreadFull(in.get(), buf.data(), buf.size(), pos, v.scratch)) {
      std::span<const uint8_t> d(buf.data(), n);
      disk.WriteBlock(pos, d);
      sha.Update(d);
      pos += n;
    }
  } catch (...) {
    disk.Remove(dest.path);
    throw;
  }
  bool ok = disk.EndFile(&err);
  if (ok && (pos != dest.size || sha.Final() != dest.hash)) {
    ok = false;
    err.message = "rebuilt, its content does not match the backed-up hash (damaged); file removed";
    disk.Remove(dest.path);
  }
  if (ok)
    restored(dest);
  else
    problem(dest.path, err.message);
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

  if (!is_delta) {
    // A whole version later steps start from; the caller may restore it too.
    v.scratch = ScratchPath();
    Fd fd = CreateScratch(v.scratch);
    Sha256 sha;
    uint64_t pos = 0;
    tar.ReadData([&](uint64_t off, std::span<const uint8_t> d) {
      if (off > pos) sha.UpdateZeros(off - pos);
      sha.Update(d);
      PwriteAll(fd.get(), d, off, v.scratch);
      pos = off + d.size();
    });
    if (pos < m.entry.size) sha.UpdateZeros(m.entry.size - pos);
    if (Fs().Ftruncate(fd.get(), static_cast<off_t>(m.entry.size)) != 0)
      ThrowErrno("truncate " + v.scratch);
    kept_ = v.scratch;
    // On a mismatch the file stays for the caller, who checks its own hash.
    v.state = sha.Final() == v.hash ? Version::State::kBuilt : Version::State::kFailed;
    return Use::kKept;
  }

  Version& basis = versions_.at(*v.basis);
  if (basis.state != Version::State::kBuilt) {
    Fail(v, problem,
         "the version its delta in archive " + archive + " applies to (/" + v.basis->second +
             " in backup " + std::to_string(v.basis->first) +
             " of the set) is damaged or missing; not restored");
    return Use::kConsumed;
  }
  Fd in = OpenRead(basis.scratch);
  if (v.waiting == 0 && v.dests.size() == 1) {
    // The last step of one path's chain streams into the target.
    const Entry& dest = v.dests[0];
    EntryError err;
    if (!disk.BeginFile(dest, &err)) {
      Fail(v, problem, err.message);
      return Use::kConsumed;
    }
    DiskSink sink(disk);
    try {
      RsyncPatchSink patch(in.get(), sink);
      tar.ReadData([&](uint64_t, std::span<const uint8_t> d) { patch.Write(d); });
      patch.Finish();
    } catch (...) {
      disk.Remove(dest.path);  // a damaged archive leaves no half-written file
      throw;
    }
    bool ok = disk.EndFile(&err);
    if (ok && (sink.bytes() != dest.size || sink.sha.Final() != dest.hash)) {
      ok = false;
      err.message = "rebuilt from the deltas up to archive " + archive +
                    ", its content does not match the backed-up hash (damaged); file removed";
      disk.Remove(dest.path);
    }
    if (!ok) {
      Fail(v, problem, err.message);
      return Use::kConsumed;
    }
    restored(dest);
    Built(v);
    return Use::kConsumed;
  }
  v.scratch = ScratchPath();
  Fd out = CreateScratch(v.scratch);
  FdSink file(out.get(), v.scratch);
  HashingSink hashed(&file);
  {
    RsyncPatchSink patch(in.get(), hashed);
    tar.ReadData([&](uint64_t, std::span<const uint8_t> d) { patch.Write(d); });
    patch.Finish();
  }
  if (hashed.digest() != v.hash) {
    Fail(v, problem,
         "rebuilding it with the delta in archive " + archive +
             " gives content that does not match its hash (damaged); not restored");
    return Use::kConsumed;
  }
  for (const Entry& dest : v.dests) WriteFrom(v, dest, disk, problem, restored);
  Built(v);
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
