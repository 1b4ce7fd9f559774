// Naming a backup point on the command line: "latest" (default), a backup id
// (20261127T030700Z-s0004-i03, or an unambiguous prefix of one), or a time
// ("2026-11-27", "2026-11-27T03:07:00Z", "@1795748820"): the newest backup at
// or before it; a bare date means the end of that day (UTC).
#pragma once

#include <string>

#include "catalog/catalog.h"

namespace gb {

// What to do about a catalog without backups: a first backup, or on a machine
// that replaces one, rebuilding the catalog from the vault.
inline constexpr const char* kNoBackupsYet =
    "the catalog has no backups yet: run `glacier-backup backup`; on a new machine that "
    "replaces one backing up to the vault, rebuild the catalog with `glacier-backup recover`";

// Throws kNotFound (with what exists) when nothing matches, kInvalidArgument
// when `when` is neither an id nor a time.
BackupRecord ResolvePoint(Catalog& catalog, const std::string& when);

// Backup id (archive name without suffix).
std::string BackupId(const BackupRecord& b);

// "/home/u/x/" -> "home/u/x"; throws kInvalidArgument for ".." and the like.
std::string NormaliseFilterPath(const std::string& path);

}  // namespace gb
