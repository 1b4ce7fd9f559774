// glacier:// against two peers: tests/servers/glacier_server.py (faithful to
// the API reference, multipart included) and moto_server with every
// signature verified (tests/servers/moto_harness.py).
#include "vault/glacier_vault.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <set>

#include "core/hex.h"
#include "core/tree_hash.h"
#include "net/http_client.h"
#include "vault/retrying_vault.h"
#include "vault/test_server.h"
#include "vault/vault_conformance_suite.h"
#include "vault/vault_factory.h"
#include "vault/vault_test_doubles.h"

namespace gb::test {
namespace {

using gb::testing::TestServer;
constexpr uint64_t kMiB = 1 << 20;

std::string NewVaultName() {
  static std::atomic<int> n{0};
  return "gb-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

GlacierClientOptions ClientFor(const TestServer& server, const std::string& vault,
                               std::string secret = "") {
  AwsSettings settings;
  settings.credentials.access_key_id = server.access_key();
  settings.credentials.secret_access_key = secret.empty() ? server.secret_key() : secret;
  settings.source = "the test";
  GlacierClientOptions options;
  options.region = "us-east-1";
  options.vault = vault;
  options.endpoint = server.endpoint();
  options.settings = [settings] { return settings; };
  return options;
}

// Small multipart settings so a few MiB exercise several parts and workers.
GlacierVaultOptions MultipartOptions() {
  GlacierVaultOptions options;
  options.multipart_threshold = kMiB;
  options.multipart.min_part_size = kMiB;
  options.multipart.threads = 3;
  return options;
}

std::unique_ptr<GlacierVault> NewVault(const TestServer& server, const std::string& vault,
                                       GlacierVaultOptions options = {}) {
  return std::make_unique<GlacierVault>(ClientFor(server, vault), options, SystemClock());
}

// The API requests the faithful server has seen (its /_test/requests log).
nlohmann::json ServerRequests(const TestServer& server) {
  HttpClient http;
  HttpRequest request;
  request.url = server.endpoint() + "/_test/requests";
  return nlohmann::json::parse(http.Send(request).body);
}

// The Content-Range offsets of the parts the server accepted since entry `from`.
std::vector<uint64_t> PartsSent(const TestServer& server, size_t from = 0) {
  std::vector<uint64_t> offsets;
  nlohmann::json log = ServerRequests(server);
  for (size_t i = from; i < log.size(); ++i) {
    const auto& r = log[i];
    if (r["method"] == "PUT" && r["status"] == 204 && r["content_range"].is_string()) {
      offsets.push_back(std::stoull(r["content_range"].get<std::string>().substr(6)));
    }
  }
  std::sort(offsets.begin(), offsets.end());
  return offsets;
}

// API requests since entry `from` with this method whose path, after /-/vaults, matches
// `shape`: "" (ListVaults), "/V/jobs" ("V" and "ID" stand for any one path segment).
size_t CountRequests(const TestServer& server, const std::string& method, const std::string& shape,
                     size_t from = 0) {
  auto segments = [](const std::string& path) {
    std::vector<std::string> out;
    for (size_t i = 0; i < path.size();) {
      size_t next = path.find('/', i + 1);
      out.push_back(path.substr(i + 1, next == std::string::npos ? next : next - i - 1));
      i = next == std::string::npos ? path.size() : next;
    }
    return out;
  };
  std::vector<std::string> want = segments("/-/vaults" + shape);
  nlohmann::json log = ServerRequests(server);
  size_t n = 0;
  for (size_t i = from; i < log.size(); ++i) {
    std::vector<std::string> got = segments(log[i]["path"].get<std::string>());
    bool match = log[i]["method"] == method && got.size() == want.size();
    for (size_t k = 0; match && k < got.size(); ++k) {
      match = want[k] == "V" || want[k] == "ID" || want[k] == got[k];
    }
    n += match;
  }
  return n;
}

void InjectFault(const TestServer& server, const nlohmann::json& fault) {
  std::string body = fault.dump();
  SpanSource source(AsBytes(body));
  HttpClient http;
  HttpRequest request;
  request.method = "POST";
  request.url = server.endpoint() + "/_test/fail";
  request.body = &source;
  ASSERT_EQ(http.Send(request).status, 204);
}

// The open multipart uploads of `vault`, by description.
std::multiset<std::string> OpenUploads(GlacierVault& vault) {
  GlacierRequest request;
  request.path = "/multipart-uploads";
  HttpResponse response = vault.client().Send(request);
  EXPECT_EQ(response.status, 200) << response.body;
  nlohmann::json doc = nlohmann::json::parse(response.body);
  std::multiset<std::string> descriptions;
  for (const auto& u : doc["UploadsList"]) {
    descriptions.insert(u["ArchiveDescription"].get<std::string>());
  }
  return descriptions;
}

// Serves `data` but throws kIOError once `fail_at` bytes have been read.
class FailingSource : public RewindableSource {
 public:
  FailingSource(const Bytes& data, uint64_t fail_at) : data_(data), fail_at_(fail_at) {}
  size_t Read(std::span<uint8_t> buf) override {
    if (pos_ >= fail_at_) throw Error(Code::kIOError, "injected source failure");
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), fail_at_ - pos_));
    std::copy_n(data_.begin() + static_cast<ptrdiff_t>(pos_), n, buf.begin());
    pos_ += n;
    return n;
  }
  void Rewind() override { pos_ = 0; }
  uint64_t Size() const override { return data_.size(); }

