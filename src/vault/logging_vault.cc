#include "vault/logging_vault.h"

#include <cstdio>

namespace gb {

namespace {

std::string Quote(const std::string& s) {
  constexpr size_t kMax = 100;
  return "\"" + (s.size() > kMax ? s.substr(0, kMax) + "..." : s) + "\"";
}

std::string Seconds(int64_t nanos) {
  char buf[32];
  std::snprintf(buf, sizeof buf, " (%.3fs)", nanos / 1e9);
  return buf;
}

}  // namespace

LoggingVault::LoggingVault(std::unique_ptr<Vault> target, Clock& clock, VaultLog log)
    : VaultWrapper(std::move(target)), clock_(clock), log_(std::move(log)) {}

void LoggingVault::Emit(const std::string& line) {
  std::lock_guard lock(mu_);
  log_(line);
}

template <typename Fn, typename Summary>
auto LoggingVault::Logged(const std::string& call, Fn&& fn, Summary&& summary) -> decltype(fn()) {
  int64_t start = clock_.NowNanos();
  try {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      Emit("vault " + call + " -> ok" + Seconds(clock_.NowNanos() - start));
    } else {
      auto result = fn();
      Emit("vault " + call + " -> " + summary(result) + Seconds(clock_.NowNanos() - start));
      return result;
    }
  } catch (const Error& e) {
    Emit("vault " + call + " failed: " + CodeName(e.code()) + ": " + e.what() +
         Seconds(clock_.NowNanos() - start));
    throw;
  } catch (const std::exception& e) {
    Emit("vault " + call + " failed: " + e.what() + Seconds(clock_.NowNanos() - start));
    throw;
  }
}

namespace {
constexpr auto kNoResult = [](const auto&) { return std::string(); };
}  // namespace

void LoggingVault::Create() {
  Logged(
      "Create", [&] { VaultWrapper::Create(); }, kNoResult);
}

VaultInfo LoggingVault::Describe() {
  return Logged(
      "Describe", [&] { return VaultWrapper::Describe(); },
      [](const VaultInfo& v) {
        return v.name + ": " + std::to_string(v.archive_count) + " archives, " +
               std::to_string(v.size_bytes) + " bytes";
      });
}

UploadResult LoggingVault::Upload(RewindableSource& body, const std::string& description) {
  return Logged(
      "Upload " + Quote(description) + " " + std::to_string(body.Size()) + " bytes",
      [&] { return VaultWrapper::Upload(body, description); },
      [](const UploadResult& r) { return r.archive_id + " tree-hash " + r.tree_hash; });
}

void LoggingVault::Delete(const std::string& archive_id) {
  Logged(
      "Delete " + archive_id, [&] { VaultWrapper::Delete(archive_id); }, kNoResult);
}

std::string LoggingVault::StartInventory() {
  return Logged(
      "StartInventory", [&] { return VaultWrapper::StartInventory(); },
      [](const std::string& id) { return "job " + id; });
}

std::string LoggingVault::StartRetrieval(const std::string& archive_id, Tier tier,
                                         std::optional<ByteRange> range) {
  return Logged(
      "StartRetrieval " + archive_id + " " + TierName(tier) + " range " + FormatRange(range),
      [&] { return VaultWrapper::StartRetrieval(archive_id, tier, range); },
      [](const std::string& id) { return "job " + id; });
}

JobInfo LoggingVault::DescribeJob(const std::string& job_id) {
  return Logged(
      "DescribeJob " + job_id, [&] { return VaultWrapper::DescribeJob(job_id); },
      [](const JobInfo& j) { return std::string(JobStatusName(j.status)); });
}

std::vector<JobInfo> LoggingVault::ListJobs() {
  return Logged(
      "ListJobs", [&] { return VaultWrapper::ListJobs(); },
      [](const std::vector<JobInfo>& jobs) { return std::to_string(jobs.size()) + " jobs"; });
}

void LoggingVault::ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                                 ByteSink& out) {
  Logged(
      "ReadJobOutput " + job_id + " range " + FormatRange(range),
      [&] { VaultWrapper::ReadJobOutput(job_id, range, out); }, kNoResult);
}

}  // namespace gb
