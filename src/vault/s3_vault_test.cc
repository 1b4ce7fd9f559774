// S3Vault against moto_server with every request's SigV4 signature checked
// (tests/servers/moto_harness.py). One moto serves the whole process (it takes
// seconds to start); every test works in a bucket of its own.
//
// moto_harness.py checks signatures against the request line as sent, so
// listings with '/' in a query value (ListObjectsV2 prefix=PREFIX/) verify as
// they do on S3 (moto alone decodes %2F first and refuses them).
//
// moto finishes restores at once unless told otherwise; here a restore runs
// until the object has been read a few more times (moto's "manual" state
// transition counts lookups: a HEAD is two, so a restore is seen InProgress by
// the two HEADs after it is posted), so GLACIER / DEEP_ARCHIVE jobs really are
// InProgress first and the suite's polling runs.
#include "vault/s3_vault.h"

#include <stdlib.h>

#include <atomic>
#include <memory>

#include "core/hex.h"
#include "core/sha256.h"
#include "vault/test_server.h"
#include "vault/vault_conformance_suite.h"
#include "vault/vault_factory.h"

namespace gb::test {
namespace {

using gb::testing::TestServer;

constexpr uint64_t kMiB = 1024 * 1024;

TestServer& Moto() {
  static std::unique_ptr<TestServer> moto = [] {
    // Lets tests use 1 MiB multipart parts (S3 and moto want 5 MiB).
    setenv("S3_UPLOAD_PART_MIN_SIZE", std::to_string(kMiB).c_str(), 1);
    auto server = std::make_unique<TestServer>("moto_harness.py");
    SetMotoTransition(*server, "s3::keyrestore", R"({"progression": "manual", "times": 4})");
    return server;
  }();
  return *moto;
}

// A fresh bucket for every vault, so tests never see each other's objects.
std::string FreshBucket(const std::string& name) {
  static std::atomic<int> counter{0};
  return "gb-" + std::to_string(++counter) + "-" + name;
}

S3ClientOptions MotoClient(const std::string& bucket, const std::string& secret = "",
                           const std::string& access_key = "") {
  TestServer& moto = Moto();
  S3ClientOptions c;
  c.bucket = bucket;
  c.region = "us-east-1";
  c.endpoint = moto.endpoint();
  c.settings = [key = access_key.empty() ? moto.access_key() : access_key,
                secret = secret.empty() ? moto.secret_key() : secret] {
    AwsSettings s;
    s.credentials = {key, secret, ""};
    s.source = "the test harness";
    return s;
  };
  return c;
}

std::unique_ptr<S3Vault> MotoVault(const std::string& bucket, S3VaultOptions options) {
  auto v = std::make_unique<S3Vault>(MotoClient(bucket), std::move(options), SystemClock());
  v->Create();
  return v;
}

INSTANTIATE_TEST_SUITE_P(
    S3, VaultConformanceTest,
    ::testing::Values(VaultConformanceParams{.name = "s3_moto_standard",
                                             .make_vault =
                                                 [](const std::string&) -> std::unique_ptr<Vault> {
                                               return MotoVault(FreshBucket("standard"),
                                                                {.storage_class = "STANDARD"});
                                             },
                                             .job_timeout_seconds = 30,
                                             .poll_interval_millis = 20},
                      // Restores that lag, and multipart uploads for everything above 1 MiB.
                      VaultConformanceParams{
                          .name = "s3_moto_deep_archive_multipart",
                          .make_vault = [](const std::string&) -> std::unique_ptr<Vault> {
                            return MotoVault(FreshBucket("deep"), {.storage_class = "DEEP_ARCHIVE",
                                                                   .multipart_threshold = kMiB,
                                                                   .part_size = kMiB});
                          },
                          .job_timeout_seconds = 30,
                          .poll_interval_millis = 20}),
    VaultConformanceName);

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 131 + (i >> 12));
  return b;
}

UploadResult Put(Vault& v, const Bytes& data, const std::string& description) {
  SpanSource src(data);
  return v.Upload(src, description);
}

JobInfo Wait(Vault& v, const std::string& job_id) {
  for (int i = 0; i < 200; ++i) {
    JobInfo j = v.DescribeJob(job_id);
    if (j.status != JobStatus::kInProgress) return j;
    SystemClock().SleepNanos(20'000'000);
  }
  throw std::runtime_error("job " + job_id + " did not finish");
}