 private:
  const Bytes& data_;
  uint64_t fail_at_, pos_ = 0;
};

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * 131 + seed) ^ (i >> 13));
  return b;
}

std::string OurDescription(const std::string& token) {
  return R"({"tool":"glacier-backup","kind":"archive","token":")" + token + R"("})";
}

Bytes WaitAndRead(Vault& vault, const std::string& job_id,
                  std::optional<ByteRange> range = std::nullopt) {
  for (int i = 0; i < 600; ++i) {
    if (vault.DescribeJob(job_id).status != JobStatus::kInProgress) break;
    SystemClock().SleepNanos(100'000'000);
  }
  BufferSink out;
  vault.ReadJobOutput(job_id, range, out);
  return out.bytes;
}

// ---- The conformance suite ----------------------------------------------

// Owns the server its vault talks to, so the suite stops the server with the vault.
class ServedVault : public VaultWrapper {
 public:
  ServedVault(std::unique_ptr<TestServer> server, std::unique_ptr<Vault> vault)
      : VaultWrapper(std::move(vault)), server_(std::move(server)) {}

 private:
  std::unique_ptr<TestServer> server_;
};

std::unique_ptr<Vault> FaithfulVault() {
  auto server = std::make_unique<TestServer>("glacier_server.py",
                                             std::vector<std::string>{"--job-delay", "0.3"});
  GlacierVaultOptions options = MultipartOptions();
  options.multipart_threshold = 2 * kMiB;
  auto vault = NewVault(*server, NewVaultName(), options);
  vault->Create();
  return std::make_unique<ServedVault>(std::move(server), std::move(vault));
}

// moto's jobs take 2 / 5 / 10 s by tier; Expedited keeps the suite short.
class ExpeditedVault : public VaultWrapper {
 public:
  using VaultWrapper::VaultWrapper;
  std::string StartRetrieval(const std::string& archive_id, Tier,
                             std::optional<ByteRange> range) override {
    return VaultWrapper::StartRetrieval(archive_id, Tier::kExpedited, range);
  }
};

// Conformance cases moto cannot pass, and why (COLD-STORAGE-NOTES.md).
const std::map<std::string, std::string>& MotoGaps() {
  static const std::map<std::string, std::string> gaps = {
      {"MissingArchiveIsNotFound",
       "moto starts and completes a retrieval of any archive id (then fails its output with 500)"},
      {"MissingJobIsNotFound", "moto answers an unknown job id with HTTP 500, not 404"},
      {"DeleteIsIdempotent", "moto answers DeleteArchive of a missing archive with HTTP 500"},
      {"JobsMoveFromInProgressToSucceeded",
       "moto reports ArchiveSizeInBytes 0, so the job's output size is unknown"},
      {"InventoryListsUploadsWithDescriptions",
       "moto reports InventorySizeInBytes 10000 whatever the inventory holds"},
      {"RetrievalRangesReturnExactlyTheRange", "moto ignores RetrievalByteRange"},
  };
  return gaps;
}

