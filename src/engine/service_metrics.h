// [monitoring] textfile: the state of backups as Prometheus metrics, for
// node_exporter's textfile collector. Rewritten (atomically, mode 0644) after
// every backup, run and sync; the last outcome of each command is kept in
// state_dir/monitoring.json so one command's file still shows the others'.
//
// Metrics (gauges; "command" is backup, run or sync):
//   glacier_backup_last_attempt_timestamp_seconds{command}
//   glacier_backup_last_success_timestamp_seconds{command}   (once it succeeded)
//   glacier_backup_last_duration_seconds{command}
//   glacier_backup_last_exit_code{command}
//   glacier_backup_last_backup_timestamp_seconds, _files, _stored_bytes, _archive_bytes
//   glacier_backup_vault_bytes, glacier_backup_vault_size_limit_bytes (0 = no cap)
//   glacier_backup_sets{state="open|complete|uploading|in_vault|broken"}
//   glacier_backup_pending_jobs
//   glacier_backup_oldest_unuploaded_set_age_seconds (0 when every set is in the vault)
//   glacier_backup_estimated_monthly_cost_dollars
#pragma once

#include <cstdint>
#include <string>

#include "core/clock.h"
#include "engine/config.h"
#include "engine/progress.h"

namespace gb {

struct CommandOutcome {
  std::string command;  // "backup", "run", "sync"
  int64_t started_ns = 0, finished_ns = 0;
  int exit_code = 0;
};

// Records `outcome` and writes cfg.textfile (which must be set). The catalog
// part is left out, with a comment line saying why, when the catalog cannot be
// read. Throws kIOError when the file cannot be written.
void WriteMonitoringTextfile(const Config& cfg, const CommandOutcome& outcome, Progress& progress,
                             Clock& clock);

}  // namespace gb
