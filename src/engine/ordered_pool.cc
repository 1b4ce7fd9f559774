#include "engine/ordered_pool.h"

#include <algorithm>

namespace gb {

OrderedPool::OrderedPool(int threads, uint64_t max_bytes, size_t max_jobs)
    : max_bytes_(max_bytes), max_jobs_(std::max<size_t>(max_jobs, 1)) {
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { Work(); });
}

OrderedPool::~OrderedPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    waiting_.clear();
  }
  work_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void OrderedPool::Work() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return stop_ || !waiting_.empty(); });
    if (waiting_.empty()) return;
    Job* job = waiting_.front();
    waiting_.pop_front();
    lock.unlock();
    try {
      job->run();
    } catch (...) {
      job->failure = std::current_exception();
    }
    job->run = nullptr;  // frees what it held, here and now
    lock.lock();
    job->finished = true;
    running_bytes_ -= job->bytes;
    finished_.notify_one();
  }
}

void OrderedPool::HandBackHead(std::unique_lock<std::mutex>& lock) {
  std::unique_ptr<Job> job = std::move(jobs_.front());
  jobs_.pop_front();
  lock.unlock();
  if (job->failure) std::rethrow_exception(job->failure);
  job->done();
  lock.lock();
}

void OrderedPool::Submit(uint64_t bytes, Run run, Done done) {
  std::unique_lock lock(mu_);
  auto room = [&] {
    return jobs_.empty() || (running_bytes_ + bytes <= max_bytes_ && jobs_.size() < max_jobs_);
  };
  for (;;) {
    if (!jobs_.empty() && jobs_.front()->finished) {
      HandBackHead(lock);
    } else if (room()) {
      break;
    } else {
      finished_.wait(lock);
    }
  }
  auto job = std::make_unique<Job>();
  job->run = std::move(run);
  job->done = std::move(done);
  job->bytes = bytes;
  running_bytes_ += bytes;
  waiting_.push_back(job.get());
  jobs_.push_back(std::move(job));
  work_.notify_one();
}

void OrderedPool::Drain() {
  std::unique_lock lock(mu_);
  while (!jobs_.empty()) {
    finished_.wait(lock, [&] { return jobs_.front()->finished; });
    HandBackHead(lock);
  }
}

}  // namespace gb
