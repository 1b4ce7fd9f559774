#include "cli/cli_context.h"

#include <cstdio>

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

void CliContext::Say(const std::string& line) {
  if (g_.json || g_.quiet) return;
  progress().Done();
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
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
