#include "vault/s3_vault.h"

#include <algorithm>
#include <atomic>
#include <random>

#include "core/base64.h"
#include "core/decimal.h"
#include "core/hex.h"
#include "core/run_parallel.h"
#include "core/sha256.h"
#include "core/tree_hash.h"
#include "net/aws_credentials.h"
#include "vault/s3_listing.h"
#include "vault/s3_multipart.h"
#include "vault/s3_namespace.h"
#include "vault/vault_factory.h"

namespace gb {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kMaxObjectSize = 5ull << 40;  // S3's limit: 5 TiB
constexpr size_t kIdLength = 32;
constexpr int kHeadThreads = 8;
constexpr size_t kKeptInventories = 4;
constexpr size_t kKeptJobs = 1000;
constexpr char kDescriptionHeader[] = "x-amz-meta-description";
constexpr char kTreeHashHeader[] = "x-amz-meta-tree-hash";

const char* const kStorageClasses[] = {"DEEP_ARCHIVE", "GLACIER", "GLACIER_IR", "STANDARD_IA",
                                       "STANDARD"};

// Objects in these classes are read back only after a restore.
bool NeedsRestore(const std::string& storage_class) {
  return storage_class == "GLACIER" || storage_class == "DEEP_ARCHIVE";
}

// x-amz-meta-description: base64url without padding.
std::string EncodeDescription(const std::string& description) {
  return Base64Encode(AsBytes(description), Base64Padding::kNone, Base64Alphabet::kUrl);
}
// nullopt when `value` is not the canonical base64url of anything.
std::optional<std::string> DecodeDescription(std::string_view value) {
  auto raw = Base64Decode(value, Base64Padding::kNone, Base64Alphabet::kUrl);
  if (!raw) return std::nullopt;
  return std::string(raw->begin(), raw->end());
}

bool IsArchiveId(std::string_view id) { return IsS3ArchiveId(id); }

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

// Passes the bytes of a GetObject on, refusing more than `limit`, hashing them
// when `hasher` is set.
class CheckedSink : public ByteSink {
 public:
  CheckedSink(ByteSink& out, uint64_t limit, TreeHasher* hasher)
      : out_(out), limit_(limit), hasher_(hasher) {}
  void Write(std::span<const uint8_t> data) override {
    if (data.size() > limit_ - bytes_) {
      throw Error(Code::kCorruption,
                  "S3 sent more bytes than the " + std::to_string(limit_) + " requested");
    }
    bytes_ += data.size();
    if (hasher_) hasher_->Update(data);
    out_.Write(data);
  }
  using ByteSink::Write;
  void Finish() override {}
  uint64_t bytes() const { return bytes_; }

 private:
  ByteSink& out_;
  uint64_t limit_, bytes_ = 0;
  TreeHasher* hasher_;
};

}  // namespace

struct S3Vault::Listed {
  std::string id, key, etag;
  uint64_t size = 0;
  int64_t created = 0;
};

struct S3Vault::ObjectHead {
  uint64_t size = 0;
  std::string storage_class;  // "STANDARD" when S3 names none
  std::string etag;
  std::optional<std::string> description;  // decoded; nullopt when malformed
  std::string tree_hash;                   // empty when absent
  std::optional<S3RestoreState> restore;   // x-amz-restore, when present and well-formed
};

struct S3Vault::JobSpec {
  JobKind kind = JobKind::kInventory;
  std::string archive_id;
  Tier tier = Tier::kStandard;
  std::optional<ByteRange> range;
  int64_t created = 0;
};

bool IsS3StorageClass(const std::string& name) {
  return std::find(std::begin(kStorageClasses), std::end(kStorageClasses), name) !=
         std::end(kStorageClasses);
}

