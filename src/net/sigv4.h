// AWS Signature Version 4 for request headers (the "Authorization:" form).
//
// The signer is a pure function of its inputs: it never reads the clock, the
// environment or the body. The caller hashes the body (streaming) and passes
// the hex digest, so no body is ever copied for signing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/aws_credentials.h"
#include "net/http_headers.h"

namespace gb {

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SigV4Request {
  std::string method;  // "GET", "PUT", ...
  // The path exactly as it goes on the request line: percent-encoded once
  // (UriEncode(decoded, true)). Services other than s3 normalise it (".",
  // "..", "//") and encode it a second time, as AWS requires; s3 decodes it
  // and encodes it once, never normalising (object keys may hold "//").
  std::string path;
  // Decoded query parameters; a key may repeat. The signer encodes them and
  // returns the canonical query string, which the caller sends as the URL query.
  std::multimap<std::string, std::string> query;
  // Headers to sign, in request order; every one is signed. Must include
  // "host". Names are case-insensitive; a repeated name is signed as one
  // header, values joined by "," in order. Must not include Authorization,
  // X-Amz-Date or X-Amz-Security-Token: the signer adds those.
  HeaderList headers;
  // Lower-case hex SHA-256 of the body (of the empty string for no body), or
  // kUnsignedPayload (s3 only).
  std::string payload_hash;
};

struct SigV4Scope {
  std::string region;   // "us-east-1"
  std::string service;  // "glacier", "s3", ...
  int64_t unix_seconds = 0;
};

struct SigV4Result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;   // "host;x-amz-date"
  std::string canonical_query;  // "a=1&b=2"; send this as the URL query
  std::string signature;        // lower-case hex
  // The Authorization header value. Secret-bearing in effect: never log it.
  std::string authorization;
  // Headers to add to the request as they are: X-Amz-Date, X-Amz-Security-Token
  // (with a session token), X-Amz-Content-Sha256 (s3, unless the caller sent
  // it) and Authorization (last).
  HeaderList headers_to_add;
};

// Signs a request. Throws kInternal when the request breaks the contract
// above (no host header, a header the signer owns, an empty payload hash, an
// s3 x-amz-content-sha256 header that differs from payload_hash).
SigV4Result SignV4(const SigV4Request& request, const AwsCredentials& credentials,
                   const SigV4Scope& scope);

// The canonical URI for `path` under `service`'s rule (see SigV4Request::path).
std::string CanonicalUri(std::string_view path, std::string_view service);

}  // namespace gb
