#include "vault/glacier_vault.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/hex.h"
#include "core/sha256.h"
#include "core/tree_hash.h"
#include "net/uri.h"
#include "vault/vault_factory.h"

namespace gb {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
// The job Description of a retrieval whose output starts `skip` bytes into
// the whole-archive retrieval (see glacier_vault.h).
constexpr const char* kSkipMarker = "glacier-backup: output starts at byte ";

// Collects the bytes written to `next` and their tree hash.
class TreeHashingSink : public ByteSink {
 public:
  explicit TreeHashingSink(ByteSink& next) : next_(next) {}
  void Write(std::span<const uint8_t> data) override {
    hasher_.Update(data);
    next_.Write(data);
  }
  using ByteSink::Write;
  void Finish() override {}
  uint64_t bytes() const { return hasher_.bytes(); }
  std::string Final() { return Hex(hasher_.Final()); }

 private:
  ByteSink& next_;
  TreeHasher hasher_;
};

std::string JobPath(const std::string& job_id) { return "/jobs/" + UriEncode(job_id); }

VaultInfo ParseVaultInfo(const nlohmann::json& j, const std::string& fallback_name) {
  VaultInfo info;
  info.name = GlacierString(j, "VaultName");
  if (info.name.empty()) info.name = fallback_name;
  info.archive_count = GlacierSize(j, "NumberOfArchives").value_or(0);
  info.size_bytes = GlacierSize(j, "SizeInBytes").value_or(0);
  std::string date = GlacierString(j, "LastInventoryDate");
  if (!date.empty()) info.inventory_date = ParseGlacierDate(date);
  return info;
}

}  // namespace

GlacierVault::GlacierVault(GlacierClientOptions client, GlacierVaultOptions options, Clock& clock)
    : client_(std::move(client), clock), options_(std::move(options)), clock_(clock) {}

VaultCapabilities GlacierVault::Capabilities() const {
  VaultCapabilities caps;
  caps.immediate_listing = false;
  caps.jobs_lag = true;
  caps.min_archive_size = 1;
  caps.max_archive_size = kGlacierMaxArchiveSize;
  caps.retrieval_range_alignment = kMiB;
  caps.min_storage_days = 90;
  caps.per_archive_overhead_bytes = 32 * 1024;  // index and metadata, billed at the vault rate
  return caps;
}

void GlacierVault::Create() {
  GlacierRequest request;
  request.method = "PUT";
  HttpResponse response = client_.Send(request);
  if (response.status / 100 != 2) client_.Fail(response, "creating the vault");
}

VaultInfo GlacierVault::Describe() {
  HttpResponse response = client_.Send(GlacierRequest{});
  if (response.status != 200) client_.Fail(response, "describing the vault");
  return ParseVaultInfo(ParseGlacierJson(response, "DescribeVault"), client_.vault());
}

std::vector<VaultInfo> GlacierVault::ListVaults() {
  std::vector<VaultInfo> vaults;
  GlacierRequest request;
  request.list_vaults = true;
  ListPages(client_, request, "ListVaults", "VaultList", "listing vaults",
            [&](const nlohmann::json& v) { vaults.push_back(ParseVaultInfo(v, "")); });
  return vaults;
}

UploadResult GlacierVault::Upload(RewindableSource& body, const std::string& description) {
  ValidateDescription(description);
  uint64_t size = body.Size();
  if (size < 1) throw Error(Code::kInvalidArgument, "Glacier cannot store an empty archive");
  if (size > kGlacierMaxArchiveSize) {
    throw Error(Code::kInvalidArgument, "an archive of " + std::to_string(size) +
                                            " bytes is larger than Glacier's 40 TB limit");
  }
  UploadResult result =
      size > options_.multipart_threshold
          ? GlacierMultipartUpload(client_, clock_, body, description, options_.multipart)
          : UploadSingle(body, description);
  RememberSize(result.archive_id, result.size);
  return result;
}

