#include "net/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include "core/clock.h"
#include "core/error.h"
#include "net/uri.h"

namespace gb {
namespace {

constexpr size_t kBufferSize = 256 * 1024;

// Keeps a byte stream under `limit` bytes per second by sleeping until the
// bytes already moved are due. (libcurl 7.88 applies its own speed limits
// unreliably: not to uploads, and not with a large receive buffer.)
struct Pacer {
  int64_t limit = 0;  // 0: no pacing
  Clock* clock = nullptr;
  int64_t start_ns = -1;

  void Restart() { start_ns = -1; }
  void WaitFor(uint64_t bytes_done) {
    if (limit <= 0) return;
    int64_t now = clock->NowNanos();
    if (start_ns < 0) start_ns = now;
    double due_ns = static_cast<double>(bytes_done) * 1e9 / static_cast<double>(limit);
    int64_t wait = start_ns + static_cast<int64_t>(due_ns) - now;
    if (wait > 0) clock->SleepNanos(wait);
  }
  // The most to move in one step: a tenth of a second's worth.
  size_t Step(size_t len) const {
    if (limit <= 0) return len;
    return std::min<size_t>(len, static_cast<size_t>(std::max<int64_t>(limit / 10, 1024)));
  }
};

// The state of one Send(), reached from curl's callbacks.
struct Transfer {
  CURL* curl = nullptr;
  HttpResponse* response = nullptr;
  ByteSink* sink = nullptr;
  RewindableSource* body = nullptr;
  uint64_t body_sent = 0;
  Pacer send_pacer, recv_pacer;
  size_t max_error_body = 0;
  uint64_t max_buffered_body = 0;
  const std::atomic<bool>* cancel = nullptr;
  bool cancelled = false;
  std::string host;            // for messages
  std::exception_ptr failure;  // thrown inside a callback, rethrown after curl returns
  // HttpRequest::window_ignored_range: the requested window [first, last].
  std::optional<std::pair<uint64_t, uint64_t>> window;
  uint64_t window_pos = 0;   // bytes of a whole-body 200 seen so far
  bool window_done = false;  // stopped on purpose after the window's end
};

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// "bytes=S-" or "bytes=S-E" from a Range header; nullopt for anything else.
std::optional<std::pair<uint64_t, uint64_t>> ParseByteRange(const HeaderList& headers) {
  auto number = [](std::string_view digits) -> std::optional<uint64_t> {
    if (digits.empty() || digits.size() > 19 ||
        digits.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    return std::stoull(std::string(digits));
  };
  for (const auto& [name, value] : headers) {
    if (AsciiLower(name) != "range") continue;
    std::string_view v = TrimView(value);
    if (v.substr(0, 6) != "bytes=") return std::nullopt;
    v.remove_prefix(6);
    size_t dash = v.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::optional<uint64_t> first = number(v.substr(0, dash));
    if (!first) return std::nullopt;
    if (dash + 1 == v.size()) return std::make_pair(*first, UINT64_MAX);
    std::optional<uint64_t> last = number(v.substr(dash + 1));
    if (!last || *last < *first) return std::nullopt;
    return std::make_pair(*first, *last);
  }
  return std::nullopt;
}

size_t OnHeader(char* data, size_t size, size_t n, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after "100 Continue", say) starts a new header set.
    t->response->headers.Clear();
    size_t sp = line.find(' ');
    t->response->status = sp == std::string_view::npos ? 0 : std::atoi(line.data() + sp + 1);
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->response->headers.Add(std::string(TrimView(line.substr(0, colon))),
                             std::string(TrimView(line.substr(colon + 1))));
  }
  return size * n;
}

size_t OnWrite(char* data, size_t size, size_t n, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  size_t len = size * n;
  const size_t received = len;
  HttpResponse& r = *t->response;
  r.body_bytes += len;
  bool success = r.status >= 200 && r.status < 300;
  if (t->window && r.status == 200) {
    // The whole body, though a range was asked for: keep only the window.
    const uint64_t pos = t->window_pos, first = t->window->first, last = t->window->second;
    t->window_pos += len;
    uint64_t from = std::max(pos, first);
    uint64_t to = last == UINT64_MAX ? pos + len : std::min(pos + len, last + 1);
    if (from >= to) {
      len = 0;
    } else {
      data += from - pos;
      len = static_cast<size_t>(to - from);
    }
    if (last != UINT64_MAX && t->window_pos > last) t->window_done = true;
  }
  if (t->sink && success) {
    try {
      if (len > 0) t->sink->Write(reinterpret_cast<const uint8_t*>(data), len);
    } catch (...) {
      t->failure = std::current_exception();
      return 0;  // makes curl fail with CURLE_WRITE_ERROR
    }
  } else if (success) {
    if (len > t->max_buffered_body - r.body.size()) {
      t->failure = std::make_exception_ptr(
          Error(Code::kCorruption, "the answer of " + t->host + " is longer than the " +
                                       std::to_string(t->max_buffered_body) +
                                       " bytes kept in memory (a broken or hostile server?)"));
      return 0;
    }
    r.body.append(data, len);
  } else {
    size_t limit = t->max_error_body;
    if (r.body.size() < limit) r.body.append(data, std::min(len, limit - r.body.size()));
  }
  t->recv_pacer.WaitFor(r.body_bytes);
  if (t->window_done) return 0;  // past the window: stop (curl reports a write error)
  return received;
}

size_t OnRead(char* data, size_t size, size_t n, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  try {
    t->send_pacer.WaitFor(t->body_sent);
    size_t len = t->send_pacer.Step(size * n);
    size_t got = t->body->Read(std::span<uint8_t>(reinterpret_cast<uint8_t*>(data), len));
    t->body_sent += got;
    if (got == 0 && t->body_sent < t->body->Size()) {
      throw Error(Code::kInternal, "request body ended after " + std::to_string(t->body_sent) +
                                       " of " + std::to_string(t->body->Size()) + " bytes");
    }
    return got;
  } catch (...) {
    t->failure = std::current_exception();
    return CURL_READFUNC_ABORT;
  }
}

int OnSeek(void* arg, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(arg);
  if (offset != 0 || origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  try {
    t->body->Rewind();
    t->body_sent = 0;
    t->send_pacer.Restart();
    return CURL_SEEKFUNC_OK;
  } catch (...) {
    t->failure = std::current_exception();
    return CURL_SEEKFUNC_FAIL;
  }
}

int OnProgress(void* arg, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(arg);
  if (t->cancel && t->cancel->load(std::memory_order_relaxed)) {
    t->cancelled = true;
    return 1;  // aborts the transfer
  }
  return 0;
}

Code CodeFor(CURLcode rc) {
  switch (rc) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Code::kInvalidArgument;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return Code::kPermanent;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
      return Code::kInternal;
    default:
      // Refused, reset, timeouts, stalls, truncation, DNS and TLS handshake
      // failures: the network, worth another try.
      return Code::kTransient;
  }
}

struct HeaderSlist {
  curl_slist* list = nullptr;
  ~HeaderSlist() { curl_slist_free_all(list); }
  void Append(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (!next) throw Error(Code::kInternal, "out of memory building HTTP headers");
    list = next;
  }
};

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw Error(Code::kInternal, "libcurl failed to initialise");
  });
}

}  // namespace

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  GlobalInit();
  curl_ = curl_easy_init();
  if (!curl_) throw Error(Code::kInternal, "libcurl could not create a handle");
}

