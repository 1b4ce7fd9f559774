#include "vault/file_vault.h"

#include <filesystem>

#include "core/file.h"
#include "vault/retrying_vault.h"
#include "vault/vault_conformance_suite.h"
#include "vault/vault_factory.h"
#include "vault/vault_test_doubles.h"

namespace gb::test {
namespace {

std::unique_ptr<Vault> NewFileVault(const std::string& dir, Clock& clock) {
  auto v = std::make_unique<FileVault>(JoinPath(dir, "vault"), clock);
  v->Create();
  return v;
}

FakeClock& SharedFakeClock() {
  static FakeClock clock;
  return clock;
}

INSTANTIATE_TEST_SUITE_P(
    File, VaultConformanceTest,
    ::testing::Values(
        VaultConformanceParams{
            .name = "file",
            .make_vault = [](const std::string& dir) { return NewFileVault(dir, SystemClock()); }},
        // Every call fails a fifth of the time, before, during or after its
        // transfer; RetryingVault must hide all of it.
        VaultConformanceParams{.name = "file_faulty_retrying",
                               .make_vault = [](const std::string& dir) -> std::unique_ptr<Vault> {
                                 auto faulty = std::make_unique<FaultInjectingVault>(
                                     NewFileVault(dir, SharedFakeClock()), 0.2, /*seed=*/42);
                                 return std::make_unique<RetryingVault>(
                                     std::move(faulty), SharedFakeClock(),
                                     RetryOptions{.max_attempts = 15});
                               },
                               .clock = &SharedFakeClock()},
        // Glacier's constraints and delays over file://, on a fake clock: proves the
        // suite's polling and capability branches before a real lagging backend needs them.
        VaultConformanceParams{.name = "file_glacier_like",
                               .make_vault = [](const std::string& dir) -> std::unique_ptr<Vault> {
                                 return std::make_unique<GlacierLikeVault>(
                                     NewFileVault(dir, SharedFakeClock()), SharedFakeClock(),
                                     4 * 3600);
                               },
                               .clock = &SharedFakeClock(),
                               .job_timeout_seconds = 12 * 3600,
                               .poll_interval_millis = 15 * 60 * 1000}),
    VaultConformanceName);

class FileVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gb-file-vault-XXXXXX").string();
    ASSERT_TRUE(::mkdtemp(tmpl.data()));
    root_ = tmpl;
    dir_ = JoinPath(root_, "vault");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<FileVault> Open() { return std::make_unique<FileVault>(dir_, clock_); }
  std::unique_ptr<FileVault> Created() {
    auto v = Open();
    v->Create();
    return v;
  }
  std::vector<std::string> Files(const std::string& sub) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(JoinPath(dir_, sub))) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  FakeClock clock_;
  std::string root_, dir_;
};

TEST_F(FileVaultTest, MissingDirectoryIsNotFoundUntilCreated) {
  auto v = Open();
  try {
    v->Describe();
    FAIL() << "Describe on a missing vault succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kNotFound);
    EXPECT_NE(std::string(e.what()).find(dir_), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("vault create"), std::string::npos) << e.what();
  }
  Bytes data = {1, 2, 3};
  SpanSource src(data);
  EXPECT_TRUE(ThrowsCode(Code::kNotFound, [&] { v->Upload(src, "x"); }));
  EXPECT_FALSE(PathExists(dir_)) << "a call other than Create() made the directory";
  v->Create();
  EXPECT_EQ(v->Describe().archive_count, 0u);
  EXPECT_EQ(v->Describe().name, "vault");
}

TEST_F(FileVaultTest, ExistingDirectoryWithoutMarkerIsNotAVault) {
  MakeDirs(dir_);
  try {
    Open()->StartInventory();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kNotFound);
    EXPECT_NE(std::string(e.what()).find("not a vault"), std::string::npos) << e.what();
  }
}

TEST_F(FileVaultTest, FailedUploadLeavesNoFileBehind) {
  auto v = Created();
  class Broken : public RewindableSource {
   public:
    size_t Read(std::span<uint8_t> buf) override {
      if (calls_++ == 2) throw Error(Code::kIOError, "disk on fire");
      std::fill(buf.begin(), buf.end(), 7);
      return buf.size();
    }
    void Rewind() override { calls_ = 0; }
    uint64_t Size() const override { return 10 << 20; }

   private:
    int calls_ = 0;
  } broken;
  EXPECT_THROW(v->Upload(broken, "broken"), Error);
  EXPECT_TRUE(Files("archives").empty());
}

TEST_F(FileVaultTest, SourceShorterThanItsSizeIsAnError) {
  auto v = Created();
  class Liar : public SpanSource {
   public:
    using SpanSource::SpanSource;
    uint64_t Size() const override { return 100; }
  };
  Bytes data(10, 1);
  Liar liar(data);
  EXPECT_TRUE(ThrowsCode(Code::kIOError, [&] { v->Upload(liar, "short"); }));
  EXPECT_TRUE(Files("archives").empty());
}

