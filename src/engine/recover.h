// Disaster recovery: rebuilding the local catalog on a new machine.
//
// From the vault (RunRecover), with only the config, the identity and the
// vault credentials: read an inventory, find our archives by their
// descriptions, retrieve the catalog part of EVERY bundle (each bundle's
// catalog copy holds only its own set's rows: one small ranged retrieval per
// bundle), and rebuild the catalog and the inventory cache (vault_archives
// rows with origin "here", sets completed and uploaded). On lagging vaults
// (Glacier) a pass starts what it needs and returns; the jobs table makes the
// next pass continue where this one stopped, never starting a job twice.
//
// From archives alone (RecoverFromArchives): rebuild sets, backups and
// entries from the manifest and checksums inside each archive, checking every
// byte on the way, and copy the archives into cache_dir so restore works.
//
// Neither ever overwrites a catalog row: a catalog that already holds sets is
// refused unless `force`, and then sets it holds are kept as they are.
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

struct RecoverOptions {
  // Whose archives, when several hosts share the vault ("" = the only one).
  std::string host;
  // Retrieval tier; nullopt = the config's retrieval_tier.
  std::optional<Tier> tier;
  // upload = "each": retrieve the archives whole and read their manifests
  // (costly: every byte is retrieved). Without it they are only reported.
  bool include_archives = false;
  bool force = false;  // add to a catalog that already holds sets (kept as they are)
  bool wait = false;   // poll until done instead of returning while jobs run
  // false: plan only. Retrievals not started before are counted (retrievals,
  // retrieval_bytes, unstarted) but not started; what is already retrieved is
  // still read in. The inventory is fetched either way.
  bool start_retrievals = true;
  int64_t poll_seconds = 0;  // 0: every minute for Expedited, every 15 minutes otherwise
};

struct RecoverResult {
  bool complete = false;  // nothing left to wait for
  // The inventory used (Unix seconds); nullopt while it is being prepared.
  std::optional<int64_t> inventory_date;
  bool inventory_pending = false;
  // The inventory read may miss the last uploads (Glacier: one from a job older than
  // this recovery, or dated well before its job) or listed none of ours: what it lists
  // is recovered, a newer inventory was requested (inventory_pending), and a later run
  // adds what that one lists.
  bool inventory_outdated = false;
  std::vector<std::string> hosts;  // hosts whose archives the vault holds
  std::string host;                // the one recovered
  // The plan: what the vault holds of ours and what recovering it costs.
  int bundles = 0;          // whole-set bundles of `host`
  int single_archives = 0;  // upload = "each" archives of `host`
  int retrievals = 0;       // ranged (or whole, --include-archives) retrievals needed
  uint64_t retrieval_bytes = 0;
  Tier tier = Tier::kBulk;
  std::string tier_note;      // why `tier` is not the one asked for; empty when it is
  double retrieval_cost = 0;  // USD, estimate
  double typical_hours = 0;   // until a started retrieval is readable
  int unstarted = 0;          // retrievals the plan needs that were not started (plan only)
  // Progress.
  std::vector<int64_t> sets_recovered;        // this pass
  std::vector<int64_t> sets_waiting;          // catalog part still being retrieved
  std::vector<std::string> archives_waiting;  // --include-archives retrievals in flight
  // upload = "each" backups known by name only (run with --include-archives).
  std::vector<std::string> need_archives;
  std::vector<std::string> restorable;  // backup ids the catalog can restore now
  int passes = 0;
  int problems = 0;      // each reported through Progress
  bool corrupt = false;  // some data failed an integrity check
};

// REQUIRES: the state lock is held; `vault` is the configured vault. Throws
// kInvalidArgument for a non-empty catalog without `force` or an ambiguous
// host, kNotFound when an inventory that covers the last uploads lists nothing of ours, kNoKey when
// the identity cannot read the catalog copies, vault errors as they come.
RecoverResult RunRecover(Workspace& ws, Vault& vault, Progress& progress, Clock& clock,
                         const RecoverOptions& opts);

// Rebuilds the catalog from *.tar.zst.age archives in `dir` (named as backups
// name them). A damaged or tampered archive is reported (problems, corrupt)
// and neither it nor the later backups of its set are recorded. A set is
// complete when a later set exists, when it holds max_incrementals
// incrementals, or when a damaged archive cut it short.
// REQUIRES: the state lock is held.
RecoverResult RecoverFromArchives(Workspace& ws, const std::string& dir, Progress& progress,
                                  Clock& clock, const RecoverOptions& opts);

}  // namespace gb
