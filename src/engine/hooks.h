// [hooks]: commands run around an unattended command (backup, run, sync).
// Each hook is argv (no shell), runs with the environment below on top of
// ours, and is killed after [hooks] timeout seconds:
//   GLACIER_BACKUP_COMMAND    "backup", "run" or "sync"
//   GLACIER_BACKUP_HOOK       "before", "after" or "on_error"
//   GLACIER_BACKUP_ID         the backup made ("" when none, and in before hooks)
//   GLACIER_BACKUP_EXIT_CODE  the command's exit code ("" in before hooks)
//   GLACIER_BACKUP_LOG_FILE   the log of this run (see cli/run_log.h)
//   GLACIER_BACKUP_CONFIG     the config file
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/config.h"

namespace gb {

struct HookContext {
  std::string command;  // "backup", "run", "sync"
  std::string backup_id;
  std::optional<int> exit_code;
  std::string log_file;
};

enum class HookKind { kBefore, kAfter, kOnError };

// Runs the hooks of `kind` in order, passing each output line (stdout and
// stderr alike) to `output`. Stops at the first that fails and returns one
// line saying which and why, with the last lines it wrote on stderr; "" when
// all succeeded. Throws only kInvalidArgument (an unknown hook user never
// happens: hooks run as we do) or kIOError when no process can be started.
std::string RunHooks(const Config& cfg, HookKind kind, const HookContext& context,
                     const std::function<void(const std::string& line)>& output);

}  // namespace gb
