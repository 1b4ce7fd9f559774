// The cloud backends through tests/servers/fault_proxy.py: connections dropped
// before and after the upstream acted, resets, 500 / 503 / 408, throttling,
// slow and truncated responses, at a set rate. The vaults run under the
// production retry stack (RetryingVault, stacked as OpenVault stacks it) with
// short backoffs; what arrived is checked straight against the upstream (the
// faithful Glacier server, moto_server), never through the proxy.
//
// Every proxy is seeded from the test's name, so a failure replays with the
// same fault sequence (up to the order in which concurrent requests arrive).
// GB_FAULT_PROXY_SEED=N tries other sequences; GB_DUMP_PROXY_LOG=1 prints
// the proxy's log of a failed conformance test.
//
// Servers take seconds to start, so the tests that need nothing special of
// them share one upstream and one proxy per backend (each works in a vault or
// bucket of its own and resets the proxy first), and CMakeLists.txt runs each
// backend's tests here in one process.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <set>

#include "core/hex.h"
#include "core/sha256.h"
#include "core/tree_hash.h"
#include "net/aws_error.h"
#include "net/http_client.h"
#include "vault/glacier_multipart.h"
#include "vault/glacier_vault.h"
#include "vault/retrying_vault.h"
#include "vault/s3_vault.h"
#include "vault/test_server.h"
#include "vault/vault_conformance_suite.h"
#include "vault/vault_factory.h"

namespace gb::test {
namespace {

using gb::testing::TestServer;
using nlohmann::json;

constexpr uint64_t kMiB = 1 << 20;
const char* const kAllFaults[] = {"drop_before", "drop_after", "reset",    "http_500", "http_503",
                                  "http_408",    "throttle",   "truncate", "slow"};

// Backoffs short enough for tests, attempts enough to outlast a bad streak.
RetryOptions FastRetries(int attempts = 12) {
  return {.max_attempts = attempts, .base_delay_ns = 2'000'000, .max_delay_ns = 50'000'000};
}

// The seed of this test's proxy: fixed by the test's name, and by
// GB_FAULT_PROXY_SEED when set (to try other fault sequences).
uint64_t TestSeed() {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(test->test_suite_name()) + "." + test->name();
  if (const char* salt = getenv("GB_FAULT_PROXY_SEED")) name += salt;
  uint64_t h = 1469598103934665603ull;  // FNV-1a: the same on every platform
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h % 1000000;
}

Bytes Pattern(size_t n, uint64_t seed) {
  Bytes b(n);
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b[i] = static_cast<uint8_t>(x);
  }
  return b;
}

// ---- The proxy --------------------------------------------------------------

class FaultProxy {
 public:
  FaultProxy(const std::string& upstream, double rate, uint64_t seed)
      : seed_(seed),
        server_("fault_proxy.py", {"--upstream", upstream, "--rate", std::to_string(rate), "--seed",
                                   std::to_string(seed)}) {}

  std::string endpoint() const { return server_.endpoint(); }
  uint64_t seed() const { return seed_; }

  // Back to no faults and an empty log, then faults at `rate` drawn from a
  // generator seeded with `seed`; `more` sets other settings (fault_proxy.py).
  void Reset(double rate, uint64_t seed, json more = json::object()) {
    Control("DELETE", nullptr);
    more["rate"] = rate;
    more["seed"] = seed;
    Configure(more);
    seed_ = seed;
  }
  void Configure(const json& change) const { Control("POST", change); }
  // The next request with this method (any when empty) whose path contains
  // `path_contains` meets `kind`, whatever the rate.
  void Queue(const std::string& kind, const std::string& method = "",
             const std::string& path_contains = "") const {
    Configure(
        {{"queue",
          json::array({{{"kind", kind}, {"method", method}, {"path_contains", path_contains}}})}});
  }
  // One entry per proxied request (see fault_proxy.py).
  json Log() const { return Control("GET", nullptr)["log"]; }

 private:
  json Control(const std::string& method, const json& body) const {
    std::string text = body.is_null() ? "" : body.dump();
    SpanSource src(AsBytes(text));
    HttpClient http;
    HttpRequest request{.method = method, .url = endpoint() + "/__faults"};
    if (method == "POST") request.body = &src;
    HttpResponse response = http.Send(request);
    if (response.status != 200) {
      throw std::runtime_error("fault proxy: HTTP " + std::to_string(response.status) + " " +
                               response.body);
    }
    return json::parse(response.body);
  }

