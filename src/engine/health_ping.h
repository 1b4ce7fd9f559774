// Tells a healthchecks.io-style monitor ([monitoring] ping_url) how an
// unattended run went: URL/start when it starts, URL when it succeeded,
// URL/EXITCODE with the end of its log when it did not. Pings are
// best-effort: short timeouts, a few quick retries, and a failure is returned
// for the caller to mention, never thrown, so monitoring cannot fail a backup.
#pragma once

#include <cstdint>
#include <string>

namespace gb {

struct HealthPingOptions {
  int attempts = 3;              // tries per ping, the first included
  int64_t timeout_ms = 5000;     // per attempt, connection to answer
  int64_t retry_pause_ms = 500;  // between attempts
};

class HealthPing {
 public:
  // `url` as in the config: http(s), no trailing '/'. Empty = pings do nothing.
  explicit HealthPing(std::string url, HealthPingOptions options = {});

  // Each returns "" when the monitor took the ping, else what went wrong
  // ("ping https://hc-ping.com/... failed: HTTP 404").
  std::string Start();
  // exit_code 0: URL; otherwise URL/EXITCODE. `log_tail` is the body (cut to
  // the last 10,000 bytes, healthchecks.io's limit for stored bodies is larger).
  std::string Finish(int exit_code, const std::string& log_tail);

 private:
  std::string Send(const std::string& url, const std::string& body);
  std::string url_;
  HealthPingOptions options_;
};

}  // namespace gb
