#include "cli/cli_context.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "core/file_modes.h"

namespace gb {

CliContext::CliContext(const GlobalOptions& g) : g_(g) {}

TerminalProgress& CliContext::progress() {
  if (!progress_)
    progress_ = std::make_unique<TerminalProgress>(g_.quiet     ? Verbosity::kQuiet
                                                   : g_.verbose ? Verbosity::kVerbose
                                                                : Verbosity::kNormal);
  return *progress_;
}

void AddAllowUnsignedFlag(CLI::App& cmd, CliContext& ctx) {
  cmd.add_flag("--allow-unsigned", ctx.allow_unsigned_,
               "Accept archives without a signature (written before glacier-backup signed "
               "archives); a bad signature is never accepted");
}

std::string CliContext::ConfigPath() const {
  return g_.config_path.empty() ? DefaultConfigPath() : g_.config_path;
}

const Config& CliContext::config() {
  if (!config_) {
    config_ = LoadConfig(ConfigPath());
    if (!g_.profile.empty()) config_->profile = g_.profile;
    config_->allow_unsigned = allow_unsigned_;
    for (const std::string& dir : {config_->state_dir, config_->cache_dir})
      if (std::string w = LooseDirectoryWarning(dir); !w.empty()) progress().Notice(dir, w, true);
  }
  return *config_;
}

std::string CliContext::VaultHint(Code code) const {
  if (!config_ || code != Code::kTransient) return "";
  const Config& c = *config_;
  std::string what = c.endpoint.empty() ? "[vault] url = \"" + c.vault_url + "\""
                                        : "[vault] endpoint = \"" + c.endpoint + "\"";
  return " (check " + what + " in " + ConfigPath() + ", and the network)";
}

void CliContext::SetRunLog(RunLog* log) {
  run_log_ = log;
  if (log)
    progress().SetEcho([log](const std::string& line) { log->Line(line); });
  else
    progress().SetEcho(nullptr);
}

void CliContext::Say(const std::string& line) {
  if (run_log_) run_log_->Line(line);
  if (g_.json || g_.quiet) return;
  progress().Done();
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

bool CliContext::Confirm(const std::string& question) {
  if (g_.json || !::isatty(STDIN_FILENO)) return false;
  progress().Done();
  std::fprintf(stderr, "%s [y/N] ", question.c_str());
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

void CliContext::Json(const nlohmann::json& j) {
  if (!g_.json) return;
  progress().Done();
  // Names that are not UTF-8 print with U+FFFD; where it matters the command adds
  // the exact bytes (see `ls`).
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  std::fflush(stdout);
}

}  // namespace gb
