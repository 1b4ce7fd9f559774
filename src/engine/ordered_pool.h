// Runs jobs on a few threads of its own while the thread that submits them
// goes on, and hands each job back to that thread in the order the jobs were
// submitted: jobs may finish in any order, what is done with their results
// afterwards happens in submission order. What is held is bounded: at most
// `max_bytes` (as the jobs declare them) of jobs not yet run to the end, and
// at most `max_jobs` jobs not yet handed back.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace gb {

class OrderedPool {
 public:
  // Runs on a pool thread. What it captures is released there, as soon as it returns.
  using Run = std::function<void()>;
  // Runs on the submitting thread, after its job's Run, in submission order.
  using Done = std::function<void()>;

  OrderedPool(int threads, uint64_t max_bytes, size_t max_jobs);
  // Waits for the jobs running; the jobs not started are dropped, and no
  // Done is called.
  ~OrderedPool();
  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;

  // Queues a job holding `bytes`. Before it returns, finished jobs at the
  // head are handed back (their Done called), waiting for them while there is
  // no room for this one. A Run that threw is handed back by rethrowing its
  // exception (from Submit or Drain) instead of calling its Done.
  // REQUIRES: Submit and Drain are called from one thread.
  void Submit(uint64_t bytes, Run run, Done done);
  // Waits for every job submitted and hands each back, in order.
  void Drain();

 private:
  struct Job {
    Run run;
    Done done;
    uint64_t bytes = 0;
    bool finished = false;
    std::exception_ptr failure;
  };
  void Work();
  // Hands back the job at the head: calls its Done or rethrows its failure.
  // REQUIRES: lock holds mu_ and the head job is finished; it is unlocked meanwhile.
  void HandBackHead(std::unique_lock<std::mutex>& lock);

  const uint64_t max_bytes_;
  const size_t max_jobs_;
  std::mutex mu_;
  std::condition_variable work_, finished_;
  std::deque<std::unique_ptr<Job>> jobs_;  // submitted, not handed back; in order
  std::deque<Job*> waiting_;               // not started yet
  uint64_t running_bytes_ = 0;             // of jobs not finished
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gb