VaultCapabilities S3Capabilities(const std::string& storage_class) {
  VaultCapabilities c;
  c.immediate_listing = true;
  c.jobs_lag = NeedsRestore(storage_class);
  c.min_archive_size = 0;
  c.max_archive_size = kMaxObjectSize;
  c.retrieval_range_alignment = 1;
  if (storage_class == "DEEP_ARCHIVE") {
    c.min_storage_days = 180;
  } else if (storage_class == "GLACIER" || storage_class == "GLACIER_IR") {
    c.min_storage_days = 90;
  } else if (storage_class == "STANDARD_IA") {
    c.min_storage_days = 30;
  }
  // S3 bills 32 KiB of index at the archive's rate plus 8 KiB of name and
  // metadata at the STANDARD rate for every object in these classes.
  if (NeedsRestore(storage_class)) c.per_archive_overhead_bytes = 40 * 1024;
  return c;
}

S3Vault::S3Vault(S3ClientOptions client, S3VaultOptions options, Clock& clock)
    : client_(std::move(client), clock), options_(std::move(options)), clock_(clock) {
  if (!IsS3StorageClass(options_.storage_class)) {
    throw Error(Code::kInvalidArgument,
                "unknown S3 storage class '" + options_.storage_class +
                    "': use DEEP_ARCHIVE, GLACIER, GLACIER_IR, STANDARD_IA or STANDARD");
  }
  while (options_.prefix.ends_with('/')) options_.prefix.pop_back();
  while (options_.prefix.starts_with('/')) options_.prefix.erase(0, 1);
  options_.list_page_size = std::clamp(options_.list_page_size, 1, 1000);
  options_.part_size = std::max<uint64_t>(options_.part_size, 1);
}

S3Vault::~S3Vault() = default;

std::string S3Vault::Name() const {
  return "s3://" + client_.bucket() + (options_.prefix.empty() ? "" : "/" + options_.prefix);
}

std::string S3Vault::ArchiveIdFor(const std::string& description) {
  return Hex(Sha256::Of(description)).substr(0, kIdLength);
}

std::string S3Vault::KeyOf(const std::string& archive_id) const {
  return options_.prefix.empty() ? archive_id : options_.prefix + "/" + archive_id;
}

VaultCapabilities S3Vault::Capabilities() const { return S3Capabilities(options_.storage_class); }

void S3Vault::Create() {
  const std::string bucket = "bucket " + client_.bucket();
  std::string region = client_.region();
  std::string config;
  if (region != "us-east-1") {
    config = std::string("<CreateBucketConfiguration xmlns=\"") + kS3XmlNamespace +
             "\"><LocationConstraint>" + region +
             "</LocationConstraint></CreateBucketConfiguration>";
  }
  SpanSource body(AsBytes(config));
  S3Request req{.method = "PUT"};
  if (!config.empty()) {
    req.body = &body;
    req.payload_hash = Hex(Sha256::Of(config));
  }
  HttpResponse resp = client_.Send(req);
  if (Ok(resp)) return;
  AwsErrorInfo info = ParseAwsError(resp);
  if (info.code == "BucketAlreadyOwnedByYou") return;
  if (info.code == "BucketAlreadyExists") {
    // Taken, perhaps by us under another name for "owned" (some stores say
    // this): fine if we can use it.
    if (Ok(client_.Send(S3Request{.method = "HEAD"}))) return;
    throw S3Error(Code::kPermanent,
                  "BucketAlreadyExists: the name of " + bucket +
                      " is taken by another account; choose another bucket name",
                  info);
  }
  client_.Fail(resp, bucket);
}

std::vector<S3Vault::Listed> S3Vault::ListOurObjects(const std::string& what) {
  const std::string dir = options_.prefix.empty() ? "" : options_.prefix + "/";
  std::vector<Listed> out;
  if (options_.list_fleet || options_.host.empty()) {
    ListKeys(dir, /*direct_children=*/false, what, out);
  } else {
    ListKeys(dir + options_.host + "/", false, what, out);
    ListKeys(dir, /*direct_children=*/true, what, out);  // stored before hosts had folders
  }
  return out;
}