  uint64_t seed_;
  TestServer server_;
};

std::map<std::string, int> FaultCounts(const json& log) {
  std::map<std::string, int> counts;
  for (const auto& e : log) {
    if (e["fault"].is_string()) ++counts[e["fault"].get<std::string>()];
  }
  return counts;
}

int TotalFaults(const json& log) {
  int n = 0;
  for (const auto& [kind, count] : FaultCounts(log)) n += count;
  return n;
}

std::string Summary(const json& log) {
  std::string s = std::to_string(log.size()) + " requests;";
  for (const auto& [kind, count] : FaultCounts(log)) s += " " + kind + " " + std::to_string(count);
  return s;
}

// Requests (those `which` picks) that the upstream carried out but whose answer
// never reached the client in full: the lost answers.
int LostResponses(const json& log, const std::function<bool(const json&)>& which) {
  int n = 0;
  for (const auto& e : log) {
    if (e["forwarded"] == true && e["client_status"].is_null() && which(e)) ++n;
  }
  return n;
}

// What OpenVault stacks on a backend when no bandwidth limit, call log or dry
// run is asked for: the RetryingVault.
std::unique_ptr<Vault> WithRetries(std::unique_ptr<Vault> backend, VaultLog log = {}) {
  return std::make_unique<RetryingVault>(std::move(backend), SystemClock(), FastRetries(),
                                         std::move(log));
}

// A vault under test behind a proxy. When destroyed (the suite's TearDown) it
// runs `check_upstream` and, for a test that sent a fair number of requests,
// checks the proxy really injected faults.
class ProxiedVault : public VaultWrapper {
 public:
  ProxiedVault(std::unique_ptr<Vault> vault, FaultProxy& proxy,
               std::function<void()> check_upstream)
      : VaultWrapper(std::move(vault)), proxy_(proxy), check_upstream_(std::move(check_upstream)) {}
  ~ProxiedVault() override {
    SCOPED_TRACE("fault proxy seed " + std::to_string(proxy_.seed()));
    try {
      check_upstream_();
      json log = proxy_.Log();
      if (getenv("GB_DUMP_PROXY_LOG") && ::testing::Test::HasFailure()) {
        for (const auto& e : log) std::fprintf(stderr, "%s\n", e.dump().c_str());
      }
      if (log.size() >= 40) {
        EXPECT_GT(TotalFaults(log), 0) << Summary(log);
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "checking the upstream failed: " << e.what();
    }
  }

 private:
  FaultProxy& proxy_;
  std::function<void()> check_upstream_;
};

// ---- Glacier ------------------------------------------------------------------

std::string NewVaultName() {
  static std::atomic<int> n{0};
  return "gb-proxy-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

// A client that signs with `server`'s keys and sends to `endpoint` (the proxy or the server).
GlacierClientOptions GlacierClientTo(const TestServer& server, const std::string& endpoint,
                                     const std::string& vault) {
  AwsSettings settings;
  settings.credentials.access_key_id = server.access_key();
  settings.credentials.secret_access_key = server.secret_key();
  settings.source = "the test";
  return GlacierClientOptions{
      .region = "us-east-1", .vault = vault, .endpoint = endpoint, .settings = [settings] {
        return settings;
      }};
}

// Small multipart settings, so a few MiB take several parts and workers.
GlacierVaultOptions SmallParts(int part_attempts = 4) {
  GlacierVaultOptions options;
  options.multipart_threshold = 2 * kMiB;
  options.multipart.min_part_size = kMiB;
  options.multipart.threads = 3;
  options.multipart.part_retry = FastRetries(part_attempts);
  return options;
}

// The open multipart uploads of a vault, by description (all pages).
std::multiset<std::string> OpenGlacierUploads(GlacierVault& vault) {
  std::multiset<std::string> open;
  std::string marker;
  do {
    GlacierRequest request{.path = "/multipart-uploads"};
    if (!marker.empty()) request.query.emplace("marker", marker);
    HttpResponse response = vault.client().Send(request);
    if (response.status != 200) throw std::runtime_error("ListMultipartUploads: " + response.body);
    json doc = json::parse(response.body);
    for (const auto& u : doc["UploadsList"])
      open.insert(u["ArchiveDescription"].get<std::string>());
    marker = doc["Marker"].is_string() ? doc["Marker"].get<std::string>() : "";
  } while (!marker.empty());
  return open;
}

// The API requests the faithful server carried out (its /_test/requests log).
json GlacierServerLog(const TestServer& server) {
  HttpClient http;
  return json::parse(http.Send(HttpRequest{.url = server.endpoint() + "/_test/requests"}).body);
}

JobInfo WaitForJob(Vault& vault, const std::string& job_id) {
  for (int i = 0; i < 1500; ++i) {
    JobInfo job = vault.DescribeJob(job_id);
    if (job.status != JobStatus::kInProgress) return job;
    SystemClock().SleepNanos(20'000'000);
  }
  throw std::runtime_error("job " + job_id + " did not finish");
}

// Waits for a retrieval job that must succeed and returns its output.
Bytes ReadOutput(Vault& vault, const std::string& job) {
  JobInfo info = WaitForJob(vault, job);
  if (info.status != JobStatus::kSucceeded) {
    throw std::runtime_error("retrieval job " + job + " failed: " + info.status_message);
  }
  BufferSink out;
  vault.ReadJobOutput(job, std::nullopt, out);
  return out.bytes;
}

Bytes Retrieve(Vault& vault, const std::string& archive_id) {
  return ReadOutput(vault, vault.StartRetrieval(archive_id, Tier::kExpedited, std::nullopt));
}

Inventory TakeInventory(Vault& vault) {
  std::string job = vault.StartInventory();
  WaitForJob(vault, job);
  BufferSink out;
  vault.ReadJobOutput(job, std::nullopt, out);
  return ParseInventory(std::string(out.bytes.begin(), out.bytes.end()));
}

// Slow answers in the conformance suite stall this long: two of them stay well
// within the shared server's job delay.
constexpr double kConformanceStall = 0.15;

TestServer& SharedGlacier() {
  // Jobs take 0.6 s, so a job is still in progress when the suite first looks,
  // even after a slow answer or two.
  static auto server = std::make_unique<TestServer>("glacier_server.py",
                                                    std::vector<std::string>{"--job-delay", "0.6"});
  return *server;
}

FaultProxy& SharedGlacierProxy() {
  static auto proxy = std::make_unique<FaultProxy>(SharedGlacier().endpoint(), 0, 1);
  return *proxy;
}

std::unique_ptr<Vault> FaultyGlacier() {
  TestServer& server = SharedGlacier();
  FaultProxy& proxy = SharedGlacierProxy();
  proxy.Reset(0.2, TestSeed(), {{"stall", kConformanceStall}});
  const std::string name = NewVaultName();
  auto vault = WithRetries(std::make_unique<GlacierVault>(
      GlacierClientTo(server, proxy.endpoint(), name), SmallParts(), SystemClock()));
  vault->Create();
  auto check = [&server, name] {
    GlacierVault direct(GlacierClientTo(server, server.endpoint(), name), {}, SystemClock());
    EXPECT_EQ(OpenGlacierUploads(direct), std::multiset<std::string>{})
        << "multipart uploads left open in the vault";
  };
  return std::make_unique<ProxiedVault>(std::move(vault), proxy, check);
}

// ---- S3 -----------------------------------------------------------------------

// One moto for the process (it takes seconds to start); every vault has a bucket of its own.
TestServer& Moto() {
  static std::unique_ptr<TestServer> moto = [] {
    setenv("S3_UPLOAD_PART_MIN_SIZE", std::to_string(kMiB).c_str(), 1);  // 1 MiB parts in tests
    auto server = std::make_unique<TestServer>("moto_harness.py");
    // moto counts lookups of an object (a HEAD is two): after 4 its restore
    // state moves on, from "none" (which moto reports as done) to in progress,
    // then after 4 more to done. 4 is what lookups before the first DescribeJob
    // of a restore reach, so the suite sees the restore in progress first.
    SetMotoTransition(*server, "s3::keyrestore", R"({"progression": "manual", "times": 4})");
    return server;
  }();
  return *moto;
}

FaultProxy& SharedS3Proxy() {
  static auto proxy = std::make_unique<FaultProxy>(Moto().endpoint(), 0, 1);
  return *proxy;
}

std::string FreshBucket(const std::string& what) {
  static std::atomic<int> n{0};
  return "gb-proxy-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "-" + what;
}

S3ClientOptions MotoClientTo(const std::string& bucket, const std::string& endpoint) {
  TestServer& moto = Moto();
  return S3ClientOptions{.bucket = bucket,
                         .region = "us-east-1",
                         .endpoint = endpoint,
                         .settings = [key = moto.access_key(), secret = moto.secret_key()] {
                           AwsSettings s;
                           s.credentials = {key, secret, ""};
                           s.source = "the test harness";
                           return s;
                         }};
}

S3VaultOptions DeepArchiveSmallParts() {
  return {.storage_class = "DEEP_ARCHIVE",
          .multipart_threshold = kMiB,
          .part_size = kMiB,
          .part_retry = FastRetries(4)};
}

std::unique_ptr<Vault> FaultyS3() {
  const std::string bucket = FreshBucket("deep");
  FaultProxy& proxy = SharedS3Proxy();
  // moto moves a restore along with every lookup of the object, so a HEAD it
  // answered but the client never heard would hurry a restore past the
  // InProgress the suite checks: HEADs meet only faults that stop at the proxy
  // (and slow answers).
  proxy.Reset(
      0.2, TestSeed(),
      {{"stall", kConformanceStall},
       {"kinds_by_method",
        {{"HEAD", {"drop_before", "http_500", "http_503", "http_408", "throttle", "slow"}}}}});
  auto vault = WithRetries(std::make_unique<S3Vault>(MotoClientTo(bucket, proxy.endpoint()),
                                                     DeepArchiveSmallParts(), SystemClock()));
  vault->Create();
  auto check = [bucket] {
    S3Vault direct(MotoClientTo(bucket, Moto().endpoint()), {}, SystemClock());
    EXPECT_EQ(direct.UnfinishedUploads(), std::vector<std::string>{})
        << "multipart uploads left open in the bucket";
  };
  return std::make_unique<ProxiedVault>(std::move(vault), proxy, check);
}

// ---- The conformance suite through the proxy ------------------------------------

INSTANTIATE_TEST_SUITE_P(
    FaultProxy, VaultConformanceTest,
    ::testing::Values(
        // Above 2 MiB uploads go multipart in 1 MiB parts: the suite's sizes take both paths.
        VaultConformanceParams{.name = "glacier_faithful_faulty",
                               .make_vault = [](const std::string&) { return FaultyGlacier(); },
                               .job_timeout_seconds = 30,
                               .poll_interval_millis = 50},
        // Above 1 MiB uploads go multipart in 1 MiB parts; restores lag.
        VaultConformanceParams{.name = "s3_moto_deep_archive_multipart_faulty",
                               .make_vault = [](const std::string&) { return FaultyS3(); },
                               .job_timeout_seconds = 30,
                               .poll_interval_millis = 20}),
    VaultConformanceName);

// ---- The proxy itself, as the product's HTTP client meets it ---------------------

TEST(FaultProxyTest, EveryFaultReachesTheClientAsItWouldFromAws) {
  TestServer& glacier = SharedGlacier();
  FaultProxy& proxy = SharedGlacierProxy();
  proxy.Reset(0, 1);
  const std::string name = NewVaultName();
  GlacierClient client(GlacierClientTo(glacier, proxy.endpoint(), name), SystemClock());
  ASSERT_EQ(client.Send(GlacierRequest{.method = "PUT"}).status, 201)
      << "a signed request went through unchanged";

  struct Case {
    const char* kind;
    int forwarded;     // 1 the upstream saw the request, 0 it did not, -1 either
    int status;        // 0: no complete response, the client throws
    const char* code;  // the AWS error code the client reads
  };
  const Case glacier_cases[] = {
      {"drop_before", 0, 0, ""},
      {"drop_after", 1, 0, ""},
      {"reset", -1, 0, ""},
      {"truncate", 1, 0, ""},
      {"http_500", 0, 500, "ServiceUnavailableException"},
      {"http_503", 0, 503, "ServiceUnavailableException"},
      {"http_408", 0, 408, "RequestTimeoutException"},
      {"throttle", 0, 400, "ThrottlingException"},
      {"slow", 1, 202, ""},
  };
  // InitiateJob: a POST, so nothing but the caller may send it twice.
  const std::string params = R"({"Type": "inventory-retrieval"})";
  SpanSource params_source(AsBytes(params));
  const GlacierRequest initiate_job{.method = "POST",
                                    .path = "/jobs",
                                    .body = &params_source,
                                    .payload_hash = Hex(Sha256::Of(params))};
  for (const Case& c : glacier_cases) {
    SCOPED_TRACE(c.kind);
    size_t before = GlacierServerLog(glacier).size();
    proxy.Queue(c.kind);
    auto start = std::chrono::steady_clock::now();
    try {
      HttpResponse response = client.Send(initiate_job);
      EXPECT_EQ(response.status, c.status) << response.body;
      if (response.status != 202) {
        AwsErrorInfo info = ParseAwsError(response);
        EXPECT_EQ(info.code, c.code);
        try {
          client.Fail(response, "starting a job");
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), Code::kTransient) << e.what();
        }
      }
    } catch (const Error& e) {
      EXPECT_EQ(c.status, 0) << e.what();
      EXPECT_EQ(e.code(), Code::kTransient) << e.what();
    }
    if (std::string(c.kind) == "slow") {
      EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
    }
    if (c.forwarded >= 0) {
      EXPECT_EQ(GlacierServerLog(glacier).size() - before, size_t(c.forwarded));
    }
  }

