// Restores the tree as it was at one backup point, from the set's full backup
// and its incrementals up to that point, checking every file's content hash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engine/progress.h"
#include "engine/workspace.h"

namespace gb {

struct RestoreOptions {
  std::string at;                  // see ResolvePoint; "" = latest
  std::string target_dir;          // created if missing
  std::vector<std::string> paths;  // only these (and what lies below); empty = everything
  bool overwrite = false;          // replace existing files instead of skipping them
  bool xattrs = true;              // restore extended attributes
  bool numeric_owner = false;      // owners by the recorded uid/gid, not by name
  // Where else archives may be found (after the cache): the staging area of a
  // restore from the vault.
  std::vector<std::string> archive_dirs;
};

// The archives a restore of `opts.at` (and opts.paths) reads, oldest first:
// the set's full and the incrementals up to the point that hold wanted data.
// Throws kNotFound when the point holds nothing matching the paths.
std::vector<BackupRecord> NeededArchives(Catalog& catalog, const RestoreOptions& opts);

struct RestoreResult {
  BackupRecord point;
  std::string target_dir;
  uint64_t files = 0, bytes = 0, dirs = 0, symlinks = 0, hardlinks = 0;
  uint64_t existing = 0;  // left alone because they exist (no --overwrite)
  uint64_t failed = 0;    // could not be restored (reported through Progress)
  uint64_t specials = 0;  // FIFOs and device nodes
  // Restored, but without some of their metadata (xattrs, ACLs, owner): reported.
  uint64_t metadata_not_restored = 0;
  // An archive disagreed with the catalog (unsafe member names, data that fails
  // its hash, data missing): damaged or forged. Its files are among `failed`.
  bool corrupt = false;
  std::vector<std::string> archives_read;
};

// Per-file problems are reported through Progress and counted in `failed` /
// `existing`; a file whose data fails its hash check is removed again.
// Throws when an archive cannot be opened or decrypted at all.
RestoreResult RunRestore(Workspace& ws, Progress& progress, const RestoreOptions& opts);

}  // namespace gb
