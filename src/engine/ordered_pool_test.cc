// OrderedPool hands jobs back in the order they were submitted, whatever order
// they finish in, holds no more than it was allowed, and passes a job's
// exception back at that job's place.
#include "engine/ordered_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gb {
namespace {

using std::chrono::milliseconds;

TEST(OrderedPoolTest, JobsFinishingInAnyOrderAreHandedBackInSubmissionOrder) {
  OrderedPool pool(4, 1 << 20, 100);
  std::vector<int> handed_back;
  std::vector<std::thread::id> ran_on(40);
  for (int i = 0; i < 40; ++i)
    pool.Submit(
        1,
        [i, &ran_on] {
          // Earlier jobs of each group of four take longest.
          std::this_thread::sleep_for(milliseconds(4 - i % 4));
          ran_on[static_cast<size_t>(i)] = std::this_thread::get_id();
        },
        [i, &handed_back] { handed_back.push_back(i); });
  pool.Drain();
  ASSERT_EQ(handed_back.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(handed_back[static_cast<size_t>(i)], i);
  for (const auto& id : ran_on) EXPECT_NE(id, std::this_thread::get_id());
}

TEST(OrderedPoolTest, NeverHoldsMoreBytesOrJobsThanAllowed) {
  constexpr int64_t kMaxBytes = 100;
  constexpr size_t kMaxJobs = 6;
  OrderedPool pool(4, kMaxBytes, kMaxJobs);
  std::atomic<int64_t> held{0};  // bytes of jobs whose Run has not returned
  int64_t most_held = 0;
  size_t not_handed_back = 0, most_not_handed_back = 0;
  for (int i = 0; i < 200; ++i) {
    int64_t bytes = 10 + (i % 5) * 10;  // 10..50
    pool.Submit(
        static_cast<uint64_t>(bytes),
        [bytes, &held] {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          held -= bytes;
        },
        [&not_handed_back] { --not_handed_back; });
    most_held = std::max(most_held, held += bytes);
    most_not_handed_back = std::max(most_not_handed_back, ++not_handed_back);
  }
  pool.Drain();
  EXPECT_EQ(not_handed_back, 0u);
  EXPECT_LE(most_held, kMaxBytes);
  EXPECT_LE(most_not_handed_back, kMaxJobs);
  EXPECT_GE(most_not_handed_back, 2u) << "jobs never overlapped";
}

TEST(OrderedPoolTest, AJobsExceptionComesBackAtItsPlace) {
  OrderedPool pool(3, 1 << 20, 100);
  std::vector<int> handed_back;
  auto submit = [&](int i, bool fail) {
    pool.Submit(
        1,
        [i, fail] {
          std::this_thread::sleep_for(milliseconds(i < 5 ? 5 : 0));
          if (fail) throw std::runtime_error("job " + std::to_string(i) + " failed");
        },
        [i, &handed_back] { handed_back.push_back(i); });
  };
  try {
    for (int i = 0; i < 10; ++i) submit(i, i == 5);
    pool.Drain();
    FAIL() << "the failure of job 5 was not passed on";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "job 5 failed");
  }
  EXPECT_EQ(handed_back, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(OrderedPoolTest, DestroyedWithJobsQueuedItDropsThoseNotStarted) {
  std::atomic<bool> release{false};
  std::atomic<int> started{0}, ran{0};
  int handed_back = 0;
  std::thread releaser;
  {
    OrderedPool pool(1, 1 << 20, 100);
    for (int i = 0; i < 20; ++i)
      pool.Submit(
          1,
          [&] {
            ++started;
            while (!release.load()) std::this_thread::sleep_for(milliseconds(1));
            std::this_thread::sleep_for(milliseconds(10));
            ++ran;
          },
          [&handed_back] { ++handed_back; });
    while (started.load() == 0) std::this_thread::yield();
    // The first job is running (and holds the only thread) while the pool goes.
    releaser = std::thread([&release] {
      std::this_thread::sleep_for(milliseconds(100));
      release = true;
    });
  }
  releaser.join();
  EXPECT_GE(ran.load(), 1);
  EXPECT_LT(ran.load(), 20) << "jobs not started were run anyway";
  EXPECT_EQ(ran.load(), started.load()) << "a job was still running after the pool was gone";
  EXPECT_EQ(handed_back, 0) << "a job was handed back by the destructor";
}

}  // namespace
}  // namespace gb
