// glacier-backup status | vault create | vault info | vault ls
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>

#include "catalog/vault_state.h"
#include "cli/cli_context.h"
#include "cli/exit_codes.h"
#include "core/clock.h"
#include "core/file.h"
#include "engine/backlog_plan.h"
#include "engine/fleet_view.h"
#include "engine/lost_archives.h"
#include "engine/open_vault.h"
#include "engine/point.h"
#include "engine/prices.h"
#include "engine/set_state.h"
#include "engine/state_lock.h"
#include "engine/sync.h"

namespace gb {
namespace {

std::string Bar(double fraction, int width) {
  int full = static_cast<int>(std::min(1.0, fraction) * width + 0.5);
  return "[" + std::string(static_cast<size_t>(full), '#') +
         std::string(static_cast<size_t>(width - full), '.') + "]";
}

std::string Day(int64_t t) { return FormatIsoUtc(t).substr(0, 10); }

// How `status` words a set's state (also its "state" in --json).
const char* SetStateWords(SetState state) {
  switch (state) {
    case SetState::kInVault:
      return "in vault";
    case SetState::kBroken:
      return "broken";
    case SetState::kUploading:
      return "uploading";
    case SetState::kComplete:
      return "complete, ready to upload";
    case SetState::kOpen:
      return "open";
  }
  return "open";
}

// status --fleet: every host in the vault; exits kExitStale when one went quiet.
void ReportFleet(CliContext& ctx, int& exit_code) {
  const Config& cfg = ctx.config();
  Workspace ws(cfg);
  auto vault = OpenConfiguredVault(cfg, ctx.progress(), SystemClock(), false, VaultScope::kFleet);
  FleetView f = BuildFleetView(ws, *vault, SystemClock());
  ctx.Say("fleet in " + cfg.vault_url + " (" +
          (f.fresh_listing ? std::string("listed now")
           : f.listing_date
               ? "as of the inventory of " + Day(*f.listing_date) + " and this host's uploads since"
               : std::string("never inventoried: only this host's uploads")) +
          "):");
  nlohmann::json hosts = nlohmann::json::array();
  for (const HostView& h : f.hosts) {
    ctx.Say("  " + h.host + (h.host == cfg.host ? " (this host)" : "") + ": " +
            std::to_string(h.sets.size()) + " set(s), " + std::to_string(h.archives) +
            " archive(s), " + HumanBytes(h.billed_bytes) + ", newest upload " +
            Day(h.newest_upload) + ", " + std::to_string(h.age_days) + " days ago" +
            (h.stale ? "  STALE (over " + std::to_string(f.stale_after_days) + " days)" : ""));
    hosts.push_back({{"host", h.host},
                     {"sets", h.sets},
                     {"archives", h.archives},
                     {"billed_bytes", h.billed_bytes},
                     {"newest_upload", FormatIsoUtc(h.newest_upload)},
                     {"age_days", h.age_days},
                     {"stale", h.stale}});
  }
  if (f.hosts.empty()) ctx.Say("  no host has uploaded to this vault yet");
  std::string total = "total " + HumanBytes(f.total_bytes);
  if (f.size_limit)
    total += " of the fleet's " + HumanBytes(f.size_limit) + " ([fleet] size_limit)";
  if (f.foreign_archives)
    total +=
        "; " + std::to_string(f.foreign_archives) + " archive(s) not written by glacier-backup";
  ctx.Say(total);
  if (!f.stale_hosts.empty()) {
    std::string names;
    for (const std::string& n : f.stale_hosts) names += (names.empty() ? "" : ", ") + n;
    ctx.progress().Notice("fleet",
                          "no upload for more than " + std::to_string(f.stale_after_days) +
                              " days ([fleet] stale_after_days) from: " + names,
                          true);
    exit_code = kExitStale;
  }
  nlohmann::json j = {{"hosts", hosts},
                      {"total_billed_bytes", f.total_bytes},
                      {"fleet_size_limit", f.size_limit},
                      {"stale_after_days", f.stale_after_days},
                      {"stale_hosts", f.stale_hosts},
                      {"foreign_archives", f.foreign_archives},
                      {"fresh_listing", f.fresh_listing}};
  if (f.listing_date) j["listing_date"] = FormatIsoUtc(*f.listing_date);
  ctx.Json(j);
}

}  // namespace

void AddStatusCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "status", "Vault usage, sets (local / uploading / in the vault), jobs, last runs, cost");
  auto fleet = std::make_shared<bool>(false);
  cmd->add_flag("--fleet", *fleet,
                "Every host in the vault: sets, bytes, newest upload; exit 13 when one is stale");
  cmd->callback([&ctx, &exit_code, fleet] {
    if (*fleet) return ReportFleet(ctx, exit_code);
    const Config& cfg = ctx.config();
    Workspace ws(cfg);
    VaultState vs(ws.catalog());
    auto vault = OpenConfiguredVault(cfg, ctx.progress(), SystemClock());
    VaultCapabilities caps = vault->Capabilities();
    PriceTable prices = PricesFor(cfg);
    int min_days = cfg.min_storage_days.value_or(caps.min_storage_days);
    uint64_t used = VaultBilledBytes(ws, caps.per_archive_overhead_bytes);
    int64_t now = SystemClock().NowSeconds();
    nlohmann::json j;
    j["vault"] = {
        {"url", cfg.vault_url},         {"billed_bytes", used},
        {"size_limit", cfg.size_limit}, {"storage_class", prices.storage_class},
        {"min_storage_days", min_days}, {"monthly_cost_usd", StorageCostPerMonth(prices, used)},
        {"prices", prices.source}};
    std::string usage = "vault " + cfg.vault_url + ": " + HumanBytes(used);
    if (cfg.size_limit) {
      double f = static_cast<double>(used) / static_cast<double>(cfg.size_limit);
      usage += " of " + HumanBytes(cfg.size_limit) + " " +
               (::isatty(STDOUT_FILENO) ? Bar(f, 30) + " " : std::string()) +
               std::to_string(static_cast<int>(f * 100)) + "%";
    }
    char cost[64];
    std::snprintf(cost, sizeof cost, ", about $%.4f/month", StorageCostPerMonth(prices, used));
    ctx.Say(usage + cost + " (" + prices.storage_class + ", " + prices.source + ")");

    std::map<int64_t, std::vector<VaultArchive>> in_vault;
    for (const auto& a : vs.Archives())
      if (a.set_id && a.origin == "here") in_vault[*a.set_id].push_back(a);
    nlohmann::json sets = nlohmann::json::array();
    ctx.Say("sets:");
    uint64_t ready_bytes = 0;
    std::vector<SetRecord> discarded;  // left the catalog without reaching the vault
    for (const SetRecord& s : ws.catalog().Sets())
      if (s.pruned && !s.uploaded) discarded.push_back(s);
    for (const SetStanding& standing : SetStandings(ws)) {
      const SetRecord& s = standing.set;
      std::vector<BackupRecord> bs = ws.catalog().BackupsOfSet(s.id);
      uint64_t bytes = 0;
      bool local = false;
      for (const auto& b : bs) {
        bytes += b.archive_size;
        local |= PathExists(ws.ArchivePath(b.name));
      }
      const std::vector<std::string>& lost = standing.lost_archives;
      const std::string where = SetStateWords(standing.state);
      if (s.completed && !s.uploaded && lost.empty()) ready_bytes += bytes;
      int64_t newest = 0;
      for (const auto& a : in_vault[s.id]) newest = std::max(newest, a.created);
      std::string line = "  set " + std::to_string(s.id) + ": " + std::to_string(bs.size()) +
                         " backup(s), " + HumanBytes(bytes) + ", " + where +
                         (local ? ", cached locally" : "") + ", started " + Day(s.created);
      nlohmann::json sj = {{"id", s.id},           {"backups", bs.size()},
                           {"bytes", bytes},       {"state", where},
                           {"local", local},       {"created", FormatIsoUtc(s.created)},
                           {"lost_archives", lost}};
      if (newest) {
        int64_t deletable = newest + static_cast<int64_t>(min_days) * 86400;
        line +=
            ", uploaded " + Day(newest) + ", " +
            (deletable <= now ? std::string("deletable now") : "deletable from " + Day(deletable));
        sj["uploaded"] = FormatIsoUtc(newest);
        sj["deletable_from"] = FormatIsoUtc(deletable);
      }
      if (!lost.empty()) {
        line += "\n    " + LostArchivesAdvice(s.id, lost);
        if (!s.completed) line += "; the next backup starts a new set";
      }
      ctx.Say(line);
      sets.push_back(sj);
    }
    // The newest few in words, every one in JSON: a set that vanished without a word
    // would look like data loss.
    nlohmann::json gone = nlohmann::json::array();
    for (size_t i = 0; i < discarded.size(); ++i) {
      const SetRecord& s = discarded[i];
      std::string fate = vs.GetMeta(SetFateKey(s.id)).value_or("dropped");
      if (i + 5 >= discarded.size())
        ctx.Say("  set " + std::to_string(s.id) + ": never uploaded, " + fate + " on " +
                Day(*s.pruned));
      gone.push_back({{"id", s.id},
                      {"state", "dropped"},
                      {"reason", fate},
                      {"when", FormatIsoUtc(*s.pruned)}});
    }
    if (discarded.size() > 5)
      ctx.Say("  (" + std::to_string(discarded.size() - 5) +
              " earlier set(s) were dropped too; status --json lists them)");
    j["sets"] = sets;
    j["dropped_sets"] = gone;
    j["ready_to_upload_bytes"] = ready_bytes;
    nlohmann::json jobs = nlohmann::json::array();
    for (const auto& job : vs.Jobs(JobRecordStatus::kInProgress)) {
      const std::string kind = JobKindText(job.kind);
      ctx.Say("pending " + kind + " job " + job.job_id + " since " + FormatIsoUtc(job.started));
      jobs.push_back({{"id", job.job_id},
                      {"kind", kind},
                      {"started", FormatIsoUtc(job.started)},
                      {"purpose", job.purpose}});
    }
    j["pending_jobs"] = jobs;
    if (auto d = vs.GetMeta("last_inventory_date"); d && *d != "0") {
      ctx.Say("last inventory: " + FormatIsoUtc(std::stoll(*d)));
      j["last_inventory"] = FormatIsoUtc(std::stoll(*d));
    }
    auto backups = ws.catalog().Backups();
    if (!backups.empty()) {
      ctx.Say("last backup: " + BackupId(backups.back()) + " at " +
              FormatIsoUtc(backups.back().time));
      j["last_backup"] = {{"id", BackupId(backups.back())},
                          {"time", FormatIsoUtc(backups.back().time)}};
    }
    int64_t last_upload = 0;
    for (const auto& a : vs.Archives())
      if (a.origin == "here") last_upload = std::max(last_upload, a.created);
    if (last_upload) {
      ctx.Say("last upload: " + FormatIsoUtc(last_upload));
      j["last_upload"] = FormatIsoUtc(last_upload);
    }
    // Freshness: the number to alert on, and what the cap allows at this cadence.
    j["backlog"] = cfg.backlog;
    j["max_staleness_days"] = cfg.max_staleness_days;
    if (!in_vault.empty()) {
      std::vector<BackupRecord> newest = ws.catalog().BackupsOfSet(in_vault.rbegin()->first);
      if (!newest.empty()) {
        int64_t age = (now - newest.back().time) / 86400;
        ctx.Say("newest backup in the vault: " + BackupId(newest.back()) + ", " +
                std::to_string(age) + " days old" +
                (age > cfg.max_staleness_days
                     ? " (over max_staleness_days = " + std::to_string(cfg.max_staleness_days) + ")"
                     : std::string()));
        j["newest_vault_backup"] = {{"id", BackupId(newest.back())},
                                    {"time", FormatIsoUtc(newest.back().time)},
                                    {"age_days", age}};
      }
    }
    SteadyState st =
        EstimateSteadyState(ws.catalog(), cfg, min_days, caps.per_archive_overhead_bytes, prices);
    if (st.set_bytes) {
      j["steady_state"] = {{"set_bytes", st.set_bytes},
                           {"set_interval_days", st.set_interval_days},
                           {"cap_too_small", st.too_small},
                           {"sets_fit", st.sets_fit},
                           {"upload_interval_days", st.upload_interval_days},
                           {"max_staleness_days", st.max_staleness_days},
                           {"size_limit_for_every_set", st.cap_for_every_set},
                           {"size_limit_for_every_set_monthly_usd", st.cap_for_every_set_usd}};
    }
    if (std::string p = DescribeSteadyState(st, cfg.backlog); !p.empty()) ctx.Say(p);
    ctx.Json(j);
  });
}

void AddVaultCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("vault", "Create, describe or list the configured vault");
  cmd->require_subcommand(1);
  CLI::App* create = cmd->add_subcommand("create", "Create the vault (fine if it exists)");
  CLI::App* info = cmd->add_subcommand("info", "Name, archive count and size of the vault");
  CLI::App* ls = cmd->add_subcommand("ls", "Archives in the vault (its inventory)");
  create->callback([&ctx, &exit_code] {
    (void)exit_code;
    auto vault = OpenConfiguredVault(ctx.config(), ctx.progress(), SystemClock());
    vault->Create();
    ctx.Say("vault " + ctx.config().vault_url + " is ready");
    ctx.Json({{"url", ctx.config().vault_url}, {"created", true}});
  });
  info->callback([&ctx, &exit_code] {
    (void)exit_code;
    auto vault = OpenConfiguredVault(ctx.config(), ctx.progress(), SystemClock());
    VaultInfo vi = vault->Describe();
    ctx.Say("vault " + vi.name + ": " + std::to_string(vi.archive_count) + " archive(s), " +
            HumanBytes(vi.size_bytes) +
            (vi.inventory_date ? " as of " + FormatIsoUtc(*vi.inventory_date)
                               : std::string(" (never inventoried)")));
    nlohmann::json j = {
        {"name", vi.name}, {"archives", vi.archive_count}, {"bytes", vi.size_bytes}};
    if (vi.inventory_date) j["inventory_date"] = FormatIsoUtc(*vi.inventory_date);
    ctx.Json(j);
  });
  ls->callback([&ctx, &exit_code] {
    (void)exit_code;
    Workspace ws(ctx.config());
    VaultState vs(ws.catalog());
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& a : vs.Archives()) {
      ctx.Say(a.archive_id.substr(0, 24) + "  " + FormatIsoUtc(a.created) + "  " +
              HumanBytes(a.size) + "  " +
              (a.set_id ? "set " + std::to_string(*a.set_id) : "foreign") + "  " + a.origin);
      arr.push_back({{"id", a.archive_id},
                     {"created", FormatIsoUtc(a.created)},
                     {"size", a.size},
                     {"tree_hash", a.tree_hash},
                     {"description", a.description},
                     {"origin", a.origin}});
    }
    if (arr.empty())
      ctx.Say("vault " + ctx.config().vault_url +
              " is empty as far as the local inventory knows (`glacier-backup sync` refreshes it)");
    ctx.Json(arr);
  });
}

}  // namespace gb
