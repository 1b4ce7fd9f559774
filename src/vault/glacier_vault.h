// glacier://REGION/VAULT: an Amazon S3 Glacier vault, through the vault REST
// API (version 2012-06-01). Listing lags (inventories are a day or more old)
// and jobs take minutes to hours; Capabilities() says so.
//
// Configuration: the region comes from the URL; VaultOptions::endpoint
// replaces https://glacier.REGION.amazonaws.com (test servers);
// VaultOptions::profile picks the credentials (net/aws_credentials.h).
//
// Uploads. An archive up to multipart_threshold goes in one UploadArchive,
// read once into memory to compute its tree hash and SHA-256; larger ones go
// as a multipart upload that resumes after an interruption
// (glacier_multipart.h). Glacier checks the tree hash it is sent and refuses
// a mismatch, so UploadResult::tree_hash is the local one once Glacier
// accepted it. The hash Glacier echoes must equal it, or - a moto quirk, as
// moto echoes a plain SHA-256 - the body's SHA-256; anything else is
// kCorruption.
//
// Duplicates, a deliberate choice: UploadArchive is not idempotent, and a
// retry after a lost response stores a second archive. This backend does not
// hide that, nor retry an upload itself (RetryingVault above does): the engine
// puts a unique token in every description, and its inventory reconciliation
// finds a second archive with the same token, reports it and deletes it. The
// same goes for a multipart upload whose CompleteMultipartUpload answer was
// lost: the retry's new upload completes as a second archive. The resumable
// multipart path uses that same description to find its own open upload.
//
// Retrievals. RetrievalByteRange needs an explicit end, so a range "from S to
// the end" needs the archive's size: known for archives this object uploaded
// or has seen in a job; otherwise the job retrieves the whole archive (billed
// as such), its Description records S, and DescribeJob / ReadJobOutput
// present only bytes S onwards. DescribeJob reports a range that ends at the
// archive's end as {S, kToEnd} and a whole-archive one as no range.
// ReadJobOutput first asks DescribeJob (InProgress -> JobNotReadyError, Failed
// -> kPermanent) so it can check the range; it checks the tree hash Glacier
// sends for tree-hash-aligned ranges (a mismatch is kCorruption). A server that
// ignores the Range of GetJobOutput (moto) and sends the whole output with a
// 200 is cut to the range asked for (HttpRequest::window_ignored_range); the
// tree hash it may send then covers the whole output and is not checked.
// A server that ignores RetrievalByteRange (moto again) retrieves the whole
// archive and its DescribeJob names no range: JobInfo::range is then nullopt,
// which tells the caller the output is the whole archive.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "vault/glacier_client.h"
#include "vault/glacier_multipart.h"
#include "vault/vault.h"

namespace gb {

struct VaultOptions;

// AWS documents "up to 40 TB" (decimal); 10,000 parts of 4 GiB would hold 42.9 TB.
inline constexpr uint64_t kGlacierMaxArchiveSize = 40'000'000'000'000ull;

struct GlacierVaultOptions {
  // Archives larger than this go as a multipart upload; smaller ones are held
  // in memory for one UploadArchive.
  uint64_t multipart_threshold = 32ull << 20;
  GlacierMultipartOptions multipart;
};

class GlacierVault : public Vault {
 public:
  // Does no I/O (credentials are read on the first request).
  GlacierVault(GlacierClientOptions client, GlacierVaultOptions options, Clock& clock);

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

  // The account's vaults in this region (all pages).
  std::vector<VaultInfo> ListVaults();

  GlacierClient& client() { return client_; }

 private:
  struct Job {
    JobInfo info;
    uint64_t skip = 0;  // output starts this far into what Glacier retrieves
  };
  UploadResult UploadSingle(RewindableSource& body, const std::string& description);
  std::string InitiateJob(const nlohmann::json& parameters, const std::string& what);
  Job FetchJob(const std::string& job_id);
  std::optional<Job> ParseJob(const nlohmann::json& j);
  void RememberSize(const std::string& archive_id, uint64_t size);
  std::optional<uint64_t> KnownSize(const std::string& archive_id);

  GlacierClient client_;
  GlacierVaultOptions options_;
  Clock& clock_;
  std::mutex mu_;
  std::map<std::string, uint64_t> archive_sizes_;  // guarded by mu_
};

// The factory's opener for glacier://REGION/VAULT (see vault_factory.h).
std::unique_ptr<Vault> OpenGlacierVault(const std::string& url, const std::string& location,
                                        const VaultOptions& options, Clock& clock);

}  // namespace gb