void S3Vault::ListKeys(const std::string& key_prefix, bool direct_children, const std::string& what,
                       std::vector<Listed>& out) {
  const std::string dir = options_.prefix.empty() ? "" : options_.prefix + "/";
  std::string token;
  for (;;) {
    S3Request req;
    req.query = {{"list-type", "2"},
                 {"prefix", key_prefix},
                 {"max-keys", std::to_string(options_.list_page_size)}};
    if (direct_children) req.query.emplace("delimiter", "/");
    if (!token.empty()) req.query.emplace("continuation-token", token);
    HttpResponse resp = client_.Send(req);
    if (!Ok(resp)) client_.Fail(resp, what);
    S3ObjectPage page = ParseS3ObjectPage(resp.body, what);
    for (S3ListedObject& o : page.objects) {
      if (!o.key.starts_with(dir)) continue;
      std::optional<std::string> id = S3ListedArchiveId(std::string_view(o.key).substr(dir.size()),
                                                        options_.host, options_.list_fleet);
      if (!id) continue;
      Listed l;
      l.id = std::move(*id);
      l.key = std::move(o.key);
      l.etag = std::move(o.etag);
      l.size = o.size.value_or(0);
      if (l.size > kMaxObjectSize) {
        throw Error(Code::kCorruption, "S3 lists " + l.key + " with " + std::to_string(l.size) +
                                           " bytes, more than S3 stores in an object");
      }
      l.created = o.modified.value_or(0);
      out.push_back(std::move(l));
    }
    if (!page.truncated) return;
    token = page.next_token;
  }
}

std::optional<S3Vault::ObjectHead> S3Vault::Head(const std::string& key) {
  HttpResponse resp = client_.Send(S3Request{.method = "HEAD", .key = key});
  if (resp.status == 404) return std::nullopt;
  if (!Ok(resp)) client_.Fail(resp, "s3://" + client_.bucket() + "/" + key);
  ObjectHead h;
  h.size = ParseDecimalU64(resp.headers.Get("Content-Length").value_or("")).value_or(0);
  if (h.size > kMaxObjectSize) {
    throw Error(Code::kCorruption, "S3 says s3://" + client_.bucket() + "/" + key + " holds " +
                                       std::to_string(h.size) + " bytes, more than S3 stores");
  }
  h.storage_class = resp.headers.Get("x-amz-storage-class").value_or("STANDARD");
  h.etag = resp.headers.Get("ETag").value_or("");
  auto d = resp.headers.Get(kDescriptionHeader);
  h.description = d ? DecodeDescription(*d) : std::string();  // empty descriptions are not sent
  h.tree_hash = resp.headers.Get(kTreeHashHeader).value_or("");
  if (auto r = resp.headers.Get("x-amz-restore")) h.restore = ParseS3Restore(*r);
  return h;
}

std::vector<ArchiveInfo> S3Vault::ListArchives() {
  std::vector<Listed> listed = ListOurObjects(Name());
  std::vector<std::optional<ArchiveInfo>> found(listed.size());
  std::vector<size_t> unknown;
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < listed.size(); ++i) {
      auto it = heads_.find(listed[i].key);
      if (it != heads_.end() && it->second.first == listed[i].etag) {
        found[i] = it->second.second;
      } else {
        unknown.push_back(i);
      }
    }
  }
  // Descriptions and tree hashes live in the metadata, which listings lack.
  RunParallel(unknown.size(), kHeadThreads, [&](size_t u) {
    const Listed& l = listed[unknown[u]];
    std::optional<ObjectHead> h = Head(l.key);
    if (!h || !h->description || h->tree_hash.empty()) return;  // gone, or not ours
    ArchiveInfo a{l.id, *h->description, l.created, h->size, h->tree_hash};
    found[unknown[u]] = a;
    std::lock_guard lock(mu_);
    heads_[l.key] = {h->etag, a};
  });
  std::vector<ArchiveInfo> out;
  for (auto& a : found) {
    if (a) out.push_back(std::move(*a));
  }
  return out;
}

VaultInfo S3Vault::Describe() {
  VaultInfo info;
  info.name = Name();
  for (const Listed& l : ListOurObjects(Name())) {
    ++info.archive_count;
    info.size_bytes += l.size;
  }
  info.inventory_date = clock_.NowSeconds();
  return info;
}

