#include "engine/backlog_plan.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>

#include "core/human_size.h"

namespace gb {
namespace {

constexpr int64_t kDay = 86400;
// Tar headers and the catalog copy a bundle adds to its archives: generous.
constexpr uint64_t kBundleMargin = 8 << 10;

}  // namespace

SteadyState ComputeSteadyState(uint64_t set_bytes, double set_interval_days, int min_storage_days,
                               uint64_t size_limit, const PriceTable& prices) {
  SteadyState s;
  s.set_bytes = set_bytes;
  s.set_interval_days = set_interval_days;
  s.min_storage_days = min_storage_days;
  s.size_limit = size_limit;
  if (set_bytes == 0 || set_interval_days <= 0) return s;
  // Set n goes up when set n-j is at least min_storage_days old: j sets stay.
  s.sets_needed =
      std::max(1, static_cast<int>(std::ceil(min_storage_days / set_interval_days - 1e-9)));
  s.cap_for_every_set = static_cast<uint64_t>(s.sets_needed) * set_bytes * 11 / 10;
  s.cap_for_every_set = (s.cap_for_every_set + (1 << 20) - 1) / (1 << 20) * (1 << 20);
  s.cap_for_every_set_usd = StorageCostPerMonth(prices, s.cap_for_every_set);
  if (size_limit == 0) return s;
  uint64_t fit = size_limit / set_bytes;
  s.sets_fit = static_cast<int>(std::min<uint64_t>(fit, INT_MAX));
  s.too_small = s.sets_fit < s.sets_needed;
  if (!s.too_small || s.sets_fit == 0) return s;
  const int cadence = static_cast<int>(std::ceil(set_interval_days - 1e-9));
  s.upload_interval_days =
      std::max(cadence, static_cast<int>(std::ceil(double(min_storage_days) / s.sets_fit - 1e-9)));
  s.max_staleness_days = s.upload_interval_days + cadence;
  return s;
}

SteadyState EstimateSteadyState(Catalog& catalog, const Config& cfg, int min_storage_days,
                                uint64_t per_archive_overhead, const PriceTable& prices) {
  std::vector<SetRecord> sets = catalog.Sets();
  std::sort(sets.begin(), sets.end(),
            [](const SetRecord& a, const SetRecord& b) { return a.id < b.id; });
  uint64_t set_bytes = 0;
  int seen = 0;
  for (auto it = sets.rbegin(); it != sets.rend() && seen < 3; ++it) {
    if (!it->completed || it->backups == 0) continue;
    uint64_t bytes = kBundleMargin + per_archive_overhead;
    for (const BackupRecord& b : catalog.BackupsOfSet(it->id)) bytes += b.archive_size;
    set_bytes = std::max(set_bytes, bytes);
    ++seen;
  }
  double interval = cfg.max_incrementals + 1.0;
  if (sets.size() >= 2) {
    size_t first = sets.size() > 8 ? sets.size() - 8 : 0;
    double span = static_cast<double>(sets.back().created - sets[first].created) / kDay;
    if (span > 0) interval = span / static_cast<double>(sets.size() - 1 - first);
  }
  return ComputeSteadyState(set_bytes, interval, min_storage_days, cfg.size_limit, prices);
}

std::string DescribeSteadyState(const SteadyState& s, const std::string& backlog) {
  if (!s.too_small) return "";
  char every[32];
  std::snprintf(every, sizeof every, "%.1f", s.set_interval_days);
  std::string p = "The vault size cap (" + HumanBytes(s.size_limit) +
                  ") is too small for the backup cadence: a set is about " +
                  HumanBytes(s.set_bytes) + ", a new one starts every " + every +
                  " days and each must stay " + std::to_string(s.min_storage_days) + " days, so ";
  if (s.sets_fit == 0) {
    p += "not even one set fits and nothing can go up.";
  } else {
    p += "the vault holds " + std::to_string(s.sets_fit) +
         " set(s) and can take a new one only every " + std::to_string(s.upload_interval_days) +
         " days; ";
    p += backlog == "all"
             ? "with backlog = \"all\" the waiting sets pile up in the cache without end."
             : "the newest copy in the vault gets up to " + std::to_string(s.max_staleness_days) +
                   " days old and the sets in between are not kept.";
  }
  char usd[32];
  std::snprintf(usd, sizeof usd, "%.2f", s.cap_for_every_set_usd);
  p += " Every set would go up with size_limit = \"" + std::to_string(s.cap_for_every_set >> 20) +
       " MiB\" (about $" + usd + "/month).";
  return p;
}

uint64_t EffectiveCacheLimit(const Config& cfg, const SteadyState& s) {
  if (cfg.cache_limit) return cfg.cache_limit;
  return s.set_bytes * static_cast<uint64_t>(kDefaultCacheLimitSets + cfg.keep_local_sets);
}

CacheUse MeasureCache(Workspace& ws) {
  const Config& cfg = ws.config();
  CacheUse use;
  use.bytes = ws.CachedArchiveBytes();
  use.limit =
      EffectiveCacheLimit(cfg, EstimateSteadyState(ws.catalog(), cfg, 0, 0, PricesFor(cfg)));
  return use;
}

bool UploadMustWait(const SteadyState& s, std::optional<int64_t> last_upload, int64_t now) {
  if (!s.too_small || s.sets_fit == 0 || !last_upload) return false;
  return now - *last_upload < s.upload_interval_days * kDay - kDay / 4;
}

}  // namespace gb
