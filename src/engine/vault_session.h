// What every command that works on the vault for this catalog starts from: the
// workspace and its config, the vault and what it can do, the catalog's record of
// the vault, the price table in force, progress and the clock. The common base of
// Syncer, Recoverer and VaultVerifier.
#pragma once

#include "catalog/vault_state.h"
#include "core/clock.h"
#include "engine/prices.h"
#include "engine/progress.h"
#include "engine/workspace.h"
#include "vault/vault.h"

namespace gb {

class VaultSession {
 protected:
  VaultSession(Workspace& ws, Vault& vault, Progress& progress, Clock& clock)
      : ws_(ws),
        cfg_(ws.config()),
        vault_(vault),
        progress_(progress),
        clock_(clock),
        state_(ws.catalog()),
        caps_(vault.Capabilities()),
        prices_(PricesFor(cfg_)) {}

  Workspace& ws_;
  const Config& cfg_;
  Vault& vault_;
  Progress& progress_;
  Clock& clock_;
  VaultState state_;
  VaultCapabilities caps_;
  PriceTable prices_;
};

}  // namespace gb
