// The S3 request layer without a server: addressing, header parsing, and the
// error a user reads for each kind of S3 failure.
#include "vault/s3_client.h"

#include <gtest/gtest.h>

#include "vault/s3_vault.h"
#include "vault/vault_conformance_suite.h"

namespace gb::test {
namespace {

TEST(S3TargetTest, AwsBucketsAreVirtualHostedByDefault) {
  S3Target t =
      S3TargetFor("my-bucket", "backups/laptop/0123", "eu-west-1", "", S3Addressing::kAuto);
  EXPECT_EQ(t.host, "my-bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(t.path, "/backups/laptop/0123");
  EXPECT_EQ(t.url, "https://my-bucket.s3.eu-west-1.amazonaws.com/backups/laptop/0123");

  S3Target bucket = S3TargetFor("my-bucket", "", "us-east-1", "", S3Addressing::kAuto);
  EXPECT_EQ(bucket.url, "https://my-bucket.s3.us-east-1.amazonaws.com/");
}

TEST(S3TargetTest, DottedBucketsAndEndpointsUsePathStyle) {
  S3Target dotted = S3TargetFor("my.bucket", "k", "eu-west-1", "", S3Addressing::kAuto);
  EXPECT_EQ(dotted.host, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(dotted.url, "https://s3.eu-west-1.amazonaws.com/my.bucket/k");

  S3Target local =
      S3TargetFor("bkt", "p/k", "us-east-1", "http://127.0.0.1:9000/", S3Addressing::kAuto);
  EXPECT_EQ(local.host, "127.0.0.1:9000");
  EXPECT_EQ(local.path, "/bkt/p/k");
  EXPECT_EQ(local.url, "http://127.0.0.1:9000/bkt/p/k");
  EXPECT_EQ(S3TargetFor("bkt", "", "us-east-1", "http://127.0.0.1:9000", S3Addressing::kAuto).url,
            "http://127.0.0.1:9000/bkt");
}

TEST(S3TargetTest, AddressingCanBeForcedEitherWay) {
  EXPECT_EQ(S3TargetFor("bkt", "k", "ap-south-1", "", S3Addressing::kPath).url,
            "https://s3.ap-south-1.amazonaws.com/bkt/k");
  S3Target minio = S3TargetFor("bkt", "k", "us-east-1", "https://minio.example:9000",
                               S3Addressing::kVirtualHosted);
  EXPECT_EQ(minio.host, "bkt.minio.example:9000");
  EXPECT_EQ(minio.url, "https://bkt.minio.example:9000/k");
  EXPECT_EQ(ParseS3Addressing("virtual"), S3Addressing::kVirtualHosted);
  EXPECT_EQ(ParseS3Addressing("path"), S3Addressing::kPath);
  EXPECT_EQ(ParseS3Addressing("auto"), S3Addressing::kAuto);
  EXPECT_FALSE(ParseS3Addressing("Path"));
}

TEST(S3TargetTest, KeysAreEncodedOnceAndKeepTheirSlashes) {
  S3Target t = S3TargetFor("bkt", "a b/c+d//%e~", "us-east-1", "", S3Addressing::kVirtualHosted);
  EXPECT_EQ(t.path, "/a%20b/c%2Bd//%25e~");
}

TEST(S3TargetTest, MalformedEndpointsAreRefused) {
  for (std::string e :
       {"127.0.0.1:9000", "ftp://host", "http://", "http://host/path", "https://user@host"}) {
    EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] {
      S3TargetFor("bkt", "k", "us-east-1", e, S3Addressing::kAuto);
    })) << e;
  }
}

TEST(S3HeadersTest, RestoreStates) {
  auto running = ParseS3Restore("ongoing-request=\"true\"");
  ASSERT_TRUE(running);
  EXPECT_TRUE(running->ongoing);
  EXPECT_FALSE(running->expiry);

  auto done =
      ParseS3Restore("ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\"");
  ASSERT_TRUE(done);
  EXPECT_FALSE(done->ongoing);
  EXPECT_EQ(done->expiry, ParseUtc("2012-12-21T00:00:00Z"));

  EXPECT_FALSE(ParseS3Restore(""));
  EXPECT_FALSE(ParseS3Restore("ongoing-request=\"maybe\""));
  EXPECT_FALSE(ParseS3Restore("ongoing-request=\"false\", expiry-date=\"tomorrow\""));
}

TEST(S3HeadersTest, Dates) {
  EXPECT_EQ(ParseHttpDate("Fri, 27 Nov 2026 14:35:17 GMT"), ParseUtc("2026-11-27T14:35:17Z"));
  EXPECT_EQ(ParseS3XmlDate("2026-11-27T14:35:17.000Z"), ParseUtc("2026-11-27T14:35:17Z"));
  EXPECT_EQ(ParseS3XmlDate("2026-11-27T14:35:17Z"), ParseUtc("2026-11-27T14:35:17Z"));
  EXPECT_FALSE(ParseHttpDate("2026-11-27"));
  EXPECT_FALSE(ParseS3XmlDate("Fri, 27 Nov 2026 14:35:17 GMT"));
}

// S3Client::Fail on canned responses: no server needed.
class S3ErrorTest : public ::testing::Test {
 protected:
  S3ErrorTest()
      : client_(S3ClientOptions{.bucket = "photos",
                                .region = "eu-west-1",
                                .settings =
                                    [] {
                                      AwsSettings s;
                                      s.credentials = {"AKIDEXAMPLE", "very-secret-key", ""};
                                      s.source = "/home/u/.aws/credentials [backup]";
                                      return s;
                                    }},
                SystemClock()) {}

