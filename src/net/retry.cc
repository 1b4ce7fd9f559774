#include "net/retry.h"

#include <algorithm>

namespace gb {

RetryPolicy::RetryPolicy(Clock& clock, RetryOptions options, std::optional<uint64_t> seed)
    : clock_(clock), options_(options), rng_(seed ? *seed : std::random_device{}()) {
  if (options_.max_attempts < 1) throw Error(Code::kInternal, "retry: max_attempts < 1");
}

int64_t RetryPolicy::NextDelay(int retry) {
  int shift = std::clamp(retry - 1, 0, 62);
  int64_t ceiling = options_.max_delay_ns;
  // base * 2^shift, without overflowing past the cap.
  if (options_.base_delay_ns <= (options_.max_delay_ns >> shift))
    ceiling = std::min(ceiling, options_.base_delay_ns << shift);
  if (ceiling <= 0) return 0;
  return std::uniform_int_distribution<int64_t>(0, ceiling)(rng_);
}

void RetryPolicy::RunLoop(const std::function<void()>& attempt) {
  for (int n = 1;; ++n) {
    try {
      attempt();
      return;
    } catch (const Error& e) {
      if (e.code() != Code::kTransient) throw;
      if (n >= options_.max_attempts || (give_up_ && give_up_(n, e))) {
        throw Error(Code::kTransient, std::string(e.what()) + " (gave up after " +
                                          std::to_string(n) +
                                          (n == 1 ? " attempt)" : " attempts)"));
      }
      int64_t delay = NextDelay(n);
      if (on_retry_) on_retry_(n, delay, e);
      clock_.SleepNanos(delay);
    }
  }
}

}  // namespace gb
