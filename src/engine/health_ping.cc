#include "engine/health_ping.h"

#include <chrono>
#include <thread>

#include "core/error.h"
#include "core/stream.h"
#include "net/http_client.h"

namespace gb {
namespace {

constexpr size_t kMaxBody = 10000;

}  // namespace

HealthPing::HealthPing(std::string url, HealthPingOptions options)
    : url_(std::move(url)), options_(options) {}

std::string HealthPing::Start() { return url_.empty() ? "" : Send(url_ + "/start", ""); }

std::string HealthPing::Finish(int exit_code, const std::string& log_tail) {
  if (url_.empty()) return "";
  std::string body =
      log_tail.size() > kMaxBody ? log_tail.substr(log_tail.size() - kMaxBody) : log_tail;
  return Send(exit_code == 0 ? url_ : url_ + "/" + std::to_string(exit_code), body);
}

std::string HealthPing::Send(const std::string& url, const std::string& body) {
  HttpClientOptions o;
  o.connect_timeout_ms = options_.timeout_ms;
  o.timeout_ms = options_.timeout_ms;
  o.user_agent = "glacier-backup";
  std::string problem;
  for (int attempt = 1; attempt <= options_.attempts; ++attempt) {
    if (attempt > 1)
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.retry_pause_ms));
    try {
      HttpClient client(o);
      SpanSource source(AsBytes(body));
      HttpRequest request;
      request.method = "POST";
      request.url = url;
      request.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
      request.body = &source;
      HttpResponse response = client.Send(request);
      if (response.status >= 200 && response.status < 300) return "";
      problem = "HTTP " + std::to_string(response.status);
      if (response.status < 500 && response.status != 429) break;  // retrying cannot help
    } catch (const Error& e) {
      problem = e.what();
      if (e.code() != Code::kTransient) break;
    }
  }
  return "ping " + url + " failed: " + problem;
}

}  // namespace gb
