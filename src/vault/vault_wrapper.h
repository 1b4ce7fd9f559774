// VaultWrapper forwards every call to a target Vault (LevelDB's EnvWrapper
// pattern): a wrapper or test double overrides only the calls it changes.
// Wrappers are stacked in one place, OpenVault() in vault_factory.cc.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "vault/vault.h"

namespace gb {

// Where wrappers send their one-line reports (retries, calls, dry-run actions).
using VaultLog = std::function<void(const std::string& line)>;

class VaultWrapper : public Vault {
 public:
  explicit VaultWrapper(std::unique_ptr<Vault> target) : target_(std::move(target)) {}

  Vault& target() const { return *target_; }

  void Create() override { target_->Create(); }
  VaultInfo Describe() override { return target_->Describe(); }
  VaultCapabilities Capabilities() const override { return target_->Capabilities(); }
  UploadResult Upload(RewindableSource& body, const std::string& description) override {
    return target_->Upload(body, description);
  }
  void Delete(const std::string& archive_id) override { target_->Delete(archive_id); }
  std::string StartInventory() override { return target_->StartInventory(); }
  std::string StartRetrieval(const std::string& archive_id, Tier tier,
                             std::optional<ByteRange> range) override {
    return target_->StartRetrieval(archive_id, tier, range);
  }
  JobInfo DescribeJob(const std::string& job_id) override { return target_->DescribeJob(job_id); }
  std::vector<JobInfo> ListJobs() override { return target_->ListJobs(); }
  void ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                     ByteSink& out) override {
    target_->ReadJobOutput(job_id, range, out);
  }

 private:
  std::unique_ptr<Vault> target_;
};

}  // namespace gb