TEST_F(FileVaultTest, JobStateIsSharedBetweenInstances) {
  Bytes data = {'h', 'e', 'l', 'l', 'o'};
  SpanSource src(data);
  std::string id = Created()->Upload(src, "greeting").archive_id;
  std::string job = Open()->StartRetrieval(id, Tier::kBulk, ByteRange{1, 3});
  auto other = Open();  // another process, as far as the vault can tell
  JobInfo info = other->DescribeJob(job);
  EXPECT_EQ(info.status, JobStatus::kSucceeded);
  EXPECT_EQ(info.tier, Tier::kBulk);
  EXPECT_EQ(info.range, (ByteRange{1, 3}));
  EXPECT_EQ(info.created, clock_.NowSeconds());
  BufferSink out;
  other->ReadJobOutput(job, std::nullopt, out);
  EXPECT_EQ(std::string(out.bytes.begin(), out.bytes.end()), "ell");
  ASSERT_EQ(other->ListJobs().size(), 1u);
}

TEST_F(FileVaultTest, RetrievalSurvivesDeleteOfTheArchive) {
  auto v = Created();
  Bytes data(5000, 9);
  SpanSource src(data);
  std::string id = v->Upload(src, "").archive_id;
  std::string job = v->StartRetrieval(id, Tier::kStandard, std::nullopt);
  v->Delete(id);
  EXPECT_TRUE(ThrowsCode(Code::kNotFound, [&] { v->StartRetrieval(id, Tier::kStandard, {}); }));
  BufferSink out;
  v->ReadJobOutput(job, std::nullopt, out);
  EXPECT_EQ(out.bytes, data);
}

TEST_F(FileVaultTest, JobsExpireAfterTheRetentionPeriod) {
  auto v = Created();
  std::string old_job = v->StartInventory();
  clock_.AdvanceSeconds(FileVault::kJobRetentionSeconds - 60);
  std::string recent_job = v->StartInventory();
  EXPECT_NO_THROW(v->DescribeJob(old_job));
  clock_.AdvanceSeconds(120);
  v->StartInventory();  // purges
  EXPECT_TRUE(ThrowsCode(Code::kNotFound, [&] { v->DescribeJob(old_job); }));
  EXPECT_NO_THROW(v->DescribeJob(recent_job));
  EXPECT_EQ(v->ListJobs().size(), 2u);
  EXPECT_EQ(Files("jobs").size(), 4u);  // two records, two outputs
}

TEST_F(FileVaultTest, ArchiveWithoutMetadataIsInvisible) {
  auto v = Created();
  // What a crash between the data rename and the .meta rename leaves.
  std::string id(32, 'a');
  WriteFileAtomic(JoinPath(JoinPath(dir_, "archives"), id), std::string("orphan"));
  EXPECT_EQ(v->Describe().archive_count, 0u);
  EXPECT_TRUE(ThrowsCode(Code::kNotFound, [&] { v->StartRetrieval(id, Tier::kStandard, {}); }));
  v->Delete(id);  // and Delete cleans it up
  EXPECT_TRUE(Files("archives").empty());
}

TEST_F(FileVaultTest, CorruptMetadataIsCorruption) {
  auto v = Created();
  Bytes data(10, 1);
  SpanSource src(data);
  std::string id = v->Upload(src, "x").archive_id;
  WriteFileAtomic(JoinPath(JoinPath(dir_, "archives"), id + ".meta"), std::string("{nope"));
  EXPECT_TRUE(ThrowsCode(Code::kCorruption, [&] { v->Describe(); }));
}

TEST_F(FileVaultTest, IdsThatCannotBeOursAreNotFoundNotPaths) {
  auto v = Created();
  for (std::string id : {"../gb-vault.json", "", "/etc/passwd", "ABCDEF"}) {
    EXPECT_TRUE(ThrowsCode(Code::kNotFound, [&] { v->StartRetrieval(id, Tier::kStandard, {}); }))
        << id;
    EXPECT_TRUE(ThrowsCode(Code::kNotFound, [&] { v->DescribeJob(id); })) << id;
    EXPECT_NO_THROW(v->Delete(id));
  }
  EXPECT_TRUE(PathExists(JoinPath(dir_, "gb-vault.json")));
}

TEST_F(FileVaultTest, OpenVaultHandlesFileUrls) {
  VaultOptions options;
  options.clock = &clock_;
  auto v = OpenVault("file://" + dir_, options);
  EXPECT_TRUE(ThrowsCode(Code::kNotFound, [&] { v->Describe(); }));
  v->Create();
  Bytes data(10, 1);
  SpanSource src(data);
  std::string id = v->Upload(src, "via factory").archive_id;
  EXPECT_TRUE(PathExists(JoinPath(JoinPath(dir_, "archives"), id)));
}

}  // namespace
}  // namespace gb::test
