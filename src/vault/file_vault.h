// file:///DIR: a vault in a local directory (an external disk, a NAS mount, or
// tests). Listing is immediate and jobs finish inside the Start* call.
//
// Layout, all written with AtomicFile so a crash or a failed call leaves the
// vault as it was (at worst an unreferenced temporary or data file):
//   DIR/gb-vault.json          marker written by Create(); its absence means "no vault"
//   DIR/archives/ID            the archive's bytes
//   DIR/archives/ID.meta       {"description","created","size","tree_hash"}; written after
//                              the bytes, so an archive exists exactly when its .meta does
//   DIR/jobs/ID.json           job record
//   DIR/jobs/ID.out            job output: a hard link to the archive (or a copy where links
//                              are refused), so a retrieval survives a later Delete(), or the
//                              inventory document
// IDs are 32 random lower-case hex digits. Job records and outputs are removed
// kJobRetentionSeconds after completion, like Glacier's (at least) 24 hours.
#pragma once

#include <string>

#include "core/clock.h"
#include "vault/vault.h"

namespace gb {

class FileVault : public Vault {
 public:
  static constexpr int64_t kJobRetentionSeconds = 7 * 24 * 3600;

  // Does not touch the disk: every call but Create() throws kNotFound while
  // `dir` holds no vault.
  FileVault(std::string dir, Clock& clock);

  void Create() override;
  VaultInfo Describe() override;
  VaultCapabilities Capabilities() const override;
  UploadResult Upload(RewindableSource& body, const std::string& description) override;
  void Delete(const std::string& archive_id) override;
  std::string StartInventory() override;
  std::string StartRetrieval(const std::string& archive_id, Tier tier,
                             std::optional<ByteRange> range) override;
  JobInfo DescribeJob(const std::string& job_id) override;
  std::vector<JobInfo> ListJobs() override;
  void ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                     ByteSink& out) override;

  const std::string& dir() const { return dir_; }

 private:
  struct JobRecord;
  void RequireVault() const;
  std::vector<ArchiveInfo> ListArchives() const;
  ArchiveInfo LoadArchive(const std::string& id) const;
  JobRecord LoadJob(const std::string& job_id) const;
  void SaveJob(const JobRecord& job) const;
  void PurgeExpiredJobs();
  std::string ArchivePath(const std::string& id) const;
  std::string JobPath(const std::string& id, const char* ext) const;

  std::string dir_;
  Clock& clock_;
};

}  // namespace gb
