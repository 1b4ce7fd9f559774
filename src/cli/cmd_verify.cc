// glacier-backup verify [--read-data] | verify --vault [--sample N]
#include "cli/cli_context.h"
#include "cli/exit_codes.h"
#include "core/clock.h"
#include "engine/open_vault.h"
#include "engine/state_lock.h"
#include "engine/vault_verify.h"
#include "engine/verify.h"

namespace gb {
namespace {

void VerifyVault(CliContext& ctx, const VaultVerifyOptions& opts, int& exit_code) {
  const Config& cfg = ctx.config();
  Workspace ws(cfg);
  StateLock lock(cfg.state_dir, ctx.opts().lock_wait);
  auto vault = OpenConfiguredVault(cfg, ctx.progress(), SystemClock());
  VaultVerifyResult r = RunVaultVerify(ws, *vault, ctx.progress(), SystemClock(), opts);
  ctx.progress().Done();
  std::string source = r.fresh_listing ? std::string("a fresh vault listing")
                       : r.inventory_date
                           ? "the vault inventory of " + FormatIsoUtc(*r.inventory_date) +
                                 (r.from_cache ? " (as cached: presence only)" : "")
                           : std::string("no vault inventory yet (run sync)");
  std::string line = "vault: " + std::to_string(r.archives) +
                     " archive(s) recorded, checked against " + source + ": " +
                     std::to_string(r.listed) + " listed as uploaded";
  if (r.not_yet_listed)
    line += ", " + std::to_string(r.not_yet_listed) + " not yet in an inventory";
  if (r.missing) line += ", " + std::to_string(r.missing) + " missing";
  if (r.mismatched) line += ", " + std::to_string(r.mismatched) + " with another size or tree hash";
  ctx.Say(line);
  if (opts.sample > 0) {
    // "All good" only about archives that were checked, and only when none is still awaited.
    bool all_good = !r.problems && r.complete() && !r.sampled.empty();
    ctx.Say("sample: " + std::to_string(r.sampled.size()) + " archive(s) retrieved (" +
            TierName(r.tier) + " tier, " + HumanBytes(r.sample_bytes) + ") and checked fully" +
            (all_good ? ": all good" : ""));
    if (!r.complete())
      ctx.Say("waiting for " + std::to_string(r.sample_waiting.size()) +
              " retrieval(s); run `glacier-backup verify --vault --sample " +
              std::to_string(opts.sample) + "` again later: it checks the same archives");
  }
  if (r.problems) ctx.Say(std::to_string(r.problems) + " problem(s) (see warnings)");
  nlohmann::json j = {{"complete", r.complete()},
                      {"fresh_listing", r.fresh_listing},
                      {"archives", r.archives},
                      {"listed", r.listed},
                      {"not_yet_listed", r.not_yet_listed},
                      {"missing", r.missing},
                      {"mismatched", r.mismatched},
                      {"sampled", r.sampled},
                      {"sample_waiting", r.sample_waiting},
                      {"sample_bytes", r.sample_bytes},
                      {"sample_cost_usd", r.sample_cost},
                      {"tier", TierName(r.tier)},
                      {"problems", r.problems},
                      {"corrupt", r.corrupt}};
  j["inventory_date"] =
      r.inventory_date ? nlohmann::json(FormatIsoUtc(*r.inventory_date)) : nlohmann::json(nullptr);
  ctx.Json(j);
  if (r.corrupt)
    exit_code = kExitCorrupt;
  else if (r.problems)
    exit_code = kExitNotFound;
  else if (!r.complete())
    exit_code = kExitPending;
}

}  // namespace

void AddVerifyCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  auto opts = std::make_shared<VerifyOptions>();
  auto vault = std::make_shared<bool>(false);
  auto vopts = std::make_shared<VaultVerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Check the cached archives against the catalog (--vault: the vault's)");
  AddAllowUnsignedFlag(*cmd, ctx);
  cmd->add_flag("--read-data", opts->read_data,
                "Decrypt and decompress every archive and check every file's hash "
                "(needs the identity file)");
  cmd->add_flag("--vault", *vault,
                "Check the catalog against the vault's inventory instead (retrieves nothing)");
  cmd->add_option("--sample", vopts->sample,
                  "With --vault: also retrieve N random archives (cheapest tier) and check them "
                  "fully")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&ctx, &exit_code, opts, vault, vopts] {
    if (vopts->sample > 0 && !*vault)
      throw Error(Code::kInvalidArgument, "--sample checks archives in the vault: add --vault");
    if (*vault) return VerifyVault(ctx, *vopts, exit_code);
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
