// Restores from the vault: planning only what is needed, and surviving lost
// responses, cut downloads, expired and failed jobs, tampered bytes and a
// missing archive without starting a retrieval twice or fetching a byte twice.
#include "engine/cold_restore.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "catalog/vault_state.h"
#include "core/error.h"
#include "crypto/identity_file.h"
#include "engine/backup.h"
#include "engine/catalog_copy.h"
#include "engine/engine_test_util.h"
#include "engine/point.h"
#include "engine/restore.h"
#include "engine/retrieval.h"
#include "engine/sync.h"
#include "vault/file_vault.h"
#include "vault/vault_test_doubles.h"

namespace gb {
namespace {

namespace fs = std::filesystem;
using test::FakeClock;
using test::RandomText;
using test::RecordingProgress;
using test::ScanTree;
using test::TrustedSigningKey;
using test::WriteText;

// The vault as the restore sees it, with what it was asked for counted and
// faults to order: a lost response to StartRetrieval, a download cut short,
// tampered output, a failed or vanished job.
class ObservedVault : public VaultWrapper {
 public:
  using VaultWrapper::VaultWrapper;

  std::string StartRetrieval(const std::string& id, Tier tier,
                             std::optional<ByteRange> range) override {
    std::string job = VaultWrapper::StartRetrieval(id, tier, range);
    ++retrievals_started;
    if (lose_next_start) {
      lose_next_start = false;
      throw Error(Code::kTransient, "connection reset (the vault did start the job)");
    }
    return job;
  }
  JobInfo DescribeJob(const std::string& job_id) override {
    if (vanished.count(job_id)) throw Error(Code::kNotFound, "no such job " + job_id);
    JobInfo j = VaultWrapper::DescribeJob(job_id);
    if (fail_next_job) {
      fail_next_job = false;
      failed.insert(job_id);
    }
    if (failed.count(job_id)) {
      j.status = JobStatus::kFailed;
      j.status_message = "InternalError";
    }
    return j;
  }
  void ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                     ByteSink& out) override {
    if (vanished.count(job_id)) throw Error(Code::kNotFound, "no such job " + job_id);
    BufferSink all;
    VaultWrapper::ReadJobOutput(job_id, range, all);
    std::vector<uint8_t>& bytes = all.bytes;
    if (tamper_next_read && !bytes.empty()) {
      tamper_next_read = false;
      bytes[bytes.size() / 2] ^= 0x20;
    }
    size_t n = bytes.size();
    if (cut_next_read) {
      cut_next_read = false;
      n /= 2;
    }
    out.Write(std::span<const uint8_t>(bytes.data(), n));
    bytes_read += n;
    if (n < bytes.size()) throw Error(Code::kTransient, "connection reset during the download");
  }

  bool lose_next_start = false, cut_next_read = false, tamper_next_read = false;
  bool fail_next_job = false;
  std::set<std::string> vanished, failed;
  int retrievals_started = 0;
  uint64_t bytes_read = 0;
};

class ColdRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "gb-cold-restore-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    src_ = root_ + "/src";
    age::X25519Identity id = age::X25519Identity::Generate();
    age::WriteIdentityFile(root_ + "/identity.txt", id, clock_);
    WriteText(root_ + "/config.toml",
              "[source]\nincludes = [\"" + src_ + "\"]\n[backup]\ncache_dir = \"" + root_ +
                  "/cache\"\nstate_dir = \"" + root_ + "/state\"\nmax_incrementals = 2\n" +
                  "[encryption]\n" + TrustedSigningKey(root_) + "recipients = [\"" +
                  id.Recipient().ToString() + "\"]\nidentity_file = \"" + root_ +
                  "/identity.txt\"\n[vault]\nurl = \"file://" + root_ + "/vault\"\n");
    ws_ = std::make_unique<Workspace>(LoadConfig(root_ + "/config.toml"));
    auto file = std::make_unique<FileVault>(root_ + "/vault", clock_);
    file->Create();
    // Glacier's shape: jobs take an hour, ranges are whole MiBs.
    vault_ = std::make_unique<ObservedVault>(
        std::make_unique<test::GlacierLikeVault>(std::move(file), clock_, 3600));

