#include "engine/metadata_read_ahead.h"

#include "archive/disk_metadata_reader.h"
#include "engine/walker.h"

namespace gb {
namespace {

// Entries per job: enough to make a job's hand-off small beside its reads
// (a few system calls each), few enough to keep the threads evenly busy.
constexpr size_t kBatch = 64;
// Jobs queued or not yet handed back, at most.
constexpr size_t kJobsAhead = 64;

}  // namespace

MetadataReadAhead::MetadataReadAhead(int threads, Done done)
    : done_(std::move(done)), pool_(threads, UINT64_MAX, kJobsAhead) {}

void MetadataReadAhead::Add(const Entry& e, bool subtree_unknown, bool above_roots) {
  if (!batch_) {
    batch_ = std::make_shared<Batch>();
    batch_->reserve(kBatch);
  }
  batch_->push_back({e, subtree_unknown, above_roots, {}});
  if (batch_->size() == kBatch) Submit();
}

void MetadataReadAhead::Finish() {
  if (batch_) Submit();
  pool_.Drain();
}

void MetadataReadAhead::Submit() {
  std::shared_ptr<Batch> batch = std::move(batch_);
  batch_.reset();
  pool_.Submit(
      0,
      [batch] {
        thread_local DiskMetadataReader reader;  // not thread-safe: one per thread
        for (Walked& w : *batch)
          if (!reader.Read(Walker::AbsPath(w.entry.path), &w.entry, &w.problem) &&
              w.problem.empty())
            w.problem = "cannot read extended attributes or ACLs";
      },
      [this, batch] {
        for (Walked& w : *batch) done_(w);
      });
}

}  // namespace gb
