// glacier-backup recover [--wait] [--host NAME] [--tier T] [--include-archives] [--force]
// glacier-backup recover --from-archives DIR [--force]
// With --host NAME of another host: into that host's own catalog (engine/other_host.h).
#include <cstdio>

#include "cli/cli_context.h"
#include "cli/exit_codes.h"
#include "core/clock.h"
#include "engine/open_vault.h"
#include "engine/other_host.h"
#include "engine/recover.h"
#include "engine/state_lock.h"

namespace gb {
namespace {

struct RecoverCliOptions {
  RecoverOptions engine;
  std::string from_archives;
  std::string tier;
  bool yes = false;
};

std::string Money(double usd) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "$%.4f", usd);
  return buf;
}

std::string Hours(double h) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g h", h);
  return buf;
}

std::string Sets(const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) s += (s.empty() ? "" : ", ") + std::to_string(id);
  return s;
}

nlohmann::json ToJson(const RecoverResult& r) {
  nlohmann::json j = {{"complete", r.complete},
                      {"inventory_pending", r.inventory_pending},
                      {"inventory_outdated", r.inventory_outdated},
                      {"host", r.host},
                      {"hosts", r.hosts},
                      {"bundles", r.bundles},
                      {"single_archives", r.single_archives},
                      {"retrievals", r.retrievals},
                      {"retrieval_bytes", r.retrieval_bytes},
                      {"tier", TierName(r.tier)},
                      {"tier_note", r.tier_note},
                      {"retrieval_cost_usd", r.retrieval_cost},
                      {"typical_hours", r.typical_hours},
                      {"sets_recovered", r.sets_recovered},
                      {"sets_waiting", r.sets_waiting},
                      {"archives_waiting", r.archives_waiting},
                      {"need_archives", r.need_archives},
                      {"restorable", r.restorable},
                      {"problems", r.problems},
                      {"corrupt", r.corrupt}};
  j["inventory_date"] =
      r.inventory_date ? nlohmann::json(FormatIsoUtc(*r.inventory_date)) : nlohmann::json(nullptr);
  return j;
}

// The inventory and what recovering from it takes; with `plan_only` nothing more.
// `again` is the command that continues, e.g. "glacier-backup recover --host A".
void ReportVault(CliContext& ctx, const RecoverResult& r, const std::string& again,
                 bool plan_only = false) {
  if (r.inventory_pending && !r.inventory_outdated) {
    ctx.Say("waiting for the vault inventory (Glacier prepares it in about 4 hours); run `" +
            again + "` again later (or with --wait)");
    return;
  }
  if (r.inventory_date)
    ctx.Say("vault inventory of " + FormatIsoUtc(*r.inventory_date) + ": " +
            std::to_string(r.bundles) + " set bundle(s)" +
            (r.single_archives ? ", " + std::to_string(r.single_archives) + " single archive(s)"
                               : std::string()) +
            " of host " + r.host);
  if (r.retrievals && !r.tier_note.empty()) ctx.Say("note: " + r.tier_note);
  if (r.retrievals)
    ctx.Say(
        "plan: " + std::to_string(r.retrievals) + " retrieval(s), " +
        HumanBytes(r.retrieval_bytes) +
        " in all (each bundle's catalog part alone: every "
        "bundle's catalog copy holds only its own set, so each is read), " +
        TierName(r.tier) + " tier, about " + Money(r.retrieval_cost) +
        (r.typical_hours > 0 ? ", typically ready in " + Hours(r.typical_hours) : std::string()));
  if (plan_only) return;
  if (!r.sets_recovered.empty()) ctx.Say("recovered set(s) " + Sets(r.sets_recovered));
  if (!r.need_archives.empty())
    ctx.Say(std::to_string(r.need_archives.size()) +
            " backup(s) were uploaded as single archives (upload = \"each\"): their catalog rows "
            "are inside the archives. Retrieve them with `" +
            again +
            " --include-archives` (every byte is retrieved), or download them and run "
            "`glacier-backup recover --from-archives DIR`");
  if (size_t n = r.sets_waiting.size() + r.archives_waiting.size()) {
    ctx.Say("waiting for " + std::to_string(n) + " retrieval(s) from the vault; run `" + again +
            "` again later (or with --wait): it continues where this run stopped");
  }
  if (r.inventory_outdated)
    ctx.Say(std::string("the vault inventory ") +
            (r.host.empty() ? "lists none of this host's archives yet"
                            : "may not list the last uploads") +
            " (Glacier lists an upload about a day later): a newer inventory is requested; run `" +
            again +
            "` again later (or with --wait): it adds what the "
            "newer inventory lists");
}

}  // namespace

void AddRecoverCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  auto opts = std::make_shared<RecoverCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "recover",
      "Rebuild the local catalog from the vault (or from archive files) after losing "
      "the machine");
  AddAllowUnsignedFlag(*cmd, ctx);
  cmd->add_flag("--wait", opts->engine.wait,
                "Keep polling the vault until everything is retrieved (Glacier: hours)");
  cmd->add_option("--poll-interval", opts->engine.poll_seconds,
                  "Seconds between polls with --wait (default 900; 60 for Expedited)");
  CLI::Option* host = cmd->add_option(
      "--host", opts->engine.host,
      "Recover the backups of host NAME when several hosts share the vault; another host's "
      "(not [backup] host) go into a catalog of their own in STATE/hosts/NAME, read by "
      "restore, snapshots and ls --host NAME; this host's catalog and cache are not touched");
  cmd->add_option("--tier", opts->tier,
                  "Retrieval tier: Expedited, Standard or Bulk (default: [vault] retrieval_tier)");
  cmd->add_flag("--include-archives", opts->engine.include_archives,
                "Also retrieve archives uploaded one by one (upload = \"each\") and read their "
                "manifests; costly: every byte is retrieved");
  cmd->add_flag("--yes", opts->yes, "Start the retrievals without asking");
  cmd->add_flag("--force", opts->engine.force,
                "Add to a catalog that already holds sets (they are kept as they are)");
  cmd->add_option("--from-archives", opts->from_archives,
                  "Rebuild the catalog from the *.tar.zst.age archives in this directory instead "
                  "of the vault")
      ->excludes(host);
  cmd->callback([&ctx, &exit_code, opts] {
    const std::string& for_host = opts->engine.host;
    if (!for_host.empty()) CheckHostOption(for_host);
    const bool other = IsOtherHost(ctx.config(), for_host);
    const Config cfg = other ? OtherHostConfig(ctx.config(), for_host) : ctx.config();
    const std::string again =
        "glacier-backup recover" + (for_host.empty() ? std::string() : " --host " + for_host);
    if (!opts->tier.empty()) {
      opts->engine.tier = ParseTier(opts->tier);
      if (!opts->engine.tier)
        throw Error(Code::kInvalidArgument,
                    "--tier " + opts->tier + ": expected Expedited, Standard or Bulk");
    }
    Workspace ws(cfg);
    StateLock lock(cfg.state_dir, ctx.opts().lock_wait);
    if (other) MarkOtherHostCatalog(ws, for_host);
    RecoverResult r;
    if (!opts->from_archives.empty()) {
      r = RecoverFromArchives(ws, opts->from_archives, ctx.progress(), SystemClock(), opts->engine);
      ctx.progress().Done();
      ctx.Say("rebuilt the catalog from " + opts->from_archives + ": set(s) " +
              (r.sets_recovered.empty() ? std::string("none") : Sets(r.sets_recovered)) +
              "; archives copied into " + cfg.cache_dir);
    } else {
      auto vault = OpenConfiguredVault(cfg, ctx.progress(), SystemClock());
      // Like restore: the plan and its cost first; retrievals start on --yes or a "y".
      RecoverOptions plan = opts->engine;
      plan.start_retrievals = opts->yes;
      r = RunRecover(ws, *vault, ctx.progress(), SystemClock(), plan);
      ctx.progress().Done();
      if (r.unstarted > 0) {
        ReportVault(ctx, r, again, /*plan_only=*/true);
        if (!ctx.Confirm("Start the retrievals?")) {
          ctx.Say("nothing started; run again with --yes to start the retrievals");
          nlohmann::json j = ToJson(r);
          j["started"] = false;
          ctx.Json(j);
          exit_code = kExitNotStarted;
          return;
        }
        r = RunRecover(ws, *vault, ctx.progress(), SystemClock(), opts->engine);
        ctx.progress().Done();
      }
      ReportVault(ctx, r, again);
    }
    if (r.problems)
      ctx.Say(std::to_string(r.problems) + " problem(s), listed above: " +
              (r.corrupt ? "damaged data was not recovered" : "some backups were not recovered"));
    if (r.complete || !r.restorable.empty())
      ctx.Say(std::to_string(r.restorable.size()) + " backup point(s) can be restored" +
              (r.complete ? "" : " already") + "; `glacier-backup snapshots" +
              (other ? " --host " + for_host : std::string()) + "` lists them");
    ctx.Json(ToJson(r));
    // Like restore: while the vault is still preparing what recover needs, exit 10
    // ("run the same command again later"), so scripts can tell "done" from "started".
    if (r.corrupt)
      exit_code = kExitCorrupt;
    else if (!r.complete)
      exit_code = kExitPending;
    else if (r.problems)
      exit_code = kExitPartial;
  });
}

}  // namespace gb
