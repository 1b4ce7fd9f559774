#include "vault/s3_client.h"

#include <time.h>

#include <algorithm>

#include "net/http_headers.h"
#include "net/sigv4.h"
#include "net/uri.h"

namespace gb {

namespace {

bool OneOf(std::string_view code, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

// Codes whose fix is on the user's side of the credentials.
bool IsAuthCode(std::string_view code) {
  return OneOf(code, {"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied",
                      "AuthorizationHeaderMalformed", "ExpiredToken", "InvalidToken",
                      "TokenRefreshRequired", "RequestTimeTooSkewed", "AccountProblem"});
}

}  // namespace

std::optional<S3Addressing> ParseS3Addressing(std::string_view name) {
  if (name == "auto") return S3Addressing::kAuto;
  if (name == "path") return S3Addressing::kPath;
  if (name == "virtual") return S3Addressing::kVirtualHosted;
  return std::nullopt;
}

S3Target S3TargetFor(const std::string& bucket, const std::string& key, const std::string& region,
                     const std::string& endpoint, S3Addressing addressing) {
  std::string scheme = "https", host;
  if (endpoint.empty()) {
    host = "s3." + region + ".amazonaws.com";
  } else {
    size_t sep = endpoint.find("://");
    std::string rest = sep == std::string::npos ? "" : endpoint.substr(sep + 3);
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    scheme = sep == std::string::npos ? "" : endpoint.substr(0, sep);
    if ((scheme != "http" && scheme != "https") || rest.empty() ||
        rest.find_first_of("/?#@ ") != std::string::npos) {
      throw Error(Code::kInvalidArgument,
                  "S3 endpoint '" + endpoint + "' is not of the form http(s)://host[:port]");
    }
    host = rest;
  }
  bool path_style = addressing == S3Addressing::kPath ||
                    (addressing == S3Addressing::kAuto &&
                     (!endpoint.empty() || bucket.find('.') != std::string::npos));
  S3Target t;
  std::string encoded_key = UriEncode(key, /*keep_slash=*/true);
  if (path_style) {
    t.host = host;
    t.path = "/" + bucket + (key.empty() ? "" : "/" + encoded_key);
  } else {
    t.host = bucket + "." + host;
    t.path = "/" + encoded_key;
  }
  t.url = scheme + "://" + t.host + t.path;
  return t;
}

S3Client::S3Client(S3ClientOptions options, Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

S3Client::~S3Client() = default;

const S3Client::Resolved& S3Client::Resolve() {
  std::lock_guard lock(mu_);
  if (!resolved_) {
    AwsSettings s = options_.settings ? options_.settings() : LoadAwsSettings();
    Resolved r;
    r.credentials = std::move(s.credentials);
    r.source = s.source.empty() ? "the given settings" : s.source;
    r.region = !options_.region.empty() ? options_.region
               : !s.region.empty()      ? s.region
                                        : "us-east-1";
    resolved_ = std::move(r);
  }
  return *resolved_;
}

std::string S3Client::region() { return Resolve().region; }

uint64_t S3Client::requests_sent() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::unique_ptr<HttpClient> S3Client::Borrow() {
  std::lock_guard lock(mu_);
  ++requests_;
  if (idle_.empty()) return std::make_unique<HttpClient>(options_.http);
  auto c = std::move(idle_.back());
  idle_.pop_back();
  return c;
}

void S3Client::Return(std::unique_ptr<HttpClient> client) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(client));
}

HttpResponse S3Client::Send(const S3Request& request, ByteSink* sink) {
  const Resolved& r = Resolve();
  S3Target target =
      S3TargetFor(options_.bucket, request.key, r.region, options_.endpoint, options_.addressing);
  SigV4Request sig_req;
  sig_req.method = request.method;
  sig_req.path = target.path;
  sig_req.query = request.query;
  sig_req.headers.emplace_back("Host", target.host);
  sig_req.headers.insert(sig_req.headers.end(), request.headers.begin(), request.headers.end());
  sig_req.payload_hash =
      request.payload_hash.empty() ? std::string(kEmptyPayloadHash) : request.payload_hash;
  SigV4Result sig = SignV4(sig_req, r.credentials, {r.region, "s3", clock_.NowSeconds()});

  HttpRequest http;
  http.method = request.method;
  http.url = target.url + (sig.canonical_query.empty() ? "" : "?" + sig.canonical_query);
  http.headers = std::move(sig_req.headers);
  http.headers.insert(http.headers.end(), sig.headers_to_add.begin(), sig.headers_to_add.end());
  http.body = request.body;

  std::unique_ptr<HttpClient> client = Borrow();
  // A client whose transfer threw is dropped, not reused: its connection may
  // be in any state.
  HttpResponse response = client->Send(http, sink);
  Return(std::move(client));
  return response;
}

void S3Client::Fail(const HttpResponse& response, const std::string& what) {
  AwsErrorInfo info = ParseAwsError(response);
  const Resolved& r = Resolve();
  const std::string bucket = "bucket " + options_.bucket;
  std::string where =
      options_.endpoint.empty() ? "region " + r.region : "endpoint " + options_.endpoint;
  std::optional<std::string> bucket_region = response.headers.Get("x-amz-bucket-region");

  if (info.code == "NoSuchBucket") {
    throw S3Error(Code::kNotFound,
                  "NoSuchBucket: " + bucket + " does not exist (" + where +
                      "); check the bucket name and region, or create it with "
                      "`glacier-backup vault create`",
                  info);
  }
  if (bucket_region && *bucket_region != r.region &&
      (response.status == 301 || response.status == 400 || info.code == "PermanentRedirect" ||
       info.code == "AuthorizationHeaderMalformed")) {
    throw S3Error(Code::kPermanent,
                  (info.code.empty() ? "HTTP " + std::to_string(response.status) : info.code) +
                      ": " + bucket + " is in region " + *bucket_region + ", not " + r.region +
                      "; set region = \"" + *bucket_region + "\"",
                  info);
  }
  if (info.code.empty() && response.status == 403) {
    // HEAD responses carry no body, so no code: say what a 403 usually means.
    throw S3Error(Code::kPermanent,
                  "HTTP 403 for " + what +
                      ": access refused; check the access key and secret (credentials from " +
                      r.source + "), the IAM policy for " + bucket + " and the machine clock",
                  info);
  }
  if (info.code.empty() && response.status == 404) {
    throw S3Error(Code::kNotFound, "HTTP 404: " + what + " not found", info);
  }
  std::string message = DescribeAwsError(info, what);
  if (IsAuthCode(info.code)) message += " (credentials from " + r.source + ")";
  throw S3Error(ClassifyAwsError(info), message, info);
}

std::optional<S3RestoreState> ParseS3Restore(std::string_view header) {
  auto value_of = [&](std::string_view name) -> std::optional<std::string> {
    std::string key = std::string(name) + "=\"";
    size_t at = header.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    size_t start = at + key.size();
    size_t end = header.find('"', start);
    if (end == std::string_view::npos) return std::nullopt;
    return std::string(header.substr(start, end - start));
  };
  auto ongoing = value_of("ongoing-request");
  if (!ongoing || (*ongoing != "true" && *ongoing != "false")) return std::nullopt;
  S3RestoreState s;
  s.ongoing = *ongoing == "true";
  if (auto expiry = value_of("expiry-date")) {
    s.expiry = ParseHttpDate(*expiry);
    if (!s.expiry) return std::nullopt;
  }
  return s;
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  std::string s(text);
  struct tm tm = {};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

std::optional<int64_t> ParseS3XmlDate(std::string_view text) {
  std::string s(text);
  if (size_t dot = s.find('.'); dot != std::string::npos) {
    size_t end = dot + 1;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    s.erase(dot, end - dot);
  }
  struct tm tm = {};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace gb
