// glacier-backup sync [--dry-run] | run [--full]
#include <cstdio>

#include "cli/cli_context.h"
#include "cli/exit_codes.h"
#include "cli/service_run.h"
#include "core/clock.h"
#include "engine/backlog_plan.h"
#include "engine/backup.h"
#include "engine/lost_archives.h"
#include "engine/open_vault.h"
#include "engine/other_host.h"
#include "engine/point.h"
#include "engine/state_lock.h"
#include "engine/sync.h"

namespace gb {
namespace {

std::string Money(double usd) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "$%.4f", usd);
  return buf;
}

nlohmann::json ReportSync(CliContext& ctx, const SyncResult& r) {
  std::string verb = r.dry_run ? "would upload" : "uploaded";
  if (r.uploaded.empty())
    ctx.Say(r.dry_run ? "sync: nothing would be uploaded" : "sync: nothing to upload");
  for (const auto& u : r.uploaded) ctx.Say(verb + " " + u);
  for (auto s : r.pruned_sets)
    ctx.Say(std::string(r.dry_run ? "would delete" : "deleted") + " set " + std::to_string(s) +
            " from the vault to stay under the size cap");
  if (!r.superseded_sets.empty()) {
    std::string ids;
    for (auto s : r.superseded_sets) ids += (ids.empty() ? "" : ", ") + std::to_string(s);
    ctx.Say(std::string(r.dry_run ? "would drop" : "dropped") + " superseded set(s) " + ids +
            ": a newer set is in the vault");
  }
  if (!r.backlog_line.empty()) ctx.Say(r.backlog_line);
  if (r.dry_run && !r.steady_state.empty()) ctx.Say(r.steady_state);
  if (r.inventory_requested)
    ctx.Say(r.dry_run ? "would request a vault inventory" : "requested a vault inventory");
  std::string usage =
      "vault: " + HumanBytes(r.vault_bytes) +
      (r.size_limit ? " of " + HumanBytes(r.size_limit) : std::string(" (no cap)")) + ", about " +
      Money(r.monthly_storage_cost) + "/month";
  if (r.upload_cost > 0 || r.early_deletion_cost > 0)
    usage += "; this run: " + Money(r.upload_cost) + " in requests, " +
             Money(r.early_deletion_cost) + " early-deletion fees";
  ctx.Say(usage);
  for (const std::string& line : r.unuploadable) ctx.Say("not uploaded: " + line);
  return {{"dry_run", r.dry_run},
          {"unuploadable_sets", r.unuploadable_sets},
          {"uploaded", r.uploaded},
          {"uploaded_bytes", r.uploaded_bytes},
          {"pruned_sets", r.pruned_sets},
          {"pruned_bytes", r.pruned_bytes},
          {"vault_bytes", r.vault_bytes},
          {"size_limit", r.size_limit},
          {"jobs_checked", r.jobs_checked},
          {"inventories_reconciled", r.inventories_reconciled},
          {"inventory_requested", r.inventory_requested},
          {"upload_cost_usd", r.upload_cost},
          {"early_deletion_cost_usd", r.early_deletion_cost},
          {"monthly_storage_cost_usd", r.monthly_storage_cost},
          {"warnings", r.warnings},
          {"superseded_sets", r.superseded_sets},
          {"backlog", r.backlog_line},
          {"cache_bytes", r.cache_bytes},
          {"cache_limit", r.cache_limit},
          {"newest_vault_backup", r.newest_vault_backup
                                      ? nlohmann::json(FormatIsoUtc(*r.newest_vault_backup))
                                      : nlohmann::json(nullptr)}};
}

// What sync needs of the rest of the fleet when [fleet] size_limit is set and the
// backend can enforce it (s3://): a listing of every host and the fleet lease.
struct Fleet {
  std::unique_ptr<Vault> listing;
  std::unique_ptr<FleetLease> lease;
  FleetAccess access() const { return {listing.get(), lease.get()}; }
};
Fleet OpenFleet(CliContext& ctx, bool dry_run) {
  const Config& cfg = ctx.config();
  Fleet f;
  if (cfg.fleet_size_limit == 0) return f;
  f.lease = OpenConfiguredFleetLease(cfg, SystemClock());
  if (f.lease)
    f.listing =
        OpenConfiguredVault(cfg, ctx.progress(), SystemClock(), dry_run, VaultScope::kFleet);
  return f;
}

// RunSync, with what a run that hit the size cap did do reported before its error
// (kept for main to print with it under --json).
SyncResult SyncAndReport(CliContext& ctx, Workspace& ws, Vault& vault, SyncOptions opts,
                         nlohmann::json& j) {
  Fleet fleet = OpenFleet(ctx, opts.dry_run);
  opts.fleet = fleet.access();
  try {
    SyncResult r = RunSync(ws, vault, ctx.progress(), SystemClock(), opts);
    ctx.progress().Done();
    j.update(ReportSync(ctx, r));
    return r;
  } catch (const SyncNoSpaceError& e) {
    ctx.progress().Done();
    j.update(ReportSync(ctx, e.result()));
    ctx.KeepResultOnError(j);
    throw;
  }
}

