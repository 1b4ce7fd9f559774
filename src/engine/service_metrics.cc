#include "engine/service_metrics.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/vault_state.h"
#include "core/error.h"
#include "core/file.h"
#include "engine/open_vault.h"
#include "engine/prices.h"
#include "engine/set_state.h"
#include "engine/sync.h"
#include "engine/workspace.h"

namespace gb {
namespace {

constexpr const char* kHistoryFile = "monitoring.json";

// Whole numbers as integers, others with six decimals at most (times, durations, dollars).
std::string Number(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.6f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

// Builds the text: each metric's HELP and TYPE once, then its samples.
class MetricsText {
 public:
  void Gauge(const std::string& name, const std::string& help) {
    text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n";
  }
  void Sample(const std::string& name, double value, const std::string& labels = "") {
    text_ += name + (labels.empty() ? "" : "{" + labels + "}") + " " + Number(value) + "\n";
  }
  void One(const std::string& name, const std::string& help, double value) {
    Gauge(name, help);
    Sample(name, value);
  }
  void Comment(const std::string& line) { text_ += "# " + line + "\n"; }
  void Append(const MetricsText& other) { text_ += other.text_; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

nlohmann::json UpdateHistory(const Config& cfg, const CommandOutcome& o) {
  std::string path = JoinPath(cfg.state_dir, kHistoryFile);
  nlohmann::json history = nlohmann::json::object();
  if (PathExists(path)) {
    try {
      history = nlohmann::json::parse(ReadFileToString(path));
      if (!history.is_object()) history = nlohmann::json::object();
    } catch (const std::exception&) {  // damaged: start again
      history = nlohmann::json::object();
    }
  }
  nlohmann::json& h = history[o.command];
  if (!h.is_object()) h = nlohmann::json::object();
  h["last_attempt"] = static_cast<double>(o.started_ns) / 1e9;
  h["duration"] = static_cast<double>(o.finished_ns - o.started_ns) / 1e9;
  h["exit_code"] = o.exit_code;
  if (o.exit_code == 0) h["last_success"] = static_cast<double>(o.finished_ns) / 1e9;
  MakeDirs(cfg.state_dir, 0700);
  WriteFileAtomic(path, history.dump(1) + "\n", 0600);
  return history;
}

void CommandMetrics(const nlohmann::json& history, MetricsText& m) {
  struct Field {
    const char* key;
    const char* name;
    const char* help;
  };
  const Field fields[] = {
      {"last_attempt", "glacier_backup_last_attempt_timestamp_seconds",
       "When the command last started (Unix time)."},
      {"last_success", "glacier_backup_last_success_timestamp_seconds",
       "When the command last finished with exit code 0 (Unix time)."},
      {"duration", "glacier_backup_last_duration_seconds", "How long the command last ran."},
      {"exit_code", "glacier_backup_last_exit_code",
       "The exit code of the command's last run (0 = success)."},
  };
  for (const Field& f : fields) {
    m.Gauge(f.name, f.help);
    for (const auto& [command, h] : history.items()) {
      bool plain = !command.empty() &&
                   command.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos;
      if (plain && h.is_object() && h.contains(f.key) && h[f.key].is_number())
        m.Sample(f.name, h[f.key].get<double>(), "command=\"" + command + "\"");
    }
  }
}

void CatalogMetrics(const Config& cfg, Progress& progress, Clock& clock, MetricsText& m) {
  Workspace ws(cfg);
  VaultState vs(ws.catalog());
  int64_t now = clock.NowSeconds();
  std::vector<BackupRecord> backups = ws.catalog().Backups();
  const BackupRecord* last = backups.empty() ? nullptr : &backups.back();
  m.One("glacier_backup_last_backup_timestamp_seconds",
        "When the newest backup was taken (Unix time; 0 = none).", last ? last->time : 0);
  m.One("glacier_backup_last_backup_files", "Entries stored by the newest backup.",
        last ? static_cast<double>(last->files) : 0);
  m.One("glacier_backup_last_backup_stored_bytes", "File bytes stored by the newest backup.",
        last ? static_cast<double>(last->bytes) : 0);
  m.One("glacier_backup_last_backup_archive_bytes", "Size of the newest backup's archive.",
        last ? static_cast<double>(last->archive_size) : 0);

  VaultCapabilities caps = OpenConfiguredVault(cfg, progress, clock)->Capabilities();
  uint64_t vault_bytes = VaultBilledBytes(ws, caps.per_archive_overhead_bytes);
  m.One("glacier_backup_vault_bytes",
        "Bytes the vault bills for our archives (per-archive overhead included).",
        static_cast<double>(vault_bytes));
  m.One("glacier_backup_vault_size_limit_bytes", "The configured vault size cap (0 = no cap).",
        static_cast<double>(cfg.size_limit));

  std::set<int64_t> in_vault;
  std::map<std::string, int> states;
  for (SetState st : {SetState::kOpen, SetState::kComplete, SetState::kUploading,
                      SetState::kInVault, SetState::kBroken})
    states[SetStateName(st)] = 0;
  int64_t oldest_unuploaded = 0;
  for (const SetStanding& s : SetStandings(ws)) {
    ++states[SetStateName(s.state)];
    if (s.state == SetState::kInVault) {
      in_vault.insert(s.set.id);
    } else if (oldest_unuploaded == 0 || s.set.created < oldest_unuploaded) {
      oldest_unuploaded = s.set.created;
    }
  }
  m.Gauge("glacier_backup_sets", "Backup sets by state.");
  for (const auto& [state, count] : states)
    m.Sample("glacier_backup_sets", count, "state=\"" + state + "\"");
  m.One("glacier_backup_pending_jobs", "Vault jobs (inventories, retrievals) still running.",
        static_cast<double>(vs.Jobs(JobRecordStatus::kInProgress).size()));
  m.One("glacier_backup_oldest_unuploaded_set_age_seconds",
        "Age of the oldest set not yet in the vault (0 = none).",
        oldest_unuploaded ? static_cast<double>(std::max<int64_t>(0, now - oldest_unuploaded)) : 0);
  // Freshness: the newest backup the vault holds (what [vault] max_staleness_days bounds).
  int64_t newest_in_vault = 0;
  if (!in_vault.empty()) {
    std::vector<BackupRecord> newest = ws.catalog().BackupsOfSet(*in_vault.rbegin());
    if (!newest.empty()) newest_in_vault = newest.back().time;
  }
  m.One("glacier_backup_vault_newest_backup_timestamp_seconds",
        "When the newest backup held by the vault was taken (Unix time; 0 = none). Alert when "
        "it is older than [vault] max_staleness_days.",
        static_cast<double>(newest_in_vault));
  m.One("glacier_backup_vault_max_staleness_seconds",
        "The configured [vault] max_staleness_days, in seconds.",
        static_cast<double>(cfg.max_staleness_days) * 86400);
  m.One("glacier_backup_estimated_monthly_cost_dollars",
        "Estimated monthly storage cost of the vault (USD, list prices or [prices]).",
        StorageCostPerMonth(PricesFor(cfg), vault_bytes));
}

}  // namespace

void WriteMonitoringTextfile(const Config& cfg, const CommandOutcome& outcome, Progress& progress,
                             Clock& clock) {
  MetricsText m;
  CommandMetrics(UpdateHistory(cfg, outcome), m);
  try {
    MetricsText catalog;  // all or nothing
    CatalogMetrics(cfg, progress, clock, catalog);
    m.Append(catalog);
  } catch (const Error& e) {
    std::string why = e.what();
    for (char& c : why)
      if (c == '\n') c = ' ';
    m.Comment("catalog metrics left out: " + why);
  }
  AtomicFile file(cfg.textfile, 0644);
  file.sink().Write(AsBytes(m.text()));
  // Readable by node_exporter whatever our umask.
  if (::chmod(file.temp_path().c_str(), 0644) != 0) ThrowErrno("chmod " + file.temp_path());
  file.Commit();
}

}  // namespace gb
