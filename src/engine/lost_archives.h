// Sets that lost an archive: one of their archives is neither in the cache nor
// in the vault (the cache was deleted or damaged before the set went up). Such
// a set can never be uploaded whole. A backup starts a new set instead of
// adding to it, sync uploads the other sets and names it, and the user may
// discard it (`sync --drop-set N`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engine/workspace.h"

namespace gb {

// Names of the set's archives that are neither in the cache nor uploaded on
// their own (upload = "each"); empty for a set already in the vault or pruned.
std::vector<std::string> LostArchives(Workspace& ws, const SetRecord& set);

// Discards a set that lost an archive: removes what is left of it from the
// cache and forgets its backups (the set row stays as history, like a pruned
// set), in one transaction. Returns how many backups were forgotten.
// Throws kNotFound for an unknown or already discarded set, kInvalidArgument
// for a set that is in the vault or has lost nothing (the next sync uploads it).
// REQUIRES: the state lock is held.
int DropSet(Workspace& ws, int64_t set_id, int64_t now);

// The one-line advice for a set that lost archives (names the command to run).
std::string LostArchivesAdvice(int64_t set_id, const std::vector<std::string>& lost);

}  // namespace gb