  // A long body cut short is an error, never a short success.
  GlacierVault vault(GlacierClientTo(glacier, proxy.endpoint(), name), {}, SystemClock());
  Bytes data = Pattern(3 * kMiB + 5, 1);
  SpanSource src(data);
  std::string job = vault.StartRetrieval(vault.Upload(src, "long").archive_id, Tier::kBulk, {});
  WaitForJob(vault, job);
  proxy.Queue("truncate", "GET", "/output");
  BufferSink cut;
  EXPECT_TRUE(ThrowsCode(Code::kTransient, [&] { vault.ReadJobOutput(job, std::nullopt, cut); }));
  EXPECT_LT(cut.bytes.size(), data.size());
  proxy.Queue("truncate", "GET", "/output");
  RetryingVault retrying(
      std::make_unique<GlacierVault>(GlacierClientTo(glacier, proxy.endpoint(), name),
                                     GlacierVaultOptions{}, SystemClock()),
      SystemClock(), FastRetries());
  BufferSink whole;
  retrying.ReadJobOutput(job, std::nullopt, whole);
  EXPECT_TRUE(whole.bytes == data) << "the read resumes after the bytes already received";

  // S3's shapes of the same errors, and HEAD answers without a body.
  proxy.Configure({{"flavor", "s3"}});
  const Case s3_cases[] = {
      {"http_500", 0, 500, "InternalError"},
      {"http_503", 0, 503, "ServiceUnavailable"},
      {"http_408", 0, 408, "RequestTimeout"},
      {"throttle", 0, 503, "SlowDown"},
  };
  HttpClient http;
  for (const Case& c : s3_cases) {
    for (const char* method : {"GET", "HEAD"}) {
      SCOPED_TRACE(std::string(c.kind) + " " + method);
      proxy.Queue(c.kind);
      HttpResponse response =
          http.Send(HttpRequest{.method = method, .url = proxy.endpoint() + "/bucket/key"});
      EXPECT_EQ(response.status, c.status);
      AwsErrorInfo info = ParseAwsError(response);
      EXPECT_EQ(info.code, std::string(method) == "HEAD" ? "" : c.code) << response.body;
      EXPECT_EQ(ClassifyAwsError(info), Code::kTransient);
    }
  }

