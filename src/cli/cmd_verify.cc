// glacier-backup verify [--read-data]
#include "cli/cli_context.h"
#include "cli/exit_codes.h"
#include "engine/state_lock.h"
#include "engine/verify.h"

namespace gb {

void AddVerifyCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  auto opts = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand("verify", "Check the cached archives against the catalog");
  cmd->add_flag("--read-data", opts->read_data,
                "Decrypt and decompress every archive and check every file's hash "
                "(needs the identity file)");
  cmd->callback([&ctx, &exit_code, opts] {
    const Config& cfg = ctx.config();
    Workspace ws(cfg);
    StateLock lock(cfg.state_dir, ctx.opts().lock_wait);
    VerifyResult r = RunVerify(ws, ctx.progress(), *opts);
    ctx.progress().Done();
    ctx.Say("verified " + std::to_string(r.archives) + " archive(s), " + HumanBytes(r.bytes) +
            (opts->read_data ? ", " + std::to_string(r.files) + " file contents" : "") + ": " +
            (r.problems ? std::to_string(r.problems) + " problem(s) (see warnings)" : "all good"));
    ctx.Json({{"archives", r.archives},
              {"files", r.files},
              {"bytes", r.bytes},
              {"problems", r.problems},
              {"corrupt", r.corrupt}});
    if (r.corrupt)
      exit_code = kExitCorrupt;
    else if (r.problems)
      exit_code = kExitNotFound;
  });
}

}  // namespace gb
