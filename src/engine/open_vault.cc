#include "engine/open_vault.h"

#include "vault/vault_factory.h"

namespace gb {

std::unique_ptr<Vault> OpenConfiguredVault(const Config& config, Progress& progress, Clock& clock,
                                           bool dry_run) {
  VaultOptions o;
  o.clock = &clock;
  o.upload_bytes_per_second = config.bandwidth_limit;
  o.download_bytes_per_second = config.bandwidth_limit;
  o.dry_run = dry_run;
  o.region = config.region;
  o.endpoint = config.endpoint;
  o.profile = config.profile;
  o.storage_class = config.storage_class;
  // Retry notices and one line per vault call, shown as notes (with -v).
  o.log = [&progress](const std::string& line) { progress.Notice("vault", line, false); };
  o.log_calls = true;
  return OpenVault(config.vault_url, o);
}

}  // namespace gb
