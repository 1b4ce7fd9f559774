// LoggingVault reports one line per call to a callback: the call, its main
// arguments, the result or the error code and message, and how long it took.
// It never sees secrets (credentials live in the backends), and it prints only
// the first 100 characters of a description.
#pragma once

#include <memory>
#include <mutex>

#include "core/clock.h"
#include "vault/vault_wrapper.h"

namespace gb {

class LoggingVault : public VaultWrapper {
 public:
  // `log` is called with one line per call, never concurrently.
  LoggingVault(std::unique_ptr<Vault> target, Clock& clock, VaultLog log);

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
  // Runs fn, logs "vault <call> -> <summary(result)> (<seconds>s)" or the error.
  template <typename Fn, typename Summary>
  auto Logged(const std::string& call, Fn&& fn, Summary&& summary) -> decltype(fn());
  void Emit(const std::string& line);

  Clock& clock_;
  VaultLog log_;
  std::mutex mu_;
};

}  // namespace gb
