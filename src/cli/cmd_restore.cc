// glacier-backup restore [--host NAME] [--at WHEN] [--to DIR] [--overwrite] [PATH...]
//                        [--tier T] [--wait] [--yes] [--list-jobs]
#include <cstdio>

#include "catalog/vault_state.h"
#include "cli/cli_context.h"
#include "cli/exit_codes.h"
#include "cli/host_option.h"
#include "core/clock.h"
#include "core/file.h"
#include "engine/cold_restore.h"
#include "engine/open_vault.h"
#include "engine/point.h"
#include "engine/prices.h"
#include "engine/restore.h"
#include "engine/state_lock.h"

namespace gb {
namespace {

struct RestoreCliOptions {
  RestoreOptions restore;
  std::string tier, host;
  bool wait = false, yes = false, list_jobs = false;
  int poll_seconds = 0;
};

nlohmann::json PlanJson(const ColdRestorePlan& p) {
  nlohmann::json r = nlohmann::json::array();
  for (const auto& piece : p.retrievals) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& [b, off] : piece.archives) names.push_back(b.name);
    r.push_back({{"vault_archive", piece.request.archive_id},
                 {"offset", piece.request.range.offset},
                 {"bytes", piece.request.range.length},
                 {"archives", names},
                 {"tier", TierName(piece.request.tier)},
                 {"state", piece.state}});
  }
  nlohmann::json needed = nlohmann::json::array();
  for (const auto& b : p.needed) needed.push_back(b.name);
  return {{"id", BackupId(p.point)},
          {"archives_needed", needed},
          {"available_locally", p.available},
          {"retrievals", r},
          {"retrieve_bytes", p.retrieve_bytes},
          {"tier", TierName(p.tier)},
          {"storage_class", p.storage_class},
          {"typical_wait_hours", p.typical_hours},
          {"estimated_cost_usd", p.cost_usd}};
}

void SayPlan(CliContext& ctx, const ColdRestorePlan& p) {
  ctx.Say("restore plan for backup " + BackupId(p.point) + ": " + std::to_string(p.needed.size()) +
          " archive(s) needed, " + std::to_string(p.available.size()) + " already local");
  for (const auto& piece : p.retrievals) {
    std::string names;
    for (const auto& [b, off] : piece.archives) names += " " + b.name;
    ctx.Say("  retrieve " + HumanBytes(piece.request.range.length) + " of vault archive " +
            piece.request.archive_id.substr(0, 20) + " (" + piece.state + ", " +
            TierName(piece.request.tier) + " tier):" + names);
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "  %s to retrieve, %s tier from %s: typically %.1f h, estimated cost $%.4f",
                HumanBytes(p.retrieve_bytes).c_str(), TierName(p.tier), p.storage_class.c_str(),
                p.typical_hours, p.cost_usd);
  ctx.Say(line);
}

void ListJobs(CliContext& ctx, Workspace& ws) {
  nlohmann::json arr = nlohmann::json::array();
  for (const JobRecord& j : VaultState(ws.catalog()).Jobs()) {
    if (j.kind != JobKind::kRetrieval) continue;
    const std::string status = JobRecordStatusText(j.status);
    ctx.Say(j.job_id.substr(0, 24) + "  " + status + "  " + j.tier + "  " +
            FormatIsoUtc(j.started) + "  " + j.purpose);
    arr.push_back({{"id", j.job_id},
                   {"status", status},
                   {"tier", j.tier},
                   {"started", FormatIsoUtc(j.started)},
                   {"purpose", j.purpose},
                   {"archive", j.archive_id}});
  }
  ctx.Json(arr);
}

}  // namespace

void AddRestoreCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  auto o = std::make_shared<RestoreCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "restore", "Restore the tree as it was at a backup point (from the cache or the vault)");
  cmd->add_option("--at", o->restore.at, kAtHelp);
  cmd->add_option("--to", o->restore.target_dir,
                  "Directory to restore into (default ./glacier-restore-<id>)");
  cmd->add_flag("--overwrite", o->restore.overwrite, "Replace files that already exist");
  cmd->add_flag("!--no-xattrs", o->restore.xattrs, "Do not restore extended attributes");
  cmd->add_flag("--numeric-owner", o->restore.numeric_owner,
                "Restore owners (and ACL entries) by uid/gid, not by user and group name");
  AddAllowUnsignedFlag(*cmd, ctx);
  cmd->add_option("paths", o->restore.paths, "Only these paths (as backed up, e.g. /home/me/docs)");
  cmd->add_option("--tier", o->tier,
                  "Retrieval tier for archives in the vault: Expedited, Standard or Bulk "
                  "(default [vault] retrieval_tier)");
  cmd->add_flag("--wait", o->wait, "Keep polling until the retrievals finish, then restore");
  cmd->add_flag("--yes", o->yes, "Start the retrievals without asking");
  cmd->add_flag("--list-jobs", o->list_jobs, "List the retrievals in progress and exit");
  cmd->add_option("--poll-interval", o->poll_seconds,
                  "Seconds between polls with --wait (default: from the tier's typical wait)");
  AddHostOption(*cmd, o->host);
  cmd->callback([&ctx, &exit_code, o] {
    const Config cfg = CatalogConfig(ctx, o->host);
    Workspace ws(cfg);
    if (o->list_jobs) return ListJobs(ctx, ws);
    StateLock lock(cfg.state_dir, ctx.opts().lock_wait);
    // Scratch files an earlier run could not remove (rebuilt delta chains).
    ws.CleanCache(ctx.progress());
    RestoreOptions ro = o->restore;
    bool all_local = true;
    for (const BackupRecord& b : NeededArchives(ws.catalog(), ro))
      all_local &= PathExists(ws.ArchivePath(b.name));
    std::unique_ptr<ColdRestorePlan> plan;
    std::unique_ptr<Vault> vault;
    if (!all_local) {
      std::string tier_name = o->tier.empty() ? cfg.retrieval_tier : o->tier;
      auto tier = ParseTier(tier_name);
      if (!tier)
        throw Error(Code::kInvalidArgument,
                    "--tier " + tier_name + ": expected Expedited, Standard or Bulk");
      if (!PricesFor(cfg.vault_url, cfg.storage_class).tier_available[static_cast<int>(*tier)]) {
        // Part of the plan: the user asked for another tier than the one planned.
        ctx.Say(std::string("note: ") + cfg.storage_class + " offers no " + TierName(*tier) +
                " retrievals; the plan uses the Standard tier");
        tier = Tier::kStandard;
      }
      vault = OpenConfiguredVault(cfg, ctx.progress(), SystemClock());
      plan = std::make_unique<ColdRestorePlan>(PlanColdRestore(ws, *vault, ro, *tier));
      SayPlan(ctx, *plan);
      bool to_start = false;
      for (const auto& p : plan->retrievals) to_start |= p.state == "to start";
      if (to_start && !o->yes) {
        if (!ctx.Confirm("Start the retrieval?")) {
          ctx.Say("nothing started; run again with --yes to start the retrieval");
          nlohmann::json j = PlanJson(*plan);
          j["complete"] = false;
          ctx.Json(j);
          exit_code = kExitNotStarted;
          return;
        }
      }
      double hours = plan->typical_hours;
      int poll = o->poll_seconds > 0 ? o->poll_seconds
                                     : std::clamp(static_cast<int>(hours * 3600 / 30), 2, 900);
      for (int pass = 0;; ++pass) {
        if (AdvanceColdRestore(ws, *vault, *plan, ctx.progress(), SystemClock())) break;
        if (!o->wait && pass == 0 && !vault->Capabilities().jobs_lag) continue;  // done at once
        if (!o->wait) {
          ctx.Say("retrieval in progress; run the same command again later (or add --wait)");
          nlohmann::json j = PlanJson(*plan);
          j["complete"] = false;
          ctx.Json(j);
          exit_code = kExitPending;
          return;
        }
        ctx.progress().Phase("waiting for the vault (next poll in " + std::to_string(poll) + " s)",
                             0, 0);
        SystemClock().SleepNanos(static_cast<int64_t>(poll) * 1000000000);
      }
      ro.archive_dirs.push_back(StagingDir(ws));
    }
    RestoreResult r = RunRestore(ws, ctx.progress(), ro);
    if (plan && !r.failed) CleanStaging(ws, *plan);
    ctx.progress().Done();
    ctx.Say("restored backup " + BackupId(r.point) + " into " + r.target_dir + ": " +
            std::to_string(r.files) + " files (" + HumanBytes(r.bytes) + "), " +
            std::to_string(r.dirs) + " directories, " + std::to_string(r.symlinks) + " symlinks, " +
            std::to_string(r.hardlinks) + " hard links, " + std::to_string(r.specials) +
            " fifos and devices; every file's hash checked");
    if (r.existing)
      ctx.Say(std::to_string(r.existing) + " existing file(s) left alone (use --overwrite)");
    if (r.failed)
      ctx.Say(std::to_string(r.failed) + " file(s) could not be restored (see warnings)");
    if (r.metadata_not_restored)
      ctx.Say(std::to_string(r.metadata_not_restored) +
              " entries restored without some of their metadata (see warnings)");
    if (r.failed || r.existing || r.metadata_not_restored) exit_code = kExitPartial;
    if (r.corrupt) {
      ctx.Say("an archive disagrees with the catalog: damaged or tampered with");
      exit_code = kExitCorrupt;
    }
    nlohmann::json j = {{"id", BackupId(r.point)},
                        {"complete", true},
                        {"target", r.target_dir},
                        {"files", r.files},
                        {"bytes", r.bytes},
                        {"dirs", r.dirs},
                        {"symlinks", r.symlinks},
                        {"hardlinks", r.hardlinks},
                        {"existing", r.existing},
                        {"failed", r.failed},
                        {"archives", r.archives_read},
                        {"specials", r.specials},
                        {"metadata_not_restored", r.metadata_not_restored},
                        {"corrupt", r.corrupt}};
    if (plan) j["retrieved_bytes"] = plan->retrieve_bytes;
    ctx.Json(j);
  });
}

}  // namespace gb
