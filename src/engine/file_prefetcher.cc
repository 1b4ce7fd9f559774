#include "engine/file_prefetcher.h"

#include <algorithm>

#include "engine/walker.h"

namespace gb {

namespace {

// Entries held in the window at most (each costs a few hundred bytes).
constexpr size_t kMaxWindowEntries = 16384;
// Reads queued for the readers are sorted in batches of at most this many
// (or a quarter of max_bytes); a batch is handed over early when the readers
// have nothing queued, so sorting never leaves a reader idle.
constexpr size_t kMaxBatchEntries = kMaxWindowEntries / 4;

bool NeedsRead(const Entry& e) {
  return e.type == EntryType::kFile && !e.content_unchanged && e.size <= kSmallFile;
}

bool NeedsHint(const Entry& e) {
  return e.type == EntryType::kFile && !e.content_unchanged && e.size > kSmallFile;
}

}  // namespace

FilePrefetcher::FilePrefetcher(EntrySpool& spool, uint64_t max_bytes, int readers, ReadFn read)
    : spool_(spool), max_bytes_(max_bytes), read_(std::move(read)) {
  for (int i = 0; i < std::max(readers, 1); ++i) readers_.emplace_back([this] { Read(); });
  feeder_ = std::thread([this] { Feed(); });
}

FilePrefetcher::~FilePrefetcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  room_.notify_all();
  work_.notify_all();
  feeder_.join();
  for (std::thread& t : readers_) t.join();
}

void FilePrefetcher::Submit(std::vector<Task>* batch) {
  if (batch->empty()) return;
  std::stable_sort(batch->begin(), batch->end(),
                   [](const Task& a, const Task& b) { return a.ino < b.ino; });
  for (Task& t : *batch) tasks_.push_back(std::move(t));
  if (batch->size() == 1)
    work_.notify_one();
  else
    work_.notify_all();
  batch->clear();
}

void FilePrefetcher::Feed() {
  std::vector<Task> batch;
  uint64_t batch_bytes = 0;
  try {
    Entry e;
    while (spool_.Next(&e)) {
      const bool read = NeedsRead(e), hint = NeedsHint(e);
      // A hinted file's first bytes are held in the page cache, not here, but
      // they count too, so hints never push out what is about to be used.
      const uint64_t need = read ? e.size : hint ? kReadahead : 0;
      std::unique_lock lock(mu_);
      auto has_room = [&](uint64_t bytes, size_t entries) {
        return window_.empty() || (reserved_ + need <= bytes && window_.size() < entries);
      };
      if (!has_room(max_bytes_, kMaxWindowEntries)) {
        Submit(&batch);  // what is batched must be read before room can come
        batch_bytes = 0;
        // A full window takes new entries once a quarter of it is free, so
        // they come in batches worth sorting, not one by one.
        room_.wait(
            lock, [&] { return stop_ || has_room(max_bytes_ / 4 * 3, kMaxWindowEntries / 4 * 3); });
      }
      if (stop_) return;
      Slot& s = window_.emplace_back();
      s.reserved = need;
      reserved_ += need;
      s.p.read.outcome = SmallFileRead::Outcome::kLarge;
      s.ready = !read;
      if (read || hint) {
        // Allocated here, where the consumer frees it (see ReadSmallFile).
        std::vector<uint8_t> buffer;
        if (read) buffer.reserve(e.size + 1);
        batch.push_back(
            Task{read ? &s : nullptr, Walker::AbsPath(e.path), e.ino, std::move(buffer)});
        batch_bytes += need;
      }
      s.p.entry = std::move(e);
      if (s.ready) ready_.notify_one();
      if (batch.size() >= kMaxBatchEntries || batch_bytes >= max_bytes_ / 4 || tasks_.empty()) {
        Submit(&batch);
        batch_bytes = 0;
      }
    }
  } catch (...) {
    std::lock_guard lock(mu_);
    failure_ = std::current_exception();
  }
  std::lock_guard lock(mu_);
  Submit(&batch);
  done_ = true;
  ready_.notify_one();
}

void FilePrefetcher::Read() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
    if (stop_) return;
    Task t = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    if (!t.slot) {
      HintReadahead(t.path, 0, kReadahead);
      lock.lock();
      continue;
    }
    // The slot is not ready, so nothing else touches it until it is.
    SmallFileRead r;
    try {
      r = read_(t.path, &t.slot->p.entry, std::move(t.buffer));
    } catch (...) {
      lock.lock();
      if (!failure_) failure_ = std::current_exception();
      ready_.notify_one();
      continue;
    }
    t.slot->p.read = std::move(r);
    lock.lock();
    Slot& s = *t.slot;
    s.ready = true;
    // What the file holds now may differ from what the walk saw.
    reserved_ = reserved_ - s.reserved + s.p.read.data.size();
    s.reserved = s.p.read.data.size();
    if (&s == &window_.front()) ready_.notify_one();
  }
}

bool FilePrefetcher::Next(PrefetchedEntry* out) {
  std::unique_lock lock(mu_);
  ready_.wait(lock, [&] {
    return failure_ || (!window_.empty() && window_.front().ready) || (window_.empty() && done_);
  });
  if (failure_) std::rethrow_exception(failure_);
  if (window_.empty()) return false;
  Slot& s = window_.front();
  *out = std::move(s.p);
  reserved_ -= s.reserved;
  window_.pop_front();
  lock.unlock();
  room_.notify_one();
  return true;
}

}  // namespace gb