  static HttpResponse Xml(int status, const std::string& code, const std::string& message = "x") {
    HttpResponse r;
    r.status = status;
    r.headers.Add("Content-Type", "application/xml");
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" +
             message + "</Message><RequestId>R1</RequestId></Error>";
    return r;
  }

  // The error Fail throws for `response`.
  S3Error Failure(const HttpResponse& response) {
    try {
      client_.Fail(response, "s3://photos/key");
    } catch (const S3Error& e) {
      return e;
    }
    ADD_FAILURE() << "Fail returned";
    return S3Error(Code::kInternal, "", {});
  }

  S3Client client_;
};

TEST_F(S3ErrorTest, MissingBucketIsNotFoundWithAHint) {
  S3Error e = Failure(Xml(404, "NoSuchBucket", "The specified bucket does not exist"));
  EXPECT_EQ(e.code(), Code::kNotFound);
  std::string m = e.what();
  EXPECT_NE(m.find("bucket photos"), std::string::npos) << m;
  EXPECT_NE(m.find("eu-west-1"), std::string::npos) << m;
  EXPECT_NE(m.find("glacier-backup vault create"), std::string::npos) << m;
}

TEST_F(S3ErrorTest, ThrottlingTimeoutsAndServerErrorsAreTransient) {
  for (auto [status, code] : std::vector<std::pair<int, std::string>>{{503, "SlowDown"},
                                                                      {500, "InternalError"},
                                                                      {400, "RequestTimeout"},
                                                                      {503, "ServiceUnavailable"},
                                                                      {502, ""},
                                                                      {504, ""},
                                                                      {429, ""},
                                                                      {408, ""}}) {
    HttpResponse r = code.empty() ? HttpResponse{.status = status} : Xml(status, code);
    EXPECT_EQ(Failure(r).code(), Code::kTransient) << status << " " << code;
  }
}

TEST_F(S3ErrorTest, AuthFailuresSayWhatToCheckWithoutSecrets) {
  for (std::string code : {"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"}) {
    S3Error e = Failure(Xml(403, code));
    EXPECT_EQ(e.code(), Code::kPermanent) << code;
    std::string m = e.what();
    EXPECT_EQ(m.rfind(code + ": ", 0), 0u) << m;
    EXPECT_NE(m.find("check"), std::string::npos) << m;
    EXPECT_NE(m.find("/home/u/.aws/credentials [backup]"), std::string::npos) << m;
    EXPECT_EQ(m.find("very-secret-key"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  HttpResponse head;  // a HEAD's 403 has no body to name the cause
  head.status = 403;
  S3Error e = Failure(head);
  EXPECT_EQ(e.code(), Code::kPermanent);
  EXPECT_NE(std::string(e.what()).find("check the access key and secret"), std::string::npos)
      << e.what();
}

TEST_F(S3ErrorTest, BucketInAnotherRegionNamesIt) {
  HttpResponse r;
  r.status = 301;
  r.headers.Add("x-amz-bucket-region", "us-west-2");
  S3Error e = Failure(r);
  EXPECT_EQ(e.code(), Code::kPermanent);
  EXPECT_NE(std::string(e.what()).find("set region = \"us-west-2\""), std::string::npos)
      << e.what();
}

TEST_F(S3ErrorTest, MissingObjectIsNotFound) {
  EXPECT_EQ(Failure(Xml(404, "NoSuchKey")).code(), Code::kNotFound);
  EXPECT_EQ(Failure(HttpResponse{.status = 404}).code(), Code::kNotFound);
  S3Error e = Failure(Xml(403, "InvalidObjectState"));
  EXPECT_EQ(e.code(), Code::kPermanent);
  EXPECT_EQ(e.info().code, "InvalidObjectState");
}

TEST(S3CapabilitiesTest, FollowTheStorageClass) {
  VaultCapabilities deep = S3Capabilities("DEEP_ARCHIVE");
  EXPECT_TRUE(deep.immediate_listing);
  EXPECT_TRUE(deep.jobs_lag);
  EXPECT_EQ(deep.min_storage_days, 180);
  EXPECT_EQ(deep.per_archive_overhead_bytes, 40u * 1024);
  VaultCapabilities glacier = S3Capabilities("GLACIER");
  EXPECT_TRUE(glacier.jobs_lag);
  EXPECT_EQ(glacier.min_storage_days, 90);
  EXPECT_EQ(glacier.per_archive_overhead_bytes, 40u * 1024);
  VaultCapabilities ir = S3Capabilities("GLACIER_IR");
  EXPECT_FALSE(ir.jobs_lag);
  EXPECT_EQ(ir.min_storage_days, 90);
  EXPECT_EQ(ir.per_archive_overhead_bytes, 0u);
  EXPECT_EQ(S3Capabilities("STANDARD_IA").min_storage_days, 30);
  VaultCapabilities standard = S3Capabilities("STANDARD");
  EXPECT_FALSE(standard.jobs_lag);
  EXPECT_EQ(standard.min_storage_days, 0);
  EXPECT_EQ(standard.retrieval_range_alignment, 1u);
  EXPECT_EQ(standard.min_archive_size, 0u);
}

TEST(S3VaultIdsTest, ArchiveIdsComeFromTheDescription) {
  std::string a = S3Vault::ArchiveIdFor("bundle token=1");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a, S3Vault::ArchiveIdFor("bundle token=1"));
  EXPECT_NE(a, S3Vault::ArchiveIdFor("bundle token=2"));
  S3Vault v(S3ClientOptions{.bucket = "bkt"}, S3VaultOptions{.prefix = "/a/b/"}, SystemClock());
  EXPECT_EQ(v.KeyOf(a), "a/b/" + a);
  EXPECT_EQ(v.Name(), "s3://bkt/a/b");
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [] {
    S3Vault(S3ClientOptions{.bucket = "bkt"}, S3VaultOptions{.storage_class = "COLD"},
            SystemClock());
  }));
}

}  // namespace
}  // namespace gb::test