UploadResult S3Vault::Upload(RewindableSource& body, const std::string& description) {
  ValidateDescription(description);
  const uint64_t size = body.Size();
  if (size > kMaxObjectSize) {
    throw Error(Code::kInvalidArgument,
                "an archive of " + std::to_string(size) + " bytes exceeds S3's 5 TiB object limit");
  }
  UploadResult result;
  result.archive_id = ArchiveIdFor(description);
  if (!options_.host.empty()) result.archive_id = options_.host + "/" + result.archive_id;
  result.size = size;
  const std::string key = KeyOf(result.archive_id);
  HeaderList meta = {{"Content-Type", "application/octet-stream"},
                     {"x-amz-storage-class", options_.storage_class}};
  if (!description.empty()) meta.emplace_back(kDescriptionHeader, EncodeDescription(description));
  if (size <= options_.multipart_threshold) {
    Bytes data(size);
    body.Rewind();
    ReadUploadBytes(body, data, 0, size);
    result.tree_hash = Hex(TreeHashOf(data));
    meta.emplace_back(kTreeHashHeader, result.tree_hash);
    SpanSource src(data);
    S3Request req{.method = "PUT", .key = key, .headers = meta, .body = &src};
    req.payload_hash = Hex(Sha256::Of(data));
    HttpResponse resp = client_.Send(req);
    if (!Ok(resp)) client_.Fail(resp, Name() + "/" + result.archive_id);
  } else {
    // The tree hash goes into the metadata, which CreateMultipartUpload sets:
    // one pass to compute it before anything is sent.
    TreeHasher hasher;
    Bytes buf(std::min<uint64_t>(size, 4 * kMiB));
    body.Rewind();
    for (uint64_t done = 0; done < size;) {
      std::span<uint8_t> chunk(buf.data(), std::min<uint64_t>(buf.size(), size - done));
      ReadUploadBytes(body, chunk, done, size);
      hasher.Update(chunk);
      done += chunk.size();
    }
    result.tree_hash = Hex(hasher.Final());
    meta.emplace_back(kTreeHashHeader, result.tree_hash);
    S3MultipartUpload(client_, clock_, body, key, meta, result.tree_hash,
                      {.part_size = options_.part_size, .part_retry = options_.part_retry});
  }
  return result;
}

std::vector<std::string> S3Vault::UnfinishedUploads() {
  std::vector<std::string> keys;
  for (S3Upload& u : ListS3Uploads(client_, options_.prefix.empty() ? "" : options_.prefix + "/")) {
    keys.push_back(std::move(u.key));
  }
  return keys;
}

void S3Vault::Delete(const std::string& archive_id) {
  if (!IsArchiveId(archive_id)) return;  // never one of ours, so not there
  if (std::string_view owner = S3ArchiveHost(archive_id);
      !owner.empty() && owner != options_.host) {
    throw Error(Code::kInvalidArgument, "archive " + archive_id + " in " + Name() +
                                            " belongs to host " + std::string(owner) +
                                            ": a host deletes only its own archives");
  }
  const std::string key = KeyOf(archive_id);
  HttpResponse resp = client_.Send(S3Request{.method = "DELETE", .key = key});
  if (!Ok(resp) && !(resp.status == 404 && ParseAwsError(resp).code != "NoSuchBucket")) {
    client_.Fail(resp, Name() + "/" + archive_id);
  }
  std::lock_guard lock(mu_);
  heads_.erase(key);
}

void S3Vault::Remember(const std::string& job_id) {
  std::lock_guard lock(mu_);
  if (std::find(jobs_.begin(), jobs_.end(), job_id) != jobs_.end()) return;
  jobs_.push_back(job_id);
  if (jobs_.size() > kKeptJobs) jobs_.pop_front();
}

