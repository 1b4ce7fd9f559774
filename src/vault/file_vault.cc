#include "vault/file_vault.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "core/file.h"
#include "core/file_system.h"
#include "core/hex.h"
#include "core/tree_hash.h"

namespace gb {

namespace {

constexpr const char* kMarker = "gb-vault.json";
constexpr const char* kMetaExt = ".meta";
constexpr size_t kIdLength = 32;
constexpr size_t kBufferSize = 1 << 20;

std::string NewId() {
  std::random_device rd;
  uint8_t bytes[kIdLength / 2];
  for (auto& b : bytes) b = static_cast<uint8_t>(rd());
  return Hex(bytes);
}

// Only IDs this backend could have made name files; anything else cannot exist.
bool IsId(const std::string& id) {
  return id.size() == kIdLength && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void UnlinkIfPresent(const std::string& path) {
  if (Fs().Unlink(path.c_str()) != 0 && errno != ENOENT) ThrowErrno("remove " + path);
}

// Names of the entries of `dir` ending in `ext`, the extension stripped.
std::vector<std::string> ListIds(const std::string& dir, const std::string& ext) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() <= ext.size() || name.compare(name.size() - ext.size(), ext.size(), ext) != 0)
      continue;
    name.resize(name.size() - ext.size());
    if (IsId(name)) ids.push_back(std::move(name));
  }
  if (ec) ThrowErrno("list " + dir, ec.value());
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Hashes and copies `src` into `sink`; returns {tree hash, bytes}.
std::pair<Digest, uint64_t> CopyHashing(ByteSource& src, ByteSink* sink) {
  TreeHasher hasher;
  Bytes buf(kBufferSize);
  for (;;) {
    size_t n = src.Read(buf);
    if (n == 0) break;
    std::span<const uint8_t> chunk(buf.data(), n);
    hasher.Update(chunk);
    if (sink) sink->Write(chunk);
  }
  uint64_t bytes = hasher.bytes();
  return {hasher.Final(), bytes};
}

nlohmann::json ParseJsonFile(const std::string& path) {
  auto doc = nlohmann::json::parse(ReadFileToString(path), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    throw Error(Code::kCorruption, path + ": not a JSON object");
  }
  return doc;
}

}  // namespace

struct FileVault::JobRecord {
  JobInfo info;
  uint64_t output_offset = 0;  // where the output starts in ID.out
};

FileVault::FileVault(std::string dir, Clock& clock) : dir_(std::move(dir)), clock_(clock) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

std::string FileVault::ArchivePath(const std::string& id) const {
  return JoinPath(JoinPath(dir_, "archives"), id);
}

std::string FileVault::JobPath(const std::string& id, const char* ext) const {
  return JoinPath(JoinPath(dir_, "jobs"), id + ext);
}

void FileVault::RequireVault() const {
  if (PathExists(JoinPath(dir_, kMarker))) return;
  if (!PathExists(dir_)) {
    throw Error(Code::kNotFound,
                "file vault " + dir_ + " does not exist; create it first (vault create)");
  }
  throw Error(Code::kNotFound, "directory " + dir_ + " is not a vault (no " + kMarker +
                                   "); create one there first (vault create)");
}

void FileVault::Create() {
  MakeDirs(JoinPath(dir_, "archives"), 0700);
  MakeDirs(JoinPath(dir_, "jobs"), 0700);
  std::string marker = JoinPath(dir_, kMarker);
  if (!PathExists(marker)) {
    WriteFileAtomic(marker, std::string(R"({"format":"glacier-backup file vault","version":1})"),
                    0600);
  }
}

VaultCapabilities FileVault::Capabilities() const {
  VaultCapabilities caps;
  caps.immediate_listing = true;
  caps.jobs_lag = false;
  caps.per_archive_overhead_bytes = 4096;  // the .meta file's block
  return caps;
}

ArchiveInfo FileVault::LoadArchive(const std::string& id) const {
  auto meta = ParseJsonFile(ArchivePath(id) + kMetaExt);
  ArchiveInfo a;
  a.id = id;
  try {
    a.description = meta.at("description").get<std::string>();
    a.created = meta.at("created").get<int64_t>();
    a.size = meta.at("size").get<uint64_t>();
    a.tree_hash = meta.at("tree_hash").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(Code::kCorruption, ArchivePath(id) + kMetaExt + ": " + e.what());
  }
  return a;
}

std::vector<ArchiveInfo> FileVault::ListArchives() const {
  std::vector<ArchiveInfo> out;
  for (const auto& id : ListIds(JoinPath(dir_, "archives"), kMetaExt)) {
    try {
      out.push_back(LoadArchive(id));
    } catch (const Error& e) {
      if (e.code() != Code::kNotFound) throw;  // deleted while we listed
    }
  }
  std::sort(out.begin(), out.end(), [](const ArchiveInfo& a, const ArchiveInfo& b) {
    return std::tie(a.created, a.id) < std::tie(b.created, b.id);
  });
  return out;
}

