#include "engine/open_vault.h"

#include <unistd.h>

#include <algorithm>
#include <random>

#include "core/hex.h"
#include "vault/vault_factory.h"

namespace gb {
namespace {

VaultOptions OptionsFor(const Config& config, Clock& clock) {
  VaultOptions o;
  o.clock = &clock;
  o.region = config.region;
  o.endpoint = config.endpoint;
  o.profile = config.profile;
  o.storage_class = config.storage_class;
  o.host = config.host;
  return o;
}

}  // namespace

std::unique_ptr<Vault> OpenConfiguredVault(const Config& config, Progress& progress, Clock& clock,
                                           bool dry_run, VaultScope scope) {
  VaultOptions o = OptionsFor(config, clock);
  o.upload_bytes_per_second = config.bandwidth_limit;
  o.download_bytes_per_second = config.bandwidth_limit;
  o.dry_run = dry_run;
  o.fleet_listing = scope == VaultScope::kFleet;
  // Retry notices and one line per vault call, shown as notes (with -v).
  o.log = [&progress](const std::string& line) { progress.Notice("vault", line, false); };
  o.log_calls = true;
  return OpenVault(config.vault_url, o);
}

std::unique_ptr<FleetLease> OpenConfiguredFleetLease(const Config& config, Clock& clock) {
  std::random_device rd;
  Bytes token(8);
  for (auto& b : token) b = static_cast<uint8_t>(rd());
  FleetLeaseOptions lease;
  lease.host = config.host;
  lease.run_id = Hex(token);
  lease.pid = ::getpid();
  lease.lease_seconds = config.fleet_lease_seconds;
  // Long enough for a dead holder's lease to expire.
  lease.wait_seconds = config.fleet_lease_seconds + 5;
  // Waiting hosts look again a few times a second for a short lease, every 5 s
  // at most (a GET costs little).
  lease.poll_millis = std::clamp(config.fleet_lease_seconds * 1000 / 120, 100, 5000);
  return OpenFleetLease(config.vault_url, OptionsFor(config, clock), lease);
}

}  // namespace gb
