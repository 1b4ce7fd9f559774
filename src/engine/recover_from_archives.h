// Recovery from archive files (see recover.h): importing archives into the
// catalog, as RecoverFromArchives does for a directory of them and recovery
// from the vault does for the archives it retrieved (--include-archives).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engine/archive_name.h"
#include "engine/progress.h"
#include "engine/recover.h"
#include "engine/workspace.h"

namespace gb {

// meta: a recovery started this catalog (how and when).
inline constexpr const char* kRecoverMarker = "recover";

// A catalog that already holds sets is only added to when asked (--force) or
// when an earlier recover started it (a run that continues). Throws
// kInvalidArgument otherwise; marks the catalog as recovered by `how`.
void ClaimCatalog(Workspace& ws, const RecoverOptions& opts, const std::string& how, int64_t now);

// The ids of every backup in the catalog.
std::vector<std::string> AllBackupIds(Catalog& c);

struct ArchiveFile {
  std::string path;  // where it is now
  std::string name;  // its archive file name
  ArchiveName an;
};

// Imports every usable archive of `files` (each read through and checked, and
// copied into the cache), set by set; a set already in the catalog is kept as
// it is. Problems are reported through `progress` and counted in `result`
// (problems, corrupt); imported backups are added to result.restorable.
// Returns the sets added. Throws kNoKey when the identity cannot read them.
std::vector<int64_t> ImportArchiveFiles(Workspace& ws, const std::vector<ArchiveFile>& files,
                                        Progress& progress, RecoverResult& result);

}  // namespace gb
