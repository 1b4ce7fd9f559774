#include "engine/delta_restore.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "archive/rsync_delta.h"
#include "core/error.h"
#include "core/sha256.h"
#include "engine/delta_backup.h"

namespace gb {
namespace {

constexpr size_t kDone = SIZE_MAX;

Fd CreateScratch(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) ThrowErrno("create " + path);
  return fd;
}

void PwriteAll(int fd, std::span<const uint8_t> d, uint64_t off, const std::string& path) {
  size_t done = 0;
  while (done < d.size()) {
    ssize_t n = ::pwrite(fd, d.data() + done, d.size() - done, static_cast<off_t>(off + done));
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

// The chain of deltas that rebuilds `path` as recorded at `seq`, oldest first.
std::vector<DeltaRecord> ChainOf(Catalog& catalog, int64_t set_id, int seq,
                                 const std::string& path) {
  std::vector<DeltaRecord> steps;
  while (auto d = FindDelta(catalog.db(), set_id, seq, path)) {
    if (d->basis_seq >= seq)
      throw Error(Code::kCorruption, "catalog: delta of /" + path + " at backup " +
                                         std::to_string(seq) + " refers forward");
    steps.insert(steps.begin(), *d);
    seq = d->basis_seq;
  }
  return steps;
}

}  // namespace

DeltaRestore::DeltaRestore(Catalog& catalog, int64_t set_id, std::string scratch_dir)
    : catalog_(catalog),
      set_id_(set_id),
      any_(SetHasDeltas(catalog.db(), set_id)),
      scratch_dir_(std::move(scratch_dir)) {}

DeltaRestore::~DeltaRestore() {
  for (auto& [path, c] : chains_)
    if (!c.scratch.empty()) ::unlink(c.scratch.c_str());
}

std::string DeltaRestore::ScratchPath() {
  MakeDirs(scratch_dir_, 0700);
  return JoinPath(scratch_dir_, std::string(AtomicFile::kTempPrefix) + "rebuild-" +
                                    std::to_string(::getpid()) + "-" + std::to_string(counter_++));
}

bool DeltaRestore::Plan(const Entry& e, int seq, std::vector<bool>* needed) {
  if (!any_) return false;
  std::vector<DeltaRecord> steps = ChainOf(catalog_, set_id_, seq, e.path);
  if (steps.empty()) return false;
  (*needed)[static_cast<size_t>(steps[0].basis_seq)] = true;
  for (const DeltaRecord& d : steps) (*needed)[static_cast<size_t>(d.seq)] = true;
  Chain& c = chains_[e.path];
  c.entry = e;
  c.steps = std::move(steps);
  return true;
}

void DeltaRestore::Fail(Chain& c, const Problem& problem, const std::string& err) {
  if (!c.scratch.empty()) ::unlink(c.scratch.c_str());
  c.scratch.clear();
  c.next = kDone;
  problem(c.entry.path, err);
}

bool DeltaRestore::Consume(int seq, const std::string& archive, const TarMember& m, TarReader& tar,
                           DiskWriter& disk, const Problem& problem, const Restored& restored) {
  const std::string& name = m.entry.path;
  const std::string prefix = kDeltaMemberPrefix;
  bool is_delta = name.compare(0, prefix.size(), prefix) == 0;
  auto it = chains_.find(is_delta ? name.substr(prefix.size()) : name);
  if (it == chains_.end() || m.other || m.entry.type != EntryType::kFile) return false;
  Chain& c = it->second;
  if (!is_delta) {
    if (c.started || c.next == kDone || seq != c.steps[0].basis_seq) return false;
    // The whole version the chain starts from.
    c.started = true;
    c.scratch = ScratchPath();
    Fd fd = CreateScratch(c.scratch);
    Sha256 sha;
    uint64_t pos = 0;
    tar.ReadData([&](uint64_t off, std::span<const uint8_t> d) {
      if (off > pos) sha.UpdateZeros(off - pos);
      sha.Update(d);
      PwriteAll(fd.get(), d, off, c.scratch);
      pos = off + d.size();
    });
    if (pos < m.entry.size) sha.UpdateZeros(m.entry.size - pos);
    if (::ftruncate(fd.get(), static_cast<off_t>(m.entry.size)) != 0)
      ThrowErrno("truncate " + c.scratch);
    if (sha.Final() != c.steps[0].basis_hash)
      Fail(
          c, problem,
          "the version in archive " + archive + " does not match its hash (damaged); not restored");
    return true;
  }
  if (c.next == kDone || !c.started || c.steps[c.next].seq != seq) return true;
  const DeltaRecord& step = c.steps[c.next];
  Fd basis = OpenRead(c.scratch);
  if (c.next + 1 < c.steps.size()) {
    std::string out_path = ScratchPath();
    Fd out = CreateScratch(out_path);
    FdSink file(out.get(), out_path);
    HashingSink hashed(&file);
    {
      RsyncPatchSink patch(basis.get(), hashed);
      tar.ReadData([&](uint64_t, std::span<const uint8_t> d) { patch.Write(d); });
      patch.Finish();
    }
    ::unlink(c.scratch.c_str());
    c.scratch = out_path;
    ++c.next;
    if (hashed.digest() != step.hash)
      Fail(c, problem,
           "rebuilding it with the delta in archive " + archive +
               " gives content that does not match its hash (damaged); not restored");
    return true;
  }
  // The last step writes the restored file.
  EntryError err;
  c.next = kDone;
  if (!disk.BeginFile(c.entry, &err)) {
    Fail(c, problem, err.message);
    return true;
  }
  DiskSink sink(disk);
  try {
    RsyncPatchSink patch(basis.get(), sink);
    tar.ReadData([&](uint64_t, std::span<const uint8_t> d) { patch.Write(d); });
    patch.Finish();
  } catch (...) {
    disk.Remove(c.entry.path);  // a damaged archive leaves no half-written file
    throw;
  }
  bool ok = disk.EndFile(&err);
  if (ok && (sink.bytes() != c.entry.size || sink.sha.Final() != c.entry.hash)) {
    ok = false;
    err.message = "rebuilt from the deltas up to archive " + archive +
                  ", its content does not match the backed-up hash (damaged); file removed";
    disk.Remove(c.entry.path);
  }
  ::unlink(c.scratch.c_str());
  c.scratch.clear();
  if (ok)
    restored(c.entry);
  else
    problem(c.entry.path, err.message);
  return true;
}

void DeltaRestore::ReportUnfinished(const Problem& problem) {
  for (auto& [path, c] : chains_) {
    if (c.next == kDone) continue;
    Fail(c, problem,
         c.started ? "a delta of this file is missing from archive " +
                         std::to_string(c.steps[c.next].seq) + " of the set; not restored"
                   : "the whole version its deltas apply to is missing from archive " +
                         std::to_string(c.steps[0].basis_seq) + " of the set; not restored");
  }
}

}  // namespace gb