void SkipBecause(const std::string& reason) { GTEST_SKIP() << reason; }

std::unique_ptr<Vault> MotoVault() {
  std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  auto gap = MotoGaps().find(test.substr(0, test.find('/')));
  if (gap != MotoGaps().end()) {
    SkipBecause(gap->second);
    // Never called: the suite does not run a skipped test's body.
    return std::make_unique<GlacierVault>(
        GlacierClientOptions{
            .region = "us-east-1", .vault = "unused", .endpoint = "http://127.0.0.1:9"},
        GlacierVaultOptions{}, SystemClock());
  }
  auto server = std::make_unique<TestServer>("moto_harness.py");
  auto vault = NewVault(*server, NewVaultName());
  vault->Create();
  return std::make_unique<ServedVault>(std::move(server),
                                       std::make_unique<ExpeditedVault>(std::move(vault)));
}

INSTANTIATE_TEST_SUITE_P(
    Glacier, VaultConformanceTest,
    ::testing::Values(
        // Above 2 MiB uploads go multipart in 1 MiB parts: the suite's sizes take both paths.
        VaultConformanceParams{.name = "glacier_faithful",
                               .make_vault = [](const std::string&) { return FaithfulVault(); },
                               .job_timeout_seconds = 30},
        VaultConformanceParams{.name = "glacier_moto",
                               .make_vault = [](const std::string&) { return MotoVault(); },
                               .job_timeout_seconds = 60}),
    VaultConformanceName);

// ---- Multipart ------------------------------------------------------------

class GlacierVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two items a page (Glacier may return fewer than asked for): every listing pages.
    server_ = std::make_unique<TestServer>(
        "glacier_server.py", std::vector<std::string>{"--job-delay", "0.2", "--page-limit", "2"});
    vault_name_ = NewVaultName();
    vault_ = NewVault(*server_, vault_name_, MultipartOptions());
    vault_->Create();
  }

  std::unique_ptr<TestServer> server_;
  std::string vault_name_;
  std::unique_ptr<GlacierVault> vault_;
};

TEST_F(GlacierVaultTest, LargeArchivesGoMultipartInParallelParts) {
  Bytes data = Pattern(5 * kMiB + 123, 1);
  SpanSource src(data);
  UploadResult up = vault_->Upload(src, "five and a bit MiB");
  EXPECT_EQ(up.size, data.size());
  EXPECT_EQ(up.tree_hash, Hex(TreeHashOf(data)));
  EXPECT_EQ(PartsSent(*server_),
            (std::vector<uint64_t>{0, kMiB, 2 * kMiB, 3 * kMiB, 4 * kMiB, 5 * kMiB}));
  EXPECT_EQ(CountRequests(*server_, "POST", "/V/multipart-uploads"), 1u);
  EXPECT_EQ(CountRequests(*server_, "POST", "/V/archives"), 0u);
  EXPECT_TRUE(OpenUploads(*vault_).empty());
  EXPECT_TRUE(WaitAndRead(*vault_, vault_->StartRetrieval(up.archive_id, Tier::kBulk, {})) == data);
}

