// --host NAME on the commands that read a catalog (restore, snapshots, ls): the
// catalog of another host sharing the vault, recovered on this machine with
// `recover --host NAME` (see engine/other_host.h).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/cli_context.h"
#include "engine/config.h"

namespace gb {

void AddHostOption(CLI::App& cmd, std::string& host);

// The config whose catalog the command reads: this host's own when `host` is empty
// or this host's name, else the catalog recover --host rebuilt for it. Throws
// kInvalidArgument for a name that is not a host name, kNotFound (saying which
// recover to run) when that host's catalog was never recovered here.
Config CatalogConfig(CliContext& ctx, const std::string& host);

}  // namespace gb
