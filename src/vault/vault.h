// The Vault: where archives live. Shaped like a cold object store (Glacier
// vaults, S3 buckets with cold storage classes, a local directory): archives
// are uploaded whole, listed through an inventory and read back through
// retrieval jobs. The engine talks to storage through this interface only.
//
// Errors: every method throws gb::Error. Across all implementations:
//   kInvalidArgument  bad input caught before any request (description, range)
//   kNotFound         the vault, archive or job does not exist (never retried)
//   kTransient        worth retrying soon (timeouts, 5xx, throttling); the
//                     RetryingVault wrapper retries these and only these
//   kPermanent        a remote failure retrying cannot fix (auth, policy)
//   kCorruption       the backend returned data that fails its own checks
//   kIOError          the local OS refused
// plus JobNotReadyError (below) from ReadJobOutput.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/stream.h"

namespace gb {

// Retrieval speed and price class. Glacier: Expedited 1-5 min, Standard 3-5 h,
// Bulk 5-12 h. Backends without tiers ignore it.
enum class Tier { kExpedited, kStandard, kBulk };
const char* TierName(Tier tier);  // "Expedited", "Standard", "Bulk" (the Glacier spelling)
std::optional<Tier> ParseTier(std::string_view name);  // case-insensitive

// A byte range [offset, offset + length); length kToEnd means "to the end".
struct ByteRange {
  static constexpr uint64_t kToEnd = UINT64_MAX;
  uint64_t offset = 0;
  uint64_t length = kToEnd;
  bool operator==(const ByteRange&) const = default;
};
// Resolves `range` against a blob of `size` bytes into a concrete [offset, end).
// An empty range is valid only as {size, kToEnd} (nothing left to read); any
// other range that is empty or does not lie within the blob is kInvalidArgument.
struct ResolvedRange {
  uint64_t offset, length;
};
ResolvedRange ResolveRange(const std::optional<ByteRange>& range, uint64_t size);
std::string FormatRange(const std::optional<ByteRange>& range);  // "all", "5-", "5+10"
// The inverse of FormatRange; the outer nullopt means malformed.
std::optional<std::optional<ByteRange>> ParseRange(std::string_view text);

enum class JobKind { kInventory, kRetrieval };
enum class JobStatus { kInProgress, kSucceeded, kFailed };
const char* JobKindName(JobKind kind);        // "InventoryRetrieval", "ArchiveRetrieval"
const char* JobStatusName(JobStatus status);  // "InProgress", "Succeeded", "Failed"
std::optional<JobKind> ParseJobKind(std::string_view name);
std::optional<JobStatus> ParseJobStatus(std::string_view name);

struct JobInfo {
  std::string id;
  JobKind kind = JobKind::kInventory;
  JobStatus status = JobStatus::kInProgress;
  std::string archive_id;       // retrieval jobs only
  Tier tier = Tier::kStandard;  // retrieval jobs only
  // Retrieval jobs: the part of the archive the output holds, as the backend
  // reports it; nullopt = the whole archive (also when a backend ignored the
  // range it was asked for, so callers locate what they asked for by this).
  std::optional<ByteRange> range;
  int64_t created = 0;  // Unix seconds
  std::optional<int64_t> completed;
  std::optional<uint64_t> output_size;  // bytes ReadJobOutput yields, once known
  std::string output_tree_hash;         // hex tree hash of the output, empty when unknown
  std::string status_message;           // why a job failed, or a backend's note
};

struct UploadResult {
  std::string archive_id;
  std::string tree_hash;  // lower-case hex SHA-256 tree hash of the stored bytes
  uint64_t size = 0;
};

struct ArchiveInfo {
  std::string id;
  std::string description;
  int64_t created = 0;  // Unix seconds
  uint64_t size = 0;
  std::string tree_hash;  // lower-case hex
  bool operator==(const ArchiveInfo&) const = default;
};

// A vault listing as of `date`. Lagging backends (Capabilities) may miss
// uploads and still show deletions made since `date`.
struct Inventory {
  int64_t date = 0;  // Unix seconds; 0 (1970) for a vault never inventoried
  std::vector<ArchiveInfo> archives;
};

// Inventory job output, every backend's: the Glacier JSON format
//   {"VaultARN", "InventoryDate", "ArchiveList": [{"ArchiveId", "ArchiveDescription",
//    "CreationDate", "Size", "SHA256TreeHash"}]}
// Dates are ISO 8601 UTC, fractional seconds accepted. Throws kCorruption naming the
// offending field on malformed input.
Inventory ParseInventory(std::string_view json);
std::string FormatInventory(const Inventory& inventory, const std::string& vault_arn);

struct VaultInfo {
  std::string name;
  uint64_t archive_count = 0;  // as of inventory_date
  uint64_t size_bytes = 0;     // as of inventory_date
  // When the counts were taken: now for immediate-listing backends, the last
  // inventory for Glacier; nullopt if never inventoried.
  std::optional<int64_t> inventory_date;
};

// What a backend can do and what it costs; constant for a vault's lifetime.
struct VaultCapabilities {
  // Inventory jobs and Describe() reflect uploads and deletes at once (file://,
  // s3://); false where they lag by hours to days (glacier://).
  bool immediate_listing = true;
  // Jobs may finish after the Start* call returns, so callers must poll DescribeJob.
  bool jobs_lag = false;
  uint64_t min_archive_size = 0;  // Glacier: 1 byte
  uint64_t max_archive_size = UINT64_MAX;
  // StartRetrieval ranges must start at a multiple of this and end at a multiple
  // of it or at the archive's end (Glacier: 1 MiB). ReadJobOutput ranges are free.
  uint64_t retrieval_range_alignment = 1;
  // An archive is billed for at least this many days, deleted earlier or not.
  int min_storage_days = 0;
  // Bytes billed per archive on top of its size (index and metadata).
  uint64_t per_archive_overhead_bytes = 0;
};

// Thrown by ReadJobOutput for a job that exists but has not succeeded yet. Its
// code is kPending (exit 10, never retried by RetryingVault); catch the type to
// tell "not ready yet, poll later" from kNotFound ("no such job, start again").
class JobNotReadyError : public Error {
 public:
  explicit JobNotReadyError(const std::string& job_id)
      : Error(Code::kPending, "vault job " + job_id + " has not finished yet; try again later") {}
};

// Archive descriptions are at most 1024 printable ASCII characters (0x20-0x7E).
inline constexpr size_t kMaxDescriptionLength = 1024;
// Throws kInvalidArgument naming the first offending character.
void ValidateDescription(std::string_view description);

// Fills `buf` with the next bytes of an upload's body, which announced `size`
// bytes and has delivered `offset` so far. Throws kIOError when it ends early.
void ReadUploadBytes(RewindableSource& body, std::span<uint8_t> buf, uint64_t offset,
                     uint64_t size);

// Every method may be called concurrently from several threads, and several
// processes may use one vault at once.
class Vault {
 public:
  virtual ~Vault() = default;

