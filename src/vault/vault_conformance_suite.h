// The backend conformance suite: one set of tests every Vault implementation
// must pass (restic's backend test suite is the model). The tests themselves
// live in vault_conformance_test.cc, compiled once into vault_tests; a backend
// runs them by instantiating the suite in its own *_test.cc in src/vault:
//
//   #include "vault/vault_conformance_suite.h"
//
//   namespace gb::test {
//   INSTANTIATE_TEST_SUITE_P(
//       Glacier, VaultConformanceTest,
//       ::testing::Values(VaultConformanceParams{
//           .name = "glacier_moto",
//           .make_vault = [](const std::string& scratch_dir) -> std::unique_ptr<Vault> {
//             auto vault = OpenMyBackend(...fresh, uniquely named vault...);
//             vault->Create();
//             return vault;
//           },
//           .job_timeout_seconds = 60}),
//       VaultConformanceName);
//   }  // namespace gb::test
//
// The suite adapts to Capabilities(): listing checks run only where listing is
// immediate; ranged retrievals stay aligned; empty archives are expected to be
// refused where min_archive_size > 0. Jobs are polled with DescribeJob through
// `clock` until they leave InProgress or `job_timeout_seconds` pass, so a
// lagging backend needs no special glue (pass a FakeClock to make waits instant
// for a simulated one). Skip single cases with --gtest_filter if a test peer
// (moto) is known not to implement something.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>

#include "core/clock.h"
#include "core/hex.h"
#include "core/stream.h"
#include "core/tree_hash.h"
#include "vault/vault.h"

namespace gb::test {

struct VaultConformanceParams {
  // Names the instantiation in test names: letters, digits and '_' only.
  std::string name;
  // Returns a vault that exists (Create() done) and holds no archives.
  // `scratch_dir` is a fresh empty directory that the suite removes after the
  // test; backends that keep nothing on disk ignore it.
  std::function<std::unique_ptr<Vault>(const std::string& scratch_dir)> make_vault;
  // The clock the suite polls jobs with (SystemClock() when null). Give the
  // backend the same one.
  Clock* clock = nullptr;
  int64_t job_timeout_seconds = 120;
  int64_t poll_interval_millis = 200;
};

// EXPECT_TRUE(ThrowsCode(Code::kNotFound, [&] { ... })) names what was thrown instead.
template <typename Fn>
inline ::testing::AssertionResult ThrowsCode(Code want, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    if (e.code() == want) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "threw " << CodeName(e.code()) << " (" << e.what() << "), want " << CodeName(want);
  }
  return ::testing::AssertionFailure() << "did not throw, want " << CodeName(want);
}

inline void PrintTo(const VaultConformanceParams& p, std::ostream* os) { *os << p.name; }

// Test-name generator for INSTANTIATE_TEST_SUITE_P.
inline std::string VaultConformanceName(
    const ::testing::TestParamInfo<VaultConformanceParams>& info) {
  return info.param.name;
}

class VaultConformanceTest : public ::testing::TestWithParam<VaultConformanceParams> {
 protected:
  static constexpr uint64_t kMiB = 1024 * 1024;

  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "gb-vault-conformance-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl + " failed");
    scratch_ = tmpl;
    vault_ = GetParam().make_vault(scratch_);
    caps_ = vault_->Capabilities();
  }

  void TearDown() override {
    vault_.reset();
    std::error_code ec;
    std::filesystem::remove_all(scratch_, ec);
  }

  Clock& clock() { return GetParam().clock ? *GetParam().clock : SystemClock(); }
  Vault& vault() { return *vault_; }
  const VaultCapabilities& caps() const { return caps_; }
  const std::string& scratch_dir() const { return scratch_; }

  // Deterministic pseudo-random bytes.
  static Bytes RandomBytes(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    Bytes b(n);
    for (size_t i = 0; i < n; i += 8) {
      uint64_t v = rng();
      for (size_t k = 0; k < 8 && i + k < n; ++k) b[i + k] = static_cast<uint8_t>(v >> (8 * k));
    }
    return b;
  }

  static std::string TreeHashHex(const Bytes& data) { return Hex(TreeHashOf(data)); }

  UploadResult Upload(const Bytes& data, const std::string& description) {
    SpanSource src(data);
    return vault().Upload(src, description);
  }

  // Polls until the job leaves InProgress; throws when the timeout passes.
  JobInfo WaitForJob(const std::string& job_id) {
    int64_t deadline = clock().NowSeconds() + GetParam().job_timeout_seconds;
    for (;;) {
      JobInfo job = vault().DescribeJob(job_id);
      if (job.status != JobStatus::kInProgress) return job;
      if (clock().NowSeconds() >= deadline) {
        throw std::runtime_error("vault job " + job_id + " still in progress after " +
                                 std::to_string(GetParam().job_timeout_seconds) + "s");
      }
      clock().SleepNanos(GetParam().poll_interval_millis * 1000000);
    }
  }

  // Waits for a job that must succeed and returns its (ranged) output.
  Bytes ReadOutput(const std::string& job_id, std::optional<ByteRange> range = std::nullopt) {
    JobInfo job = WaitForJob(job_id);
    if (job.status != JobStatus::kSucceeded) {
      throw std::runtime_error("vault job " + job_id + " failed: " + job.status_message);
    }
    BufferSink out;
    vault().ReadJobOutput(job_id, range, out);
    return out.bytes;
  }

  Bytes Retrieve(const std::string& archive_id, std::optional<ByteRange> range = std::nullopt) {
    return ReadOutput(vault().StartRetrieval(archive_id, Tier::kExpedited, range));
  }

  Inventory TakeInventory() {
    Bytes doc = ReadOutput(vault().StartInventory());
    return ParseInventory(std::string_view(reinterpret_cast<const char*>(doc.data()), doc.size()));
  }

 private:
  std::string scratch_;
  std::unique_ptr<Vault> vault_;
  VaultCapabilities caps_;
};

}  // namespace gb::test