UploadResult GlacierVault::UploadSingle(RewindableSource& body, const std::string& description) {
  body.Rewind();
  Bytes data(body.Size());
  ReadUploadBytes(body, data, 0, data.size());
  std::string tree_hash = Hex(TreeHashOf(data));
  std::string sha256 = Hex(Sha256::Of(data));
  SpanSource source(data);
  GlacierRequest request;
  request.method = "POST";
  request.path = "/archives";
  request.headers.emplace_back("x-amz-sha256-tree-hash", tree_hash);
  if (!description.empty()) request.headers.emplace_back("x-amz-archive-description", description);
  request.body = &source;
  request.payload_hash = sha256;
  HttpResponse response = client_.Send(request);
  if (response.status / 100 != 2) client_.Fail(response, "uploading an archive");

  UploadResult result;
  result.archive_id = response.headers.Get("x-amz-archive-id").value_or("");
  if (result.archive_id.empty()) {
    throw Error(Code::kCorruption, "Glacier accepted an upload but returned no archive id");
  }
  // moto echoes the plain SHA-256 where the tree hash belongs (they differ above 1 MiB).
  std::string echoed = response.headers.Get("x-amz-sha256-tree-hash").value_or(tree_hash);
  if (echoed != tree_hash && echoed != sha256) {
    throw Error(Code::kCorruption, "Glacier stored archive " + result.archive_id +
                                       " with tree hash " + echoed + ", not the " + tree_hash +
                                       " sent");
  }
  result.tree_hash = tree_hash;
  result.size = data.size();
  return result;
}

void GlacierVault::Delete(const std::string& archive_id) {
  GlacierRequest request;
  request.method = "DELETE";
  request.path = "/archives/" + UriEncode(archive_id);
  HttpResponse response = client_.Send(request);
  if (response.status / 100 == 2) return;
  if (response.status == 404 && !GlacierClient::IsMissingVault(ParseAwsError(response))) {
    return;  // already gone
  }
  client_.Fail(response, "deleting archive " + archive_id);
}

std::string GlacierVault::InitiateJob(const nlohmann::json& parameters, const std::string& what) {
  std::string json = parameters.dump();
  SpanSource source(AsBytes(json));
  GlacierRequest request;
  request.method = "POST";
  request.path = "/jobs";
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = &source;
  request.payload_hash = Hex(Sha256::Of(json));
  HttpResponse response = client_.Send(request);
  if (response.status / 100 != 2) {
    AwsErrorInfo info = ParseAwsError(response);
    if (info.code == "InvalidParameterValueException") {
      throw GlacierError(Code::kInvalidArgument, "Glacier refused " + what + ": " + info.message,
                         info);
    }
    client_.Fail(response, what);
  }
  std::string id = response.headers.Get("x-amz-job-id").value_or("");
  if (id.empty()) throw Error(Code::kCorruption, "Glacier started a job without a job id");
  return id;
}

std::string GlacierVault::StartInventory() {
  return InitiateJob({{"Type", "inventory-retrieval"}, {"Format", "JSON"}}, "an inventory job");
}

std::string GlacierVault::StartRetrieval(const std::string& archive_id, Tier tier,
                                         std::optional<ByteRange> range) {
  nlohmann::json params = {
      {"Type", "archive-retrieval"}, {"ArchiveId", archive_id}, {"Tier", TierName(tier)}};
  if (range) {
    const std::string shown = FormatRange(range);
    auto refuse = [&](const std::string& why) {
      throw Error(Code::kInvalidArgument, "Glacier retrieval range " + shown + " " + why);
    };
    if (range->length == 0) refuse("holds no bytes");
    if (range->offset % kMiB != 0) refuse("must start at a multiple of 1 MiB");
    if (std::optional<uint64_t> size = KnownSize(archive_id)) {
      ResolvedRange r = ResolveRange(range, *size);  // kInvalidArgument outside the archive
      uint64_t end = r.offset + r.length;
      if (r.length == 0) refuse("holds no bytes");
      if (end % kMiB != 0 && end != *size) {
        refuse("must end at a multiple of 1 MiB or at the archive's end");
      }
      if (r.offset > 0 || end < *size) {
        params["RetrievalByteRange"] = std::to_string(r.offset) + "-" + std::to_string(end - 1);
      }
    } else if (range->length != ByteRange::kToEnd) {
      // Glacier checks the end: a multiple of 1 MiB or the archive's end.
      params["RetrievalByteRange"] =
          std::to_string(range->offset) + "-" + std::to_string(range->offset + range->length - 1);
    } else if (range->offset > 0) {
      params["Description"] = kSkipMarker + std::to_string(range->offset);
    }
  }
  std::string job_id = InitiateJob(params, "a retrieval of archive " + archive_id);
  if (params.contains("Description")) {
    // A whole-archive job for a tail: its description tells the size, so check the start.
    FetchJob(job_id);
    std::optional<uint64_t> size = KnownSize(archive_id);
    if (size && range->offset > *size) {
      throw Error(Code::kInvalidArgument, "retrieval range " + FormatRange(range) +
                                              " starts beyond the end of archive " + archive_id +
                                              " (" + std::to_string(*size) + " bytes)");
    }
  }
  return job_id;
}

