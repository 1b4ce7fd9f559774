// Planning for a vault whose size cap cannot take every backup set. The steady state
// the cap allows for the cadence seen so far (how many sets fit, how often one can go
// up, how old the newest vault copy gets, what cap would take every set), and the
// pacing rule [vault] backlog = "newest" follows so that the newest copy never gets
// older than that bound.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "catalog/catalog.h"
#include "engine/config.h"
#include "engine/prices.h"
#include "engine/workspace.h"

namespace gb {

// Sets' worth of cache an automatic [backup] cache_limit allows (keep_local_sets extra).
inline constexpr int kDefaultCacheLimitSets = 8;

struct SteadyState {
  // Inputs, as estimated from the catalog (or given).
  uint64_t set_bytes = 0;        // billed size of one set: the largest recent one; 0 = unknown
  double set_interval_days = 0;  // days between the starts of consecutive sets
  int min_storage_days = 0;
  uint64_t size_limit = 0;  // 0 = no cap
  // Results.
  int sets_fit = 0;                  // sets the cap holds (meaningful when too_small)
  int sets_needed = 0;               // sets that must stay in the vault for every set to go up
  bool too_small = false;            // the cap cannot take every set at this cadence
  int upload_interval_days = 0;      // too_small and sets_fit > 0: one set at most this often
  int max_staleness_days = 0;        // too_small and sets_fit > 0: the newest copy's worst age
  uint64_t cap_for_every_set = 0;    // a size_limit that takes every set (10% margin)
  double cap_for_every_set_usd = 0;  // its monthly storage cost
};

// REQUIRES: set_interval_days > 0 when set_bytes > 0.
SteadyState ComputeSteadyState(uint64_t set_bytes, double set_interval_days, int min_storage_days,
                               uint64_t size_limit, const PriceTable& prices);

// From the catalog: the largest of the last three complete sets (plus bundle overhead
// and `per_archive_overhead`) and the mean interval between the last eight sets' starts
// (before two sets exist: max_incrementals + 1 days).
SteadyState EstimateSteadyState(Catalog& catalog, const Config& cfg, int min_storage_days,
                                uint64_t per_archive_overhead, const PriceTable& prices);

// One short paragraph for status and sync --dry-run; empty unless the cap is too small.
std::string DescribeSteadyState(const SteadyState& s, const std::string& backlog);

// The cache size at which sync fails for want of uploads: [backup] cache_limit, or
// kDefaultCacheLimitSets (+ keep_local_sets) sets' worth; 0 = no limit known yet.
uint64_t EffectiveCacheLimit(const Config& cfg, const SteadyState& s);

// What the cache holds against its limit, as a backup sees it (no vault at hand, so
// the set size is estimated without the vault's per-archive overhead).
struct CacheUse {
  uint64_t bytes = 0;
  uint64_t limit = 0;  // 0 = none known yet
  bool AtLimit() const { return limit != 0 && bytes >= limit; }
};
CacheUse MeasureCache(Workspace& ws);

// backlog = "newest" paces uploads when the cap is too small: the next set goes up no
// sooner than upload_interval_days after the last one (a quarter day early is fine:
// runs drift), so every upload finds room and the newest copy's age stays bounded.
bool UploadMustWait(const SteadyState& s, std::optional<int64_t> last_upload, int64_t now);

}  // namespace gb
