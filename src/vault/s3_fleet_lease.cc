#include "vault/s3_fleet_lease.h"

#include <algorithm>

#include "core/hex.h"
#include "core/sha256.h"
#include "core/untrusted_json.h"
#include "net/retry.h"
#include "vault/s3_vault.h"
#include "vault/vault_factory.h"

namespace gb {
namespace {

// 412: the condition failed; 409 ConditionalRequestConflict: a concurrent
// conditional write to the key won.
bool ConditionFailed(const HttpResponse& r) { return r.status == 412 || r.status == 409; }

}  // namespace

S3FleetLease::S3FleetLease(S3ClientOptions client, std::string key, FleetLeaseOptions options,
                           Clock& clock)
    : client_(std::move(client), clock),
      key_(std::move(key)),
      options_(std::move(options)),
      clock_(clock) {
  options_.lease_seconds = std::max(options_.lease_seconds, 1);
  options_.poll_millis = std::max(options_.poll_millis, 10);
  options_.wait_seconds = std::max(options_.wait_seconds, 0);
}

S3FleetLease::~S3FleetLease() { Release(); }

std::string S3FleetLease::Name() const { return "s3://" + client_.bucket() + "/" + key_; }

std::string S3FleetLease::FormatHolder(const FleetLeaseHolder& h) {
  nlohmann::json j = {{"host", h.host},
                      {"run", h.run_id},
                      {"pid", h.pid},
                      {"expires", h.expires},
                      {"expires_at", FormatIsoUtc(h.expires)}};
  return j.dump() + "\n";
}

std::optional<FleetLeaseHolder> S3FleetLease::ParseHolder(const std::string& body) {
  try {
    nlohmann::json j = ParseUntrustedJson(body);
    FleetLeaseHolder h;
    h.host = j.at("host").get<std::string>();
    h.run_id = j.at("run").get<std::string>();
    h.pid = j.value("pid", int64_t{0});
    h.expires = j.at("expires").get<int64_t>();
    return h;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::string> S3FleetLease::Put(const std::string& header, const std::string& value,
                                             int64_t expires) {
  FleetLeaseHolder me{options_.host, options_.run_id, options_.pid, expires};
  const std::string body = FormatHolder(me);
  return RetryPolicy(clock_).Run([&]() -> std::optional<std::string> {
    SpanSource src(AsBytes(body));
    S3Request req{.method = "PUT",
                  .key = key_,
                  .headers = {{"Content-Type", "application/json"}, {header, value}},
                  .body = &src,
                  .payload_hash = Hex(Sha256::Of(body))};
    HttpResponse resp = client_.Send(req);
    if (ConditionFailed(resp)) {
      // A retry after a lost answer finds our own write: it is ours all the same.
      std::optional<Seen> seen = Read();
      if (seen && seen->holder && seen->holder->run_id == options_.run_id &&
          seen->holder->expires == expires)
        return seen->etag;
      return std::nullopt;
    }
    if (!Ok(resp)) client_.Fail(resp, Name());
    std::string etag = resp.headers.Get("ETag").value_or("");
    if (etag.empty()) throw Error(Code::kTransient, "S3 stored " + Name() + " without an ETag");
    return etag;
  });
}

std::optional<S3FleetLease::Seen> S3FleetLease::Read() {
  return RetryPolicy(clock_).Run([&]() -> std::optional<Seen> {
    BufferSink sink;
    HttpResponse resp = client_.Send(S3Request{.key = key_}, &sink);
    if (resp.status == 404 && ParseAwsError(resp).code != "NoSuchBucket") return std::nullopt;
    if (!Ok(resp)) client_.Fail(resp, Name());
    Seen seen;
    seen.etag = resp.headers.Get("ETag").value_or("");
    seen.holder = ParseHolder(
        std::string(reinterpret_cast<const char*>(sink.bytes.data()), sink.bytes.size()));
    return seen;
  });
}

void S3FleetLease::Acquire() {
  if (!etag_.empty()) return;
  const int64_t deadline = clock_.NowSeconds() + options_.wait_seconds;
  for (;;) {
    const int64_t now = clock_.NowSeconds();
    if (auto etag = Put("If-None-Match", "*", now + options_.lease_seconds)) {
      etag_ = *etag;
      return;
    }
    std::optional<Seen> seen = Read();
    if (!seen) continue;  // released in between: try again at once
    if (!seen->holder || seen->holder->expires <= now) {
      // Expired (or unreadable): take it over, unless another host did first.
      if (auto etag = Put("If-Match", seen->etag, now + options_.lease_seconds)) {
        etag_ = *etag;
        return;
      }
      continue;
    }
    const FleetLeaseHolder& h = *seen->holder;
    if (now >= deadline) {
      throw FleetLeaseBusyError(
          "the fleet lease " + Name() + " is held by host " + h.host + " (run " + h.run_id +
              ", pid " + std::to_string(h.pid) + ") until " + FormatIsoUtc(h.expires) +
              "; waited " + std::to_string(options_.wait_seconds) +
              " s. Another host is uploading against [fleet] size_limit: run again later",
          h);
    }
    // Whole seconds are what expiries and the deadline count in: wake at the
    // next poll or the second they pass, whichever comes first.
    const int64_t now_ns = clock_.NowNanos();
    const int64_t until = std::min(deadline, h.expires) * 1000000000LL;
    int64_t nap = std::min<int64_t>(int64_t{options_.poll_millis} * 1000000, until - now_ns);
    clock_.SleepNanos(std::max<int64_t>(nap, 1000000));
  }
}

void S3FleetLease::Renew() {
  if (etag_.empty()) return Acquire();
  const int64_t now = clock_.NowSeconds();
  if (auto etag = Put("If-Match", etag_, now + options_.lease_seconds)) {
    etag_ = *etag;
    return;
  }
  etag_.clear();
  std::optional<Seen> seen = Read();
  FleetLeaseHolder h = seen && seen->holder ? *seen->holder : FleetLeaseHolder{};
  throw FleetLeaseBusyError("the fleet lease " + Name() +
                                " expired while this run held it and was taken by host " +
                                (h.host.empty() ? std::string("?") : h.host) +
                                "; raise [fleet] lease_seconds above the longest upload",
                            h);
}

void S3FleetLease::Release() noexcept {
  if (etag_.empty()) return;
  try {
    client_.Send(S3Request{.method = "DELETE", .key = key_, .headers = {{"If-Match", etag_}}});
  } catch (const std::exception&) {
    // Left behind, it expires.
  }
  etag_.clear();
}

std::unique_ptr<FleetLease> OpenS3FleetLease(const std::string& url, const std::string& location,
                                             const VaultOptions& vault, FleetLeaseOptions options,
                                             Clock& clock) {
  std::string prefix;
  S3ClientOptions client = S3ClientOptionsFor(url, location, vault, &prefix);
  while (prefix.ends_with('/')) prefix.pop_back();
  while (prefix.starts_with('/')) prefix.erase(0, 1);
  std::string key = (prefix.empty() ? "" : prefix + "/") + ".fleet-lease";
  return std::make_unique<S3FleetLease>(std::move(client), std::move(key), std::move(options),
                                        clock);
}

}  // namespace gb