std::string S3Vault::InventoryDocument(const std::string& job_id, int64_t date) {
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, doc] : inventories_) {
      if (id == job_id) return doc;
    }
  }
  Inventory inv{date, ListArchives()};
  std::string arn =
      "arn:aws:s3:::" + client_.bucket() + (options_.prefix.empty() ? "" : "/" + options_.prefix);
  std::string doc = FormatInventory(inv, arn);
  std::lock_guard lock(mu_);
  inventories_.emplace_back(job_id, doc);
  if (inventories_.size() > kKeptInventories) inventories_.pop_front();
  return doc;
}

std::string S3Vault::StartInventory() {
  int64_t now = clock_.NowSeconds();
  static std::atomic<uint64_t> counter{std::random_device{}()};
  char nonce[9];
  std::snprintf(nonce, sizeof nonce, "%08x", static_cast<unsigned>(counter++ * 2654435761u));
  std::string job_id = "inventory." + std::to_string(now) + "." + nonce;
  InventoryDocument(job_id, now);  // the listing is taken now
  Remember(job_id);
  return job_id;
}

void S3Vault::Restore(const std::string& key, Tier tier) {
  std::string body = std::string("<RestoreRequest xmlns=\"") + kS3XmlNamespace + "\"><Days>" +
                     std::to_string(options_.restore_days) + "</Days><GlacierJobParameters><Tier>" +
                     TierName(tier) + "</Tier></GlacierJobParameters></RestoreRequest>";
  SpanSource src(AsBytes(body));
  HttpResponse resp = client_.Send(S3Request{.method = "POST",
                                             .key = key,
                                             .query = {{"restore", ""}},
                                             .body = &src,
                                             .payload_hash = Hex(Sha256::Of(body))});
  // 202: started; 200: already restored (the expiry moves); 409: running.
  if (Ok(resp)) return;
  if (resp.status == 409 && ParseAwsError(resp).code == "RestoreAlreadyInProgress") return;
  client_.Fail(resp, "s3://" + client_.bucket() + "/" + key);
}

std::string S3Vault::StartRetrieval(const std::string& archive_id, Tier tier,
                                    std::optional<ByteRange> range) {
  std::optional<ObjectHead> head;
  if (IsArchiveId(archive_id)) head = Head(KeyOf(archive_id));
  if (!head) throw Error(Code::kNotFound, "no archive " + archive_id + " in " + Name());
  ResolveRange(range, head->size);  // validates
  if (NeedsRestore(head->storage_class)) {
    // Deep Archive offers Standard (12 h) and Bulk (48 h) only.
    if (head->storage_class == "DEEP_ARCHIVE" && tier == Tier::kExpedited) tier = Tier::kStandard;
    Restore(KeyOf(archive_id), tier);
  }
  std::string job_id = "restore." + archive_id + "." + TierName(tier) + "." + FormatRange(range) +
                       "." + std::to_string(clock_.NowSeconds());
  Remember(job_id);
  return job_id;
}

std::optional<S3Vault::JobSpec> S3Vault::ParseJobId(const std::string& job_id) {
  std::vector<std::string_view> f = Split(job_id, '.');
  JobSpec spec;
  if (f.size() == 3 && f[0] == "inventory" && f[2].size() == 8) {
    auto created = ParseDecimalU64(f[1]);
    if (!created) return std::nullopt;
    spec.created = static_cast<int64_t>(*created);
    return spec;
  }
  // The archive id may hold dots (in its host folder): the last three fields are fixed.
  if (f.size() < 5 || f[0] != "restore") return std::nullopt;
  const size_t n = f.size();
  std::string archive_id(f[1]);
  for (size_t i = 2; i + 3 < n; ++i) archive_id += "." + std::string(f[i]);
  if (!IsArchiveId(archive_id)) return std::nullopt;
  auto tier = ParseTier(f[n - 3]);
  auto range = ParseRange(f[n - 2]);
  auto created = ParseDecimalU64(f[n - 1]);
  if (!tier || !range || !created) return std::nullopt;
  spec.kind = JobKind::kRetrieval;
  spec.archive_id = std::move(archive_id);
  spec.tier = *tier;
  spec.range = *range;
  spec.created = static_cast<int64_t>(*created);
  return spec;
}

