// The one retry policy: capped exponential backoff with full jitter, sleeping
// through gb::Clock so tests can run it on a fake clock.
//
// A callable signals "worth another try" by throwing gb::Error with
// Code::kTransient (HttpClient does for network failures; AwsError does for
// throttling and 5xx). Any other exception ends the run at once.
// Repeating an operation must be harmless or detectable: a retried Glacier
// UploadArchive after a lost response stores a second archive, which
// RetryingVault accepts because every upload carries a unique token in its
// description and sync finds and deletes such duplicates (see README).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <type_traits>
#include <utility>

#include "core/clock.h"
#include "core/error.h"

namespace gb {

struct RetryOptions {
  int max_attempts = 8;                   // total tries, the first included; >= 1
  int64_t base_delay_ns = 200'000'000;    // 200 ms
  int64_t max_delay_ns = 20'000'000'000;  // 20 s
};

class RetryPolicy {
 public:
  // Called before each sleep: the attempt that failed (1-based), the delay
  // chosen, and the error. For progress reporting; must not throw.
  using OnRetry = std::function<void(int attempt, int64_t delay_ns, const Error& error)>;

  // `seed` fixes the jitter sequence (tests); nullopt seeds from the system.
  explicit RetryPolicy(Clock& clock, RetryOptions options = {},
                       std::optional<uint64_t> seed = std::nullopt);

  void set_on_retry(OnRetry on_retry) { on_retry_ = std::move(on_retry); }
  // Asked after each transient failure (attempts so far, the error): true ends the
  // run there, as if max_attempts were reached. Must not throw.
  using GiveUp = std::function<bool(int attempts, const Error& error)>;
  void set_give_up(GiveUp give_up) { give_up_ = std::move(give_up); }
  const RetryOptions& options() const { return options_; }

  // Runs `fn` until it returns, throws anything but a kTransient gb::Error
  // (rethrown unchanged), or has failed transiently max_attempts times; then
  // throws kTransient with the last message and "(gave up after N attempts)".
  template <typename F>
  auto Run(F&& fn) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_void_v<R>) {
      RunLoop([&] { fn(); });
    } else {
      std::optional<R> result;
      RunLoop([&] { result.emplace(fn()); });
      return std::move(*result);
    }
  }

  // The sleep before retry number `retry` (1 for the first retry): uniform in
  // [0, min(max_delay, base_delay * 2^(retry-1))].
  int64_t NextDelay(int retry);

 private:
  void RunLoop(const std::function<void()>& attempt);

  Clock& clock_;
  RetryOptions options_;
  std::mt19937_64 rng_;
  OnRetry on_retry_;
  GiveUp give_up_;
};

}  // namespace gb
