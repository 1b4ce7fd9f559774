// s3://BUCKET/PREFIX: a vault in an S3 bucket (or an S3-compatible store),
// archives stored as objects in a chosen storage class. Listing is immediate;
// retrievals of GLACIER / DEEP_ARCHIVE objects are restores that take hours.
//
// Layout and ids:
//   PREFIX/<id>   one object per archive, <id> = the first 32 hex digits of
//                 SHA-256(description). The archive id is <id> (the key
//                 relative to PREFIX). With a host (hosts sharing a bucket,
//                 s3_namespace.h) the object is PREFIX/HOST/<id> and the
//                 archive id HOST/<id>; listings show that host's folder and the
//                 archives stored directly under PREFIX before hosts had folders
//                 (or every host's with list_fleet), and Delete refuses an
//                 archive in another host's folder.
//   metadata      x-amz-meta-description: the description, base64url without
//                 padding (URL-safe, at most 1366 characters, inside S3's 2 KB
//                 metadata limit for any valid description; absent when empty);
//                 x-amz-meta-tree-hash: the hex tree hash of the bytes (an
//                 object without it is not an archive of ours).
// Deriving the key from the description makes Upload idempotent: the engine
// puts a unique token in every description, so a retried upload (after a lost
// response, or a crash) overwrites the same object instead of storing (and
// paying 90-180 days for) a duplicate. Uploading twice with one description
// therefore keeps only the second upload; nothing else is ever overwritten.
// Other objects under PREFIX (other names, deeper "directories") are ignored.
//
// Uploads: one PutObject up to multipart_threshold, buffered in memory (one
// read of the source); larger ones a multipart upload (s3_multipart.h) whose
// parts are buffered one at a time (one pass to compute the tree hash that
// goes into the metadata, one to send). A failed Upload leaves nothing billed
// behind. Every request signs its payload
// (x-amz-content-sha256), so S3 rejects bytes damaged on the way.
//
// Jobs: nothing is stored for them. A job id spells out what describes it:
//   "restore.<archive id>.<Tier>.<range>.<created>"  (range as FormatRange)
//   "inventory.<created>.<nonce>"
// StartRetrieval of a GLACIER / DEEP_ARCHIVE object posts RestoreObject (a
// restore already running or done is fine); DescribeJob reads the object's
// x-amz-restore; ReadJobOutput is a ranged GetObject. Objects in other classes
// need no restore: their jobs succeed at once. Deep Archive has no Expedited
// tier: such requests restore with Standard (the job says so). A restored copy
// expires after restore_days; its job then no longer exists (kNotFound). An
// inventory is a listing taken when the job starts (ready at once); ListJobs
// knows the jobs this object started.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "net/retry.h"
#include "vault/s3_client.h"
#include "vault/vault.h"

namespace gb {

struct VaultOptions;

struct S3VaultOptions {
  std::string prefix;  // without leading or trailing '/'; may be empty
  // The host whose folder uploads go to (safe name, core/host_name.h); empty:
  // no folders, archives directly under PREFIX.
  std::string host;
  // Listings (inventories, Describe) show every host's archives, not only ours.
  bool list_fleet = false;
  // DEEP_ARCHIVE, GLACIER, GLACIER_IR, STANDARD_IA or STANDARD.
  std::string storage_class = "DEEP_ARCHIVE";
  // Bodies up to this size go in one PutObject (and are held in memory).
  uint64_t multipart_threshold = 16ull << 20;
  // Multipart part size; raised for huge bodies so no upload needs more than
  // 10,000 parts. S3 requires >= 5 MiB (except the last part).
  uint64_t part_size = 16ull << 20;
  int list_page_size = 1000;  // max-keys per ListObjectsV2 request (S3: <= 1000)
  int restore_days = 7;       // how long a restored copy stays readable
  // Each part of a multipart upload is retried on its own (a part may be
  // re-sent); a whole failed Upload is retried by RetryingVault above.
  RetryOptions part_retry = {.max_attempts = 4};
};

// The storage classes S3Vault accepts.
bool IsS3StorageClass(const std::string& name);
// What `storage_class` costs and how it behaves (see vault.h).
VaultCapabilities S3Capabilities(const std::string& storage_class);

class S3Vault : public Vault {
 public:
  // Does no I/O. Throws kInvalidArgument for an unknown storage class.
  S3Vault(S3ClientOptions client, S3VaultOptions options, Clock& clock);
  ~S3Vault() override;

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

  // The archive id an upload with `description` gets.
  static std::string ArchiveIdFor(const std::string& description);
  // The object key of an archive.
  std::string KeyOf(const std::string& archive_id) const;
  // Keys under the prefix with an unfinished multipart upload.
  std::vector<std::string> UnfinishedUploads();
  S3Client& client() { return client_; }
  // "s3://BUCKET/PREFIX"
  std::string Name() const;

 private:
  struct Listed;
  struct ObjectHead;
  struct JobSpec;
  static std::optional<JobSpec> ParseJobId(const std::string& job_id);
  std::vector<Listed> ListOurObjects(const std::string& what);
  void ListKeys(const std::string& key_prefix, bool direct_children, const std::string& what,
                std::vector<Listed>& out);
  std::optional<ObjectHead> Head(const std::string& key);
  std::vector<ArchiveInfo> ListArchives();
  void Restore(const std::string& key, Tier tier);
  JobInfo DescribeRetrieval(const JobSpec& spec, const std::string& job_id, const ObjectHead& head);
  std::string InventoryDocument(const std::string& job_id, int64_t date);
  void Remember(const std::string& job_id);

  S3Client client_;
  S3VaultOptions options_;
  Clock& clock_;

  std::mutex mu_;
  // Archive metadata by key, valid while the ETag matches (inventories HEAD
  // only what changed).
  std::unordered_map<std::string, std::pair<std::string, ArchiveInfo>> heads_;
  // Recent inventory documents by job id, so ranged reads see one document.
  std::deque<std::pair<std::string, std::string>> inventories_;
  std::deque<std::string> jobs_;  // ids this object started, oldest first
};

// The factory's opener for "s3://BUCKET[/PREFIX]" (`location` is what follows
// "s3://"). Credentials come from the AWS chain (options.profile), the region
// from options.region or the AWS settings; options.endpoint,
// options.storage_class (default DEEP_ARCHIVE) and options.addressing apply.
// What OpenS3Vault connects with, and the PREFIX of the URL (into *prefix).
// Throws kInvalidArgument for a malformed URL or addressing.
S3ClientOptions S3ClientOptionsFor(const std::string& url, const std::string& location,
                                   const VaultOptions& options, std::string* prefix);
std::unique_ptr<Vault> OpenS3Vault(const std::string& url, const std::string& location,
                                   const VaultOptions& options, Clock& clock);

}  // namespace gb