VaultInfo FileVault::Describe() {
  RequireVault();
  VaultInfo info;
  info.name = Basename(dir_);
  for (const auto& a : ListArchives()) {
    ++info.archive_count;
    info.size_bytes += a.size;
  }
  info.inventory_date = clock_.NowSeconds();
  return info;
}

UploadResult FileVault::Upload(RewindableSource& body, const std::string& description) {
  ValidateDescription(description);
  RequireVault();
  body.Rewind();
  UploadResult result;
  result.archive_id = NewId();
  std::string path = ArchivePath(result.archive_id);
  {
    AtomicFile data(path, 0600);
    auto [digest, bytes] = CopyHashing(body, &data.sink());
    if (bytes != body.Size()) {
      throw Error(Code::kIOError, "upload source yielded " + std::to_string(bytes) +
                                      " bytes but its size is " + std::to_string(body.Size()));
    }
    data.Commit();
    result.tree_hash = Hex(digest);
    result.size = bytes;
  }
  nlohmann::json meta = {{"description", description},
                         {"created", clock_.NowSeconds()},
                         {"size", result.size},
                         {"tree_hash", result.tree_hash}};
  try {
    WriteFileAtomic(path + kMetaExt, meta.dump(), 0600);
  } catch (...) {
    Fs().Unlink(path.c_str());
    throw;
  }
  return result;
}

void FileVault::Delete(const std::string& archive_id) {
  RequireVault();
  if (!IsId(archive_id)) return;
  std::string path = ArchivePath(archive_id);
  UnlinkIfPresent(path + kMetaExt);  // the archive is gone from here on
  UnlinkIfPresent(path);
  SyncDir(Dirname(path));
}

void FileVault::SaveJob(const JobRecord& job) const {
  const JobInfo& j = job.info;
  nlohmann::json doc = {{"JobId", j.id},
                        {"Action", JobKindName(j.kind)},
                        {"StatusCode", JobStatusName(j.status)},
                        {"CreationDate", j.created},
                        {"StatusMessage", j.status_message},
                        {"OutputOffset", job.output_offset}};
  if (j.kind == JobKind::kRetrieval) {
    doc["ArchiveId"] = j.archive_id;
    doc["Tier"] = TierName(j.tier);
    if (j.range) {
      doc["RangeOffset"] = j.range->offset;
      if (j.range->length != ByteRange::kToEnd) doc["RangeLength"] = j.range->length;
    }
  }
  if (j.completed) doc["CompletionDate"] = *j.completed;
  if (j.output_size) doc["OutputSize"] = *j.output_size;
  if (!j.output_tree_hash.empty()) doc["SHA256TreeHash"] = j.output_tree_hash;
  WriteFileAtomic(JobPath(j.id, ".json"), doc.dump(), 0600);
}

FileVault::JobRecord FileVault::LoadJob(const std::string& job_id) const {
  RequireVault();
  std::string path = JobPath(job_id, ".json");
  if (!IsId(job_id) || !PathExists(path)) {
    throw Error(Code::kNotFound, "vault job " + job_id + " not found in " + dir_);
  }
  auto doc = ParseJsonFile(path);
  JobRecord job;
  JobInfo& j = job.info;
  try {
    j.id = doc.at("JobId").get<std::string>();
    auto kind = ParseJobKind(doc.at("Action").get<std::string>());
    auto status = ParseJobStatus(doc.at("StatusCode").get<std::string>());
    if (!kind || !status) throw Error(Code::kCorruption, path + ": bad Action or StatusCode");
    j.kind = *kind;
    j.status = *status;
    j.created = doc.at("CreationDate").get<int64_t>();
    j.status_message = doc.value("StatusMessage", "");
    job.output_offset = doc.value("OutputOffset", uint64_t{0});
    if (j.kind == JobKind::kRetrieval) {
      j.archive_id = doc.at("ArchiveId").get<std::string>();
      auto tier = ParseTier(doc.at("Tier").get<std::string>());
      if (!tier) throw Error(Code::kCorruption, path + ": bad Tier");
      j.tier = *tier;
      if (doc.contains("RangeOffset")) {
        j.range = ByteRange{doc["RangeOffset"].get<uint64_t>(),
                            doc.value("RangeLength", ByteRange::kToEnd)};
      }
    }
    if (doc.contains("CompletionDate")) j.completed = doc["CompletionDate"].get<int64_t>();
    if (doc.contains("OutputSize")) j.output_size = doc["OutputSize"].get<uint64_t>();
    j.output_tree_hash = doc.value("SHA256TreeHash", "");
  } catch (const nlohmann::json::exception& e) {
    throw Error(Code::kCorruption, path + ": " + e.what());
  }
  return job;
}

