// What every subcommand gets: the global options, the configuration (loaded
// on first use) and the progress printer.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/run_log.h"
#include "cli/terminal_progress.h"
#include "core/error.h"
#include "engine/config.h"

namespace gb {

struct GlobalOptions {
  std::string config_path;  // empty = DefaultConfigPath()
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  std::string profile;
  int lock_wait = 0;  // seconds to wait for another run's lock
};

class CliContext {
 public:
  // Keeps a reference: the options are filled in by parsing after construction.
  explicit CliContext(const GlobalOptions& g);
  const GlobalOptions& opts() const { return g_; }
  std::string ConfigPath() const;
  // The config; problems with its folders' modes are warned about once.
  const Config& config();
  // For a vault that could not be reached (kTransient after the retries): which
  // setting to check, e.g. " (check [vault] endpoint = \"http://...\" in PATH)"; "" when no
  // config was loaded.
  std::string VaultHint(Code code) const;
  TerminalProgress& progress();
  // Prints a human line on stdout unless --json or --quiet.
  void Say(const std::string& line);
  // Asks `question` [y/N] on a terminal (never with --json); false when there is
  // no terminal to ask on.
  bool Confirm(const std::string& question);
  // Prints the JSON result when --json.
  void Json(const nlohmann::json& j);
  // A command that reports what it did and then fails (throws) keeps that result
  // here; main prints it with the error and the exit code, so --json always prints.
  void KeepResultOnError(nlohmann::json j) { result_on_error_ = std::move(j); }
  const nlohmann::json& ResultOnError() const { return result_on_error_; }
  // From now on Say lines and progress notices also go to `log` (not owned;
  // null to stop).
  void SetRunLog(RunLog* log);
  RunLog* run_log() const { return run_log_; }

 private:
  const GlobalOptions& g_;
  std::optional<Config> config_;
  bool allow_unsigned_ = false;
  nlohmann::json result_on_error_ = nlohmann::json::object();
  friend void AddAllowUnsignedFlag(CLI::App& cmd, CliContext& ctx);
  std::unique_ptr<TerminalProgress> progress_;
  RunLog* run_log_ = nullptr;
};

// The help of every --at option.
inline constexpr const char* kAtHelp =
    "Backup point: latest (default), a backup id (or a prefix), or a UTC time such as "
    "2026-11-27T03:07:00Z; a bare date such as 2026-11-27 means the end of that day";

// --allow-unsigned on a command that reads archives: archives without a
// signature (written before signatures) are accepted, with a warning each.
void AddAllowUnsignedFlag(CLI::App& cmd, CliContext& ctx);

// Subcommands, each registered on the CLI11 app by its Add function; the
// callback stores the command's exit status in exit_code.
void AddInitCommand(CLI::App& app, CliContext& ctx, int& exit_code);
void AddBackupCommand(CLI::App& app, CliContext& ctx, int& exit_code);
void AddSnapshotsCommand(CLI::App& app, CliContext& ctx, int& exit_code);
void AddLsCommand(CLI::App& app, CliContext& ctx, int& exit_code);
void AddRestoreCommand(CLI::App& app, CliContext& ctx, int& exit_code);
void AddVerifyCommand(CLI::App& app, CliContext& ctx, int& exit_code);
void AddSyncCommand(CLI::App& app, CliContext& ctx, int& exit_code);
void AddRunCommand(CLI::App& app, CliContext& ctx, int& exit_code);
void AddStatusCommand(CLI::App& app, CliContext& ctx, int& exit_code);
void AddVaultCommand(CLI::App& app, CliContext& ctx, int& exit_code);
void AddRecoverCommand(CLI::App& app, CliContext& ctx, int& exit_code);
// `completion SHELL`, and the hidden `man` and `example-config` the build runs.
void AddDocsCommands(CLI::App& app, CliContext& ctx, int& exit_code);

}  // namespace gb
