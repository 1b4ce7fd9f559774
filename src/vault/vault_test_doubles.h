// Test doubles for vault tests (header-only; include from *_test.cc only).
//   FakeClock              time moves only when told to or when someone sleeps
//   FaultInjectingVault    fails calls with kTransient at a set rate, before the
//                          call, midway through a transfer, or after an
//                          idempotent call took effect (a lost response)
//   GlacierLikeVault       gives a vault Glacier's constraints: jobs finish only
//                          after `job_delay_seconds` of Clock time, 1 MiB
//                          retrieval alignment, no empty archives, lagging listing
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "core/clock.h"
#include "core/tree_hash.h"
#include "vault/vault_wrapper.h"

namespace gb::test {

class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start_seconds = 1767225600 /* 2026-01-01 */)
      : now_(start_seconds * 1000000000LL) {}
  int64_t NowNanos() override { return now_.load(); }
  void SleepNanos(int64_t ns) override {
    now_ += ns;
    slept_ += ns;
  }
  void AdvanceSeconds(int64_t s) { now_ += s * 1000000000LL; }
  int64_t slept_nanos() const { return slept_.load(); }

 private:
  std::atomic<int64_t> now_;
  std::atomic<int64_t> slept_{0};
};

class FaultInjectingVault : public VaultWrapper {
 public:
  // Each call fails with probability `rate` (0..1); the random sequence is fixed by `seed`.
  FaultInjectingVault(std::unique_ptr<Vault> target, double rate, uint64_t seed = 1)
      : VaultWrapper(std::move(target)), rate_(rate), rng_(seed) {}

  int faults() const { return faults_.load(); }

  void Create() override {
    MaybeFail("Create");
    VaultWrapper::Create();
    MaybeFail("Create (response lost)");
  }
  VaultInfo Describe() override {
    MaybeFail("Describe");
    return VaultWrapper::Describe();
  }
  UploadResult Upload(RewindableSource& body, const std::string& description) override {
    MaybeFail("Upload");
    if (Roll()) {  // the connection drops after part of the body went out
      Bytes buf(64 * 1024);
      body.Rewind();
      body.Read(buf);
      Fail("Upload (connection reset while sending)");
    }
    return VaultWrapper::Upload(body, description);
  }
  void Delete(const std::string& archive_id) override {
    MaybeFail("Delete");
    VaultWrapper::Delete(archive_id);
    MaybeFail("Delete (response lost)");
  }
  std::string StartInventory() override {
    MaybeFail("StartInventory");
    return VaultWrapper::StartInventory();
  }
  std::string StartRetrieval(const std::string& archive_id, Tier tier,
                             std::optional<ByteRange> range) override {
    MaybeFail("StartRetrieval");
    return VaultWrapper::StartRetrieval(archive_id, tier, range);
  }
  JobInfo DescribeJob(const std::string& job_id) override {
    MaybeFail("DescribeJob");
    return VaultWrapper::DescribeJob(job_id);
  }
  std::vector<JobInfo> ListJobs() override {
    MaybeFail("ListJobs");
    return VaultWrapper::ListJobs();
  }
  void ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                     ByteSink& out) override {
    MaybeFail("ReadJobOutput");
    if (!Roll()) return VaultWrapper::ReadJobOutput(job_id, range, out);
    // The connection drops after `budget` bytes reached the caller.
    class CuttingSink : public ByteSink {
     public:
      CuttingSink(ByteSink& next, uint64_t budget, FaultInjectingVault& v)
          : next_(next), budget_(budget), v_(v) {}
      void Write(std::span<const uint8_t> data) override {
        size_t n = static_cast<size_t>(std::min<uint64_t>(budget_, data.size()));
        next_.Write(data.first(n));
        budget_ -= n;
        if (n < data.size()) v_.Fail("ReadJobOutput (connection reset while receiving)");
      }
      using ByteSink::Write;
      void Finish() override {}

     private:
      ByteSink& next_;
      uint64_t budget_;
      FaultInjectingVault& v_;
    } cutting(out, Random(3 * 1024 * 1024), *this);
    VaultWrapper::ReadJobOutput(job_id, range, cutting);
  }

 private:
  bool Roll() {
    std::lock_guard lock(mu_);
    return std::uniform_real_distribution<double>(0, 1)(rng_) < rate_;
  }
  uint64_t Random(uint64_t below) {
    std::lock_guard lock(mu_);
    return rng_() % below;
  }
  [[noreturn]] void Fail(const std::string& what) {
    ++faults_;
    throw Error(Code::kTransient, "injected fault: " + what);
  }
  void MaybeFail(const std::string& what) {
    if (Roll()) Fail(what);
  }

  const double rate_;
  std::mutex mu_;
  std::mt19937_64 rng_;
  std::atomic<int> faults_{0};
};

