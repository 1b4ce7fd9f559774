// The fleet lease in an S3 bucket: the object PREFIX/.fleet-lease, whose body
// names its holder and expiry (JSON: {"host", "run", "pid", "expires",
// "expires_at"}). Taken with PutObject If-None-Match: * (S3 conditional
// writes: exactly one concurrent writer gets 200, the others 412); an expired
// lease is taken over with PutObject If-Match: <its ETag>, so of several hosts
// that saw it expire only one gets it; renewed the same way, and released with
// DeleteObject If-Match: <our ETag> (a store that ignores If-Match on DELETE
// could then remove a lease that already expired and was taken over: keep
// lease_seconds above the longest single upload). A body that does not parse
// counts as expired. The clock is the process's Clock (tests move it).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "vault/fleet_lease.h"
#include "vault/s3_client.h"

namespace gb {

struct VaultOptions;

class S3FleetLease : public FleetLease {
 public:
  // `key`: the lease object's key. Does no I/O.
  S3FleetLease(S3ClientOptions client, std::string key, FleetLeaseOptions options, Clock& clock);
  ~S3FleetLease() override;  // releases

  void Acquire() override;
  void Renew() override;
  void Release() noexcept override;
  std::string Name() const override;

  // The lease body for `holder`, and back; nullopt when malformed.
  static std::string FormatHolder(const FleetLeaseHolder& holder);
  static std::optional<FleetLeaseHolder> ParseHolder(const std::string& body);

 private:
  struct Seen {
    std::string etag;
    std::optional<FleetLeaseHolder> holder;  // nullopt: malformed
  };
  // PUT with `condition` ("If-None-Match: *" or "If-Match: ETAG"); our new ETag,
  // or nullopt when the condition failed (412, or 409 for a concurrent write).
  std::optional<std::string> Put(const std::string& header, const std::string& value,
                                 int64_t expires);
  std::optional<Seen> Read();  // nullopt: no lease object

  S3Client client_;
  std::string key_;
  FleetLeaseOptions options_;
  Clock& clock_;
  std::string etag_;  // ours while held; empty otherwise
};

// The lease of the vault at "s3://BUCKET[/PREFIX]" (`location` follows
// "s3://"), with the vault's endpoint, region, profile and addressing.
std::unique_ptr<FleetLease> OpenS3FleetLease(const std::string& url, const std::string& location,
                                             const VaultOptions& vault, FleetLeaseOptions options,
                                             Clock& clock);

}  // namespace gb
