// backup, run and sync as a service runs them: around the command's own work
// (`body`), in order:
//   1. open the run log (cli/run_log.h); ping [monitoring] ping_url /start;
//   2. [hooks] before: one failing stops here with kExitHookFailed, naming it;
//   3. the body, which sets exit_code or throws as a command does;
//   4. [hooks] after on exit code 0, else [hooks] on_error;
//   5. ping the result; rewrite [monitoring] textfile.
// Steps 4 and 5 never change the exit code: their failures are warnings. An
// exception from the body passes through (main prints it) after them.
#pragma once

#include <functional>
#include <string>

#include "cli/cli_context.h"

namespace gb {

// What the body tells the hooks.
struct ServiceReport {
  std::string backup_id;  // the backup made, if any
};

void RunAsService(CliContext& ctx, const std::string& command, int& exit_code,
                  const std::function<void(ServiceReport&)>& body);

}  // namespace gb