  // Creates the vault; creating one that exists is fine.
  virtual void Create() = 0;
  // Name and size. kNotFound if the vault does not exist.
  virtual VaultInfo Describe() = 0;
  virtual VaultCapabilities Capabilities() const = 0;

  // Stores the whole of `body` (the vault rewinds it before reading, so a retry
  // may pass the same source again) as a new archive and returns its id. Not
  // idempotent: each call that succeeds, or fails after the backend committed,
  // creates one archive. When it throws, nothing is stored (Glacier: unless the
  // failure was a lost response). Errors thrown by `body` propagate unchanged.
  // kInvalidArgument for a bad description or a size outside the capabilities.
  virtual UploadResult Upload(RewindableSource& body, const std::string& description) = 0;

  // Deletes an archive. Idempotent: deleting a missing archive succeeds.
  virtual void Delete(const std::string& archive_id) = 0;

  // Starts a job whose output is the inventory (see ParseInventory).
  virtual std::string StartInventory() = 0;
  // Starts a job whose output is the archive's bytes, or `range` of them
  // (aligned per Capabilities). kNotFound if the archive does not exist (a
  // lagging backend may instead report it as a failed job).
  virtual std::string StartRetrieval(const std::string& archive_id, Tier tier,
                                     std::optional<ByteRange> range) = 0;

  // kNotFound if the job does not exist or has expired.
  virtual JobInfo DescribeJob(const std::string& job_id) = 0;
  // The jobs the backend still remembers (Glacier: about a day after completion).
  virtual std::vector<JobInfo> ListJobs() = 0;

  // Writes the job's output, or `range` of it (offsets into the output, not the
  // archive), to `out`, without calling out.Finish(). Errors: kNotFound for a
  // missing or expired job, JobNotReadyError while it is in progress, kPermanent
  // for a failed job, kInvalidArgument for a range outside the output. On a
  // failure some bytes may already have been written.
  virtual void ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                             ByteSink& out) = 0;
};

}  // namespace gb
