// Tests of the shared vault pieces: ranges, descriptions, the inventory format,
// the wrappers and the factory. Backends are tested by the conformance suite.
#include "vault/vault.h"

#include <gmock/gmock.h>

#include <filesystem>

#include "core/file.h"
#include "net/http_client.h"
#include "vault/bandwidth_limited_vault.h"
#include "vault/dry_run_vault.h"
#include "vault/file_vault.h"
#include "vault/inventory_reader.h"
#include "vault/logging_vault.h"
#include "vault/retrying_vault.h"
#include "vault/vault_conformance_suite.h"
#include "vault/vault_factory.h"
#include "vault/vault_test_doubles.h"

namespace gb::test {
namespace {

using ::testing::HasSubstr;

Bytes FakeData(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 31 + i / 256);
  return b;
}

TEST(ByteRange, ResolvesAgainstASize) {
  auto r = ResolveRange(std::nullopt, 10);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 10u);
  r = ResolveRange(ByteRange{3, ByteRange::kToEnd}, 10);
  EXPECT_EQ(r.length, 7u);
  r = ResolveRange(ByteRange{10, ByteRange::kToEnd}, 10);
  EXPECT_EQ(r.length, 0u);
  r = ResolveRange(ByteRange{2, 8}, 10);
  EXPECT_EQ(r.length, 8u);
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [] { ResolveRange(ByteRange{2, 9}, 10); }));
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [] { ResolveRange(ByteRange{11}, 10); }));
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [] { ResolveRange(ByteRange{0, 0}, 10); }));
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [] {
    ResolveRange(ByteRange{1, UINT64_MAX - 1}, 10);
  }));
  EXPECT_EQ(FormatRange(std::nullopt), "all");
  EXPECT_EQ(FormatRange(ByteRange{5}), "5-");
  EXPECT_EQ(FormatRange(ByteRange{5, 10}), "5+10");
}

TEST(Description, OnlyPrintableAsciiUpTo1024) {
  EXPECT_NO_THROW(ValidateDescription(""));
  EXPECT_NO_THROW(ValidateDescription(std::string(1024, '~')));
  EXPECT_TRUE(
      ThrowsCode(Code::kInvalidArgument, [] { ValidateDescription(std::string(1025, 'a')); }));
  try {
    ValidateDescription("ok\x01");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("0x01 at position 2"));
  }
}

TEST(Names, TiersAndJobStatesRoundTrip) {
  for (Tier t : {Tier::kExpedited, Tier::kStandard, Tier::kBulk}) {
    EXPECT_EQ(ParseTier(TierName(t)), t);
  }
  EXPECT_EQ(ParseTier("bulk"), Tier::kBulk);
  EXPECT_FALSE(ParseTier("fast"));
  EXPECT_EQ(ParseJobStatus("Succeeded"), JobStatus::kSucceeded);
  EXPECT_EQ(ParseJobKind("ArchiveRetrieval"), JobKind::kRetrieval);
}

TEST(Inventory, ParsesGlacierOutput) {
  // Shaped like a real Glacier inventory: milliseconds in dates, a null description.
  Inventory inv = ParseInventory(R"({
    "VaultARN": "arn:aws:glacier:us-east-1:012345678901:vaults/examplevault",
    "InventoryDate": "2026-11-27T03:07:00Z",
    "ArchiveList": [
      {"ArchiveId": "id-1", "ArchiveDescription": "snapshot \"a\"",
       "CreationDate": "2026-11-20T10:00:00.700Z", "Size": 3145728,
       "SHA256TreeHash": "8ff269de065159dd842ef43ebb9d78a56e8e901672190884df6574b6f3f77b69"},
      {"ArchiveId": "id-2", "ArchiveDescription": null,
       "CreationDate": "2026-11-21T00:00:00Z", "Size": 0,
       "SHA256TreeHash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
    ]})");
  EXPECT_EQ(inv.date, 1795748820);
  ASSERT_EQ(inv.archives.size(), 2u);
  EXPECT_EQ(inv.archives[0].id, "id-1");
  EXPECT_EQ(inv.archives[0].description, "snapshot \"a\"");
  EXPECT_EQ(inv.archives[0].created, *ParseUtc("2026-11-20T10:00:00Z"));
  EXPECT_EQ(inv.archives[0].size, 3145728u);
  EXPECT_EQ(inv.archives[1].description, "");
}

