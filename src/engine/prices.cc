#include "engine/prices.h"

#include <algorithm>

namespace gb {

PriceTable PricesFor(const std::string& url, const std::string& storage_class) {
  PriceTable p;
  p.source = std::string(kPricesRegion) + " list prices of " + kPricesTaken;
  auto tiers = [&](double e, double s, double b, double re, double rs, double rb) {
    p.retrieval_gb[0] = e, p.retrieval_gb[1] = s, p.retrieval_gb[2] = b;
    p.retrieval_per_1000[0] = re, p.retrieval_per_1000[1] = rs, p.retrieval_per_1000[2] = rb;
  };
  auto hours = [&](double e, double s, double b) {
    p.typical_hours[0] = e, p.typical_hours[1] = s, p.typical_hours[2] = b;
  };
  if (url.rfind("glacier://", 0) == 0) {
    p.storage_class = "GLACIER_VAULT";
    p.storage_gb_month = 0.0036;
    p.put_per_1000 = 0.03;
    tiers(0.03, 0.01, 0.0025, 10.0, 0.05, 0.025);
    hours(0.08, 4, 8);
    p.min_storage_days = 90;
  } else if (url.rfind("s3://", 0) == 0) {
    std::string c = storage_class.empty() ? "DEEP_ARCHIVE" : storage_class;
    p.storage_class = c;
    if (c == "DEEP_ARCHIVE") {
      p.storage_gb_month = 0.00099;
      p.put_per_1000 = 0.05;
      tiers(0, 0.02, 0.0025, 0, 0.10, 0.025);
      p.tier_available[0] = false;
      hours(0, 12, 48);
      p.min_storage_days = 180;
    } else if (c == "GLACIER") {
      p.storage_gb_month = 0.0036;
      p.put_per_1000 = 0.03;
      tiers(0.03, 0.01, 0, 10.0, 0.05, 0);
      hours(0.08, 4, 8);
      p.min_storage_days = 90;
    } else if (c == "GLACIER_IR") {
      p.storage_gb_month = 0.004;
      p.put_per_1000 = 0.02;
      tiers(0.03, 0.03, 0.03, 0, 0, 0);
      p.min_storage_days = 90;
    } else if (c == "STANDARD_IA") {
      p.storage_gb_month = 0.0125;
      p.put_per_1000 = 0.01;
      tiers(0.01, 0.01, 0.01, 0, 0, 0);
      p.min_storage_days = 30;
    } else {  // STANDARD
      p.storage_gb_month = 0.023;
      p.put_per_1000 = 0.005;
    }
  } else {
    p.storage_class = "LOCAL";
  }
  return p;
}

PriceTable PricesFor(const Config& config) {
  PriceTable p = PricesFor(config.vault_url, config.storage_class);
  const Config::PriceOverrides& o = config.prices;
  bool any = o.storage_gb_month || o.put_per_1000;
  if (o.storage_gb_month) p.storage_gb_month = *o.storage_gb_month;
  if (o.put_per_1000) p.put_per_1000 = *o.put_per_1000;
  for (int t = 0; t < 3; ++t) {
    any = any || o.retrieval_gb[t] || o.retrieval_per_1000[t];
    if (o.retrieval_gb[t]) p.retrieval_gb[t] = *o.retrieval_gb[t];
    if (o.retrieval_per_1000[t]) p.retrieval_per_1000[t] = *o.retrieval_per_1000[t];
  }
  if (any || !o.taken.empty())
    p.source = o.taken.empty() ? "prices from the config's [prices]" : "prices: " + o.taken;
  return p;
}

double StorageCostPerMonth(const PriceTable& p, uint64_t bytes) {
  return GiB(bytes) * p.storage_gb_month;
}

double RetrievalCost(const PriceTable& p, Tier tier, uint64_t bytes, uint64_t requests) {
  int t = static_cast<int>(tier);
  return GiB(bytes) * p.retrieval_gb[t] +
         static_cast<double>(requests) / 1000.0 * p.retrieval_per_1000[t];
}

double EarlyDeletionCost(const PriceTable& p, uint64_t bytes, double stored_days) {
  double left = std::max(0.0, p.min_storage_days - stored_days);
  return StorageCostPerMonth(p, bytes) * left / 30.0;
}

}  // namespace gb
