#include "net/sigv4.h"

#include <algorithm>

#include "core/clock.h"
#include "core/error.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "net/uri.h"

namespace gb {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Trims and collapses every run of whitespace (folded line breaks included)
// into one space.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// RFC 3986 section 5.2.4 plus the AWS rule that empty segments ("//") go too.
// A trailing slash survives unless nothing else does.
std::string NormalizePath(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(seg);
  }
  std::string result = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) result.push_back('/');
    result.append(out[i]);
  }
  if (path.back() == '/' && !out.empty()) result.push_back('/');
  return result;
}

Digest Hmac(std::span<const uint8_t> key, std::string_view data) {
  return HmacSha256(key, {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
}

[[noreturn]] void Contract(const std::string& what) {
  throw Error(Code::kInternal, "SigV4: " + what);
}

}  // namespace

std::string CanonicalUri(std::string_view path, std::string_view service) {
  if (service == "s3") return path.empty() ? "/" : UriEncode(UriDecode(path), true);
  return UriEncode(NormalizePath(path), true);
}

SigV4Result SignV4(const SigV4Request& request, const AwsCredentials& credentials,
                   const SigV4Scope& scope) {
  if (request.payload_hash.empty()) Contract("empty payload hash");
  if (request.method.empty()) Contract("empty method");
  const bool s3 = scope.service == "s3";
  const std::string amz_date = FormatCompactUtc(scope.unix_seconds);
  const std::string date = amz_date.substr(0, 8);
  const std::string credential_scope =
      date + "/" + scope.region + "/" + scope.service + "/aws4_request";

  SigV4Result r;
  // Canonical headers: lower-case names, sorted; a repeated name keeps its
  // values in request order (stable sort), joined with ",".
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size() + 3);
  bool has_host = false, has_content_sha = false;
  for (const auto& [name, value] : request.headers) {
    std::string lname = AsciiLower(name);
    if (lname == "authorization" || lname == "x-amz-date" || lname == "x-amz-security-token")
      Contract("the caller passed " + lname + ", which the signer adds");
    std::string v = CanonicalHeaderValue(value);
    if (lname == "host") has_host = true;
    if (lname == "x-amz-content-sha256") {
      has_content_sha = true;
      if (s3 && v != request.payload_hash)
        Contract("x-amz-content-sha256 differs from payload hash");
    }
    headers.emplace_back(std::move(lname), std::move(v));
  }
  if (!has_host) Contract("no host header");
  if (!s3 && request.payload_hash == kUnsignedPayload) Contract("UNSIGNED-PAYLOAD outside s3");
  r.headers_to_add.emplace_back("X-Amz-Date", amz_date);
  headers.emplace_back("x-amz-date", amz_date);
  if (!credentials.session_token.empty()) {
    r.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
    headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  if (s3 && !has_content_sha) {
    r.headers_to_add.emplace_back("X-Amz-Content-Sha256", request.payload_hash);
    headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.back() = ',';  // replaces the previous line's '\n'
    } else {
      if (!r.signed_headers.empty()) r.signed_headers.push_back(';');
      r.signed_headers += headers[i].first;
      canonical_headers += headers[i].first;
      canonical_headers.push_back(':');
    }
    canonical_headers += headers[i].second;
    canonical_headers.push_back('\n');
  }

  // Canonical query: encoded keys and values, sorted by key, then value.
  std::vector<std::pair<std::string, std::string>> query;
  query.reserve(request.query.size());
  for (const auto& [k, v] : request.query) query.emplace_back(UriEncode(k), UriEncode(v));
  std::sort(query.begin(), query.end());
  for (const auto& [k, v] : query) {
    if (!r.canonical_query.empty()) r.canonical_query.push_back('&');
    r.canonical_query += k + "=" + v;
  }

  r.canonical_request = request.method + "\n" + CanonicalUri(request.path, scope.service) + "\n" +
                        r.canonical_query + "\n" + canonical_headers + "\n" + r.signed_headers +
                        "\n" + request.payload_hash;
  r.string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + credential_scope + "\n" +
                     Hex(Sha256::Of(r.canonical_request));

  std::string secret = "AWS4" + credentials.secret_access_key;
  Digest k = Hmac(AsBytes(secret), date);
  std::fill(secret.begin(), secret.end(), '\0');
  k = Hmac(k, scope.region);
  k = Hmac(k, scope.service);
  k = Hmac(k, "aws4_request");
  r.signature = Hex(Hmac(k, r.string_to_sign));
  r.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" +
                    credential_scope + ", SignedHeaders=" + r.signed_headers +
                    ", Signature=" + r.signature;
  r.headers_to_add.emplace_back("Authorization", r.authorization);
  return r;
}

}  // namespace gb