TEST(Inventory, RoundTripsThroughTheGlacierFormat) {
  Inventory inv{1795748820,
                {{"a", "first", 1795740000, 12, "00ff"}, {"b", "", 1795740001, 0, "ee"}}};
  Inventory back = ParseInventory(FormatInventory(inv, "file:///somewhere"));
  EXPECT_EQ(back.date, inv.date);
  EXPECT_EQ(back.archives, inv.archives);
  EXPECT_TRUE(ParseInventory(R"({"VaultARN":"x","InventoryDate":"1970-01-01T00:00:00Z",
                                 "ArchiveList":[]})")
                  .archives.empty());
}

TEST(Inventory, MalformedIsCorruption) {
  const char* bad[] = {
      "", "[]", "{\"InventoryDate\":\"2026-01-01T00:00:00Z\"}",
      R"({"InventoryDate":"yesterday","ArchiveList":[]})",
      R"({"InventoryDate":"2026-01-01T00:00:00Z","ArchiveList":[{"ArchiveId":"a"}]})",
      R"({"InventoryDate":"2026-01-01T00:00:00Z","ArchiveList":[{"ArchiveId":"a",
          "CreationDate":"2026-01-01T00:00:00Z","Size":-1,"SHA256TreeHash":"00"}]})",
      // Absurd claims: a size beyond any backend's limit, dates outside 1970-9999.
      R"({"InventoryDate":"2026-01-01T00:00:00Z","ArchiveList":[{"ArchiveId":"a",
          "CreationDate":"2026-01-01T00:00:00Z","Size":18446744073709551615,
          "SHA256TreeHash":"00"}]})",
      R"({"InventoryDate":"@-86400","ArchiveList":[]})",
      R"({"InventoryDate":"@9223372036854775807","ArchiveList":[]})",
      R"({"InventoryDate":"2026-01-01T00:00:00Z","ArchiveList":[{"ArchiveId":"a",
          "CreationDate":"@-1","Size":1,"SHA256TreeHash":"00"}]})"};
  for (const char* doc : bad) {
    EXPECT_TRUE(ThrowsCode(Code::kCorruption, [&] { ParseInventory(doc); })) << doc;
  }
}

// A scripted target: each call pops the next outcome ("ok" or an error code).
class ScriptedVault : public Vault {
 public:
  std::vector<Code> failures;  // thrown by the next calls, in order; then success
  int unreachable = 0;         // the next calls first throw UnreachableError
  int calls = 0;
  Bytes output;                             // what ReadJobOutput serves
  uint64_t fail_output_after = UINT64_MAX;  // ReadJobOutput sends this many bytes, then fails once
  Bytes uploaded;

  void Create() override { Next(); }
  VaultInfo Describe() override {
    Next();
    return {"scripted", 1, 2, 3};
  }
  VaultCapabilities Capabilities() const override { return {}; }
  UploadResult Upload(RewindableSource& body, const std::string&) override {
    body.Rewind();
    uploaded.clear();
    Bytes buf(1000);
    bool first = true;
    while (size_t n = body.Read(buf)) {
      uploaded.insert(uploaded.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n));
      if (first) Next();  // fail midway, after reading some of the body
      first = false;
    }
    return {"archive", "hash", uploaded.size()};
  }
  void Delete(const std::string&) override { Next(); }
  std::string StartInventory() override {
    Next();
    return "job";
  }
  std::string StartRetrieval(const std::string&, Tier, std::optional<ByteRange>) override {
    Next();
    return "job";
  }
  JobInfo DescribeJob(const std::string&) override {
    Next();
    return {};
  }
  std::vector<JobInfo> ListJobs() override {
    Next();
    return {};
  }
  void ReadJobOutput(const std::string&, std::optional<ByteRange> range, ByteSink& out) override {
    Next();
    auto r = ResolveRange(range, output.size());
    auto data = std::span<const uint8_t>(output).subspan(r.offset, r.length);
    if (fail_output_after != UINT64_MAX) {
      out.Write(data.first(std::min<uint64_t>(fail_output_after, data.size())));
      fail_output_after = UINT64_MAX;
      throw Error(Code::kTransient, "connection reset");
    }
    out.Write(data);
  }

 private:
  void Next() {
    ++calls;
    if (unreachable > 0) {
      --unreachable;
      throw UnreachableError(Code::kTransient, "scripted: connection refused");
    }
    if (failures.empty()) return;
    Code c = failures.front();
    failures.erase(failures.begin());
    if (c == Code::kInternal) throw JobNotReadyError("job");
    throw Error(c, std::string("scripted ") + CodeName(c));
  }
};