    // One set: a full and two incrementals, each holding a file over 1 MiB so
    // that each archive is its own MiB-aligned range of the bundle.
    WriteText(src_ + "/one.bin", RandomText(1300 << 10, 1));
    WriteText(src_ + "/dir/small.txt", "small\n");
    Backup();
    WriteText(src_ + "/two.bin", RandomText(1300 << 10, 2));
    Backup();
    WriteText(src_ + "/three.bin", RandomText(1300 << 10, 3));
    fs::remove(src_ + "/dir/small.txt");
    Backup();
    SyncResult s = RunSync(*ws_, *vault_, progress_, clock_, SyncOptions{});
    ASSERT_EQ(s.uploaded.size(), 1u) << "the set goes up as one bundle";
    for (const BackupRecord& b : ws_->catalog().Backups())
      ASSERT_FALSE(PathExists(ws_->ArchivePath(b.name))) << "the cache is emptied";
  }
  void TearDown() override { fs::remove_all(root_); }

  void Backup() {
    clock_.AdvanceSeconds(3600);
    BackupResult b = RunBackup(*ws_, progress_, clock_, BackupOptions{});
    trees_[BackupId(b.record)] = ScanTree(src_);
    ids_.push_back(BackupId(b.record));
  }

  // What `restore --yes` does, run after run: each call is one run of the
  // command; a run that throws is an interrupted one. Returns the runs needed.
  int RestoreUntilDone(const RestoreOptions& ro, int max_runs = 20) {
    for (int run = 1; run <= max_runs; ++run) {
      try {
        ColdRestorePlan plan = PlanColdRestore(*ws_, *vault_, ro, Tier::kBulk);
        if (AdvanceColdRestore(*ws_, *vault_, plan, progress_, clock_)) {
          RestoreOptions with_staging = ro;
          with_staging.archive_dirs.push_back(StagingDir(*ws_));
          RestoreResult r = RunRestore(*ws_, progress_, with_staging);
          EXPECT_EQ(r.failed, 0u) << progress_.Show();
          CleanStaging(*ws_, plan);
          return run;
        }
      } catch (const Error& e) {
        errors_.push_back(e.what());
      }
      clock_.AdvanceSeconds(1800);  // the next run comes later
    }
    ADD_FAILURE() << "not done after " << max_runs
                  << " runs; last error: " << (errors_.empty() ? "none" : errors_.back()) << "\n"
                  << progress_.Show();
    return max_runs;
  }

  RestoreOptions At(const std::string& id, const std::string& target) {
    RestoreOptions ro;
    ro.at = id;
    ro.target_dir = root_ + "/" + target;
    return ro;
  }

  // The bundle's size in the vault.
  uint64_t BundleSize() {
    uint64_t size = 0;
    for (const VaultArchive& a : VaultState(ws_->catalog()).Archives()) size += a.size;
    return size;
  }

  FakeClock clock_;
  RecordingProgress progress_;
  std::string root_, src_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<ObservedVault> vault_;
  std::map<std::string, std::map<std::string, std::string>> trees_;
  std::vector<std::string> ids_;
  std::vector<std::string> errors_;
};

TEST_F(ColdRestoreTest, EveryPointRestoresFromTheVaultAfterTheJobsFinish) {
  for (const std::string& id : ids_) {
    SCOPED_TRACE(id);
    RestoreOptions ro = At(id, "out-" + id);
    ColdRestorePlan plan = PlanColdRestore(*ws_, *vault_, ro, Tier::kBulk);
    EXPECT_FALSE(plan.complete());
    EXPECT_GT(plan.retrieve_bytes, 0u);
    EXPECT_EQ(RestoreUntilDone(ro), 3) << "start; still running half an hour later; done";
    EXPECT_EQ(ScanTree(ro.target_dir + src_), trees_[id]);
  }
  EXPECT_TRUE(errors_.empty()) << errors_.front();
}

