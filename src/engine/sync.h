// glacier-backup sync: the unattended cloud half. In order:
//   1. jobs: poll our pending vault jobs; read finished inventories;
//   2. inventory: reconcile the local inventory cache with the vault's listing
//      (at once where listing is immediate; by an inventory job about weekly
//      on Glacier, knowing that inventory lags);
//   3. space: keep the vault under size_limit by deleting whole sets, oldest
//      first, only past their minimum storage duration, never the newest;
//   4. upload: each complete set as one bundle (or each archive as it
//      appears), recorded before and after, then free the local cache.
//      With [vault] backlog = "newest" (bundles only) the newest complete set
//      goes up, paced by the cap's steady state (engine/backlog_plan.h), and
//      older waiting sets are superseded once it is recorded in the vault.
//      With [fleet] size_limit, uploads also keep the fleet's total under it:
//      first the fleet lease is taken and the other hosts' total read
//      (engine/fleet_cap.h); only this host's own sets are ever pruned.
// Every step is recorded in the catalog before and after it happens, so a run
// killed anywhere is completed by the next, without duplicates left unnoticed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "engine/fleet_cap.h"
#include "engine/progress.h"
#include "engine/workspace.h"
#include "vault/vault.h"

namespace gb {

struct SyncOptions {
  bool dry_run = false;  // plan and report; change nothing, here or in the vault
  // The rest of the fleet, for [fleet] size_limit (engine/fleet_cap.h). Empty:
  // the fleet's total is what this host's inventory knows.
  FleetAccess fleet;
};

struct SyncResult {
  bool dry_run = false;
  int jobs_checked = 0;
  int inventories_reconciled = 0;
  bool inventory_requested = false;
  std::vector<std::string> uploaded;  // "set 4" / backup ids
  uint64_t uploaded_bytes = 0;
  std::vector<int64_t> pruned_sets;
  uint64_t pruned_bytes = 0;
  uint64_t vault_bytes = 0;  // billed size after the run (archives + overhead)
  uint64_t size_limit = 0;
  double upload_cost = 0, early_deletion_cost = 0, monthly_storage_cost = 0;
  int warnings = 0;  // each reported through Progress
  // Complete sets that lost an archive and cannot be uploaded (see
  // lost_archives.h), with the advice reported for each; the other sets went up.
  std::vector<int64_t> unuploadable_sets;
  std::vector<std::string> unuploadable;
  // backlog = "newest": waiting sets dropped because a newer set is safely in the vault.
  std::vector<int64_t> superseded_sets;
  std::string backlog_line;  // one line when complete sets wait for room; else empty
  std::string steady_state;  // a paragraph when the cap is too small for the cadence
  std::optional<int64_t> newest_vault_backup;  // time of the newest backup in the vault
  uint64_t cache_bytes = 0;                    // archives in the local cache after the run
  uint64_t cache_limit = 0;                    // the limit applied; 0 = none known yet
};

// The kNoSpace error RunSync throws: it carries what the run did do (uploads, prunes,
// the vault's size after it), so the caller can report that as well.
class SyncNoSpaceError : public Error {
 public:
  SyncNoSpaceError(const std::string& message, SyncResult result)
      : Error(Code::kNoSpace, message), result_(std::move(result)) {}
  const SyncResult& result() const { return result_; }

 private:
  SyncResult result_;
};

// REQUIRES: the state lock is held. Throws kLocked (FleetLeaseBusyError) when another host
// kept the fleet lease for the whole wait; kNoSpace (SyncNoSpaceError) when the cap cannot be
// honoured: backlog = "all": some complete set could not go up; backlog = "newest": nothing went up
// and the newest vault backup is older than max_staleness_days (or there is none); either: nothing
// went up and the local cache reached its limit. Vault errors as they come.
SyncResult RunSync(Workspace& ws, Vault& vault, Progress& progress, Clock& clock,
                   const SyncOptions& opts);

// The billed size of what the vault holds, as the local inventory cache knows it.
uint64_t VaultBilledBytes(Workspace& ws, uint64_t per_archive_overhead);

}  // namespace gb