class GlacierLikeVault : public VaultWrapper {
 public:
  GlacierLikeVault(std::unique_ptr<Vault> target, Clock& clock, int64_t job_delay_seconds)
      : VaultWrapper(std::move(target)), clock_(clock), delay_(job_delay_seconds) {}

  VaultCapabilities Capabilities() const override {
    VaultCapabilities caps = VaultWrapper::Capabilities();
    caps.immediate_listing = false;
    caps.jobs_lag = true;
    caps.min_archive_size = 1;
    caps.retrieval_range_alignment = kTreeHashChunkSize;
    caps.min_storage_days = 90;
    return caps;
  }
  UploadResult Upload(RewindableSource& body, const std::string& description) override {
    if (body.Size() == 0) throw Error(Code::kInvalidArgument, "archives must not be empty");
    UploadResult r = VaultWrapper::Upload(body, description);
    std::lock_guard lock(mu_);
    sizes_[r.archive_id] = r.size;
    return r;
  }
  // Like Glacier: a range starts on a MiB and ends on one or at the archive's end.
  std::string StartRetrieval(const std::string& archive_id, Tier tier,
                             std::optional<ByteRange> range) override {
    bool to_archive_end = false;
    if (range && range->length != ByteRange::kToEnd) {
      std::lock_guard lock(mu_);
      auto it = sizes_.find(archive_id);
      to_archive_end = it != sizes_.end() && range->offset + range->length == it->second;
    }
    if (range && (range->offset % kTreeHashChunkSize != 0 ||
                  (range->length != ByteRange::kToEnd && !to_archive_end &&
                   range->length % kTreeHashChunkSize))) {
      throw Error(Code::kInvalidArgument, "retrieval range must be megabyte aligned");
    }
    return Started(VaultWrapper::StartRetrieval(archive_id, tier, range));
  }
  std::string StartInventory() override { return Started(VaultWrapper::StartInventory()); }
  JobInfo DescribeJob(const std::string& job_id) override {
    return Lag(VaultWrapper::DescribeJob(job_id));
  }
  std::vector<JobInfo> ListJobs() override {
    auto jobs = VaultWrapper::ListJobs();
    for (auto& j : jobs) j = Lag(std::move(j));
    return jobs;
  }
  void ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                     ByteSink& out) override {
    if (DescribeJob(job_id).status == JobStatus::kInProgress) throw JobNotReadyError(job_id);
    VaultWrapper::ReadJobOutput(job_id, range, out);
  }

 private:
  std::string Started(std::string job_id) {
    std::lock_guard lock(mu_);
    ready_at_[job_id] = clock_.NowSeconds() + delay_;
    return job_id;
  }
  JobInfo Lag(JobInfo j) {
    std::lock_guard lock(mu_);
    auto it = ready_at_.find(j.id);
    if (it != ready_at_.end() && clock_.NowSeconds() < it->second) {
      j.status = JobStatus::kInProgress;
      j.completed.reset();
      j.output_size.reset();
      j.output_tree_hash.clear();
    } else if (it != ready_at_.end()) {
      j.completed = it->second;
    }
    return j;
  }

  Clock& clock_;
  const int64_t delay_;
  std::mutex mu_;
  std::map<std::string, int64_t> ready_at_;
  std::map<std::string, uint64_t> sizes_;  // of archives uploaded through this wrapper
};

}  // namespace gb::test