TEST_F(GlacierVaultTest, InterruptedMultipartUploadResumesWithoutResendingParts) {
  const std::string description = OurDescription("resume-1");
  Bytes data = Pattern(5 * kMiB + 123, 2);
  FailingSource broken(data, 3 * kMiB + 500);  // dies while reading the fourth part
  EXPECT_TRUE(ThrowsCode(Code::kIOError, [&] { vault_->Upload(broken, description); }))
      << "the source's own error must come out of Upload";
  EXPECT_EQ(PartsSent(*server_), (std::vector<uint64_t>{0, kMiB, 2 * kMiB}))
      << "the parts read before the failure are sent";
  EXPECT_EQ(OpenUploads(*vault_), std::multiset<std::string>{description});

  size_t mark = ServerRequests(*server_).size();
  SpanSource whole(data);
  UploadResult up = vault_->Upload(whole, description);  // what RetryingVault would do
  EXPECT_EQ(PartsSent(*server_, mark), (std::vector<uint64_t>{3 * kMiB, 4 * kMiB, 5 * kMiB}));
  EXPECT_EQ(CountRequests(*server_, "GET", "/V/multipart-uploads/ID", mark), 2u)
      << "ListParts, two parts a page";
  EXPECT_EQ(CountRequests(*server_, "POST", "/V/multipart-uploads", mark), 0u) << "no new upload";
  EXPECT_EQ(up.tree_hash, Hex(TreeHashOf(data)));
  EXPECT_TRUE(OpenUploads(*vault_).empty());
  EXPECT_TRUE(WaitAndRead(*vault_, vault_->StartRetrieval(up.archive_id, Tier::kBulk, {})) == data);
}

TEST_F(GlacierVaultTest, ResumeResendsPartsWhoseTreeHashDiffers) {
  const std::string description = OurDescription("resume-2");
  Bytes first = Pattern(4 * kMiB, 3);
  FailingSource broken(first, 3 * kMiB);
  EXPECT_THROW(vault_->Upload(broken, description), Error);
  Bytes second = first;
  second[kMiB + 7] ^= 0xff;  // the source changed under part 1

  size_t mark = ServerRequests(*server_).size();
  SpanSource src(second);
  UploadResult up = vault_->Upload(src, description);
  EXPECT_EQ(PartsSent(*server_, mark), (std::vector<uint64_t>{kMiB, 3 * kMiB}));
  EXPECT_TRUE(WaitAndRead(*vault_, vault_->StartRetrieval(up.archive_id, Tier::kBulk, {})) ==
              second);
}

// Starts a multipart upload the way another tool would, and leaves it open.
void StartForeignUpload(GlacierVault& vault, const std::string& description) {
  GlacierRequest request{.method = "POST", .path = "/multipart-uploads"};
  request.headers = {{"x-amz-part-size", std::to_string(kMiB)},
                     {"x-amz-archive-description", description}};
  ASSERT_EQ(vault.client().Send(request).status, 201);
}

TEST_F(GlacierVaultTest, StaleUploadsOfOursAreAbortedOthersKept) {
  Bytes data = Pattern(3 * kMiB, 4);
  FailingSource broken(data, 2 * kMiB);
  EXPECT_THROW(vault_->Upload(broken, OurDescription("old")), Error);
  StartForeignUpload(*vault_, "another tool's upload");
  SpanSource src(data);
  vault_->Upload(src, OurDescription("fresh"));
  EXPECT_EQ(OpenUploads(*vault_),
            (std::multiset<std::string>{OurDescription("old"), "another tool's upload"}))
      << "an upload of ours younger than a day may be another process's: kept";

  GlacierVaultOptions eager = MultipartOptions();
  eager.multipart.stale_upload_seconds = 0;
  auto impatient = NewVault(*server_, vault_name_, eager);
  SpanSource again(data);
  impatient->Upload(again, OurDescription("newer"));
  EXPECT_EQ(OpenUploads(*vault_), std::multiset<std::string>{"another tool's upload"});
}

TEST_F(GlacierVaultTest, FailedUploadThatCannotBeResumedLeavesNoOpenUpload) {
  // Only glacier-backup's own descriptions are recognised by a later attempt;
  // an upload under any other is aborted when it fails.
  StartForeignUpload(*vault_, "plain");  // not this Upload's: kept
  Bytes data = Pattern(4 * kMiB, 11);
  FailingSource broken(data, 2 * kMiB + 10);
  EXPECT_TRUE(ThrowsCode(Code::kIOError, [&] { vault_->Upload(broken, "plain"); }));
  EXPECT_EQ(PartsSent(*server_), (std::vector<uint64_t>{0, kMiB}));
  EXPECT_EQ(OpenUploads(*vault_), std::multiset<std::string>{"plain"});
  EXPECT_EQ(CountRequests(*server_, "DELETE", "/V/multipart-uploads/ID"), 1u);
}