std::optional<GlacierVault::Job> GlacierVault::ParseJob(const nlohmann::json& j) {
  Job job;
  JobInfo& info = job.info;
  info.id = GlacierString(j, "JobId");
  std::optional<JobKind> kind = ParseJobKind(GlacierString(j, "Action"));
  if (!kind) return std::nullopt;  // a Select job: not ours
  info.kind = *kind;
  std::string status = GlacierString(j, "StatusCode");
  std::optional<JobStatus> parsed = ParseJobStatus(status);
  if (!parsed) throw Error(Code::kCorruption, "Glacier job " + info.id + " has status " + status);
  info.status = *parsed;
  info.created = ParseGlacierDate(GlacierString(j, "CreationDate")).value_or(0);
  if (info.status != JobStatus::kInProgress) {
    info.completed = ParseGlacierDate(GlacierString(j, "CompletionDate"));
  }
  info.status_message = GlacierString(j, "StatusMessage");
  if (info.kind == JobKind::kInventory) {
    if (info.status == JobStatus::kSucceeded)
      info.output_size = GlacierSize(j, "InventorySizeInBytes");
    return job;
  }
  info.archive_id = GlacierString(j, "ArchiveId");
  info.tier = ParseTier(GlacierString(j, "Tier")).value_or(Tier::kStandard);
  // Archives hold at least one byte: 0 (moto) means "not reported".
  std::optional<uint64_t> size = GlacierSize(j, "ArchiveSizeInBytes");
  if (size == 0u) size.reset();
  if (size) RememberSize(info.archive_id, *size);
  std::string description = GlacierString(j, "JobDescription");
  unsigned long long first = 0, last = 0;
  std::string byte_range = GlacierString(j, "RetrievalByteRange");
  bool ranged = std::sscanf(byte_range.c_str(), "%llu-%llu", &first, &last) == 2 && last >= first &&
                last < kGlacierMaxArchiveSize;
  unsigned long long skip = 0;
  if (description.rfind(kSkipMarker, 0) == 0 &&
      std::sscanf(description.c_str() + std::string_view(kSkipMarker).size(), "%llu", &skip) == 1) {
    job.skip = skip;
    info.range = ByteRange{job.skip, ByteRange::kToEnd};
    if (size) info.output_size = *size - std::min(*size, job.skip);
  } else if (ranged) {
    if (size && last + 1 == *size) {
      if (first > 0) info.range = ByteRange{first, ByteRange::kToEnd};
    } else {
      info.range = ByteRange{first, last - first + 1};
    }
    info.output_size = last - first + 1;
    info.output_tree_hash = GlacierString(j, "SHA256TreeHash");
  } else {
    info.output_size = size;
    info.output_tree_hash = GlacierString(j, "SHA256TreeHash");
  }
  return job;
}

GlacierVault::Job GlacierVault::FetchJob(const std::string& job_id) {
  GlacierRequest request;
  request.path = JobPath(job_id);
  HttpResponse response = client_.Send(request);
  if (response.status != 200) client_.Fail(response, "job " + job_id);
  std::optional<Job> job = ParseJob(ParseGlacierJson(response, "DescribeJob"));
  if (!job) throw Error(Code::kNotFound, "Glacier job " + job_id + " is not a retrieval");
  return *job;
}

JobInfo GlacierVault::DescribeJob(const std::string& job_id) { return FetchJob(job_id).info; }

std::vector<JobInfo> GlacierVault::ListJobs() {
  std::vector<JobInfo> jobs;
  GlacierRequest request;
  request.path = "/jobs";
  ListPages(client_, request, "ListJobs", "JobList", "listing jobs", [&](const nlohmann::json& j) {
    if (std::optional<Job> job = ParseJob(j)) jobs.push_back(std::move(job->info));
  });
  return jobs;
}

