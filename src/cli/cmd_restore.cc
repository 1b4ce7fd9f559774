// glacier-backup restore [--at WHEN] [--to DIR] [--overwrite] [PATH...]
#include "cli/cli_context.h"
#include "cli/exit_codes.h"
#include "engine/point.h"
#include "engine/restore.h"
#include "engine/state_lock.h"

namespace gb {

void AddRestoreCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  auto opts = std::make_shared<RestoreOptions>();
  CLI::App* cmd = app.add_subcommand("restore", "Restore the tree as it was at a backup point");
  cmd->add_option("--at", opts->at, "Backup point: latest (default), an id, or a time");
  cmd->add_option("--to", opts->target_dir,
                  "Directory to restore into (default ./glacier-restore-<id>)");
  cmd->add_flag("--overwrite", opts->overwrite, "Replace files that already exist");
  cmd->add_option("paths", opts->paths, "Only these paths (as backed up, e.g. /home/me/docs)");
  cmd->callback([&ctx, &exit_code, opts] {
    const Config& cfg = ctx.config();
    Workspace ws(cfg);
    StateLock lock(cfg.state_dir, ctx.opts().lock_wait);
    RestoreResult r = RunRestore(ws, ctx.progress(), *opts);
    ctx.progress().Done();
    ctx.Say("restored backup " + BackupId(r.point) + " into " + r.target_dir + ": " +
            std::to_string(r.files) + " files (" + HumanBytes(r.bytes) + "), " +
            std::to_string(r.dirs) + " directories, " + std::to_string(r.symlinks) +
            " symlinks, " + std::to_string(r.hardlinks) + " hard links; every file's hash checked");
    if (r.existing)
      ctx.Say(std::to_string(r.existing) + " existing file(s) left alone (use --overwrite)");
    if (r.failed) ctx.Say(std::to_string(r.failed) + " file(s) could not be restored (see warnings)");
    if (r.failed || r.existing) exit_code = kExitPartial;
    ctx.Json({{"id", BackupId(r.point)},
              {"target", r.target_dir},
              {"files", r.files},
              {"bytes", r.bytes},
              {"dirs", r.dirs},
              {"symlinks", r.symlinks},
              {"hardlinks", r.hardlinks},
              {"existing", r.existing},
              {"failed", r.failed},
              {"archives", r.archives_read}});
  });
}

}  // namespace gb