TEST(GlacierPartSizeTest, SmallestPowerOfTwoWithinTenThousandParts) {
  EXPECT_EQ(GlacierPartSize(5 * kMiB, kMiB), kMiB);
  EXPECT_EQ(GlacierPartSize(10000 * kMiB, kMiB), kMiB);
  EXPECT_EQ(GlacierPartSize(10000 * kMiB + 1, kMiB), 2 * kMiB);
  EXPECT_EQ(GlacierPartSize(100 * kMiB, 8 * kMiB), 8 * kMiB);
  EXPECT_EQ(GlacierPartSize(kGlacierMaxArchiveSize, 8 * kMiB), 4096 * kMiB);
  EXPECT_TRUE(
      ThrowsCode(Code::kInvalidArgument, [] { GlacierPartSize(10000 * 4096 * kMiB + 1, kMiB); }));
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [] { GlacierPartSize(kMiB, 3 * kMiB); }));
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [] { GlacierPartSize(kMiB, 1000); }));
}

// ---- Jobs and ranges ------------------------------------------------------

TEST_F(GlacierVaultTest, TailRangeOfAnArchiveOfUnknownSize) {
  Bytes data = Pattern(3 * kMiB + 1000, 5);
  SpanSource src(data);
  std::string id = vault_->Upload(src, "tail").archive_id;
  auto other = NewVault(*server_, vault_name_);  // another process: no size known
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] {
    other->StartRetrieval(id, Tier::kStandard, ByteRange{4 * kMiB, ByteRange::kToEnd});
  }));
  auto fresh = NewVault(*server_, vault_name_);
  std::string job =
      fresh->StartRetrieval(id, Tier::kStandard, ByteRange{2 * kMiB, ByteRange::kToEnd});
  JobInfo info = fresh->DescribeJob(job);
  EXPECT_EQ(info.range, (ByteRange{2 * kMiB, ByteRange::kToEnd}));
  EXPECT_EQ(info.output_size, data.size() - 2 * kMiB);
  Bytes tail(data.begin() + 2 * kMiB, data.end());
  EXPECT_TRUE(WaitAndRead(*fresh, job) == tail);
  EXPECT_TRUE(WaitAndRead(*fresh, job, ByteRange{kMiB, 10}) ==
              Bytes(tail.begin() + kMiB, tail.begin() + kMiB + 10));
}

TEST(GlacierJobTest, OutputBeforeTheJobFinishesIsNotReady) {
  TestServer slow_server("glacier_server.py", std::vector<std::string>{"--job-delay", "60"});
  auto vault = NewVault(slow_server, "slow");
  vault->Create();
  Bytes data = Pattern(100, 6);
  SpanSource src(data);
  std::string job = vault->StartRetrieval(vault->Upload(src, "").archive_id, Tier::kBulk, {});
  BufferSink out;
  EXPECT_THROW(vault->ReadJobOutput(job, std::nullopt, out), JobNotReadyError);
  EXPECT_EQ(vault->DescribeJob(job).status, JobStatus::kInProgress);
}

TEST_F(GlacierVaultTest, DamagedJobOutputIsCorruption) {
  Bytes data = Pattern(2 * kMiB + 5, 7);
  SpanSource src(data);
  std::string job =
      vault_->StartRetrieval(vault_->Upload(src, "x").archive_id, Tier::kExpedited, {});
  WaitAndRead(*vault_, job);
  InjectFault(*server_, {{"tamper", true}, {"count", 1}, {"path_contains", "/output"}});
  BufferSink out;
  EXPECT_TRUE(ThrowsCode(Code::kCorruption, [&] { vault_->ReadJobOutput(job, {}, out); }));
  InjectFault(*server_, {{"tamper", true}, {"count", 1}, {"path_contains", "/output"}});
  BufferSink part;  // a tree-hash-aligned range comes with its hash too
  EXPECT_TRUE(ThrowsCode(Code::kCorruption, [&] {
    vault_->ReadJobOutput(job, ByteRange{kMiB, kMiB}, part);
  }));
}

