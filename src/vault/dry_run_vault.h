// DryRunVault reads through to its target but performs no mutation: Create,
// Upload, Delete, StartInventory and StartRetrieval are reported (one line each
// to `report`, when given) and skipped. Upload does not read the body; it
// returns archive id "dry-run-N", the body's size and an empty tree hash.
// Start* return job id "dry-run-job-N"; DescribeJob on such an id answers a
// Failed job ("dry run: job not started") so a poller ends, ReadJobOutput a
// kPermanent error. Thread-safe.
#pragma once

#include <atomic>
#include <memory>

#include "vault/vault_wrapper.h"

namespace gb {

class DryRunVault : public VaultWrapper {
 public:
  static constexpr const char* kArchivePrefix = "dry-run-";
  static constexpr const char* kJobPrefix = "dry-run-job-";

  DryRunVault(std::unique_ptr<Vault> target, VaultLog report);

  void Create() override;
  UploadResult Upload(RewindableSource& body, const std::string& description) override;
  void Delete(const std::string& archive_id) override;
  std::string StartInventory() override;
  std::string StartRetrieval(const std::string& archive_id, Tier tier,
                             std::optional<ByteRange> range) override;
  JobInfo DescribeJob(const std::string& job_id) override;
  void ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                     ByteSink& out) override;

 private:
  void Report(const std::string& line);

  VaultLog report_;
  std::atomic<uint64_t> next_{1};
};

}  // namespace gb
