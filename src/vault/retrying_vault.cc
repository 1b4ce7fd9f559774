#include "vault/retrying_vault.h"

#include <algorithm>
#include <cstdio>

namespace gb {

namespace {

// Forwards to `next`, counting what passed.
class CountingSink : public ByteSink {
 public:
  explicit CountingSink(ByteSink& next) : next_(next) {}
  void Write(std::span<const uint8_t> data) override {
    next_.Write(data);
    bytes += data.size();
  }
  using ByteSink::Write;
  void Finish() override {}
  uint64_t bytes = 0;

 private:
  ByteSink& next_;
};

}  // namespace

RetryingVault::RetryingVault(std::unique_ptr<Vault> target, Clock& clock, RetryOptions options,
                             VaultLog on_retry)
    : VaultWrapper(std::move(target)),
      clock_(clock),
      options_(options),
      on_retry_(std::move(on_retry)),
      rng_(std::random_device{}()) {}

// Exponential backoff capped at max_delay_ms, with "equal jitter": half the
// delay fixed, half random, so concurrent clients spread out but never hammer.
int64_t RetryingVault::DelayMillis(int retry) {
  int64_t delay = options_.initial_delay_ms;
  for (int i = 1; i < retry && delay < options_.max_delay_ms; ++i) delay *= 2;
  delay = std::min(delay, options_.max_delay_ms);
  std::lock_guard lock(rng_mu_);
  return delay / 2 + static_cast<int64_t>(rng_() % static_cast<uint64_t>(delay / 2 + 1));
}

template <typename Fn>
auto RetryingVault::Run(const char* op, Fn&& fn) -> decltype(fn()) {
  for (int attempt = 1;; ++attempt) {
    try {
      return fn();
    } catch (const Error& e) {
      if (e.code() != Code::kTransient) throw;
      if (attempt >= options_.max_attempts) {
        if (options_.max_attempts <= 1) throw;
        throw Error(Code::kTransient, std::string(e.what()) + " (gave up after " +
                                          std::to_string(attempt) + " attempts)");
      }
      int64_t delay = DelayMillis(attempt);
      if (on_retry_) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "; retry %d of %d in %.1fs", attempt,
                      options_.max_attempts - 1, delay / 1000.0);
        on_retry_(std::string("vault ") + op + " failed (" + e.what() + ")" + buf);
      }
      clock_.SleepNanos(delay * 1000000);
    }
  }
}

void RetryingVault::Create() {
  Run("Create", [&] { VaultWrapper::Create(); });
}

VaultInfo RetryingVault::Describe() {
  return Run("Describe", [&] { return VaultWrapper::Describe(); });
}

UploadResult RetryingVault::Upload(RewindableSource& body, const std::string& description) {
  return Run("Upload", [&] { return VaultWrapper::Upload(body, description); });
}

void RetryingVault::Delete(const std::string& archive_id) {
  Run("Delete", [&] { VaultWrapper::Delete(archive_id); });
}

std::string RetryingVault::StartInventory() {
  return Run("StartInventory", [&] { return VaultWrapper::StartInventory(); });
}

std::string RetryingVault::StartRetrieval(const std::string& archive_id, Tier tier,
                                          std::optional<ByteRange> range) {
  return Run("StartRetrieval",
             [&] { return VaultWrapper::StartRetrieval(archive_id, tier, range); });
}

JobInfo RetryingVault::DescribeJob(const std::string& job_id) {
  return Run("DescribeJob", [&] { return VaultWrapper::DescribeJob(job_id); });
}

std::vector<JobInfo> RetryingVault::ListJobs() {
  return Run("ListJobs", [&] { return VaultWrapper::ListJobs(); });
}

void RetryingVault::ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                                  ByteSink& out) {
  CountingSink counted(out);
  Run("ReadJobOutput", [&] {
    uint64_t done = counted.bytes;
    std::optional<ByteRange> rest = range;
    if (done > 0) {
      ByteRange r = range.value_or(ByteRange{});
      if (r.length != ByteRange::kToEnd) {
        if (done >= r.length) return;  // everything arrived before the failure
        r.length -= done;
      }
      r.offset += done;
      rest = r;
    }
    VaultWrapper::ReadJobOutput(job_id, rest, counted);
  });
}

}  // namespace gb