  json log = proxy.Log();
  std::map<std::string, int> counts = FaultCounts(log);
  for (const char* kind : kAllFaults) EXPECT_GE(counts[kind], 1) << kind << " not logged";
  for (const auto& e : log) {
    if (e["fault"] == "drop_before") {
      EXPECT_EQ(e["forwarded"], false);
    }
    if (e["fault"] == "drop_after") {
      EXPECT_EQ(e["upstream_status"], 202);
    }
  }
}

// ---- Multipart resumption through the faults --------------------------------------

std::string ToolDescription(const std::string& token) {
  return R"({"tool":"glacier-backup","kind":"archive","token":")" + token + R"("})";
}

// The token of a description the engine's inventory reconciliation recognises as
// its own (engine/bundle.h: JSON with "tool": "glacier-backup" and a "token").
std::optional<std::string> TokenOf(const std::string& description) {
  if (!IsGlacierBackupDescription(description)) return std::nullopt;
  json j = json::parse(description);
  if (!j.contains("token") || !j["token"].is_string()) return std::nullopt;
  return j["token"].get<std::string>();
}

bool IsGlacierCreation(const json& e) {
  // UploadArchive, or CompleteMultipartUpload (POST .../multipart-uploads/ID).
  const std::string path = e["path"];
  return e["method"] == "POST" && e["upstream_status"] == 201 &&
         (path.ends_with("/archives") || path.find("/multipart-uploads/") != std::string::npos);
}

TEST(GlacierFaultProxyTest, InterruptedMultipartUploadsResumeWithoutResendingStoredParts) {
  // Two items a page, so the resumption's ListParts and ListMultipartUploads page too.
  TestServer server("glacier_server.py",
                    std::vector<std::string>{"--job-delay", "0.2", "--page-limit", "2"});
  FaultProxy proxy(server.endpoint(), 0.3, TestSeed());
  const std::string name = NewVaultName();
  // A part that fails once fails the Upload: every interruption is resumed by the
  // RetryingVault's next attempt.
  std::vector<std::string> retries;
  auto vault =
      WithRetries(std::make_unique<GlacierVault>(GlacierClientTo(server, proxy.endpoint(), name),
                                                 SmallParts(/*part_attempts=*/1), SystemClock()),
                  [&](const std::string& line) { retries.push_back(line); });
  vault->Create();

  const std::string description = ToolDescription("resume-through-faults");
  Bytes data = Pattern(6 * kMiB + 123, 2);
  proxy.Queue("drop_after", "PUT", "/multipart-uploads/");  // a stored part, its answer lost
  SpanSource src(data);
  UploadResult up = vault->Upload(src, description);
  EXPECT_EQ(up.tree_hash, Hex(TreeHashOf(data)));
  EXPECT_FALSE(retries.empty()) << "the upload was never interrupted";

  // Upstream: each upload got each part exactly once; the archive is whole.
  std::map<std::string, std::multiset<std::string>> parts;  // upload path -> Content-Range
  for (const auto& r : GlacierServerLog(server)) {
    if (r["method"] == "PUT" && r["status"] == 204) parts[r["path"]].insert(r["content_range"]);
  }
  std::multiset<std::string> want;
  for (uint64_t offset = 0; offset < data.size(); offset += kMiB) {
    want.insert("bytes " + std::to_string(offset) + "-" +
                std::to_string(std::min<uint64_t>(offset + kMiB, data.size()) - 1) + "/*");
  }
  json log = proxy.Log();
  int lost_completions = LostResponses(log, IsGlacierCreation);
  EXPECT_EQ(parts.size(), size_t(1 + lost_completions))
      << "one upload, and one more after each lost CompleteMultipartUpload answer";
  for (const auto& [upload, ranges] : parts) EXPECT_EQ(ranges, want) << upload;

  GlacierVault direct(GlacierClientTo(server, server.endpoint(), name), {}, SystemClock());
  EXPECT_EQ(OpenGlacierUploads(direct), std::multiset<std::string>{});
  Inventory inv = TakeInventory(direct);
  EXPECT_EQ(inv.archives.size(), size_t(1 + lost_completions));
  for (const ArchiveInfo& a : inv.archives) {
    EXPECT_EQ(a.description, description);
    EXPECT_EQ(a.tree_hash, up.tree_hash);
  }
  EXPECT_TRUE(Retrieve(direct, up.archive_id) == data);
  EXPECT_GT(TotalFaults(log), 0) << Summary(log);
}

// Serves `data` in full on the first pass; on later ones throws kIOError once
// `fail_at` bytes have been read.
class FailsAfterFirstPass : public RewindableSource {
 public:
  FailsAfterFirstPass(const Bytes& data, uint64_t fail_at, int good_passes = 1)
      : data_(data), fail_at_(fail_at), good_passes_(good_passes) {}
  size_t Read(std::span<uint8_t> buf) override {
    bool failing = pass_ > good_passes_;
    if (failing && pos_ >= fail_at_) throw Error(Code::kIOError, "the disk went away");
    uint64_t end = failing ? fail_at_ : data_.size();
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - pos_));
    std::copy_n(data_.begin() + static_cast<ptrdiff_t>(pos_), n, buf.begin());
    pos_ += n;
    return n;
  }
  void Rewind() override {
    pos_ = 0;
    ++pass_;
  }
  uint64_t Size() const override { return data_.size(); }

 private:
  const Bytes& data_;
  uint64_t fail_at_, pos_ = 0;
  int good_passes_, pass_ = 0;
};

