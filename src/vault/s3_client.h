// The S3 REST layer under the s3:// vault: where a request goes (virtual-hosted
// or path-style addressing, AWS or an S3-compatible endpoint), SigV4 signing
// with service "s3", a pool of HTTP clients, and S3 error responses turned
// into gb::Error. It knows nothing about archives or jobs (s3_vault.h does).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "net/aws_credentials.h"
#include "net/aws_error.h"
#include "net/http_client.h"

namespace gb {

// kAuto: path-style when an endpoint is set (S3-compatible stores and test
// servers rarely have wildcard DNS) or the bucket name has a dot (a dotted
// name breaks the TLS wildcard certificate *.s3.REGION.amazonaws.com);
// virtual-hosted otherwise, as AWS recommends.
enum class S3Addressing { kAuto, kPath, kVirtualHosted };
// "auto", "path", "virtual" (case-sensitive); nullopt otherwise.
std::optional<S3Addressing> ParseS3Addressing(std::string_view name);

// Where a request for one bucket and key goes.
struct S3Target {
  std::string url;   // scheme://host[:port]/path, no query
  std::string host;  // the Host header: host[:port]
  std::string path;  // the request path, percent-encoded once
};
// AWS: https://BUCKET.s3.REGION.amazonaws.com/KEY or
// https://s3.REGION.amazonaws.com/BUCKET/KEY; with `endpoint`
// (http(s)://host[:port]) the same shapes under that host. An empty key
// addresses the bucket. Throws kInvalidArgument for a malformed endpoint.
S3Target S3TargetFor(const std::string& bucket, const std::string& key, const std::string& region,
                     const std::string& endpoint, S3Addressing addressing);

struct S3ClientOptions {
  std::string bucket;
  std::string region;    // empty: the AWS settings' region, else us-east-1
  std::string endpoint;  // "http(s)://host[:port]"; empty: AWS
  S3Addressing addressing = S3Addressing::kAuto;
  // Finds credentials (and a default region); called on the first request, not
  // before, so constructing a client does no I/O. Empty: LoadAwsSettings().
  std::function<AwsSettings()> settings;
  HttpClientOptions http;
};

// An S3 error response. code() is what the vault contract asks for (see
// S3Client::Fail); info() keeps S3's own code for callers that branch on it.
class S3Error : public Error {
 public:
  S3Error(Code code, const std::string& message, AwsErrorInfo info)
      : Error(code, message), info_(std::move(info)) {}
  const AwsErrorInfo& info() const { return info_; }

 private:
  AwsErrorInfo info_;
};

struct S3Request {
  std::string method = "GET";
  std::string key;  // object key, not encoded; empty for a request on the bucket
  std::multimap<std::string, std::string> query;  // decoded
  HeaderList headers;                             // all signed
  RewindableSource* body = nullptr;               // not owned
  // Lower-case hex SHA-256 of the body; empty means "no body".
  std::string payload_hash;
};

// Thread-safe: each request borrows an HttpClient from a pool, so concurrent
// calls use separate connections and sequential ones reuse them.
class S3Client {
 public:
  S3Client(S3ClientOptions options, Clock& clock);
  ~S3Client();

  const std::string& bucket() const { return options_.bucket; }
  const std::string& endpoint() const { return options_.endpoint; }
  // The signing region (resolves the settings, so it may throw as Send does).
  std::string region();

  // Signs and sends `request`; an HTTP error status is returned, not thrown.
  // With `sink`, a 2xx body streams into it. Throws what HttpClient throws
  // (kTransient for network failures) and kPermanent when no credentials are
  // found.
  HttpResponse Send(const S3Request& request, ByteSink* sink = nullptr);

  // Throws the S3Error for a non-2xx `response` to a request about `what`
  // ("s3://bucket/key", "bucket b"):
  //   NoSuchBucket                       kNotFound naming the bucket, hinting at
  //                                      `glacier-backup vault create`
  //   auth failures (SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied,
  //   a bare 403 to HEAD, ...)           kPermanent: what to check, and where the
  //                                      credentials came from (never a secret)
  //   a bucket in another region         kPermanent naming the region to set
  //   everything else                    ClassifyAwsError (throttling, 5xx,
  //                                      RequestTimeout... are kTransient)
  // Always one line.
  [[noreturn]] void Fail(const HttpResponse& response, const std::string& what);

  // Requests sent so far (tests prove paging with it).
  uint64_t requests_sent() const;

 private:
  struct Resolved {
    AwsCredentials credentials;
    std::string region;
    std::string source;
  };
  const Resolved& Resolve();
  std::unique_ptr<HttpClient> Borrow();
  void Return(std::unique_ptr<HttpClient> client);

  S3ClientOptions options_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::optional<Resolved> resolved_;
  std::vector<std::unique_ptr<HttpClient>> idle_;
  uint64_t requests_ = 0;
};

// x-amz-restore: `ongoing-request="true"` while a restore runs, then
// `ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`.
struct S3RestoreState {
  bool ongoing = false;
  std::optional<int64_t> expiry;  // Unix seconds
};
// nullopt when the header is malformed.
std::optional<S3RestoreState> ParseS3Restore(std::string_view header);
// "Fri, 21 Dec 2012 00:00:00 GMT" (RFC 1123, what S3 puts in headers).
std::optional<int64_t> ParseHttpDate(std::string_view text);
// "2012-12-21T00:00:00.000Z" (ISO 8601, what S3 puts in XML listings).
std::optional<int64_t> ParseS3XmlDate(std::string_view text);

// The XML namespace of S3's request and response documents.
inline constexpr char kS3XmlNamespace[] = "http://s3.amazonaws.com/doc/2006-03-01/";

// Hex SHA-256 of nothing: the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace gb
