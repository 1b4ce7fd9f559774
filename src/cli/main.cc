// glacier-backup: encrypted full and incremental backups for cold storage.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <clocale>
#include <cstdio>
#include <new>

#include "cli/cli_context.h"
#include "cli/exit_codes.h"
#include "core/error.h"

#ifndef GB_VERSION
#define GB_VERSION "0.1.0"
#endif

int main(int argc, char** argv) {
  std::setlocale(LC_ALL, "C.UTF-8");
  // Everything the tool creates (catalog, staging, cache, state, keys) is its
  // owner's alone; restored files get their recorded modes explicitly.
  ::umask(077);
  gb::GlobalOptions g;
  CLI::App app{"glacier-backup " GB_VERSION
               " - encrypted full and incremental backups for cold storage"};
  app.set_version_flag("--version", "glacier-backup " GB_VERSION);
  app.require_subcommand(1);
  // Global options are accepted after the subcommand too (`run -q`, `snapshots --json`):
  // subcommands inherit fallthrough and hand options they do not know to the app.
  app.fallthrough();
  app.add_option("--config", g.config_path,
                 "Config file (default ~/.config/glacier-backup/config.toml)");
  app.add_flag("--json", g.json, "Print the result as JSON on stdout");
  app.add_flag("-q,--quiet", g.quiet, "Print only errors and warnings");
  app.add_flag("-v,--verbose", g.verbose, "Print more detail");
  app.add_option("--profile", g.profile, "AWS profile for cloud vaults");
  app.add_option("--wait-lock", g.lock_wait,
                 "Seconds to wait when another run holds the lock (default 0)");

  // Inherited by the subcommands added next (the app's own footer is set after them).
  app.footer(
      "Global options (--config, --json, -q, -v, --profile, --wait-lock) go before or after the "
      "command; `glacier-backup --help` lists them and the exit codes.");
  gb::CliContext ctx(g);
  int exit_code = gb::kExitOk;
  gb::AddInitCommand(app, ctx, exit_code);
  gb::AddBackupCommand(app, ctx, exit_code);
  gb::AddSnapshotsCommand(app, ctx, exit_code);
  gb::AddLsCommand(app, ctx, exit_code);
  gb::AddRestoreCommand(app, ctx, exit_code);
  gb::AddVerifyCommand(app, ctx, exit_code);
  gb::AddSyncCommand(app, ctx, exit_code);
  gb::AddRunCommand(app, ctx, exit_code);
  gb::AddStatusCommand(app, ctx, exit_code);
  gb::AddVaultCommand(app, ctx, exit_code);
  gb::AddRecoverCommand(app, ctx, exit_code);
  gb::AddDocsCommands(app, ctx, exit_code);
  // The table is printed once, by the main --help (and the man page).
  app.footer(gb::kExitCodeHelp);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : gb::kExitUsage;
  } catch (const gb::Error& e) {
    ctx.progress().Done();
    std::string message = e.what() + ctx.VaultHint(e.code());
    std::fprintf(stderr, "glacier-backup: %s\n", message.c_str());
    int code = gb::ExitCodeFor(e.code());
    // What the command did before it failed (ResultOnError), with the error.
    nlohmann::json j = ctx.ResultOnError();
    j["error"] = {{"code", gb::CodeName(e.code())}, {"message", message}};
    j["exit_code"] = code;
    ctx.Json(j);
    return code;
  } catch (const std::bad_alloc&) {
    // Only data that claims more than it holds asks for this much: a damaged or forged input.
    ctx.progress().Done();
    std::fprintf(stderr,
                 "glacier-backup: out of memory reading data that claims to be larger than it is "
                 "(a damaged or forged archive or catalog copy?)\n");
    return gb::kExitCorrupt;
  } catch (const std::exception& e) {
    ctx.progress().Done();
    std::fprintf(stderr, "glacier-backup: unexpected error: %s\n", e.what());
    ctx.Json({{"error", {{"code", "unexpected"}, {"message", e.what()}}},
              {"exit_code", gb::kExitFailure}});
    return gb::kExitFailure;
  }
  return exit_code;
}
