#include "vault/retrying_vault.h"

#include <cstdio>
#include <type_traits>

#include "net/http_client.h"

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
      on_retry_(std::move(on_retry)) {}

// One RetryPolicy per call: the policy's jitter generator is not thread-safe.
template <typename Fn>
auto RetryingVault::Run(const char* op, Fn&& fn) -> decltype(fn()) {
  RetryPolicy policy(clock_, options_);
  if (on_retry_) {
    policy.set_on_retry([&](int attempt, int64_t delay_ns, const Error& e) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "; retry %d of %d in %.1fs", attempt,
                    options_.max_attempts - 1, delay_ns / 1e9);
      on_retry_(std::string("vault ") + op + " failed (" + e.what() + ")" + buf);
    });
  }
  policy.set_give_up([this](int attempts, const Error&) {
    return !answered_ && attempts >= kAttemptsUntilFirstAnswer;
  });
  auto call = [&] {
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        answered_ = true;
      } else {
        auto result = fn();
        answered_ = true;
        return result;
      }
    } catch (const UnreachableError&) {
      throw;
    } catch (const Error&) {
      answered_ = true;  // a server said no: it is there
      throw;
    }
  };
  return policy.Run(call);
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
