// The configured vault, with the wrappers the factory stacks (retry, bandwidth
// limit, logging, dry run). The one place the engine turns a Config into a Vault.
#pragma once

#include <memory>

#include "core/clock.h"
#include "engine/config.h"
#include "engine/progress.h"
#include "vault/fleet_lease.h"
#include "vault/vault.h"

namespace gb {

// What listings of the vault show. s3:// keeps each host's archives in a folder
// of its own (vault/s3_namespace.h): kHost lists this host's ([backup] host)
// and those stored before hosts had folders, kFleet every host's. Other
// backends list every host's either way (descriptions tell hosts apart).
enum class VaultScope { kHost, kFleet };

std::unique_ptr<Vault> OpenConfiguredVault(const Config& config, Progress& progress, Clock& clock,
                                           bool dry_run = false,
                                           VaultScope scope = VaultScope::kHost);

// The configured vault's fleet lease ([fleet] lease_seconds), held in this
// host's name for one run; nullptr where the backend has none (the fleet cap is
// then advisory).
std::unique_ptr<FleetLease> OpenConfiguredFleetLease(const Config& config, Clock& clock);

}  // namespace gb
