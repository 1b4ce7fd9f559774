// The catalog's record of the cloud half: the local inventory cache (every
// archive we uploaded or saw upstream), uploads in flight, and our vault jobs.
// Every step of a sync is written here before and after it happens, so a run
// killed at any point is finished by the next one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/vault_job.h"

namespace gb {

struct VaultArchive {
  std::string archive_id;
  std::optional<int64_t> set_id;  // nullopt: not ours
  std::string backup_name;        // upload = "each": the backup archive it holds
  std::string description;
  uint64_t size = 0;
  std::string tree_hash;
  int64_t created = 0;
  std::string origin = "here";  // "here" | "upstream"
  std::optional<uint64_t> catalog_offset, catalog_length;
  std::optional<int64_t> deleted_here;
  std::optional<int64_t> last_seen_upstream;
};

struct UploadRecord {
  int64_t id = 0;
  int64_t set_id = 0;
  std::string backup_name;  // empty for a bundle
  std::string token;
  std::string state = "uploading";  // "uploading" | "done"
  std::string description;
  uint64_t size = 0;
  std::string tree_hash;
  int attempts = 0;
  int64_t started = 0;
  std::string archive_id;
};

struct JobRecord {
  std::string job_id;
  JobKind kind = JobKind::kInventory;
  std::string archive_id;
  std::string tier;
  std::optional<uint64_t> range_offset, range_length;
  std::string purpose;
  int64_t started = 0;
  JobRecordStatus status = JobRecordStatus::kInProgress;
  std::optional<int64_t> completed;
  std::string message;
};

// The meta key recording why a set left the catalog before it reached the vault
// (dropped or superseded); `status` shows it.
std::string SetFateKey(int64_t set_id);

class VaultState {
 public:
  explicit VaultState(Catalog& catalog) : c_(catalog), db_(catalog.db()) {}

  std::vector<VaultArchive> Archives(bool include_deleted = false);
  std::optional<VaultArchive> FindArchive(const std::string& archive_id);
  void PutArchive(const VaultArchive& a);  // insert or replace
  void MarkDeleted(const std::string& archive_id, int64_t when);
  void MarkSeen(const std::string& archive_id, int64_t inventory_date);

  std::vector<UploadRecord> Uploads(const std::string& state = "");
  std::optional<UploadRecord> FindUpload(int64_t set_id, const std::string& backup_name);
  int64_t AddUpload(const UploadRecord& u);
  void UpdateUpload(const UploadRecord& u);

  // Every job, or those in `status`; oldest first.
  std::vector<JobRecord> Jobs(std::optional<JobRecordStatus> status = std::nullopt);
  std::optional<JobRecord> FindJob(const std::string& job_id);
  void PutJob(const JobRecord& j);
  void DeleteJob(const std::string& job_id);

  void MarkSetUploaded(int64_t set_id, int64_t when);
  // The set left the vault: its backups can no longer be restored; the catalog
  // forgets its entries and backups but keeps the set row as history.
  void MarkSetPruned(int64_t set_id, int64_t when);

  std::optional<std::string> GetMeta(const std::string& key);
  void SetMeta(const std::string& key, const std::string& value);

  Db& db() { return db_; }

 private:
  Catalog& c_;
  Db& db_;
};

}  // namespace gb
