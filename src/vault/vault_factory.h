// OpenVault: the one place a vault URL becomes a backend and the wrappers are
// stacked on it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "vault/retrying_vault.h"
#include "vault/vault.h"
#include "vault/vault_wrapper.h"

namespace gb {

struct VaultOptions {
  Clock* clock = nullptr;  // SystemClock() when null
  RetryOptions retry;
  uint64_t upload_bytes_per_second = 0;  // 0: unlimited
  uint64_t download_bytes_per_second = 0;
  bool dry_run = false;
  // Receives retry notices and dry-run actions, and with log_calls one line per
  // vault call. May be empty.
  VaultLog log;
  bool log_calls = false;
};

// Opens (does not create) the vault at `url`. Schemes:
//   file:///DIR   a local directory (file://~/DIR and file://relative/DIR work too)
// The stack, outermost first: DryRunVault (dry_run), LoggingVault (log_calls),
// RetryingVault, BandwidthLimitedVault (a rate set), the backend. Throws
// kInvalidArgument for a malformed URL or an unknown scheme. Does no I/O: a
// missing vault shows up as kNotFound from the first call (Create() excepted).
std::unique_ptr<Vault> OpenVault(const std::string& url, const VaultOptions& options);

}  // namespace gb