bool IsInitiation(const json& e) {
  return e["method"] == "POST" && std::string(e["path"]).ends_with("/multipart-uploads");
}

TEST(GlacierFaultProxyTest, LostAnswerToStartingAnUploadLeavesNothingBehind) {
  TestServer& server = SharedGlacier();
  FaultProxy& proxy = SharedGlacierProxy();
  proxy.Reset(0, TestSeed());
  const std::string name = NewVaultName();
  GlacierVault vault(GlacierClientTo(server, proxy.endpoint(), name), SmallParts(), SystemClock());
  vault.Create();
  GlacierVault direct(GlacierClientTo(server, server.endpoint(), name), {}, SystemClock());
  Bytes data = Pattern(3 * kMiB + 3, 12);

  // Glacier started the upload, the answer with its id was lost: an upload
  // under a description no later attempt recognises is found and aborted now.
  proxy.Queue("truncate", "POST", "/multipart-uploads");
  SpanSource plain(data);
  EXPECT_TRUE(ThrowsCode(Code::kTransient, [&] { vault.Upload(plain, "plain"); }));
  EXPECT_EQ(LostResponses(proxy.Log(), IsInitiation), 1);
  EXPECT_EQ(OpenGlacierUploads(direct), std::multiset<std::string>{});

  // One of ours stays open, and the next attempt resumes it.
  const std::string ours = ToolDescription("lost-initiation");
  proxy.Queue("drop_after", "POST", "/multipart-uploads");
  SpanSource src(data);
  EXPECT_TRUE(ThrowsCode(Code::kTransient, [&] { vault.Upload(src, ours); }));
  EXPECT_EQ(OpenGlacierUploads(direct), std::multiset<std::string>{ours});
  UploadResult up = vault.Upload(src, ours);
  json log = proxy.Log();
  EXPECT_EQ(LostResponses(log, IsInitiation), 2);
  EXPECT_EQ(std::count_if(log.begin(), log.end(), IsInitiation), 2) << "no second upload";
  EXPECT_EQ(OpenGlacierUploads(direct), std::multiset<std::string>{});
  EXPECT_TRUE(Retrieve(direct, up.archive_id) == data);
}