TEST_F(GlacierVaultTest, WrongTreeHashEchoedOnUploadIsCorruption) {
  Bytes data = Pattern(1000, 8);
  InjectFault(*server_, {{"tamper", true}, {"count", 1}, {"path_contains", "/archives"}});
  SpanSource src(data);
  EXPECT_TRUE(ThrowsCode(Code::kCorruption, [&] { vault_->Upload(src, "x"); }));
}

TEST_F(GlacierVaultTest, ListingsFollowTheirMarkers) {
  for (int i = 0; i < 4; ++i) NewVault(*server_, "more-" + std::to_string(i))->Create();
  size_t mark = ServerRequests(*server_).size();
  EXPECT_EQ(vault_->ListVaults().size(), 5u);
  EXPECT_EQ(CountRequests(*server_, "GET", "", mark), 3u);

  std::set<std::string> started;
  for (int i = 0; i < 5; ++i) started.insert(vault_->StartInventory());
  mark = ServerRequests(*server_).size();
  std::set<std::string> listed;
  for (const JobInfo& j : vault_->ListJobs()) listed.insert(j.id);
  EXPECT_EQ(listed, started);
  EXPECT_EQ(CountRequests(*server_, "GET", "/V/jobs", mark), 3u);
  // ListParts and ListMultipartUploads page too: see the resume tests.
}

TEST_F(GlacierVaultTest, RetriedUploadsAreNotDeduplicatedHere) {
  // The engine reconciles duplicates by the token in the description (glacier_vault.h).
  Bytes data = Pattern(100, 9);
  SpanSource a(data), b(data);
  EXPECT_NE(vault_->Upload(a, OurDescription("t")).archive_id,
            vault_->Upload(b, OurDescription("t")).archive_id);
}

// ---- Errors ---------------------------------------------------------------

TEST_F(GlacierVaultTest, ErrorsAreClassifiedForRetrying) {
  struct Case {
    int status;
    const char* code;
    Code want;
    const char* says;
  };
  const Case cases[] = {
      {400, "ThrottlingException", Code::kTransient, "ThrottlingException"},
      {408, "RequestTimeoutException", Code::kTransient, "RequestTimeoutException"},
      {500, "ServiceUnavailableException", Code::kTransient, "ServiceUnavailable"},
      {503, "InsufficientCapacityException", Code::kPermanent, "Standard or Bulk"},
      {400, "NoLongerSupportedException", Code::kPermanent, "s3://"},
      {403, "AccessDeniedException", Code::kPermanent, "IAM policy"},
      {400, "LimitExceededException", Code::kPermanent, "limit"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.code);
    InjectFault(*server_, {{"status", c.status}, {"code", c.code}, {"count", 1}});
    try {
      vault_->Describe();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), c.want) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
  // RetryingVault hides transient failures.
  FakeClock clock;
  InjectFault(*server_, {{"status", 400}, {"code", "ThrottlingException"}, {"count", 2}});
  RetryingVault retrying(NewVault(*server_, vault_name_), clock, RetryOptions{});
  EXPECT_EQ(retrying.Describe().name, vault_name_);
}