// One path that only the second incremental holds: only that archive's range
// of the bundle is retrieved, and only those bytes are downloaded.
TEST_F(ColdRestoreTest, PartialRestoreRetrievesOnlyWhatHoldsThePaths) {
  RestoreOptions ro = At(ids_.back(), "partial");
  ro.paths = {src_ + "/three.bin"};
  ColdRestorePlan plan = PlanColdRestore(*ws_, *vault_, ro, Tier::kBulk);
  ASSERT_EQ(plan.retrievals.size(), 1u);
  ASSERT_EQ(plan.retrievals[0].archives.size(), 1u);
  EXPECT_EQ(plan.retrievals[0].archives[0].first.seq, 2);
  EXPECT_LT(plan.retrieve_bytes, BundleSize() / 2);
  RestoreUntilDone(ro);
  EXPECT_EQ(vault_->retrievals_started, 1);
  EXPECT_EQ(vault_->bytes_read, plan.retrieve_bytes);
  EXPECT_EQ(ReadFileToString(ro.target_dir + src_ + "/three.bin"), RandomText(1300 << 10, 3));
  EXPECT_FALSE(PathExists(ro.target_dir + src_ + "/one.bin"));
}

// A lost response to the start, then a download cut in the middle: the next
// runs adopt the job that did start and resume the download where it stopped.
TEST_F(ColdRestoreTest, InterruptedRunsNeverStartTwiceNorFetchAByteTwice) {
  RestoreOptions ro = At(ids_.back(), "resumed");
  ColdRestorePlan plan = PlanColdRestore(*ws_, *vault_, ro, Tier::kBulk);
  size_t pieces = plan.retrievals.size();
  vault_->lose_next_start = true;
  vault_->cut_next_read = true;
  RestoreUntilDone(ro);
  EXPECT_EQ(errors_.size(), 2u);
  EXPECT_EQ(vault_->retrievals_started, static_cast<int>(pieces)) << "a retrieval started twice";
  EXPECT_EQ(vault_->bytes_read, plan.retrieve_bytes) << "bytes downloaded twice";
  EXPECT_EQ(ScanTree(ro.target_dir + src_), trees_[ids_.back()]);
  for (const JobRecord& j : VaultState(ws_->catalog()).Jobs())
    EXPECT_NE(j.status, JobRecordStatus::kStarting) << j.job_id;
}

TEST_F(ColdRestoreTest, ExpiredAndFailedJobsAreStartedAgain) {
  RestoreOptions ro = At(ids_.back(), "again");
  ColdRestorePlan plan = PlanColdRestore(*ws_, *vault_, ro, Tier::kBulk);
  ASSERT_FALSE(AdvanceColdRestore(*ws_, *vault_, plan, progress_, clock_));
  // The first job's output expires before anyone downloads it.
  for (const JobRecord& j : VaultState(ws_->catalog()).Jobs(JobRecordStatus::kInProgress))
    vault_->vanished.insert(j.job_id);
  clock_.AdvanceSeconds(3 * 24 * 3600);
  ASSERT_FALSE(AdvanceColdRestore(*ws_, *vault_, plan, progress_, clock_));
  // ... and the second one fails.
  vault_->fail_next_job = true;
  clock_.AdvanceSeconds(7200);
  ASSERT_FALSE(AdvanceColdRestore(*ws_, *vault_, plan, progress_, clock_));
  EXPECT_EQ(RestoreUntilDone(ro), 3) << "the third job takes its hour like the others";
  EXPECT_EQ(vault_->retrievals_started, 3 * static_cast<int>(plan.retrievals.size()));
  EXPECT_EQ(ScanTree(ro.target_dir + src_), trees_[ids_.back()]);
  std::string notices = progress_.Show();
  EXPECT_NE(notices.find("expired"), std::string::npos) << notices;
  EXPECT_NE(notices.find("failed"), std::string::npos) << notices;
}

