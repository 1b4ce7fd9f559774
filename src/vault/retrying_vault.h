// RetryingVault retries calls that fail with kTransient, using the project's
// one retry policy (net/retry.h: capped exponential backoff with full jitter,
// sleeping through the Clock seam). Other codes (and JobNotReadyError) pass
// through at once.
//
// Per call: Upload re-sends the whole body (the target rewinds it); note that
// on Glacier a retry after a lost response stores a second archive, which the
// engine's inventory reconciliation later removes. ReadJobOutput resumes after
// the bytes already written to `out`, so the sink never sees a byte twice.
// Start* retries may leave an extra, harmless job behind.
// An endpoint that has never answered (every call so far failed with
// UnreachableError) gets kAttemptsUntilFirstAnswer tries, not max_attempts: a wrong
// endpoint or a machine offline fails in about a second, not after a minute of
// backoff; once anything has answered, a lost connection gets the full budget.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/clock.h"
#include "net/retry.h"
#include "vault/vault_wrapper.h"

namespace gb {

class RetryingVault : public VaultWrapper {
 public:
  // `on_retry` (may be empty) receives one line per retry, e.g.
  // "vault Upload failed (timeout); retry 2 of 7 in 1.4s". Called from the calling thread.
  RetryingVault(std::unique_ptr<Vault> target, Clock& clock, RetryOptions options,
                VaultLog on_retry = {});

  void Create() override;
  VaultInfo Describe() override;
  UploadResult Upload(RewindableSource& body, const std::string& description) override;
  void Delete(const std::string& archive_id) override;
  std::string StartInventory() override;
  std::string StartRetrieval(const std::string& archive_id, Tier tier,
                             std::optional<ByteRange> range) override;
  JobInfo DescribeJob(const std::string& job_id) override;
  std::vector<JobInfo> ListJobs() override;
  void ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                     ByteSink& out) override;

 private:
  template <typename Fn>
  auto Run(const char* op, Fn&& fn) -> decltype(fn());

  static constexpr int kAttemptsUntilFirstAnswer = 3;

  Clock& clock_;
  RetryOptions options_;
  VaultLog on_retry_;
  std::atomic<bool> answered_{false};  // some call reached the server
};

}  // namespace gb
