// The Glacier vault REST layer (API version 2012-06-01) under glacier://: where
// a request goes, SigV4 signing with service "glacier", a pool of HTTP
// clients, and Glacier error responses turned into gb::Error. It knows
// nothing about uploads or jobs (glacier_vault.h does).
//
// Every request carries x-amz-glacier-version and x-amz-content-sha256 (the
// body's SHA-256), both signed; the account id in paths is "-" (the signer's).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
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

inline constexpr std::string_view kGlacierApiVersion = "2012-06-01";

// A Glacier error response: code() is what the vault contract asks for (see
// GlacierClient::Fail); info() keeps Glacier's own code.
class GlacierError : public Error {
 public:
  GlacierError(Code code, const std::string& message, AwsErrorInfo info)
      : Error(code, message), info_(std::move(info)) {}
  const AwsErrorInfo& info() const { return info_; }

 private:
  AwsErrorInfo info_;
};

struct GlacierClientOptions {
  std::string region;    // from the vault URL; required
  std::string vault;     // the vault name; required
  std::string endpoint;  // "http(s)://host[:port]"; empty: https://glacier.REGION.amazonaws.com
  // Finds credentials; called on the first request, not before, so
  // constructing a client does no I/O. Empty: LoadAwsSettings().
  std::function<AwsSettings()> settings;
  HttpClientOptions http;
};

struct GlacierRequest {
  std::string method = "GET";
  // Under /-/vaults/VAULT, percent-encoded: "" (the vault), "/archives",
  // "/jobs/ID/output", ...
  std::string path;
  // True for the account-level /-/vaults (ListVaults); `path` is then ignored.
  bool list_vaults = false;
  std::multimap<std::string, std::string> query;  // decoded
  HeaderList headers;                             // all signed
  RewindableSource* body = nullptr;               // not owned
  // Lower-case hex SHA-256 of the body; empty means "no body".
  std::string payload_hash;
  // See HttpRequest::window_ignored_range (for ranged job output reads).
  bool window_ignored_range = false;
};

// Thread-safe: each request borrows an HttpClient from a pool, so concurrent
// calls (multipart part uploads) use separate connections and sequential ones
// reuse them.
class GlacierClient {
 public:
  // Throws kInvalidArgument for a malformed endpoint.
  GlacierClient(GlacierClientOptions options, Clock& clock);
  ~GlacierClient();

  const std::string& vault() const { return options_.vault; }
  const std::string& region() const { return options_.region; }
  // "Glacier vault NAME (REGION)", for messages.
  std::string VaultLabel() const;

  // Signs and sends `request`; an HTTP error status is returned, not thrown.
  // With `sink`, a 2xx body streams into it. Throws what HttpClient throws
  // (kTransient for network failures) and kPermanent when no credentials are
  // found.
  HttpResponse Send(const GlacierRequest& request, ByteSink* sink = nullptr);

  // Throws for a non-2xx `response` to a request about `what` ("archive X"):
  //   the vault does not exist (ResourceNotFoundException "Vault not found",
  //   moto's VaultNotFound)      kNotFound naming the vault and region, hinting
  //                              at `glacier-backup vault create`
  //   auth failures (InvalidSignatureException, moto's XML SignatureDoesNotMatch,
  //   AccessDeniedException, unknown keys, expired tokens), NoLongerSupported
  //                              kPermanent: one line saying what to check and
  //                              where the credentials came from (never a secret)
  //   everything else            ClassifyAwsError: throttling, timeouts, 408,
  //                              429, 5xx are kTransient; a missing archive, job
  //                              or upload is kNotFound
  [[noreturn]] void Fail(const HttpResponse& response, const std::string& what);

  // True when `error` says the vault itself does not exist.
  static bool IsMissingVault(const AwsErrorInfo& error);

  // Requests sent so far (tests prove paging and resumption with it).
  uint64_t requests_sent() const;

 private:
  struct Resolved {
    AwsCredentials credentials;
    std::string source;
  };
  const Resolved& Resolve();
  std::unique_ptr<HttpClient> Borrow();
  void Return(std::unique_ptr<HttpClient> client);

  GlacierClientOptions options_;
  Clock& clock_;
  std::string base_url_;  // scheme://host[:port]
  std::string host_;      // host[:port], the Host header
  mutable std::mutex mu_;
  std::optional<Resolved> resolved_;
  std::vector<std::unique_ptr<HttpClient>> idle_;
  uint64_t requests_ = 0;
};

// A Glacier list call, page by page: sends `request` (with ?marker= from the second
// page on, until a page has no Marker) and calls `each` with every element of the
// array `list_key` of each page (`op` names the call in parse errors). A page
// answered with another status than 200 fails naming `what`, unless `quiet_stop`
// accepts that answer: then paging stops and ListPages returns false.
bool ListPages(GlacierClient& client, GlacierRequest request, const char* op, const char* list_key,
               const std::string& what, const std::function<void(const nlohmann::json&)>& each,
               const std::function<bool(const HttpResponse&)>& quiet_stop = {});

// Parses a 2xx JSON body; kCorruption naming `what` when it is not a JSON object.
nlohmann::json ParseGlacierJson(const HttpResponse& response, const std::string& what);
// "2012-03-20T17:03:43.221Z" (fractional seconds optional) -> Unix seconds;
// nullopt for anything else, or a date before 1970 or after 9999.
std::optional<int64_t> ParseGlacierDate(std::string_view text);
// A string member, "" when absent or null; kCorruption when of another type.
std::string GlacierString(const nlohmann::json& object, const char* name);
// An unsigned member, nullopt when absent or null; kCorruption when of another
// type or above 2^50 (no size or count Glacier reports comes near).
std::optional<uint64_t> GlacierSize(const nlohmann::json& object, const char* name);

}  // namespace gb
