#include "cli/host_option.h"

#include "engine/other_host.h"

namespace gb {

void AddHostOption(CLI::App& cmd, std::string& host) {
  cmd.add_option("--host", host,
                 "Read the catalog of this host, another one sharing the vault, recovered here "
                 "with `recover --host NAME` (kept apart from this host's own)");
}

Config CatalogConfig(CliContext& ctx, const std::string& host) {
  const Config& own = ctx.config();
  if (!host.empty()) CheckHostOption(host);
  if (!IsOtherHost(own, host)) return own;
  Config other = OtherHostConfig(own, host);
  RequireRecoveredHost(other);
  return other;
}

}  // namespace gb