void FileVault::PurgeExpiredJobs() {
  int64_t cutoff = clock_.NowSeconds() - kJobRetentionSeconds;
  for (const auto& id : ListIds(JoinPath(dir_, "jobs"), ".json")) {
    try {
      JobInfo j = LoadJob(id).info;
      if (!j.completed || *j.completed >= cutoff) continue;
    } catch (const Error& e) {
      if (e.code() != Code::kNotFound) throw;
      continue;
    }
    UnlinkIfPresent(JobPath(id, ".json"));
    UnlinkIfPresent(JobPath(id, ".out"));
  }
}

std::string FileVault::StartInventory() {
  RequireVault();
  PurgeExpiredJobs();
  JobRecord job;
  JobInfo& j = job.info;
  j.id = NewId();
  j.kind = JobKind::kInventory;
  j.created = clock_.NowSeconds();
  Inventory inv{j.created, ListArchives()};
  std::string doc = FormatInventory(inv, "file://" + dir_);
  WriteFileAtomic(JobPath(j.id, ".out"), doc, 0600);
  j.status = JobStatus::kSucceeded;
  j.completed = j.created;
  j.output_size = doc.size();
  j.output_tree_hash = Hex(TreeHashOf(AsBytes(doc)));
  SaveJob(job);
  return j.id;
}

std::string FileVault::StartRetrieval(const std::string& archive_id, Tier tier,
                                      std::optional<ByteRange> range) {
  RequireVault();
  PurgeExpiredJobs();
  auto not_found = [&] {
    return Error(Code::kNotFound, "archive " + archive_id + " not found in vault " + dir_);
  };
  if (!IsId(archive_id) || !PathExists(ArchivePath(archive_id) + kMetaExt)) throw not_found();
  ArchiveInfo archive = LoadArchive(archive_id);
  ResolvedRange r = ResolveRange(range, archive.size);

  JobRecord job;
  JobInfo& j = job.info;
  j.id = NewId();
  j.kind = JobKind::kRetrieval;
  j.archive_id = archive_id;
  j.tier = tier;
  j.range = range;
  j.created = clock_.NowSeconds();
  std::string out = JobPath(j.id, ".out");
  std::string src = ArchivePath(archive_id);
  if (Fs().Link(src.c_str(), out.c_str()) != 0) {
    if (errno == ENOENT) throw not_found();  // deleted since we looked
    AtomicFile copy(out, 0600);              // links refused (EXDEV, EPERM, ...): copy
    FileSource in(src);
    Pump(in, copy.sink());
    copy.Commit();
  } else {
    SyncDir(Dirname(out));
  }
  job.output_offset = r.offset;
  j.output_size = r.length;
  if (r.offset == 0 && r.length == archive.size) {
    j.output_tree_hash = archive.tree_hash;
  } else {
    FileSource part(out, r.offset, r.length);
    j.output_tree_hash = Hex(CopyHashing(part, nullptr).first);
  }
  j.status = JobStatus::kSucceeded;
  j.completed = clock_.NowSeconds();
  SaveJob(job);
  return j.id;
}

JobInfo FileVault::DescribeJob(const std::string& job_id) { return LoadJob(job_id).info; }

std::vector<JobInfo> FileVault::ListJobs() {
  RequireVault();
  std::vector<JobInfo> jobs;
  for (const auto& id : ListIds(JoinPath(dir_, "jobs"), ".json")) {
    try {
      jobs.push_back(LoadJob(id).info);
    } catch (const Error& e) {
      if (e.code() != Code::kNotFound) throw;  // purged while we listed
    }
  }
  std::sort(jobs.begin(), jobs.end(), [](const JobInfo& a, const JobInfo& b) {
    return std::tie(a.created, a.id) < std::tie(b.created, b.id);
  });
  return jobs;
}

void FileVault::ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                              ByteSink& out) {
  JobRecord job = LoadJob(job_id);
  if (job.info.status == JobStatus::kInProgress) throw JobNotReadyError(job_id);
  if (job.info.status == JobStatus::kFailed) {
    throw Error(Code::kPermanent, "vault job " + job_id + " failed: " + job.info.status_message);
  }
  ResolvedRange r = ResolveRange(range, job.info.output_size.value_or(0));
  if (r.length == 0) return;
  FileSource src(JobPath(job_id, ".out"), job.output_offset + r.offset, r.length);
  if (Pump(src, out) != r.length) {
    throw Error(Code::kCorruption,
                "output of vault job " + job_id + " in " + dir_ + " is truncated");
  }
}

}  // namespace gb