JobInfo S3Vault::DescribeRetrieval(const JobSpec& spec, const std::string& job_id,
                                   const ObjectHead& head) {
  JobInfo info;
  info.id = job_id;
  info.kind = JobKind::kRetrieval;
  info.archive_id = spec.archive_id;
  info.tier = spec.tier;
  info.range = spec.range;
  info.created = spec.created;
  ResolvedRange r;
  try {
    r = ResolveRange(spec.range, head.size);
  } catch (const Error&) {
    info.status = JobStatus::kFailed;
    info.status_message = "archive " + spec.archive_id + " no longer holds the requested range";
    return info;
  }
  info.output_size = r.length;
  if (r.offset == 0 && r.length == head.size) info.output_tree_hash = head.tree_hash;
  if (!NeedsRestore(head.storage_class)) {
    info.status = JobStatus::kSucceeded;
    info.completed = spec.created;
    return info;
  }
  if (!head.restore) {
    throw Error(Code::kNotFound, "job " + job_id + ": no restored copy of archive " +
                                     spec.archive_id + " in " + Name() +
                                     " (it expired, or the restore never started); start a new "
                                     "retrieval");
  }
  if (head.restore->ongoing) {
    info.status = JobStatus::kInProgress;
    info.status_message = "S3 is restoring the " + head.storage_class + " object";
    return info;
  }
  info.status = JobStatus::kSucceeded;
  int64_t now = clock_.NowSeconds();
  // S3 tells when the copy expires, not when it appeared: the copy lives
  // restore_days (rounded up to midnight UTC) from completion.
  int64_t completed = now;
  if (head.restore->expiry) {
    completed = *head.restore->expiry - int64_t{options_.restore_days} * 86400;
    info.status_message = "restored copy readable until " + FormatIsoUtc(*head.restore->expiry);
  }
  info.completed = std::clamp(completed, spec.created, std::max(now, spec.created));
  return info;
}

JobInfo S3Vault::DescribeJob(const std::string& job_id) {
  std::optional<JobSpec> spec = ParseJobId(job_id);
  if (!spec) throw Error(Code::kNotFound, "no job " + job_id + " in " + Name());
  if (spec->kind == JobKind::kInventory) {
    JobInfo info;
    info.id = job_id;
    info.kind = JobKind::kInventory;
    info.status = JobStatus::kSucceeded;
    info.created = spec->created;
    info.completed = spec->created;
    std::lock_guard lock(mu_);
    for (const auto& [id, doc] : inventories_) {
      if (id == job_id) info.output_size = doc.size();
    }
    return info;
  }
  std::optional<ObjectHead> head = Head(KeyOf(spec->archive_id));
  if (!head) {
    throw Error(Code::kNotFound,
                "job " + job_id + ": archive " + spec->archive_id + " is no longer in " + Name());
  }
  return DescribeRetrieval(*spec, job_id, *head);
}

std::vector<JobInfo> S3Vault::ListJobs() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    ids.assign(jobs_.begin(), jobs_.end());
  }
  std::vector<JobInfo> out;
  for (const auto& id : ids) {
    try {
      out.push_back(DescribeJob(id));
    } catch (const Error& e) {
      if (e.code() != Code::kNotFound) throw;
    }
  }
  return out;
}