void GlacierVault::ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                                 ByteSink& out) {
  Job job = FetchJob(job_id);
  if (job.info.status == JobStatus::kInProgress) throw JobNotReadyError(job_id);
  if (job.info.status == JobStatus::kFailed) {
    throw Error(Code::kPermanent, "Glacier job " + job_id + " failed: " + job.info.status_message);
  }
  // What to ask for, relative to the job's output.
  std::optional<ResolvedRange> want;
  if (range) {
    if (range->length == 0) {
      throw Error(Code::kInvalidArgument, "output range " + FormatRange(range) + " is empty");
    }
    if (job.info.output_size) {
      want = ResolveRange(range, *job.info.output_size);
      if (want->length == 0) return;  // {size, kToEnd}: nothing left
    } else {
      want = ResolvedRange{range->offset, range->length};  // kToEnd stays "to the end"
    }
  }
  GlacierRequest request;
  request.path = JobPath(job_id) + "/output";
  const bool ranged = want || job.skip > 0;
  if (ranged) {
    uint64_t start = job.skip + (want ? want->offset : 0);
    std::string spec = "bytes=" + std::to_string(start) + "-";
    if (want && want->length != ByteRange::kToEnd) spec += std::to_string(start + want->length - 1);
    request.headers.emplace_back("Range", spec);
    // moto ignores the Range and sends the whole output with a 200: keep the window.
    request.window_ignored_range = true;
  }
  TreeHashingSink sink(out);
  HttpResponse response = client_.Send(request, &sink);
  if (response.status / 100 != 2) {
    if (response.status == 400 || response.status == 404) {
      // Glacier says 400 "not currently available", moto a bare 404, for a job in progress.
      JobInfo now = FetchJob(job_id).info;
      if (now.status == JobStatus::kInProgress) throw JobNotReadyError(job_id);
    }
    client_.Fail(response, "the output of job " + job_id);
  }
  if (ranged && response.status != 206 && !response.range_ignored) {
    throw Error(Code::kCorruption, "Glacier ignored the Range of a read of job " + job_id +
                                       " (HTTP " + std::to_string(response.status) + ")");
  }
  if (response.range_ignored && want &&
      (want->length == ByteRange::kToEnd || sink.bytes() != want->length)) {
    // The whole output came, so its size is known now: a range outside it is
    // refused, as the 416 of a server that honours Range would have said.
    uint64_t size = response.body_bytes - std::min<uint64_t>(response.body_bytes, job.skip);
    ResolveRange(ByteRange{want->offset, want->length}, size);
  }
  if (want && want->length != ByteRange::kToEnd && sink.bytes() != want->length) {
    throw Error(Code::kCorruption, "Glacier returned " + std::to_string(sink.bytes()) +
                                       " bytes of job " + job_id + ", not the " +
                                       std::to_string(want->length) + " asked for");
  }
  std::string local = sink.Final();
  // After an ignored Range the header (if any) hashes the whole output, not the window.
  if (auto sent = response.headers.Get("x-amz-sha256-tree-hash");
      sent && *sent != local && !response.range_ignored) {
    throw Error(Code::kCorruption, "the output of Glacier job " + job_id + " has tree hash " +
                                       local + ", but Glacier sent " + *sent);
  }
}

void GlacierVault::RememberSize(const std::string& archive_id, uint64_t size) {
  std::lock_guard lock(mu_);
  archive_sizes_[archive_id] = size;
}

std::optional<uint64_t> GlacierVault::KnownSize(const std::string& archive_id) {
  std::lock_guard lock(mu_);
  auto it = archive_sizes_.find(archive_id);
  if (it == archive_sizes_.end()) return std::nullopt;
  return it->second;
}

std::unique_ptr<Vault> OpenGlacierVault(const std::string& url, const std::string& location,
                                        const VaultOptions& options, Clock& clock) {
  size_t slash = location.find('/');
  std::string region = location.substr(0, slash);
  std::string vault = slash == std::string::npos ? "" : location.substr(slash + 1);
  auto region_char = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  };
  auto vault_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  };
  if (region.empty() || vault.empty() || vault.size() > 255 ||
      !std::all_of(region.begin(), region.end(), region_char) ||
      !std::all_of(vault.begin(), vault.end(), vault_char)) {
    throw Error(Code::kInvalidArgument,
                "vault URL " + url +
                    " should be glacier://REGION/VAULT (vault names: 1-255 of A-Z a-z 0-9 _ . -)");
  }
  if (!options.region.empty() && options.region != region) {
    throw Error(Code::kInvalidArgument, "region " + options.region + " contradicts vault URL " +
                                            url + " (a glacier:// URL names its region)");
  }
  GlacierClientOptions client;
  client.region = region;
  client.vault = vault;
  client.endpoint = options.endpoint;
  client.settings = [profile = options.profile] { return LoadAwsSettings(profile); };
  return std::make_unique<GlacierVault>(std::move(client), GlacierVaultOptions{}, clock);
}

}  // namespace gb
