// verify --vault: reconciles the catalog with the vault's inventory without
// retrieving anything. Every archive the catalog thinks is stored (origin
// "here", not deleted) must be listed with the recorded size and tree hash:
// in a fresh listing where the backend lists at once, else in the last
// inventory fetched (archives uploaded after it are "not yet in an
// inventory", not errors). With `sample` it also retrieves that many random
// archives (cheapest tier) and checks them fully: the tree hash of the bytes,
// each contained archive's SHA-256 against the catalog, and that each
// decrypts and decompresses with its files matching their checksums. On
// lagging vaults the retrievals are started and a later run finishes them
// (the same archives: the jobs table remembers the sample).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "engine/progress.h"
#include "engine/workspace.h"
#include "vault/vault.h"

namespace gb {

struct VaultVerifyOptions {
  int sample = 0;            // archives to retrieve and check fully
  std::optional<Tier> tier;  // nullopt: Bulk where available, else Standard
  uint64_t seed = 0;         // for the random choice; 0 = random
};

struct VaultVerifyResult {
  bool fresh_listing = false;  // a listing taken now (else the last inventory)
  bool from_cache = false;     // the last inventory's output was gone: presence only
  std::optional<int64_t> inventory_date;
  uint64_t archives = 0;        // archives the catalog thinks are stored
  uint64_t listed = 0;          // listed as recorded
  uint64_t not_yet_listed = 0;  // uploaded after the inventory
  uint64_t missing = 0;         // not listed (or an uploaded set without an archive)
  uint64_t mismatched = 0;      // listed with another size or tree hash
  // --sample
  Tier tier = Tier::kBulk;
  std::vector<std::string> sampled;         // archive ids retrieved and found good
  std::vector<std::string> sample_waiting;  // retrievals still running
  uint64_t sample_bytes = 0;
  double sample_cost = 0;  // USD, estimate
  uint64_t problems = 0;   // each reported through Progress
  bool corrupt = false;    // a mismatch or a sample failed a check
  bool complete() const { return sample_waiting.empty(); }
};

// REQUIRES: the state lock is held; `vault` is the configured vault.
VaultVerifyResult RunVaultVerify(Workspace& ws, Vault& vault, Progress& progress, Clock& clock,
                                 const VaultVerifyOptions& opts);

}  // namespace gb
