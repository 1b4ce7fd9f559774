#include "vault/dry_run_vault.h"

namespace gb {

namespace {

bool IsDryRunJob(const std::string& job_id) {
  return job_id.rfind(DryRunVault::kJobPrefix, 0) == 0;
}

}  // namespace

DryRunVault::DryRunVault(std::unique_ptr<Vault> target, VaultLog report)
    : VaultWrapper(std::move(target)), report_(std::move(report)) {}

void DryRunVault::Report(const std::string& line) {
  if (report_) report_("dry run: " + line);
}

void DryRunVault::Create() { Report("would create the vault"); }

UploadResult DryRunVault::Upload(RewindableSource& body, const std::string& description) {
  ValidateDescription(description);
  UploadResult r;
  r.archive_id = kArchivePrefix + std::to_string(next_++);
  r.size = body.Size();
  Report("would upload " + std::to_string(r.size) + " bytes as \"" + description + "\"");
  return r;
}

void DryRunVault::Delete(const std::string& archive_id) {
  Report("would delete archive " + archive_id);
}

std::string DryRunVault::StartInventory() {
  Report("would start an inventory job");
  return kJobPrefix + std::to_string(next_++);
}

std::string DryRunVault::StartRetrieval(const std::string& archive_id, Tier tier,
                                        std::optional<ByteRange> range) {
  Report("would start a " + std::string(TierName(tier)) + " retrieval of archive " + archive_id +
         " (range " + FormatRange(range) + ")");
  return kJobPrefix + std::to_string(next_++);
}

JobInfo DryRunVault::DescribeJob(const std::string& job_id) {
  if (!IsDryRunJob(job_id)) return VaultWrapper::DescribeJob(job_id);
  JobInfo j;
  j.id = job_id;
  j.status = JobStatus::kFailed;
  j.status_message = "dry run: job not started";
  return j;
}

void DryRunVault::ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                                ByteSink& out) {
  if (IsDryRunJob(job_id)) {
    throw Error(Code::kPermanent, "vault job " + job_id + " was not started (dry run)");
  }
  VaultWrapper::ReadJobOutput(job_id, range, out);
}

}  // namespace gb
