#include "net/aws_error.h"

#include <gtest/gtest.h>

namespace gb {
namespace {

AwsErrorInfo Info(int status, std::string code, std::string message = {}) {
  return {status, std::move(code), std::move(message), {}};
}

TEST(AwsErrorClassify, Table) {
  struct Row {
    int status;
    const char* code;
    const char* message;
    Code expected;
  };
  const Row rows[] = {
      {0, "", "", Code::kTransient},  // no response at all
      {408, "", "", Code::kTransient},
      {429, "", "", Code::kTransient},
      {500, "", "", Code::kTransient},
      {502, "", "", Code::kTransient},
      {503, "", "", Code::kTransient},
      {504, "", "", Code::kTransient},
      {400, "ThrottlingException", "", Code::kTransient},
      {408, "RequestTimeoutException", "", Code::kTransient},
      {400, "RequestTimeout", "", Code::kTransient},  // code wins over a 400
      {503, "SlowDown", "", Code::kTransient},
      {500, "InternalError", "", Code::kTransient},
      {503, "ServiceUnavailable", "", Code::kTransient},
      {500, "ServiceUnavailableException", "", Code::kTransient},
      {403, "InvalidSignatureException", "", Code::kPermanent},
      {403, "SignatureDoesNotMatch", "", Code::kPermanent},
      {403, "AccessDenied", "", Code::kPermanent},
      {403, "AccessDeniedException", "", Code::kPermanent},
      {403, "ExpiredToken", "", Code::kPermanent},
      {403, "ExpiredTokenException", "", Code::kPermanent},
      {403, "InvalidAccessKeyId", "", Code::kPermanent},
      {403, "InvalidClientTokenId", "", Code::kPermanent},
      {403, "RequestTimeTooSkewed", "", Code::kPermanent},
      {400, "NoLongerSupportedException", "", Code::kPermanent},
      {404, "NoSuchBucket", "", Code::kPermanent},
      {404, "VaultNotFound", "Vault not found", Code::kPermanent},
      {404, "ResourceNotFoundException", "Vault not found for ARN: arn:aws:glacier:x",
       Code::kPermanent},
      {404, "ResourceNotFoundException", "The job ID was not found: abc", Code::kNotFound},
      {404, "NoSuchKey", "", Code::kNotFound},
      {404, "NoSuchUpload", "", Code::kNotFound},
      {404, "", "", Code::kNotFound},  // HEAD of a missing object: no body
      {403, "InvalidObjectState", "", Code::kPermanent},
      {503, "InsufficientCapacityException", "", Code::kPermanent},
      {400, "InvalidParameterValueException", "", Code::kPermanent},
      {409, "RestoreAlreadyInProgress", "", Code::kPermanent},
      {400, "SomethingNew", "", Code::kPermanent},
      {503, "SomethingNew", "", Code::kTransient},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(ClassifyAwsError(Info(r.status, r.code, r.message)), r.expected)
        << r.status << " " << r.code << " " << r.message;
  }
}

TEST(AwsErrorParse, GlacierJson) {
  auto e = ParseAwsError(
      403, R"({"code":"AccessDeniedException","message":"User is not authorized","type":"Client"})",
      "application/json");
  EXPECT_EQ(e.http_status, 403);
  EXPECT_EQ(e.code, "AccessDeniedException");
  EXPECT_EQ(e.message, "User is not authorized");
}

TEST(AwsErrorParse, MotoJsonType) {
  auto e = ParseAwsError(404, R"({"__type": "VaultNotFound", "message": "Vault not found"})",
                         "application/json");
  EXPECT_EQ(e.code, "VaultNotFound");
  EXPECT_EQ(e.message, "Vault not found");
  auto ns = ParseAwsError(400, R"({"__type":"com.amazonaws.glacier#ThrottlingException"})", "");
  EXPECT_EQ(ns.code, "ThrottlingException");
}

TEST(AwsErrorParse, S3Xml) {
  auto e = ParseAwsError(404,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                         "<Message>The specified key does not exist.</Message><Key>k</Key>"
                         "<RequestId>R1</RequestId></Error>",
                         "application/xml");
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The specified key does not exist.");
  EXPECT_EQ(e.request_id, "R1");
}

TEST(AwsErrorParse, MotoGlacierSignatureXml) {
  // What moto answers a badly signed Glacier request (query-protocol XML).
  auto e = ParseAwsError(
      403,
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error>"
      "<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not "
      "match the signature you provided.</Message><Type>Sender</Type></Error></Errors>"
      "<RequestId>Q2</RequestId></ErrorResponse>",
      "text/xml");
  EXPECT_EQ(e.code, "SignatureDoesNotMatch");
  EXPECT_EQ(e.request_id, "Q2");
  EXPECT_EQ(ClassifyAwsError(e), Code::kPermanent);
}

TEST(AwsErrorParse, SniffsWithoutContentTypeAndSurvivesJunk) {
  EXPECT_EQ(ParseAwsError(400, "  {\"code\":\"X\"}", "").code, "X");
  EXPECT_EQ(ParseAwsError(400, "<Error><Code>Y</Code></Error>", "").code, "Y");
  for (const char* junk : {"", "<html>bad gateway</html>", "{not json", "plain text", "<Error>"}) {
    auto e = ParseAwsError(502, junk, "");
    EXPECT_EQ(e.code, "") << junk;
    EXPECT_EQ(ClassifyAwsError(e), Code::kTransient);
  }
}

TEST(AwsErrorParse, FromResponseHeaders) {
  HttpResponse r;
  r.status = 400;
  r.headers.Add("x-amzn-RequestId", "RID");
  r.headers.Add("X-Amzn-ErrorType", "ThrottlingException:http://internal/");
  auto e = ParseAwsError(r);
  EXPECT_EQ(e.code, "ThrottlingException");
  EXPECT_EQ(e.request_id, "RID");
}

TEST(AwsErrorDescribe, SaysWhatToCheck) {
  EXPECT_EQ(DescribeAwsError(Info(403, "AccessDenied"), "vault photos"),
            "AccessDenied: check the IAM policy of the credentials for vault photos");
  EXPECT_EQ(DescribeAwsError(Info(403, "SignatureDoesNotMatch"), "vault v"),
            "SignatureDoesNotMatch: check AWS_SECRET_ACCESS_KEY / the profile's secret and the "
            "machine clock");
  EXPECT_EQ(DescribeAwsError(Info(400, "NoLongerSupportedException"), "vault v"),
            "NoLongerSupportedException: this account cannot use Glacier vaults; use an s3:// "
            "vault with storage_class = \"DEEP_ARCHIVE\"");
  EXPECT_EQ(DescribeAwsError(Info(404, "NoSuchBucket"), "bucket b"),
            "NoSuchBucket: bucket b does not exist; check the bucket name and the region");
  // Unknown codes and transient ones carry AWS's words, on one line.
  EXPECT_EQ(DescribeAwsError(Info(400, "Odd", "line one\nline two"), "bucket b"),
            "Odd: line one line two (HTTP 400, bucket b)");
  EXPECT_EQ(DescribeAwsError(Info(503, ""), "vault v"), "HTTP 503 (vault v)");
  EXPECT_EQ(DescribeAwsError(Info(404, "ResourceNotFoundException", "The job ID was not found: j"),
                             "vault v"),
            "ResourceNotFoundException: The job ID was not found: j (HTTP 404, vault v)");
}

TEST(AwsErrorThrow, CarriesClassAndInfo) {
  HttpResponse r;
  r.status = 503;
  r.headers.Add("Content-Type", "application/xml");
  r.body = "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>";
  try {
    ThrowAwsError(r, "bucket b");
    FAIL();
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code(), Code::kTransient);
    EXPECT_EQ(e.info().code, "SlowDown");
    EXPECT_EQ(std::string(e.what()), "SlowDown: Reduce your request rate. (HTTP 503, bucket b)");
  }
}

}  // namespace
}  // namespace gb
