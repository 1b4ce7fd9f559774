// The fleet's budget ([fleet] size_limit) as sync applies it: what the other
// hosts sharing the vault hold, read while this host holds the fleet lease
// (vault/fleet_lease.h) so that no other host uploads against the same room
// until this run is done. Sync keeps to it as to its own [vault] size_limit:
// it prunes only its own oldest sets, and waits when that is not enough.
//
// Where the backend has no lease (glacier://, file://) or no fleet listing is
// given, the total is what this host's own inventory knows (which, on those
// backends, lists every host's archives): the cap is advisory, since two
// hosts may upload against the same room at once.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "catalog/vault_state.h"
#include "core/clock.h"
#include "engine/config.h"
#include "vault/fleet_lease.h"
#include "vault/vault.h"

namespace gb {

// How sync reaches the rest of the fleet; either may be null.
struct FleetAccess {
  Vault* listing = nullptr;     // lists every host's archives (VaultScope::kFleet)
  FleetLease* lease = nullptr;  // taken before uploads that count against the cap
};

class FleetCap {
 public:
  FleetCap(const Config& config, FleetAccess access, Clock& clock, uint64_t per_archive_overhead);
  ~FleetCap();  // releases the lease

  // True when [fleet] size_limit is set.
  bool active() const { return limit_ > 0; }
  bool exact() const { return access_.lease && access_.listing; }

  // Before uploads: takes the lease (unless `dry_run`) and reads what the other
  // hosts hold now. `counted`: the archives this host's usage counts (its
  // inventory cache, which on backends without folders holds every host's).
  // Throws FleetLeaseBusyError (kLocked) when another host kept the lease.
  void Begin(const std::vector<VaultArchive>& counted, bool dry_run);
  // Before each upload: keeps the lease from expiring. Throws as Renew does.
  void Renew();
  // Gives the lease up (also done on destruction).
  void End();

  // Whether this host may hold `own + need` bytes under the fleet cap.
  bool Fits(uint64_t own, uint64_t need) const;
  // Why `need` more bytes do not fit next to `own`, naming the hosts that hold the most.
  std::string Refusal(uint64_t own, uint64_t need) const;

 private:
  const Config& config_;
  FleetAccess access_;
  Clock& clock_;
  uint64_t overhead_;
  uint64_t limit_;
  bool held_ = false;
  // Other hosts' billed bytes by host, from `counted` and (read when first
  // needed) the fleet listing's descriptions.
  const std::vector<std::pair<std::string, uint64_t>>& OtherHosts() const;

  uint64_t others_ = 0;  // billed bytes in the fleet listing, not in `counted`
  std::vector<VaultArchive> counted_;
  mutable std::optional<std::vector<std::pair<std::string, uint64_t>>> by_host_;
};

}  // namespace gb
