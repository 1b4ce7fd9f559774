// The one HTTP client: libcurl, one connection cache per client object.
//
// Thread-safety: an HttpClient serves one request at a time; give each worker
// thread its own. Keep a client for the whole run so TLS connections are
// reused. TLS peer and host verification are always on.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/stream.h"
#include "net/http_headers.h"

typedef void CURL;

namespace gb {

class Clock;

struct HttpRequest {
  std::string method = "GET";
  std::string url;     // absolute, "https://host/path?query", already encoded
  HeaderList headers;  // sent as they are, after the client's own
  // The body, streamed (never copied whole) with Content-Length = Size(). Not
  // owned; rewound before sending and whenever a resend is needed. PUT and
  // POST without a body send Content-Length: 0.
  RewindableSource* body = nullptr;
  // Opt-in for reads of a byte range. A server may ignore a `Range: bytes=S-`
  // or `bytes=S-E` header and answer 200 with the whole body (HTTP allows it;
  // moto's Glacier does). With this set, such a 200 passes only bytes S..E to
  // the sink (or response.body), as a 206 would have, stops the transfer once
  // past E, and sets HttpResponse::range_ignored. A 206 is passed as it is.
  bool window_ignored_range = false;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  // The body, unless it went to a sink (see HttpClient::Send). Bodies of
  // non-2xx responses always land here, cut at HttpClientOptions::max_error_body.
  std::string body;
  uint64_t body_bytes = 0;  // bytes received, streamed or not
  // The server answered a ranged request with the whole body, and only the
  // requested window was kept (HttpRequest::window_ignored_range). Headers that
  // describe the body (checksums, Content-Length) then describe the whole of
  // it, not what the sink received.
  bool range_ignored = false;
};

// A 2xx status: the server did what was asked.
inline bool Ok(const HttpResponse& response) {
  return response.status >= 200 && response.status < 300;
}

struct HttpClientOptions {
  int64_t connect_timeout_ms = 15000;
  // The whole request, connection to last byte; 0 = no limit (the stall
  // detection below still applies). Fails as kTransient.
  int64_t timeout_ms = 0;
  // A transfer slower than low_speed_bytes_per_sec for low_speed_seconds has
  // stalled and fails as kTransient.
  int64_t low_speed_bytes_per_sec = 1024;
  int64_t low_speed_seconds = 60;
  // Bandwidth caps for this client; 0 means none. The stall threshold above
  // is lowered to a quarter of a cap when it would exceed it.
  int64_t max_send_bytes_per_sec = 0;
  int64_t max_recv_bytes_per_sec = 0;
  // Paces uploads under max_send_bytes_per_sec; null means SystemClock(). Not owned.
  Clock* clock = nullptr;
  // A CA bundle to trust instead of the system's (for test servers).
  std::string ca_file;
  std::string user_agent = "glacier-backup";
  size_t max_error_body = 1 << 20;
  // A 2xx body without a sink is kept in memory up to this many bytes; a
  // longer one (whatever the server claims) fails as kCorruption. Bodies that
  // may be larger (archives, job output) go to a sink.
  uint64_t max_buffered_body = uint64_t{64} << 20;
  // When set and true, a running transfer stops with kCancelled. Not owned.
  const std::atomic<bool>* cancel = nullptr;
};

// A request that never reached a server: refused, no route, host name not resolved.
// Code::kTransient like every network failure, told apart so a caller can give up
// sooner on an endpoint that never answered than on one that stopped answering.
class UnreachableError : public Error {
 public:
  using Error::Error;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and returns whatever status came back: an HTTP error
  // status is a response, not an exception. With `sink`, a 2xx body is
  // written to it as it arrives (Finish() is not called); other bodies go to
  // response.body, up to HttpClientOptions::max_buffered_body.
  // A request reaches the server at most once per call, except that libcurl
  // may repeat a GET, HEAD, PUT or DELETE (idempotent) on a new connection
  // when a reused one closes before any answer; a POST always goes on a new
  // connection and is never repeated.
  // Throws gb::Error naming the host and the cause: kTransient for network
  // failures (refused, reset, timeout, stall, truncated body, TLS handshake;
  // UnreachableError when no connection could be made at all),
  // kPermanent when the server's certificate fails verification,
  // kInvalidArgument for a malformed URL, kCancelled when cancelled; an
  // exception thrown by the body source or the sink passes through unchanged.
  HttpResponse Send(const HttpRequest& request, ByteSink* sink = nullptr);

  void SetBandwidthLimit(int64_t send_bytes_per_sec, int64_t recv_bytes_per_sec);

  // Connections opened so far (a reused connection does not count).
  uint64_t connections_opened() const { return connections_opened_; }

 private:
  HttpClientOptions options_;
  CURL* curl_;
  uint64_t connections_opened_ = 0;
};

}  // namespace gb