// Bytes altered on the way: refused with the archive named, nothing written
// into the target; the next run fetches them again and restores.
TEST_F(ColdRestoreTest, TamperedDownloadIsRefusedThenFetchedAgain) {
  RestoreOptions ro = At(ids_.back(), "tampered");
  vault_->tamper_next_read = true;
  EXPECT_GE(RestoreUntilDone(ro), 3);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_NE(errors_[0].find("does not match"), std::string::npos) << errors_[0];
  EXPECT_NE(errors_[0].find(".tar.zst.age"), std::string::npos) << "names the archive";
  EXPECT_EQ(ScanTree(ro.target_dir + src_), trees_[ids_.back()]);
}

TEST_F(ColdRestoreTest, ArchiveMissingFromTheVaultIsNotFoundAndNothingIsWritten) {
  RestoreOptions ro = At(ids_.back(), "missing");
  for (const VaultArchive& a : VaultState(ws_->catalog()).Archives()) vault_->Delete(a.archive_id);
  try {
    for (int run = 0; run < 3; ++run) {
      ColdRestorePlan plan = PlanColdRestore(*ws_, *vault_, ro, Tier::kBulk);
      AdvanceColdRestore(*ws_, *vault_, plan, progress_, clock_);
      clock_.AdvanceSeconds(7200);
    }
    ADD_FAILURE() << "a restore of an archive the vault does not hold went on";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kNotFound) << e.what();
  }
  EXPECT_FALSE(PathExists(ro.target_dir));
}

// A catalog row naming its archive with a path (as a forged catalog copy could
// have put there): every path built from it is refused, and the file at that
// path is neither replaced nor deleted.
TEST_F(ColdRestoreTest, ABackupNamedWithAPathIsRefusedAndTheFileThereSurvives) {
  const std::string victim = root_ + "/victim.txt";
  WriteText(victim, "precious\n");
  Statement(ws_->catalog().db(), "UPDATE backups SET name=?1 WHERE seq=0").Bind(1, victim).Run();
  RestoreOptions ro = At(ids_.back(), "forged");
  try {
    for (int run = 0; run < 3; ++run) {
      ColdRestorePlan plan = PlanColdRestore(*ws_, *vault_, ro, Tier::kBulk);
      AdvanceColdRestore(*ws_, *vault_, plan, progress_, clock_);
      CleanStaging(*ws_, plan);
      clock_.AdvanceSeconds(7200);
    }
    ADD_FAILURE() << "a restore of a backup named " << victim << " went on";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kCorruption) << e.what();
    EXPECT_NE(std::string(e.what()).find(victim), std::string::npos) << e.what();
  }
  EXPECT_EQ(ReadFileToString(victim), "precious\n");
  EXPECT_THROW(ws_->ArchivePath("../victim.txt"), Error);
  EXPECT_THROW(ws_->ArchivePath(""), Error);
}

TEST_F(ColdRestoreTest, ACatalogCopyNamingABackupWithAPathIsRefused) {
  Config cfg = ws_->config();
  for (std::string name :
       {root_ + "/victim.txt", std::string("../../x.tar.zst.age"), ids_[0] + ".tar.zst.age/../x",
        std::string("20260101T000000Z-s+001-full.tar.zst.age")}) {
    Statement(ws_->catalog().db(), "UPDATE backups SET name=?1 WHERE seq=0").Bind(1, name).Run();
    BufferSink copy;
    WriteCatalogCopy(cfg, ws_->catalog(), ws_->catalog().Sets().front().id, copy);
    Catalog fresh(root_ + "/fresh-" + std::to_string(name.size()) + ".db");
    SpanSource in(copy.bytes);
    try {
      ReadCatalogCopy(cfg, fresh, in);
      ADD_FAILURE() << "a copy naming a backup " << name << " was read";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Code::kCorruption) << e.what();
      EXPECT_NE(std::string(e.what()).find("not an archive name"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fresh.Sets().empty()) << "the forged set reached the catalog: " << name;
  }
}

}  // namespace
}  // namespace gb
