#include "vault/glacier_client.h"

#include "core/hex.h"
#include "core/sha256.h"
#include "net/http_headers.h"
#include "net/sigv4.h"

namespace gb {
namespace {

bool IsAuthFailure(const AwsErrorInfo& e) {
  static const char* const kCodes[] = {"InvalidSignatureException",
                                       "SignatureDoesNotMatch",
                                       "AccessDeniedException",
                                       "AccessDenied",
                                       "UnrecognizedClientException",
                                       "InvalidClientTokenId",
                                       "ExpiredTokenException",
                                       "ExpiredToken",
                                       "MissingAuthenticationTokenException",
                                       "IncompleteSignatureException"};
  for (const char* c : kCodes) {
    if (e.code == c) return true;
  }
  return e.code.empty() && e.http_status == 403;
}

}  // namespace

GlacierClient::GlacierClient(GlacierClientOptions options, Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  std::string endpoint = options_.endpoint;
  if (endpoint.empty()) endpoint = "https://glacier." + options_.region + ".amazonaws.com";
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  size_t sep = endpoint.find("://");
  std::string scheme = sep == std::string::npos ? "" : endpoint.substr(0, sep);
  host_ = sep == std::string::npos ? "" : endpoint.substr(sep + 3);
  if ((scheme != "http" && scheme != "https") || host_.empty() ||
      host_.find_first_of("/?#@ ") != std::string::npos) {
    throw Error(Code::kInvalidArgument, "Glacier endpoint '" + options_.endpoint +
                                            "' should look like https://host[:port]");
  }
  base_url_ = endpoint;
}

GlacierClient::~GlacierClient() = default;

std::string GlacierClient::VaultLabel() const {
  return "Glacier vault " + options_.vault + " (" + options_.region + ")";
}

const GlacierClient::Resolved& GlacierClient::Resolve() {
  std::lock_guard lock(mu_);
  if (!resolved_) {
    AwsSettings s = options_.settings ? options_.settings() : LoadAwsSettings();
    resolved_ = Resolved{std::move(s.credentials), std::move(s.source)};
  }
  return *resolved_;
}

std::unique_ptr<HttpClient> GlacierClient::Borrow() {
  std::lock_guard lock(mu_);
  ++requests_;
  if (idle_.empty()) return std::make_unique<HttpClient>(options_.http);
  auto client = std::move(idle_.back());
  idle_.pop_back();
  return client;
}

void GlacierClient::Return(std::unique_ptr<HttpClient> client) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(client));
}

uint64_t GlacierClient::requests_sent() const {
  std::lock_guard lock(mu_);
  return requests_;
}

HttpResponse GlacierClient::Send(const GlacierRequest& request, ByteSink* sink) {
  const Resolved& resolved = Resolve();
  static const std::string kEmptyHash = Hex(Sha256::Of(std::string()));
  std::string payload_hash = request.payload_hash.empty() ? kEmptyHash : request.payload_hash;

  SigV4Request sig;
  sig.method = request.method;
  sig.path = request.list_vaults ? "/-/vaults" : "/-/vaults/" + options_.vault + request.path;
  sig.query = request.query;
  sig.headers = {{"host", host_},
                 {"x-amz-glacier-version", std::string(kGlacierApiVersion)},
                 {"x-amz-content-sha256", payload_hash}};
  sig.headers.insert(sig.headers.end(), request.headers.begin(), request.headers.end());
  sig.payload_hash = payload_hash;
  SigV4Result signed_request =
      SignV4(sig, resolved.credentials, {options_.region, "glacier", clock_.NowSeconds()});

  HttpRequest http;
  http.method = request.method;
  http.url = base_url_ + sig.path;
  if (!signed_request.canonical_query.empty()) http.url += "?" + signed_request.canonical_query;
  http.headers = std::move(sig.headers);
  http.headers.insert(http.headers.end(), signed_request.headers_to_add.begin(),
                      signed_request.headers_to_add.end());
  http.body = request.body;
  http.window_ignored_range = request.window_ignored_range;

  std::unique_ptr<HttpClient> client = Borrow();
  HttpResponse response = client->Send(http, sink);  // a client that threw is dropped
  Return(std::move(client));
  return response;
}

