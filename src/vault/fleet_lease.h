// The fleet lease: a short exclusive lease that hosts sharing one vault take
// before uploads that count against the fleet's cap ([fleet] size_limit), so
// one host at a time reads the fleet's total and uploads against it. It
// expires, so a holder that died cannot hold up the fleet for longer than its
// lease_seconds. Backends with conditional writes implement it (S3:
// s3_fleet_lease.h); elsewhere there is none and the fleet cap is advisory.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"

namespace gb {

// What the lease object says.
struct FleetLeaseHolder {
  std::string host;    // [backup] host of the holder
  std::string run_id;  // unique per run
  int64_t pid = 0;
  int64_t expires = 0;  // Unix seconds; 0 = released
};

struct FleetLeaseOptions {
  std::string host, run_id;
  int64_t pid = 0;
  int lease_seconds = 600;  // a holder's lease expires this long after it was taken or renewed
  int wait_seconds = 600;   // Acquire waits at most this long for a live holder
  int poll_millis = 5000;   // between looks at a live holder's lease
};

// Thrown by Acquire when a live holder kept the lease for the whole wait
// (code kLocked), and by Renew when the lease was lost.
class FleetLeaseBusyError : public Error {
 public:
  FleetLeaseBusyError(const std::string& message, FleetLeaseHolder holder)
      : Error(Code::kLocked, message), holder_(std::move(holder)) {}
  const FleetLeaseHolder& holder() const { return holder_; }

 private:
  FleetLeaseHolder holder_;
};

// Not thread-safe: one run holds one lease object.
class FleetLease {
 public:
  virtual ~FleetLease() = default;
  // Takes the lease: at once when it is free or its holder's expiry has passed
  // (taken over atomically), else after waiting for its holder to release it.
  // Throws FleetLeaseBusyError after wait_seconds, or vault errors.
  virtual void Acquire() = 0;
  // Moves the expiry lease_seconds from now. REQUIRES: held. Throws
  // FleetLeaseBusyError when it expired and another host took it.
  virtual void Renew() = 0;
  // Gives the lease up if held. Never throws: a lease left behind expires.
  virtual void Release() noexcept = 0;
  // Where the lease lives ("s3://bucket/prefix/.fleet-lease").
  virtual std::string Name() const = 0;
};

}  // namespace gb