// However long an output the vault sends, an inventory is read only up to its cap.
TEST(ReadInventory, StopsAtTheCapWhateverTheVaultSends) {
  ScriptedVault vault;
  std::string doc =
      FormatInventory(Inventory{1767225600, {ArchiveInfo{"a1", "d", 1767225600, 10, "00"}}}, "arn");
  vault.output.assign(doc.begin(), doc.end());
  EXPECT_EQ(ReadInventory(vault, "job-1", doc.size()).archives.size(), 1u);
  try {
    ReadInventory(vault, "job-1", doc.size() - 1);
    ADD_FAILURE() << "an inventory longer than its cap was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kCorruption) << e.what();
    EXPECT_NE(std::string(e.what()).find("job-1"), std::string::npos) << e.what();
  }
}

class RetryingVaultTest : public ::testing::Test {
 protected:
  RetryingVaultTest() {
    auto s = std::make_unique<ScriptedVault>();
    script_ = s.get();
    vault_ = std::make_unique<RetryingVault>(std::move(s), clock_, RetryOptions{},
                                             [this](const std::string& l) { log_.push_back(l); });
  }
  FakeClock clock_;
  ScriptedVault* script_;
  std::unique_ptr<RetryingVault> vault_;
  std::vector<std::string> log_;
};

TEST_F(RetryingVaultTest, RetriesTransientErrors) {
  script_->failures = {Code::kTransient, Code::kTransient, Code::kTransient};
  EXPECT_EQ(vault_->Describe().name, "scripted");
  EXPECT_EQ(script_->calls, 4);
  ASSERT_EQ(log_.size(), 3u);
  EXPECT_THAT(log_[0], HasSubstr("vault Describe failed (scripted transient failure)"));
  EXPECT_THAT(log_[0], HasSubstr("retry 1 of 7"));
  EXPECT_THAT(log_[2], HasSubstr("retry 3 of 7"));
  EXPECT_LE(clock_.slept_nanos(), 1400000000LL);  // 0.2 + 0.4 + 0.8 s at most
}

TEST_F(RetryingVaultTest, UsesTheGivenOptions) {
  auto s = std::make_unique<ScriptedVault>();
  s->failures.assign(9, Code::kTransient);
  RetryingVault v(std::move(s), clock_,
                  {.max_attempts = 10, .base_delay_ns = 1000000000, .max_delay_ns = 3000000000});
  v.Delete("x");
  EXPECT_LE(clock_.slept_nanos(), 24000000000LL);  // 1 + 2 + 7 * 3 s at most
  EXPECT_GT(clock_.slept_nanos(), 0);
}

TEST_F(RetryingVaultTest, GivesUpAfterMaxAttempts) {
  script_->failures.assign(10, Code::kTransient);
  try {
    vault_->StartInventory();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kTransient);
    EXPECT_THAT(e.what(), HasSubstr("gave up after 8 attempts"));
  }
  EXPECT_EQ(script_->calls, 8);
}

TEST_F(RetryingVaultTest, OtherErrorsPassAtOnce) {
  for (Code c : {Code::kNotFound, Code::kPermanent, Code::kInvalidArgument, Code::kCorruption}) {
    script_->calls = 0;
    script_->failures = {c};
    EXPECT_TRUE(ThrowsCode(c, [&] { vault_->DescribeJob("j"); }));
    EXPECT_EQ(script_->calls, 1) << CodeName(c);
  }
  script_->failures = {Code::kInternal};  // scripted as JobNotReadyError
  BufferSink out;
  EXPECT_THROW(vault_->ReadJobOutput("job", std::nullopt, out), JobNotReadyError);
  EXPECT_EQ(clock_.slept_nanos(), 0);
}

// A wrong endpoint or a machine offline: the error comes after a few quick tries.
TEST_F(RetryingVaultTest, EndpointThatNeverAnsweredGivesUpSoon) {
  script_->unreachable = 100;
  try {
    vault_->Describe();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kTransient);
    EXPECT_THAT(e.what(), HasSubstr("gave up after 3 attempts"));
  }
  EXPECT_EQ(script_->calls, 3);
  EXPECT_LE(clock_.slept_nanos(), 600000000LL);  // 0.2 + 0.4 s at most
}