void RunSyncCommand(CliContext& ctx, int& exit_code, const SyncOptions& options,
                    const std::vector<int64_t>& drop) {
  const Config& cfg = ctx.config();
  Workspace ws(cfg);
  RefuseOtherHostCatalog(ws, "sync");
  StateLock lock(cfg.state_dir, ctx.opts().lock_wait);
  for (int64_t set_id : drop) {
    int forgotten = DropSet(ws, set_id, SystemClock().NowSeconds());
    ctx.Say("dropped set " + std::to_string(set_id) + ": its " + std::to_string(forgotten) +
            " backup(s) are forgotten and removed from the cache");
  }
  auto vault = OpenConfiguredVault(cfg, ctx.progress(), SystemClock(), options.dry_run);
  nlohmann::json j = {{"dropped_sets", drop}};
  SyncResult r = SyncAndReport(ctx, ws, *vault, options, j);
  ctx.Json(j);
  if (!r.unuploadable.empty()) exit_code = kExitNotFound;
}

// `run`: backup, then sync. When the cache is full the sync comes first instead
// (the backup needs the room), and again after the backup only when the backup
// gave it something new to upload.
void RunBackupThenSync(CliContext& ctx, int& exit_code, bool full, ServiceReport& report) {
  const Config& cfg = ctx.config();
  Workspace ws(cfg);
  RefuseOtherHostCatalog(ws, "run");
  StateLock lock(cfg.state_dir, ctx.opts().lock_wait);
  std::unique_ptr<Vault> vault;
  std::optional<SyncResult> synced_first;
  nlohmann::json first;
  if (MeasureCache(ws).AtLimit()) {
    // Sets are waiting and the cache is full: upload what can go first, so that the
    // backup finds room (it refuses to write past cache_limit).
    ctx.Say("the cache is at [backup] cache_limit: syncing before the backup");
    vault = OpenConfiguredVault(cfg, ctx.progress(), SystemClock());
    synced_first = SyncAndReport(ctx, ws, *vault, SyncOptions{}, first);
  }
  BackupOptions bo;
  bo.force_full = full;
  BackupResult b = RunBackup(ws, ctx.progress(), SystemClock(), bo);
  report.backup_id = BackupId(b.record);
  ctx.progress().Done();
  ctx.Say(std::string(b.full ? "full" : "incremental") + " backup " + BackupId(b.record) + ": " +
          std::to_string(b.record.files) + " entries stored (" + HumanBytes(b.record.bytes) + ")");
  if (b.skipped || b.changed_while_read || b.incomplete) exit_code = kExitPartial;
  nlohmann::json j;
  j["backup"] = {{"id", BackupId(b.record)}, {"kind", b.full ? "full" : "incremental"},
                 {"files", b.record.files},  {"bytes", b.record.bytes},
                 {"skipped", b.skipped},     {"lost_archives", b.lost_archives}};
  ctx.KeepResultOnError(j);  // the backup is done whatever the vault says
  // The sync before the backup did this run's jobs, inventory, size cap and
  // uploads; what the backup adds goes up now only if it is ready to: a set it
  // completed, or its archive itself with upload = "each". Otherwise it waits
  // for the next run, as an open set always does.
  const bool new_to_upload = b.set_completed || b.previous_set_completed || cfg.upload == "each";
  SyncResult s;
  if (synced_first && !new_to_upload) {
    s = *synced_first;
    j.update(first);
  } else {
    if (!vault) vault = OpenConfiguredVault(cfg, ctx.progress(), SystemClock());
    s = SyncAndReport(ctx, ws, *vault, SyncOptions{}, j);
  }
  ctx.Json(j);
  if (!s.unuploadable.empty()) exit_code = kExitNotFound;
}

}  // namespace

void AddSyncCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  auto opts = std::make_shared<SyncOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sync",
      "Poll vault jobs, reconcile the inventory, keep under the size cap, upload "
      "complete sets");
  AddAllowUnsignedFlag(*cmd, ctx);
  cmd->add_flag("--dry-run", opts->dry_run,
                "Show what would be uploaded and deleted, and the cost");
  auto drop = std::make_shared<std::vector<int64_t>>();
  cmd->add_option("--drop-set", *drop,
                  "First discard set N, which lost an archive from the cache and can never be "
                  "uploaded: its backups are forgotten (repeatable)")
      ->excludes("--dry-run");
  cmd->callback([&ctx, &exit_code, opts, drop] {
    if (opts->dry_run) {
      RunSyncCommand(ctx, exit_code, *opts, *drop);
    } else {
      RunAsService(ctx, "sync", exit_code,
                   [&](ServiceReport&) { RunSyncCommand(ctx, exit_code, *opts, *drop); });
    }
  });
}

void AddRunCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  auto full = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("run", "backup, then sync: the one line for cron");
  cmd->add_flag("--full", *full, "Start a new set with a full backup");
  AddAllowUnsignedFlag(*cmd, ctx);
  cmd->callback([&ctx, &exit_code, full] {
    RunAsService(ctx, "run", exit_code,
                 [&](ServiceReport& report) { RunBackupThenSync(ctx, exit_code, *full, report); });
  });
}

}  // namespace gb