TEST(S3FaultProxyTest, FailedMultipartUploadLeavesNothingOpenWhateverMeetsAFault) {
  const std::string bucket = FreshBucket("failed");
  FaultProxy& proxy = SharedS3Proxy();
  proxy.Reset(0, TestSeed());
  S3VaultOptions options{.storage_class = "STANDARD",
                         .multipart_threshold = kMiB,
                         .part_size = kMiB,
                         .part_retry = FastRetries(4)};
  S3Vault vault(MotoClientTo(bucket, proxy.endpoint()), options, SystemClock());
  vault.Create();
  S3Vault direct(MotoClientTo(bucket, Moto().endpoint()), {}, SystemClock());
  Bytes data = Pattern(3 * kMiB + 3, 13);

  // The disk fails after a part went up, and the abort's first two tries meet
  // answers that say "try again" (a lost connection libcurl itself would retry).
  proxy.Queue("http_503", "DELETE");
  proxy.Queue("throttle", "DELETE");
  FailsAfterFirstPass disk(data, 2 * kMiB + 10);  // the first pass only hashes
  EXPECT_TRUE(ThrowsCode(Code::kIOError, [&] { vault.Upload(disk, "doomed"); }));
  EXPECT_EQ(FaultCounts(proxy.Log())["throttle"], 1);
  EXPECT_EQ(direct.UnfinishedUploads(), std::vector<std::string>{});

  // The answer to CreateMultipartUpload is lost and no retry follows (retries
  // off, or the last one): the upload S3 started is found by its key and aborted.
  proxy.Queue("truncate", "POST");
  RetryingVault once(
      std::make_unique<S3Vault>(MotoClientTo(bucket, proxy.endpoint()), options, SystemClock()),
      SystemClock(), FastRetries(/*attempts=*/1));
  SpanSource src(data);
  EXPECT_TRUE(ThrowsCode(Code::kTransient, [&] { once.Upload(src, "lost answer"); }));
  EXPECT_EQ(LostResponses(proxy.Log(), [](const json& e) { return e["query"] == "uploads="; }), 1);
  EXPECT_EQ(direct.UnfinishedUploads(), std::vector<std::string>{});
  EXPECT_EQ(direct.Describe().archive_count, 0u);
}

