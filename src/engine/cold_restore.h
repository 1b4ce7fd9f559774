// Restore from cold storage. Plans first (which archives the point needs,
// which are cached, which must be retrieved, how many bytes, the tier, the
// expected wait and the cost), then advances: starts retrievals (once each,
// recorded in the catalog), downloads finished ones resumably into the
// staging area, extracts and checks each needed archive against the SHA-256
// the catalog recorded. Any number of runs, hours or days apart, continue
// where the last one stopped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "engine/progress.h"
#include "engine/restore.h"
#include "engine/retrieval.h"
#include "engine/workspace.h"
#include "vault/vault.h"

namespace gb {

struct ColdRestorePlan {
  BackupRecord point;
  std::vector<BackupRecord> needed;    // oldest first
  std::vector<std::string> available;  // needed archives already cached or staged
  struct Piece {
    RetrievalRequest request;
    std::vector<std::pair<BackupRecord, uint64_t>>
        archives;                  // and their offset in the vault archive
    std::string state;             // "to start", "in progress", "downloaded"
    bool bundle = false;           // the vault archive is a bundle, not a single archive
    bool signed_archives = false;  // a signature follows each archive in it
  };
  std::vector<Piece> retrievals;
  // The tier asked for; when every retrieval was already started by an earlier
  // run, the tier they run at (each Piece's request.tier tells its own).
  Tier tier = Tier::kBulk;
  uint64_t retrieve_bytes = 0;
  double cost_usd = 0;
  double typical_hours = 0;
  std::string storage_class;
  bool complete() const { return retrievals.empty(); }
};

// REQUIRES: the vault is the configured one. Throws kNotFound when a needed
// archive is neither cached nor known to be in the vault.
ColdRestorePlan PlanColdRestore(Workspace& ws, Vault& vault, const RestoreOptions& opts, Tier tier);

// Moves every retrieval forward once. Returns true when every needed archive
// is available (cached or staged and checked).
bool AdvanceColdRestore(Workspace& ws, Vault& vault, ColdRestorePlan& plan, Progress& progress,
                        Clock& clock);

// Removes staged archives and partial downloads of a finished restore.
void CleanStaging(Workspace& ws, const ColdRestorePlan& plan);

}  // namespace gb
