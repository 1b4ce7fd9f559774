// glacier-backup backup [--full] [--dry-run]
#include "cli/cli_context.h"
#include "cli/exit_codes.h"
#include "cli/service_run.h"
#include "core/clock.h"
#include "engine/backup.h"
#include "engine/other_host.h"
#include "engine/point.h"
#include "engine/state_lock.h"

namespace gb {
namespace {

void RunBackupCommand(CliContext& ctx, int& exit_code, const BackupOptions& options,
                      ServiceReport& report) {
  const Config& cfg = ctx.config();
  Workspace ws(cfg);
  RefuseOtherHostCatalog(ws, "backup");
  StateLock lock(cfg.state_dir, ctx.opts().lock_wait);
  BackupResult r = RunBackup(ws, ctx.progress(), SystemClock(), options);
  ctx.progress().Done();
  nlohmann::json j = {{"dry_run", r.dry_run},
                      {"kind", r.full ? "full" : "incremental"},
                      {"scanned_files", r.files_scanned},
                      {"scanned_bytes", r.bytes_scanned},
                      {"changed", r.changed},
                      {"changed_bytes", r.changed_bytes},
                      {"deleted", r.deleted},
                      {"skipped", r.skipped},
                      {"ignored", r.ignored},
                      {"lost_archives", r.lost_archives},
                      {"changed_while_read", r.changed_while_read},
                      {"metadata_unreadable", r.incomplete}};
  if (r.dry_run) {
    ctx.Say(std::string("dry run: a ") + (r.full ? "full" : "incremental") +
            " backup would store " + std::to_string(r.changed) + " entries (" +
            HumanBytes(r.changed_bytes) + ") and record " + std::to_string(r.deleted) +
            " deletions; " + std::to_string(r.files_scanned) + " entries scanned");
  } else {
    const BackupRecord& b = r.record;
    report.backup_id = BackupId(b);
    j["id"] = BackupId(b);
    j["set"] = b.set_id;
    j["archive"] = ws.ArchivePath(b.name);
    j["archive_size"] = b.archive_size;
    j["files"] = b.files;
    j["bytes"] = b.bytes;
    j["set_completed"] = r.set_completed;
    ctx.Say(std::string(r.full ? "full" : "incremental") + " backup " + BackupId(b) + ": " +
            std::to_string(b.files) + " entries stored (" + HumanBytes(b.bytes) + "), " +
            std::to_string(b.deleted) + " deletions recorded, archive " +
            HumanBytes(b.archive_size) + "; " + std::to_string(r.files_scanned) +
            " entries scanned");
    if (r.previous_set_completed) ctx.Say("the previous set is complete");
    if (r.set_completed) ctx.Say("set " + std::to_string(b.set_id) + " is complete");
  }
  if (r.skipped) {
    ctx.Say(std::to_string(r.skipped) +
            " file(s) could not be backed up (see warnings); they are retried next run");
    exit_code = kExitPartial;
  }
  if (r.changed_while_read) {
    ctx.Say(std::to_string(r.changed_while_read) +
            " file(s) kept changing while being read and were stored as read, marked "
            "\"changed while read\" (see warnings)");
    exit_code = kExitPartial;
  }
  if (r.incomplete) {
    ctx.Say(std::to_string(r.incomplete) +
            " entries were stored without some extended attributes or ACLs (see warnings)");
    exit_code = kExitPartial;
  }
  ctx.Json(j);
}

}  // namespace

void AddBackupCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  auto opts = std::make_shared<BackupOptions>();
  CLI::App* cmd = app.add_subcommand(
      "backup", "Back up the configured sources into one new archive in the cache");
  cmd->add_flag("--full", opts->force_full, "Start a new set with a full backup");
  cmd->add_flag("--dry-run", opts->dry_run, "Only report what would be backed up");
  cmd->callback([&ctx, &exit_code, opts] {
    if (opts->dry_run) {
      ServiceReport ignored;
      RunBackupCommand(ctx, exit_code, *opts, ignored);
    } else {
      RunAsService(ctx, "backup", exit_code,
                   [&](ServiceReport& report) { RunBackupCommand(ctx, exit_code, *opts, report); });
    }
  });
}

}  // namespace gb