void ExpectWrongSecretIsPermanent(const TestServer& server, const std::string& vault_name) {
  const std::string secret = "not-the-secret-0123456789";
  GlacierVault vault(ClientFor(server, vault_name, secret), {}, SystemClock());
  try {
    vault.Describe();
    FAIL() << "a wrong secret was accepted";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_EQ(e.code(), Code::kPermanent) << what;
    EXPECT_NE(what.find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << what;
    EXPECT_NE(what.find("credentials from the test"), std::string::npos) << what;
    EXPECT_EQ(what.find(secret), std::string::npos) << "the secret leaked: " << what;
    EXPECT_EQ(what.find(server.secret_key()), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

void ExpectMissingVaultIsNotFound(const TestServer& server) {
  auto vault = NewVault(server, "no-such-vault");
  Bytes data = {1, 2, 3};
  SpanSource src(data);
  for (auto call : {std::function<void()>([&] { vault->Describe(); }),
                    std::function<void()>([&] { vault->Upload(src, "x"); }),
                    std::function<void()>([&] { vault->StartInventory(); })}) {
    try {
      call();
      ADD_FAILURE() << "a missing vault went unnoticed";
    } catch (const Error& e) {
      std::string what = e.what();
      EXPECT_EQ(e.code(), Code::kNotFound) << what;
      EXPECT_NE(what.find("no-such-vault"), std::string::npos) << what;
      EXPECT_NE(what.find("glacier-backup vault create"), std::string::npos) << what;
    }
  }
}

TEST_F(GlacierVaultTest, WrongSecretIsPermanentWithAClearMessage) {
  ExpectWrongSecretIsPermanent(*server_, vault_name_);
}

TEST_F(GlacierVaultTest, MissingVaultIsNotFoundWithTheCreateHint) {
  ExpectMissingVaultIsNotFound(*server_);
}

TEST(GlacierMotoTest, SignaturesAndMissingVaultsAndUnfinishedJobs) {
  TestServer moto("moto_harness.py");
  ExpectWrongSecretIsPermanent(moto, "anything");  // moto: XML SignatureDoesNotMatch
  ExpectMissingVaultIsNotFound(moto);              // moto: {"__type": "VaultNotFound"}
  auto vault = NewVault(moto, NewVaultName());
  vault->Create();
  Bytes data = Pattern(2 * kMiB + 1, 10);  // moto echoes SHA-256, not the tree hash
  SpanSource src(data);
  UploadResult up = vault->Upload(src, "big");
  EXPECT_EQ(up.tree_hash, Hex(TreeHashOf(data)));
  std::string job = vault->StartRetrieval(up.archive_id, Tier::kStandard, {});  // 5 s
  BufferSink out;
  EXPECT_THROW(vault->ReadJobOutput(job, std::nullopt, out), JobNotReadyError);
  EXPECT_TRUE(WaitAndRead(*vault, job) == data);
}

// ---- The factory ----------------------------------------------------------

TEST(GlacierFactoryTest, UrlsAreCheckedAndOpenTheBackend) {
  VaultOptions options;
  for (const char* bad :
       {"glacier://us-east-1", "glacier://us-east-1/", "glacier:///v", "glacier://us-east-1/a/b",
        "glacier://US-EAST-1/v", "glacier://us-east-1/sp ace"}) {
    EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] { OpenVault(bad, options); })) << bad;
  }
  options.region = "eu-west-1";
  EXPECT_TRUE(
      ThrowsCode(Code::kInvalidArgument, [&] { OpenVault("glacier://us-east-1/v", options); }));

  TestServer server("glacier_server.py");
  ::setenv("AWS_ACCESS_KEY_ID", server.access_key().c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", server.secret_key().c_str(), 1);
  ::unsetenv("AWS_PROFILE");
  VaultOptions via;
  via.endpoint = server.endpoint();
  auto vault = OpenVault("glacier://us-east-1/My.Vault_1", via);
  EXPECT_TRUE(ThrowsCode(Code::kNotFound, [&] { vault->Describe(); }));
  vault->Create();
  EXPECT_EQ(vault->Describe().name, "My.Vault_1");
  VaultCapabilities caps = vault->Capabilities();
  EXPECT_FALSE(caps.immediate_listing);
  EXPECT_TRUE(caps.jobs_lag);
  EXPECT_EQ(caps.min_archive_size, 1u);
  EXPECT_EQ(caps.retrieval_range_alignment, kMiB);
  EXPECT_EQ(caps.min_storage_days, 90);
  EXPECT_EQ(caps.per_archive_overhead_bytes, 32u * 1024);
}

}  // namespace
}  // namespace gb::test
