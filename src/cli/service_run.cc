#include "cli/service_run.h"

#include <cstdio>
#include <new>

#include "cli/exit_codes.h"
#include "cli/run_log.h"
#include "core/clock.h"
#include "engine/health_ping.h"
#include "engine/hooks.h"
#include "engine/service_metrics.h"

namespace gb {
namespace {

// A hook's output line: shown on stderr (stdout carries results) and logged.
void HookOutput(CliContext& ctx, RunLog& log, const std::string& line) {
  log.Line("hook: " + line);
  if (ctx.opts().quiet) return;
  ctx.progress().Done();
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace

void RunAsService(CliContext& ctx, const std::string& command, int& exit_code,
                  const std::function<void(ServiceReport&)>& body) {
  const Config& cfg = ctx.config();
  Clock& clock = SystemClock();
  const int64_t started = clock.NowNanos();
  RunLog log(cfg.state_dir);
  ctx.SetRunLog(&log);
  log.Line("glacier-backup " + command + " started");
  auto warn = [&](const std::string& what, const std::string& message) {
    ctx.progress().Notice(what, message, true);
  };
  if (!log.problem().empty()) warn("log", log.problem());
  HealthPing ping(cfg.ping_url);
  if (std::string p = ping.Start(); !p.empty()) warn("monitoring", p);

  HookContext hc{command, "", std::nullopt, log.path()};
  auto output = [&](const std::string& line) { HookOutput(ctx, log, line); };
  ServiceReport report;
  auto finish = [&](int code) {
    try {
      hc.backup_id = report.backup_id;
      hc.exit_code = code;
      std::string failed =
          RunHooks(cfg, code == 0 ? HookKind::kAfter : HookKind::kOnError, hc, output);
      if (!failed.empty()) warn("hooks", failed);
    } catch (const std::exception& e) {
      warn("hooks", e.what());
    }
    log.Line("glacier-backup " + command + " finished with exit code " + std::to_string(code));
    if (std::string p = ping.Finish(code, log.Tail()); !p.empty()) warn("monitoring", p);
    if (!cfg.textfile.empty()) {
      try {
        WriteMonitoringTextfile(cfg, {command, started, clock.NowNanos(), code}, ctx.progress(),
                                clock);
      } catch (const std::exception& e) {
        warn(cfg.textfile, std::string("metrics not written: ") + e.what());
      }
    }
    ctx.progress().Done();
    ctx.SetRunLog(nullptr);
  };

  std::string failed;
  try {
    failed = RunHooks(cfg, HookKind::kBefore, hc, output);
  } catch (const Error& e) {
    failed = std::string("before hook: ") + e.what();
  }
  if (!failed.empty()) {
    std::string message = failed + "; " + command + " did not run";
    log.Line("glacier-backup: " + message);
    ctx.progress().Done();
    std::fprintf(stderr, "glacier-backup: %s\n", message.c_str());
    exit_code = kExitHookFailed;
    finish(exit_code);
    ctx.Json(
        {{"error", {{"code", "hook_failed"}, {"message", message}}}, {"exit_code", exit_code}});
    return;
  }
  try {
    body(report);
  } catch (const Error& e) {
    log.Line("glacier-backup: " + std::string(e.what()) + ctx.VaultHint(e.code()));
    finish(ExitCodeFor(e.code()));
    throw;
  } catch (const std::bad_alloc&) {
    log.Line("glacier-backup: out of memory");
    finish(kExitCorrupt);
    throw;
  } catch (const std::exception& e) {
    log.Line(std::string("glacier-backup: unexpected error: ") + e.what());
    finish(kExitFailure);
    throw;
  }
  finish(exit_code);
}

}  // namespace gb