// ---- Many archives through a faulty network, as the tool really runs ---------------

struct Sent {
  std::string token;
  Bytes data;
  UploadResult result;
};

// Uploads archives of `sizes` through `vault`, each with a tool description
// carrying a unique token; one fault of every kind goes to the first requests of
// the first uploads, the proxy's rate does the rest.
std::vector<Sent> UploadAll(Vault& vault, const FaultProxy& proxy,
                            const std::vector<uint64_t>& sizes) {
  std::vector<Sent> sent;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i < std::size(kAllFaults)) proxy.Queue(kAllFaults[i]);
    Sent s{"soak-" + std::to_string(proxy.seed()) + "-" + std::to_string(i),
           Pattern(sizes[i], 100 + i),
           {}};
    SpanSource src(s.data);
    s.result = vault.Upload(src, ToolDescription(s.token));
    EXPECT_EQ(s.result.size, s.data.size());
    EXPECT_EQ(s.result.tree_hash, Hex(TreeHashOf(s.data)));
    sent.push_back(std::move(s));
  }
  return sent;
}

// Checks an inventory taken straight from the upstream against what was sent:
// every archive is one the tool recognises (a token it issued, with that upload's
// size and tree hash) and holds the right bytes; every upload is there. Returns
// the number of duplicates (archives beyond the one each Upload returned).
int CheckArchives(Vault& upstream, const std::vector<Sent>& sent) {
  std::map<std::string, const Sent*> by_token;
  for (const Sent& s : sent) by_token[s.token] = &s;
  Inventory inv = TakeInventory(upstream);
  // Every retrieval starts at once; then each is waited for and read.
  std::vector<std::string> jobs;
  for (const ArchiveInfo& a : inv.archives) {
    jobs.push_back(upstream.StartRetrieval(a.id, Tier::kExpedited, std::nullopt));
  }
  std::set<std::string> listed;
  int duplicates = 0;
  for (size_t i = 0; i < inv.archives.size(); ++i) {
    const ArchiveInfo& a = inv.archives[i];
    listed.insert(a.id);
    std::optional<std::string> token = TokenOf(a.description);
    auto it = token ? by_token.find(*token) : by_token.end();
    if (it == by_token.end()) {
      ADD_FAILURE() << "archive " << a.id
                    << " is not one the tool can recognise: " << a.description;
      continue;
    }
    const Sent& s = *it->second;
    EXPECT_EQ(a.size, s.data.size()) << s.token;
    EXPECT_EQ(a.tree_hash, s.result.tree_hash) << s.token;
    Bytes got = ReadOutput(upstream, jobs[i]);
    EXPECT_TRUE(got == s.data) << s.token << ": archive " << a.id << " holds other bytes";
    EXPECT_EQ(Hex(TreeHashOf(got)), s.result.tree_hash) << s.token;
    if (a.id != s.result.archive_id) ++duplicates;
  }
  for (const Sent& s : sent) {
    EXPECT_TRUE(listed.count(s.result.archive_id)) << s.token << " is missing";
  }
  return duplicates;
}

