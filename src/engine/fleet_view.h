// Every host found in the vault, from what its listing says (descriptions carry
// the host, the set and the time; nothing is retrieved): their sets, bytes and
// newest upload, the total against the fleet's budget, and the hosts that went
// quiet. For hosts that share one vault, each with its own [backup] host.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "engine/workspace.h"
#include "vault/vault.h"

namespace gb {

struct HostView {
  std::string host;
  std::set<int64_t> sets;  // sets with archives in the vault
  int archives = 0;
  uint64_t billed_bytes = 0;  // sizes plus the vault's per-archive overhead
  // Its newest backup in the vault: the newest backup time an archive's
  // description gives (the archive's creation time where it gives none).
  int64_t newest_upload = 0;
  int64_t age_days = 0;  // of the newest upload
  bool stale = false;    // age_days > [fleet] stale_after_days
};

struct FleetView {
  std::vector<HostView> hosts;  // by name
  uint64_t total_bytes = 0;     // billed, every host's (and foreign archives)
  int foreign_archives = 0;     // not written by glacier-backup
  uint64_t size_limit = 0;      // [fleet] size_limit; 0 = none
  int stale_after_days = 0;
  // A listing taken now (file://, s3://), or the last inventory (glacier://):
  // uploads since then by other hosts are not in it.
  bool fresh_listing = false;
  std::optional<int64_t> listing_date;  // when not fresh; nullopt = never inventoried
  std::vector<std::string> stale_hosts;
};

// REQUIRES: `vault` is the configured vault.
FleetView BuildFleetView(Workspace& ws, Vault& vault, Clock& clock);

}  // namespace gb
