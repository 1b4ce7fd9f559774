#include "net/retry.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gb {
namespace {

class FakeClock : public Clock {
 public:
  int64_t NowNanos() override { return now; }
  void SleepNanos(int64_t ns) override {
    sleeps.push_back(ns);
    now += ns;
  }
  int64_t now = 0;
  std::vector<int64_t> sleeps;
};

constexpr int64_t kMs = 1'000'000;

TEST(RetryPolicy, RetriesTransientThenSucceeds) {
  FakeClock clock;
  RetryPolicy policy(clock, {}, 42);
  std::vector<int> seen;
  policy.set_on_retry([&](int attempt, int64_t delay, const Error& e) {
    seen.push_back(attempt);
    EXPECT_EQ(e.code(), Code::kTransient);
    EXPECT_GE(delay, 0);
  });
  int calls = 0;
  int result = policy.Run([&] {
    if (++calls < 4) throw Error(Code::kTransient, "reset");
    return 7;
  });
  EXPECT_EQ(result, 7);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(clock.sleeps.size(), 3u);
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  // Full jitter below the doubling ceilings 200, 400, 800 ms.
  for (size_t i = 0; i < clock.sleeps.size(); ++i)
    EXPECT_LE(clock.sleeps[i], (200 * kMs) << i) << i;
}

TEST(RetryPolicy, GivesUpAfterMaxAttempts) {
  FakeClock clock;
  RetryPolicy policy(clock, {.max_attempts = 8}, 1);
  int calls = 0;
  try {
    policy.Run([&] {
      ++calls;
      throw Error(Code::kTransient, "HTTP GET to h failed: timeout");
    });
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kTransient);
    EXPECT_EQ(std::string(e.what()), "HTTP GET to h failed: timeout (gave up after 8 attempts)");
  }
  EXPECT_EQ(calls, 8);
  EXPECT_EQ(clock.sleeps.size(), 7u);
  for (int64_t s : clock.sleeps) EXPECT_LE(s, 20'000 * kMs);
}

TEST(RetryPolicy, PermanentAndOtherErrorsStopAtOnce) {
  FakeClock clock;
  RetryPolicy policy(clock, {}, 1);
  int calls = 0;
  EXPECT_THROW(policy.Run([&] {
    ++calls;
    throw Error(Code::kPermanent, "AccessDenied");
  }),
               Error);
  EXPECT_THROW(policy.Run([&] {
    ++calls;
    throw std::runtime_error("bug");
  }),
               std::runtime_error);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(clock.sleeps.empty());
}

TEST(RetryPolicy, BackoffIsCappedExponentialWithFullJitter) {
  FakeClock clock;
  RetryPolicy policy(clock, {}, 7);
  for (int retry = 1; retry <= 12; ++retry) {
    int64_t ceiling = std::min<int64_t>(20'000 * kMs, (200 * kMs) << (retry - 1));
    int64_t lo = ceiling, hi = 0;
    double sum = 0;
    const int n = 2000;
    for (int i = 0; i < n; ++i) {
      int64_t d = policy.NextDelay(retry);
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
      sum += static_cast<double>(d);
    }
    // Spread over the whole range, mean near the middle.
    EXPECT_LT(lo, ceiling / 20) << retry;
    EXPECT_GT(hi, ceiling - ceiling / 20) << retry;
    EXPECT_NEAR(sum / n / static_cast<double>(ceiling), 0.5, 0.05) << retry;
  }
  EXPECT_LE(policy.NextDelay(1000), 20'000 * kMs);  // no overflow far out
}

TEST(RetryPolicy, SameSeedSameDelays) {
  FakeClock clock;
  RetryPolicy a(clock, {}, 5), b(clock, {}, 5);
  for (int i = 1; i < 10; ++i) EXPECT_EQ(a.NextDelay(i), b.NextDelay(i));
}

}  // namespace
}  // namespace gb