// Once the server has answered, losing it gets the whole retry budget.
TEST_F(RetryingVaultTest, EndpointThatAnsweredOnceGetsEveryRetry) {
  vault_->Describe();
  script_->calls = 0;
  script_->unreachable = 100;
  EXPECT_THROW(vault_->StartInventory(), Error);
  EXPECT_EQ(script_->calls, 8);
  // A refusal from the server also proves it is there.
  auto s = std::make_unique<ScriptedVault>();
  ScriptedVault* script = s.get();
  RetryingVault v(std::move(s), clock_, RetryOptions{});
  script->failures = {Code::kNotFound};
  EXPECT_THROW(v.DescribeJob("j"), Error);
  script->calls = 0;
  script->unreachable = 100;
  EXPECT_THROW(v.StartInventory(), Error);
  EXPECT_EQ(script->calls, 8);
}

TEST_F(RetryingVaultTest, UploadResendsTheWholeBody) {
  script_->failures = {Code::kTransient};
  Bytes data = FakeData(5000);
  SpanSource src(data);
  EXPECT_EQ(vault_->Upload(src, "d").size, 5000u);
  EXPECT_EQ(script_->uploaded, data);
}

TEST_F(RetryingVaultTest, ReadJobOutputResumesWhereItBroke) {
  script_->output = FakeData(10000);
  for (std::optional<ByteRange> range :
       {std::optional<ByteRange>(), std::optional<ByteRange>(ByteRange{100, 5000}),
        std::optional<ByteRange>(ByteRange{100})}) {
    script_->fail_output_after = 1234;
    BufferSink out;
    vault_->ReadJobOutput("job", range, out);
    auto r = ResolveRange(range, 10000);
    EXPECT_EQ(out.bytes,
              Bytes(script_->output.begin() + static_cast<ptrdiff_t>(r.offset),
                    script_->output.begin() + static_cast<ptrdiff_t>(r.offset + r.length)))
        << FormatRange(range);
  }
}

TEST_F(RetryingVaultTest, ReadJobOutputThatBrokeAfterTheLastByteIsComplete) {
  script_->output = FakeData(100);
  script_->fail_output_after = 100;
  BufferSink out;
  vault_->ReadJobOutput("job", ByteRange{0, 100}, out);
  EXPECT_EQ(out.bytes, script_->output);
  EXPECT_EQ(script_->calls, 1);  // nothing was left to ask for

  script_->calls = 0;
  script_->fail_output_after = 100;
  out.bytes.clear();
  vault_->ReadJobOutput("job", std::nullopt, out);  // length unknown: asks for "100-", gets none
  EXPECT_EQ(out.bytes, script_->output);
  EXPECT_EQ(script_->calls, 2);
}

TEST(BandwidthLimitedVault, HoldsUploadsAndDownloadsToTheRate) {
  std::string root = std::filesystem::temp_directory_path() / "gb-vault-bw-XXXXXX";
  ASSERT_TRUE(::mkdtemp(root.data()));
  FakeClock clock;
  auto file = std::make_unique<FileVault>(root, clock);
  file->Create();
  BandwidthLimitedVault v(std::move(file), clock, 256 * 1024, 512 * 1024);
  Bytes data(2 << 20, 'x');
  SpanSource src(data);
  int64_t t0 = clock.NowNanos();
  std::string id = v.Upload(src, "slow").archive_id;
  double up = (clock.NowNanos() - t0) / 1e9;
  EXPECT_NEAR(up, 8.0, 0.5);  // 2 MiB at 256 KiB/s
  std::string job = v.StartRetrieval(id, Tier::kStandard, std::nullopt);
  t0 = clock.NowNanos();
  BufferSink out;
  v.ReadJobOutput(job, std::nullopt, out);
  // 2 MiB at 512 KiB/s, less the one-second burst the idle bucket earned meanwhile.
  EXPECT_NEAR((clock.NowNanos() - t0) / 1e9, 3.0, 0.5);
  EXPECT_EQ(out.bytes, data);
  std::filesystem::remove_all(root);
}

TEST(BandwidthLimitedVault, TokenBucketAllowsOneSecondBurst) {
  FakeClock clock;
  TokenBucket bucket(clock, 1000);
  clock.AdvanceSeconds(10);  // idle time earns at most one second of tokens
  bucket.Take(1000);
  EXPECT_EQ(clock.slept_nanos(), 0);
  bucket.Take(500);
  EXPECT_EQ(clock.slept_nanos(), 500000000);
}