HttpClient::~HttpClient() { curl_easy_cleanup(curl_); }

void HttpClient::SetBandwidthLimit(int64_t send_bytes_per_sec, int64_t recv_bytes_per_sec) {
  options_.max_send_bytes_per_sec = send_bytes_per_sec;
  options_.max_recv_bytes_per_sec = recv_bytes_per_sec;
}

HttpResponse HttpClient::Send(const HttpRequest& request, ByteSink* sink) {
  HttpResponse response;
  Transfer t;
  t.curl = curl_;
  t.response = &response;
  t.sink = sink;
  t.body = request.body;
  t.max_error_body = options_.max_error_body;
  t.max_buffered_body = options_.max_buffered_body;
  t.host = HostOfUrl(request.url);
  t.cancel = options_.cancel;
  Clock* clock = options_.clock ? options_.clock : &SystemClock();
  t.send_pacer = {options_.max_send_bytes_per_sec, clock};
  t.recv_pacer = {options_.max_recv_bytes_per_sec, clock};
  if (request.window_ignored_range) t.window = ParseByteRange(request.headers);

  // Reset keeps the connection cache, so connections are reused across calls.
  // Resetting again on the way out leaves curl no pointer into this frame.
  curl_easy_reset(curl_);
  struct ResetOnExit {
    CURL* curl;
    ~ResetOnExit() { curl_easy_reset(curl); }
  } reset_on_exit{curl_};
  char errbuf[CURL_ERROR_SIZE] = {0};
  HeaderSlist headers;
  for (const auto& [name, value] : request.headers) {
    // "Name;" is curl's way to send a header with an empty value.
    headers.Append(value.empty() ? name + ";" : name + ": " + value);
  }
  auto set = [&](CURLoption opt, auto value) {
    if (curl_easy_setopt(curl_, opt, value) != CURLE_OK)
      throw Error(Code::kInternal, "libcurl rejected option " + std::to_string(opt));
  };
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_1_1});
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_ERRORBUFFER, errbuf);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  // A bandwidth cap below the stall threshold would read as a stall.
  int64_t low_speed = options_.low_speed_bytes_per_sec;
  for (int64_t cap : {options_.max_send_bytes_per_sec, options_.max_recv_bytes_per_sec})
    if (cap > 0) low_speed = std::min(low_speed, cap / 4);
  set(CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(low_speed));
  set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_seconds));
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_USERAGENT, options_.user_agent.c_str());
  set(CURLOPT_BUFFERSIZE,
      static_cast<long>(std::max<size_t>(t.recv_pacer.Step(kBufferSize), 16384)));
  set(CURLOPT_UPLOAD_BUFFERSIZE, static_cast<long>(kBufferSize));
  set(CURLOPT_HTTPHEADER, headers.list);
  set(CURLOPT_HEADERFUNCTION, &OnHeader);
  set(CURLOPT_HEADERDATA, &t);
  set(CURLOPT_WRITEFUNCTION, &OnWrite);
  set(CURLOPT_WRITEDATA, &t);
  if (options_.cancel) {
    set(CURLOPT_NOPROGRESS, 0L);
    set(CURLOPT_XFERINFOFUNCTION, &OnProgress);
    set(CURLOPT_XFERINFODATA, &t);
  }

  const std::string& m = request.method;
  // libcurl sends a request again, on its own, when a reused connection
  // closes before any answer: right when the server had dropped the idle
  // connection, wrong when it acted on the request and then lost the answer.
  // A POST is not idempotent (UploadArchive, CompleteMultipartUpload), so it
  // always goes on a new connection, where libcurl never re-sends; the caller
  // decides about retries.
  if (m == "POST") set(CURLOPT_FRESH_CONNECT, 1L);
  SpanSource empty(std::span<const uint8_t>{});
  RewindableSource* body = request.body;
  if (!body && (m == "PUT" || m == "POST")) body = &empty;
  if (body) {
    body->Rewind();
    t.body = body;
    set(CURLOPT_UPLOAD, 1L);
    set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body->Size()));
    set(CURLOPT_READFUNCTION, &OnRead);
    set(CURLOPT_READDATA, &t);
    set(CURLOPT_SEEKFUNCTION, &OnSeek);
    set(CURLOPT_SEEKDATA, &t);
    if (m != "PUT") set(CURLOPT_CUSTOMREQUEST, m.c_str());
  } else if (m == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (m != "GET") {
    set(CURLOPT_CUSTOMREQUEST, m.c_str());
  }

  CURLcode rc = curl_easy_perform(curl_);
  long connects = 0, status = 0;
  if (curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
    connections_opened_ += static_cast<uint64_t>(connects);
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
  if (t.failure) std::rethrow_exception(t.failure);
  if (t.cancelled)
    throw Error(Code::kCancelled, "HTTP " + m + " to " + HostOfUrl(request.url) + " cancelled");
  if (rc == CURLE_WRITE_ERROR && t.window_done) rc = CURLE_OK;  // stopped after the window
  if (rc != CURLE_OK) {
    std::string cause = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    while (!cause.empty() && (cause.back() == '\n' || cause.back() == '\r')) cause.pop_back();
    std::string message = "HTTP " + m + " to " + HostOfUrl(request.url) + " failed: " + cause;
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
        rc == CURLE_COULDNT_RESOLVE_PROXY)
      throw UnreachableError(Code::kTransient, message);
    throw Error(CodeFor(rc), message);
  }
  response.status = static_cast<int>(status);
  response.range_ignored = t.window.has_value() && response.status == 200;
  return response;
}

}  // namespace gb
