// Makes one backup: walks the sources, compares them with the catalog and
// writes ONE archive (full or incremental) into cache_dir.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/clock.h"
#include "engine/progress.h"
#include "engine/workspace.h"

namespace gb {

struct BackupOptions {
  bool force_full = false;
  bool dry_run = false;  // walk and compare only; write nothing
};

struct BackupResult {
  BackupRecord record;  // the committed backup (name/size empty on a dry run)
  bool full = false;
  bool set_completed = false;           // this backup completed its set
  bool previous_set_completed = false;  // --full (or a lost archive) closed the previous set
  uint64_t files_scanned = 0;           // entries walked
  uint64_t bytes_scanned = 0;           // file bytes walked
  uint64_t changed = 0;                 // entries to store (new or changed)
  uint64_t changed_bytes = 0;
  uint64_t deleted = 0;
  uint64_t skipped = 0;             // not backed up: unreadable or changing; retried next run
  uint64_t ignored = 0;             // sockets
  uint64_t changed_while_read = 0;  // stored as read while they kept changing (marked)
  uint64_t incomplete = 0;          // xattrs or ACLs that could not be read (reported)
  bool dry_run = false;
  // Archives the open set had lost (see lost_archives.h): this backup is a full
  // that starts a new set, and set `lost_set` cannot be uploaded.
  std::vector<std::string> lost_archives;
  int64_t lost_set = 0;
};

// REQUIRES: the state lock is held. Throws on failure, leaving the catalog and
// cache as they were before (at most an orphan archive that the next run removes).
BackupResult RunBackup(Workspace& ws, Progress& progress, Clock& clock, const BackupOptions& opts);

}  // namespace gb