TEST(LoggingVault, OneLinePerCallWithErrors) {
  std::vector<std::string> lines;
  auto s = std::make_unique<ScriptedVault>();
  ScriptedVault* script = s.get();
  FakeClock clock;
  LoggingVault v(std::move(s), clock, [&](const std::string& l) { lines.push_back(l); });
  Bytes data(10, 1);
  SpanSource src(data);
  v.Upload(src, std::string(300, 'd'));
  script->failures = {Code::kNotFound};
  EXPECT_THROW(v.StartRetrieval("arch", Tier::kBulk, ByteRange{5, 10}), Error);
  v.Capabilities();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("vault Upload \"" + std::string(100, 'd') + "...\" 10 bytes"));
  EXPECT_THAT(lines[0], HasSubstr("-> archive tree-hash hash"));
  EXPECT_THAT(
      lines[1],
      HasSubstr("StartRetrieval arch Bulk range 5+10 failed: not found: scripted not found"));
}

TEST(DryRunVault, ReportsMutationsAndPerformsNone) {
  std::string root = std::filesystem::temp_directory_path() / "gb-vault-dry-XXXXXX";
  ASSERT_TRUE(::mkdtemp(root.data()));
  FakeClock clock;
  auto file = std::make_unique<FileVault>(root, clock);
  file->Create();
  Bytes data(10, 1);
  SpanSource real(data);
  std::string existing = file->Upload(real, "existing").archive_id;
  std::vector<std::string> lines;
  DryRunVault v(std::move(file), [&](const std::string& l) { lines.push_back(l); });

  class Unreadable : public RewindableSource {
    size_t Read(std::span<uint8_t>) override { throw Error(Code::kInternal, "read in dry run"); }
    void Rewind() override {}
    uint64_t Size() const override { return 12345; }
  } body;
  UploadResult up = v.Upload(body, "new");
  EXPECT_EQ(up.archive_id, "dry-run-1");
  EXPECT_EQ(up.size, 12345u);
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] { v.Upload(body, "bad\n"); }));
  v.Delete(existing);
  std::string job = v.StartRetrieval(existing, Tier::kStandard, std::nullopt);
  EXPECT_EQ(v.DescribeJob(job).status, JobStatus::kFailed);
  BufferSink out;
  EXPECT_TRUE(ThrowsCode(Code::kPermanent, [&] { v.ReadJobOutput(job, std::nullopt, out); }));
  EXPECT_TRUE(v.ListJobs().empty());
  EXPECT_EQ(v.Describe().archive_count, 1u);  // reads pass through; nothing was deleted
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "dry run: would upload 12345 bytes as \"new\"");
  EXPECT_EQ(lines[1], "dry run: would delete archive " + existing);
  EXPECT_THAT(lines[2], HasSubstr("would start a Standard retrieval of archive " + existing));
  std::filesystem::remove_all(root);
}

TEST(OpenVault, RejectsUnknownSchemesNamingTheKnownOnes) {
  for (std::string url : {"ftp://x", "/plain/path", "glacer://vault", "file://"}) {
    try {
      OpenVault(url, {});
      FAIL() << url;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Code::kInvalidArgument);
      EXPECT_THAT(e.what(), HasSubstr(url));
      if (url != "file://") {
        EXPECT_THAT(e.what(), HasSubstr("file://"));
      }
    }
  }
}

TEST(OpenVault, StacksDryRunLoggingAndRetries) {
  std::string root = std::filesystem::temp_directory_path() / "gb-vault-open-XXXXXX";
  ASSERT_TRUE(::mkdtemp(root.data()));
  FakeClock clock;
  std::vector<std::string> lines;
  VaultOptions options;
  options.clock = &clock;
  options.dry_run = true;
  options.log_calls = true;
  options.log = [&](const std::string& l) { lines.push_back(l); };
  auto v = OpenVault("file://" + root, options);
  v->Create();  // dry run: nothing written
  EXPECT_FALSE(PathExists(JoinPath(root, "gb-vault.json")));
  EXPECT_TRUE(ThrowsCode(Code::kNotFound, [&] { v->Describe(); }));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "dry run: would create the vault");
  EXPECT_THAT(lines[1], HasSubstr("vault Describe failed: not found: directory " + root));
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace gb::test