const std::vector<uint64_t> kSoakSizes = {
    1, 1000, 64 * 1024, kMiB, kMiB + 1, 200, 3 * kMiB + 17, 5000, 777, 2 * kMiB, 40000, 123456};

TEST(GlacierFaultProxyTest, ArchivesArriveIntactWithOnlyRecognisableDuplicates) {
  TestServer server("glacier_server.py", std::vector<std::string>{"--job-delay", "0.1"});
  FaultProxy proxy(server.endpoint(), 0.25, TestSeed());
  ::setenv("AWS_ACCESS_KEY_ID", server.access_key().c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", server.secret_key().c_str(), 1);
  ::unsetenv("AWS_PROFILE");
  std::vector<std::string> retries;
  VaultOptions options;
  options.endpoint = proxy.endpoint();
  options.retry = FastRetries();
  options.log = [&](const std::string& line) { retries.push_back(line); };
  const std::string name = NewVaultName();
  auto vault = OpenVault("glacier://us-east-1/" + name, options);  // the production stack
  vault->Create();
  // The nasty cases, at least once each: an UploadArchive and a
  // CompleteMultipartUpload that Glacier carried out but whose answer was lost.
  proxy.Queue("drop_after", "POST", "/archives");
  proxy.Queue("truncate", "POST", "/multipart-uploads/");
  std::vector<uint64_t> sizes = kSoakSizes;
  sizes.insert(sizes.begin() + 4, 33 * kMiB + 5);  // above the 32 MiB multipart threshold
  std::vector<Sent> sent = UploadAll(*vault, proxy, sizes);
  json log = proxy.Log();
  SCOPED_TRACE("fault proxy seed " + std::to_string(proxy.seed()) + ": " + Summary(log));

  GlacierVault direct(GlacierClientTo(server, server.endpoint(), name), {}, SystemClock());
  EXPECT_EQ(OpenGlacierUploads(direct), std::multiset<std::string>{});
  int duplicates = CheckArchives(direct, sent);
  int lost = LostResponses(log, IsGlacierCreation);
  EXPECT_GE(lost, 2);
  EXPECT_EQ(duplicates, lost) << "a duplicate for every archive created whose answer was lost";
  for (const char* kind : kAllFaults) EXPECT_GE(FaultCounts(log)[kind], 1) << kind;
  EXPECT_GE(TotalFaults(log), int(log.size() / 8)) << "the rate is 1 in 4";
  EXPECT_FALSE(retries.empty());
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST(S3FaultProxyTest, ArchivesArriveIntactWithoutDuplicates) {
  TestServer& moto = Moto();
  FaultProxy& proxy = SharedS3Proxy();
  proxy.Reset(0.25, TestSeed());
  ::setenv("AWS_ACCESS_KEY_ID", moto.access_key().c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", moto.secret_key().c_str(), 1);
  ::unsetenv("AWS_PROFILE");
  std::vector<std::string> retries;
  VaultOptions options;
  options.endpoint = proxy.endpoint();
  options.region = "us-east-1";  // DEEP_ARCHIVE, the default class
  options.retry = FastRetries();
  options.log = [&](const std::string& line) { retries.push_back(line); };
  const std::string bucket = FreshBucket("soak");
  auto vault = OpenVault("s3://" + bucket, options);  // the production stack
  vault->Create();
  // Lost answers to a PutObject and to a multipart POST (create or complete).
  proxy.Queue("drop_after", "PUT", "/" + bucket + "/");
  proxy.Queue("truncate", "POST", "/" + bucket + "/");
  std::vector<uint64_t> sizes = kSoakSizes;
  sizes.insert(sizes.begin() + 4, 17 * kMiB + 5);  // above the 16 MiB multipart threshold
  std::vector<Sent> sent = UploadAll(*vault, proxy, sizes);
  json log = proxy.Log();
  SCOPED_TRACE("fault proxy seed " + std::to_string(proxy.seed()) + ": " + Summary(log));

  S3Vault direct(MotoClientTo(bucket, moto.endpoint()), {}, SystemClock());
  EXPECT_EQ(direct.UnfinishedUploads(), std::vector<std::string>{});
  EXPECT_EQ(CheckArchives(direct, sent), 0) << "S3 uploads are idempotent: no duplicates";
  EXPECT_EQ(direct.Describe().archive_count, sent.size());
  EXPECT_GE(LostResponses(log, [](const json& e) { return e["method"] != "GET"; }), 2);
  for (const char* kind : kAllFaults) EXPECT_GE(FaultCounts(log)[kind], 1) << kind;
  EXPECT_GE(TotalFaults(log), int(log.size() / 8)) << "the rate is 1 in 4";
  EXPECT_FALSE(retries.empty());
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
}

}  // namespace
}  // namespace gb::test
