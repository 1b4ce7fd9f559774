// A fixed number of threads working through a list of independent tasks.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace gb {

// Runs fn(0) .. fn(n - 1) on up to `threads` threads (the calling thread is
// one of them) and returns when all have returned. After the first exception
// no further task starts; that exception is rethrown.
template <typename Fn>
void RunParallel(size_t n, int threads, Fn&& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first;
  std::mutex mu;
  auto work = [&] {
    for (size_t i; !failed && (i = next++) < n;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(mu);
        if (!first) first = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  size_t count = std::min<size_t>(static_cast<size_t>(std::max(threads, 1)), n);
  for (size_t t = 1; t < count; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace gb