void S3Vault::ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                            ByteSink& out) {
  std::optional<JobSpec> spec = ParseJobId(job_id);
  if (!spec) throw Error(Code::kNotFound, "no job " + job_id + " in " + Name());
  if (spec->kind == JobKind::kInventory) {
    // Not cached here (another process started it): list again, as of now.
    std::string doc = InventoryDocument(job_id, clock_.NowSeconds());
    ResolvedRange r = ResolveRange(range, doc.size());
    out.Write(doc.data() + r.offset, r.length);
    return;
  }
  const std::string key = KeyOf(spec->archive_id);
  std::optional<ObjectHead> head = Head(key);
  if (!head) {
    throw Error(Code::kNotFound,
                "job " + job_id + ": archive " + spec->archive_id + " is no longer in " + Name());
  }
  JobInfo info = DescribeRetrieval(*spec, job_id, *head);
  if (info.status == JobStatus::kInProgress) throw JobNotReadyError(job_id);
  if (info.status == JobStatus::kFailed) {
    throw Error(Code::kPermanent, "job " + job_id + " failed: " + info.status_message);
  }
  ResolvedRange job = ResolveRange(spec->range, head->size);
  ResolvedRange part = ResolveRange(range, job.length);
  const uint64_t offset = job.offset + part.offset, length = part.length;
  if (length == 0) return;
  const bool whole = offset == 0 && length == head->size && !head->tree_hash.empty();
  TreeHasher hasher;
  CheckedSink sink(out, length, whole ? &hasher : nullptr);
  S3Request req{.key = key};
  req.headers.emplace_back(
      "Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
  HttpResponse resp = client_.Send(req, &sink);
  const std::string what = Name() + "/" + spec->archive_id;
  if (resp.status == 403 && ParseAwsError(resp).code == "InvalidObjectState") {
    throw JobNotReadyError(job_id);  // the restore is not (or no longer) visible to GET
  }
  if (resp.status == 404 && ParseAwsError(resp).code != "NoSuchBucket") {
    throw Error(Code::kNotFound,
                "job " + job_id + ": archive " + spec->archive_id + " is no longer in " + Name());
  }
  if (!Ok(resp)) client_.Fail(resp, what);
  if (resp.status != 206 && !(offset == 0 && length == head->size)) {
    throw Error(Code::kCorruption, "S3 ignored the byte range requested from " + what);
  }
  if (sink.bytes() != length) {
    throw Error(Code::kTransient, "S3 sent " + std::to_string(sink.bytes()) + " of the " +
                                      std::to_string(length) + " bytes requested from " + what);
  }
  if (whole) {
    std::string got = Hex(hasher.Final());
    if (got != head->tree_hash) {
      throw Error(Code::kCorruption, what + " read back with tree hash " + got +
                                         ", but it was stored with " + head->tree_hash);
    }
  }
}

S3ClientOptions S3ClientOptionsFor(const std::string& url, const std::string& location,
                                   const VaultOptions& options, std::string* prefix) {
  size_t slash = location.find('/');
  std::string bucket = location.substr(0, slash);
  *prefix = slash == std::string::npos ? "" : location.substr(slash + 1);
  auto bucket_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  };
  if (bucket.size() < 3 || bucket.size() > 63 ||
      !std::all_of(bucket.begin(), bucket.end(), bucket_char) || bucket.front() == '.' ||
      bucket.front() == '-' || bucket.back() == '.' || bucket.back() == '-') {
    throw Error(Code::kInvalidArgument,
                "vault URL " + url +
                    " should be s3://BUCKET or s3://BUCKET/PREFIX (bucket names: 3-63 of "
                    "a-z 0-9 . -)");
  }
  std::optional<S3Addressing> addressing =
      ParseS3Addressing(options.addressing.empty() ? "auto" : options.addressing);
  if (!addressing) {
    throw Error(Code::kInvalidArgument,
                "unknown S3 addressing '" + options.addressing + "': use auto, path or virtual");
  }
  S3ClientOptions client;
  client.bucket = bucket;
  client.region = options.region;
  client.endpoint = options.endpoint;
  client.addressing = *addressing;
  client.settings = [profile = options.profile] { return LoadAwsSettings(profile); };
  S3TargetFor(bucket, "", "us-east-1", client.endpoint, client.addressing);  // validates
  return client;
}

std::unique_ptr<Vault> OpenS3Vault(const std::string& url, const std::string& location,
                                   const VaultOptions& options, Clock& clock) {
  S3VaultOptions vault;
  S3ClientOptions client = S3ClientOptionsFor(url, location, options, &vault.prefix);
  vault.host = options.host;
  vault.list_fleet = options.fleet_listing;
  if (!options.storage_class.empty()) vault.storage_class = options.storage_class;
  return std::make_unique<S3Vault>(std::move(client), std::move(vault), clock);
}

}  // namespace gb
