// What cold storage costs: a price table per storage class, shipped with the
// public us-east-1 list prices (USD) and the date they were taken. Estimates
// only; AWS bills what it bills.
#pragma once

#include <cstdint>
#include <string>

#include "engine/config.h"
#include "vault/vault.h"

namespace gb {

inline constexpr const char* kPricesRegion = "us-east-1";
inline constexpr const char* kPricesTaken = "2025-06-01";

struct PriceTable {
  std::string storage_class;                 // "GLACIER_VAULT", "DEEP_ARCHIVE", ... "LOCAL"
  double storage_gb_month = 0;               // per GB-month stored (incl. per-archive overhead)
  double put_per_1000 = 0;                   // upload / PUT requests
  double retrieval_gb[3] = {0, 0, 0};        // by Tier: Expedited, Standard, Bulk
  double retrieval_per_1000[3] = {0, 0, 0};  // requests, by Tier
  bool tier_available[3] = {true, true, true};
  int min_storage_days = 0;
  double typical_hours[3] = {0, 0, 0};  // typical wait until the data is readable
  std::string source;                   // where the prices come from, for people
};

// The built-in table for a vault URL and storage class ("" for glacier:// and file://).
PriceTable PricesFor(const std::string& vault_url, const std::string& storage_class);
// The table for the configured vault, with the config's [prices] applied.
PriceTable PricesFor(const Config& config);

inline double GiB(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024 * 1024); }
double StorageCostPerMonth(const PriceTable& p, uint64_t bytes);
double RetrievalCost(const PriceTable& p, Tier tier, uint64_t bytes, uint64_t requests);
// The pro-rata charge for deleting `bytes` stored for `stored_days` before the minimum.
double EarlyDeletionCost(const PriceTable& p, uint64_t bytes, double stored_days);

}  // namespace gb