Bytes Retrieve(Vault& v, const std::string& archive_id) {
  std::string job = v.StartRetrieval(archive_id, Tier::kStandard, std::nullopt);
  EXPECT_EQ(Wait(v, job).status, JobStatus::kSucceeded);
  BufferSink out;
  v.ReadJobOutput(job, std::nullopt, out);
  return out.bytes;
}

// A plain GetObject, outside the vault's job logic.
HttpResponse PlainGet(S3Vault& v, const std::string& archive_id) {
  return v.client().Send(S3Request{.key = v.KeyOf(archive_id)});
}

HttpResponse PlainHead(S3Vault& v, const std::string& archive_id) {
  return v.client().Send(S3Request{.method = "HEAD", .key = v.KeyOf(archive_id)});
}

TEST(S3VaultTest, DeepArchiveIsReadableOnlyAfterItsRestore) {
  auto v = MotoVault(FreshBucket("deep"), {.storage_class = "DEEP_ARCHIVE"});
  Bytes data = Pattern(3000, 1);
  UploadResult up = Put(*v, data, "deep \"one\"");

  HttpResponse head = PlainHead(*v, up.archive_id);
  EXPECT_EQ(head.headers.Get("x-amz-storage-class"), "DEEP_ARCHIVE");
  EXPECT_EQ(head.headers.Get("x-amz-meta-tree-hash"), Hex(TreeHashOf(data)));
  EXPECT_EQ(head.headers.Get("x-amz-meta-description"), "ZGVlcCAib25lIg");  // base64url

  HttpResponse before = PlainGet(*v, up.archive_id);
  EXPECT_EQ(before.status, 403);
  EXPECT_EQ(ParseAwsError(before).code, "InvalidObjectState");

  // Deep Archive has no Expedited tier: the restore runs as Standard.
  std::string job = v->StartRetrieval(up.archive_id, Tier::kExpedited, std::nullopt);
  JobInfo first = v->DescribeJob(job);
  EXPECT_EQ(first.status, JobStatus::kInProgress);
  EXPECT_EQ(first.tier, Tier::kStandard);
  BufferSink early;
  EXPECT_THROW(v->ReadJobOutput(job, std::nullopt, early), JobNotReadyError);
  EXPECT_TRUE(early.bytes.empty());

  JobInfo done = Wait(*v, job);
  ASSERT_EQ(done.status, JobStatus::kSucceeded) << done.status_message;
  EXPECT_EQ(done.output_tree_hash, up.tree_hash);
  EXPECT_NE(done.status_message.find("readable until"), std::string::npos) << done.status_message;
  BufferSink out;
  v->ReadJobOutput(job, ByteRange{1000, 5}, out);
  EXPECT_EQ(out.bytes, Bytes(data.begin() + 1000, data.begin() + 1005));
  EXPECT_EQ(PlainGet(*v, up.archive_id).status, 200);
  // Asking again while the copy is there is fine (S3 answers 200).
  std::string again = v->StartRetrieval(up.archive_id, Tier::kBulk, std::nullopt);
  EXPECT_EQ(v->DescribeJob(again).status, JobStatus::kSucceeded);
}

TEST(S3VaultTest, ListingsPageThroughContinuationTokens) {
  auto v = MotoVault(FreshBucket("paged"), {.storage_class = "STANDARD", .list_page_size = 3});
  std::map<std::string, std::string> descriptions;
  for (int i = 0; i < 10; ++i) {
    std::string d = "small " + std::to_string(i);
    descriptions[Put(*v, Pattern(10 + i, static_cast<uint8_t>(i)), d).archive_id] = d;
  }
  // Neighbours that are not archives of this vault.
  for (std::string key : {std::string("notes.txt"), "sub/" + S3Vault::ArchiveIdFor("x")}) {
    SpanSource empty(std::span<const uint8_t>{});
    ASSERT_EQ(v->client().Send(S3Request{.method = "PUT", .key = key, .body = &empty}).status, 200);
  }

  uint64_t before = v->client().requests_sent();
  VaultInfo info = v->Describe();
  EXPECT_EQ(v->client().requests_sent() - before, 4u) << "12 keys, 3 a page";
  EXPECT_EQ(info.archive_count, 10u);
  EXPECT_EQ(info.size_bytes, 10u * 10 + 45);

  BufferSink out;
  v->ReadJobOutput(v->StartInventory(), std::nullopt, out);
  Inventory inv = ParseInventory(std::string(out.bytes.begin(), out.bytes.end()));
  ASSERT_EQ(inv.archives.size(), 10u);
  for (const ArchiveInfo& a : inv.archives) EXPECT_EQ(a.description, descriptions[a.id]);
  // A second inventory HEADs nothing that has not changed.
  before = v->client().requests_sent();
  v->StartInventory();
  EXPECT_EQ(v->client().requests_sent() - before, 4u);
}

