// The configured vault, with the wrappers the factory stacks (retry, bandwidth
// limit, logging, dry run). The one place the engine turns a Config into a Vault.
#pragma once

#include <memory>

#include "core/clock.h"
#include "engine/config.h"
#include "engine/progress.h"
#include "vault/vault.h"

namespace gb {

std::unique_ptr<Vault> OpenConfiguredVault(const Config& config, Progress& progress, Clock& clock,
                                           bool dry_run = false);

}  // namespace gb