bool GlacierClient::IsMissingVault(const AwsErrorInfo& e) {
  return e.code == "VaultNotFound" ||
         (e.code == "ResourceNotFoundException" &&
          AsciiLower(e.message).find("vault not found") != std::string::npos);
}

void GlacierClient::Fail(const HttpResponse& response, const std::string& what) {
  AwsErrorInfo info = ParseAwsError(response);
  if (IsMissingVault(info)) {
    throw GlacierError(Code::kNotFound,
                       VaultLabel() +
                           " does not exist; check the vault name and region, "
                           "or create it with `glacier-backup vault create`",
                       info);
  }
  if (IsAuthFailure(info)) {
    std::string source;
    {
      std::lock_guard lock(mu_);
      if (resolved_) source = resolved_->source;
    }
    std::string line = DescribeAwsError(info, VaultLabel());
    if (!source.empty()) line += " (credentials from " + source + ")";
    throw GlacierError(Code::kPermanent, line, info);
  }
  throw GlacierError(ClassifyAwsError(info), DescribeAwsError(info, what + " in " + VaultLabel()),
                     info);
}

namespace {

// Sizes and counts Glacier reports stay far below this (an archive holds at
// most 40 TiB); larger numbers are damage or a lie, and could overflow sums.
constexpr uint64_t kMaxGlacierNumber = uint64_t{1} << 50;
constexpr int64_t kLatestGlacierTime = 253402300799;  // 9999-12-31T23:59:59Z

}  // namespace

nlohmann::json ParseGlacierJson(const HttpResponse& response, const std::string& what) {
  auto j = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    throw Error(Code::kCorruption, "Glacier answered " + what + " with a body that is not JSON");
  }
  return j;
}

std::optional<int64_t> ParseGlacierDate(std::string_view text) {
  std::string t(text);
  if (size_t dot = t.find('.'); dot != std::string::npos) {
    size_t end = dot + 1;
    while (end < t.size() && t[end] >= '0' && t[end] <= '9') ++end;
    t.erase(dot, end - dot);
  }
  std::optional<int64_t> parsed = ParseUtc(t);
  // Before 1970 or after 9999: damage or a lie, as "no date".
  if (parsed && (*parsed < 0 || *parsed > kLatestGlacierTime)) return std::nullopt;
  return parsed;
}

std::string GlacierString(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) {
    throw Error(Code::kCorruption, std::string("Glacier returned a non-string ") + name);
  }
  return it->get<std::string>();
}

std::optional<uint64_t> GlacierSize(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_unsigned()) {
    throw Error(Code::kCorruption, std::string("Glacier returned a bad ") + name);
  }
  if (it->get<uint64_t>() > kMaxGlacierNumber) {
    throw Error(Code::kCorruption, std::string("Glacier returned an absurd ") + name + " (" +
                                       std::to_string(it->get<uint64_t>()) + ")");
  }
  return it->get<uint64_t>();
}

bool ListPages(GlacierClient& client, GlacierRequest request, const char* op, const char* list_key,
               const std::string& what, const std::function<void(const nlohmann::json&)>& each,
               const std::function<bool(const HttpResponse&)>& quiet_stop) {
  std::string marker;
  do {
    request.query.erase("marker");
    if (!marker.empty()) request.query.emplace("marker", marker);
    HttpResponse response = client.Send(request);
    if (response.status != 200) {
      if (quiet_stop && quiet_stop(response)) return false;
      client.Fail(response, what);
    }
    nlohmann::json doc = ParseGlacierJson(response, op);
    auto list = doc.find(list_key);
    if (list != doc.end() && list->is_array())
      for (const auto& item : *list) each(item);
    marker = GlacierString(doc, "Marker");
  } while (!marker.empty());
  return true;
}

}  // namespace gb