TEST(S3VaultTest, LargeUploadGoesInFiveMiBParts) {
  auto v = MotoVault(
      FreshBucket("multipart"),
      {.storage_class = "STANDARD", .multipart_threshold = 5 * kMiB, .part_size = 5 * kMiB});
  Bytes data = Pattern(12 * kMiB, 7);
  UploadResult up = Put(*v, data, "twelve");
  EXPECT_EQ(up.tree_hash, Hex(TreeHashOf(data)));
  HttpResponse head = PlainHead(*v, up.archive_id);
  std::string etag = head.headers.Get("ETag").value_or("");
  EXPECT_TRUE(etag.ends_with("-3\"")) << "not three parts: " << etag;
  EXPECT_EQ(head.headers.Get("x-amz-meta-tree-hash"), up.tree_hash);
  EXPECT_TRUE(Retrieve(*v, up.archive_id) == data);
  EXPECT_TRUE(v->UnfinishedUploads().empty());
}

// Serves `data` once in full, then fails after `fail_at` bytes of the next pass.
class FailsOnSecondPass : public RewindableSource {
 public:
  FailsOnSecondPass(const Bytes& data, uint64_t fail_at) : data_(data), fail_at_(fail_at) {}
  size_t Read(std::span<uint8_t> buf) override {
    if (pass_ >= 2 && pos_ >= fail_at_) throw Error(Code::kIOError, "disk gone");
    uint64_t end = pass_ >= 2 ? fail_at_ : data_.size();
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
  int pass_ = 0;
};

TEST(S3VaultTest, FailedMultipartUploadLeavesNoObjectAndNoOpenUpload) {
  auto v = MotoVault(
      FreshBucket("failed"),
      {.storage_class = "GLACIER", .multipart_threshold = 5 * kMiB, .part_size = 5 * kMiB});
  Bytes data = Pattern(12 * kMiB, 3);
  FailsOnSecondPass src(data, 7 * kMiB);  // after the first part went up
  try {
    v->Upload(src, "doomed");
    FAIL() << "upload succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kIOError);
    EXPECT_STREQ(e.what(), "disk gone");
  }
  EXPECT_EQ(PlainHead(*v, S3Vault::ArchiveIdFor("doomed")).status, 404);
  EXPECT_EQ(v->Describe().archive_count, 0u);
  EXPECT_TRUE(v->UnfinishedUploads().empty());
}

TEST(S3VaultTest, StaleUploadOfTheSameArchiveIsAbortedFirst) {
  auto v = MotoVault(FreshBucket("stale"),
                     {.storage_class = "STANDARD", .multipart_threshold = kMiB, .part_size = kMiB});
  // What a killed earlier attempt leaves behind: an upload that never completed.
  std::string key = v->KeyOf(S3Vault::ArchiveIdFor("resumed"));
  ASSERT_EQ(
      v->client().Send(S3Request{.method = "POST", .key = key, .query = {{"uploads", ""}}}).status,
      200);
  ASSERT_EQ(v->UnfinishedUploads(), std::vector<std::string>{key});
  Bytes data = Pattern(3 * kMiB + 5, 9);
  UploadResult up = Put(*v, data, "resumed");
  EXPECT_TRUE(v->UnfinishedUploads().empty());
  EXPECT_TRUE(Retrieve(*v, up.archive_id) == data);
}

TEST(S3VaultTest, RetriedUploadReplacesTheSameObject) {
  auto v = MotoVault(FreshBucket("retried"), {.storage_class = "STANDARD"});
  UploadResult a = Put(*v, Pattern(500, 1), "token 42");
  UploadResult b = Put(*v, Pattern(500, 1), "token 42");
  EXPECT_EQ(a.archive_id, b.archive_id);
  EXPECT_EQ(a.archive_id, S3Vault::ArchiveIdFor("token 42"));
  EXPECT_EQ(v->Describe().archive_count, 1u);
}

TEST(S3VaultTest, WrongSecretIsPermanentAndSaysWhatToCheck) {
  MotoVault("gb-auth", {});
  const std::string secret = "not-the-right-secret-at-all";
  S3Vault v(MotoClient("gb-auth", secret), {}, SystemClock());
  for (auto call : std::vector<std::function<void()>>{[&] { v.Describe(); },
                                                      [&] { Put(v, Pattern(10, 1), "x"); }}) {
    try {
      call();
      FAIL() << "a request with a wrong secret succeeded";
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_EQ(e.code(), Code::kPermanent) << m;
      EXPECT_EQ(m.rfind("SignatureDoesNotMatch: check AWS_SECRET_ACCESS_KEY", 0), 0u) << m;
      EXPECT_NE(m.find("credentials from the test harness"), std::string::npos) << m;
      EXPECT_EQ(m.find(secret), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    }
  }
  // HEAD answers carry no error body; the message still says what to check.
  try {
    v.StartRetrieval(S3Vault::ArchiveIdFor("x"), Tier::kBulk, std::nullopt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kPermanent) << e.what();
    EXPECT_NE(std::string(e.what()).find("check the access key and secret"), std::string::npos)
        << e.what();
  }
  S3Vault unknown(MotoClient("gb-auth", "", "AKIAUNKNOWNKEY000000"), {}, SystemClock());
  EXPECT_TRUE(ThrowsCode(Code::kPermanent, [&] { unknown.Describe(); }));
}

TEST(S3VaultTest, MissingBucketIsNotFoundWithAHint) {
  S3Vault v(MotoClient("gb-never-created"), {}, SystemClock());
  for (auto call :
       std::vector<std::function<void()>>{[&] { v.Describe(); }, [&] { v.StartInventory(); },
                                          [&] { Put(v, Pattern(10, 1), "x"); }}) {
    try {
      call();
      FAIL() << "a call on a missing bucket succeeded";
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_EQ(e.code(), Code::kNotFound) << m;
      EXPECT_NE(m.find("bucket gb-never-created does not exist"), std::string::npos) << m;
      EXPECT_NE(m.find("glacier-backup vault create"), std::string::npos) << m;
    }
  }
  v.Create();
  v.Create();
  EXPECT_EQ(v.Describe().archive_count, 0u);
}

TEST(S3VaultTest, CreateOutsideUsEast1SendsTheLocationConstraint) {
  S3ClientOptions c = MotoClient("gb-in-ireland");
  c.region = "eu-west-1";
  S3Vault v(c, {.storage_class = "STANDARD"}, SystemClock());
  v.Create();
  v.Create();  // BucketAlreadyOwnedByYou is fine
  HttpResponse location = v.client().Send(S3Request{.query = {{"location", ""}}});
  EXPECT_NE(location.body.find("eu-west-1"), std::string::npos) << location.body;
  EXPECT_EQ(v.Describe().archive_count, 0u);
}

TEST(S3VaultTest, OpenVaultMakesAnS3VaultFromTheUrlAndOptions) {
  TestServer& moto = Moto();
  setenv("AWS_ACCESS_KEY_ID", moto.access_key().c_str(), 1);
  setenv("AWS_SECRET_ACCESS_KEY", moto.secret_key().c_str(), 1);
  VaultOptions o;
  o.endpoint = moto.endpoint();
  o.region = "us-east-1";
  o.storage_class = "GLACIER_IR";
  o.retry.max_attempts = 1;
  auto v = OpenVault("s3://gb-factory/some/prefix/", o);
  v->Create();
  EXPECT_FALSE(v->Capabilities().jobs_lag);
  EXPECT_EQ(v->Capabilities().min_storage_days, 90);
  Bytes data = Pattern(100, 5);
  UploadResult up = Put(*v, data, "via the factory");
  EXPECT_TRUE(Retrieve(*v, up.archive_id) == data);
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  // Stored under the prefix, in the storage class asked for.
  S3Vault direct(MotoClient("gb-factory"), {.prefix = "some/prefix"}, SystemClock());
  HttpResponse head = PlainHead(direct, up.archive_id);
  EXPECT_EQ(direct.KeyOf(up.archive_id), "some/prefix/" + up.archive_id);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers.Get("x-amz-storage-class"), "GLACIER_IR");

  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] { OpenVault("s3://AB", o); }));
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] { OpenVault("s3://-bucket/x", o); }));
  VaultOptions bad = o;
  bad.storage_class = "COLD";
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] { OpenVault("s3://bucket", bad); }));
  bad = o;
  bad.addressing = "sideways";
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] { OpenVault("s3://bucket", bad); }));
  bad = o;
  bad.endpoint = "127.0.0.1:5000";
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] { OpenVault("s3://bucket", bad); }));
}

}  // namespace
}  // namespace gb::test
