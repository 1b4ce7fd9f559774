#include "engine/file_prefetcher.h"

#include "engine/walker.h"

namespace gb {

namespace {
constexpr size_t kMaxQueuedEntries = 16384;
}

FilePrefetcher::FilePrefetcher(EntrySpool& spool, uint64_t max_bytes)
    : spool_(spool), max_bytes_(max_bytes), thread_([this] { Run(); }) {}

FilePrefetcher::~FilePrefetcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  room_.notify_all();
  thread_.join();
}

void FilePrefetcher::Run() {
  try {
    PrefetchedEntry p;
    while (spool_.Next(&p.entry)) {
      p.read = SmallFileRead{};
      p.read.outcome = SmallFileRead::Outcome::kLarge;
      if (p.entry.type == EntryType::kFile && !p.entry.content_unchanged &&
          p.entry.size <= kSmallFile)
        p.read = ReadSmallFile(Walker::AbsPath(p.entry.path), &p.entry);
      uint64_t size = p.read.data.size();
      std::unique_lock lock(mu_);
      room_.wait(lock, [&] {
        return stop_ || queue_.empty() ||
               (queued_bytes_ + size <= max_bytes_ && queue_.size() < kMaxQueuedEntries);
      });
      if (stop_) return;
      queued_bytes_ += size;
      queue_.push_back(std::move(p));
      lock.unlock();
      ready_.notify_one();
    }
  } catch (...) {
    std::lock_guard lock(mu_);
    failure_ = std::current_exception();
  }
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  ready_.notify_one();
}

bool FilePrefetcher::Next(PrefetchedEntry* out) {
  std::unique_lock lock(mu_);
  ready_.wait(lock, [&] { return !queue_.empty() || done_; });
  if (queue_.empty()) {
    if (failure_) std::rethrow_exception(failure_);
    return false;
  }
  *out = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= out->read.data.size();
  lock.unlock();
  room_.notify_one();
  return true;
}

}  // namespace gb
