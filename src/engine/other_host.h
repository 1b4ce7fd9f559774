// Another host's catalog on this machine, for restoring across hosts that share a vault.
//
// `recover --host A`, for a host A other than this one ([backup] host), rebuilds A's
// catalog in STATE/hosts/A/: its own catalog.db, lock, staging and cache/, so this
// host's catalog, cache and schedule are never touched. `restore`, `snapshots` and
// `ls --host A` read it. The catalog is marked as A's: backup, sync and run refuse it,
// so nothing run for it ever uploads, prunes or deletes an archive of A's.
#pragma once

#include <optional>
#include <string>

#include "engine/config.h"
#include "engine/workspace.h"

namespace gb {

// Throws kInvalidArgument naming --host unless IsSafeHostName(host).
void CheckHostOption(const std::string& host);

// True when `host` is set and is not this host's own name.
bool IsOtherHost(const Config& own, const std::string& host);

// The config that opens `host`'s catalog: `own` with host = `host`, state_dir =
// STATE/hosts/HOST and cache_dir = STATE/hosts/HOST/cache.
// REQUIRES: IsSafeHostName(host).
Config OtherHostConfig(const Config& own, const std::string& host);

// Throws kNotFound, saying which recover to run, when `other` (from OtherHostConfig)
// names a catalog that was never recovered on this machine.
void RequireRecoveredHost(const Config& other);

// Marks the catalog as `host`'s, recovered here to restore from.
// REQUIRES: the state lock of `ws` is held.
void MarkOtherHostCatalog(Workspace& ws, const std::string& host);

// The host whose catalog this is when it was recovered for another host; nullopt for a
// host's own catalog.
std::optional<std::string> OtherHostOf(Workspace& ws);

// Throws kInvalidArgument when the catalog is another host's: `command` (backup,
// sync, run) would write to it or upload for it.
void RefuseOtherHostCatalog(Workspace& ws, const std::string& command);

}  // namespace gb
