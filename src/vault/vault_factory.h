// OpenVault: the one place a vault URL becomes a backend and the wrappers are
// stacked on it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "vault/fleet_lease.h"
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
  // AWS backends (glacier://, s3://). Empty means the default: region from the
  // URL or the AWS settings, the AWS endpoint, the default credentials chain.
  std::string region, endpoint, profile;
  std::string storage_class;  // s3:// only; empty: DEEP_ARCHIVE
  std::string addressing;     // s3:// only: "auto" (empty), "path" or "virtual"
  // s3:// only (s3_namespace.h): the host whose folder under the prefix this
  // vault writes to and lists (empty: no folders), and whether listings show
  // every host's archives instead. Other backends keep hosts in one listing.
  std::string host;
  bool fleet_listing = false;
};

// Opens (does not create) the vault at `url`. Schemes:
//   file:///DIR   a local directory (file://~/DIR and file://relative/DIR work too)
//   glacier://REGION/VAULT  an Amazon S3 Glacier vault (see glacier_vault.h)
//   s3://BUCKET[/PREFIX]  objects in an S3 bucket (see s3_vault.h)
// The stack, outermost first: DryRunVault (dry_run), LoggingVault (log_calls),
// RetryingVault, BandwidthLimitedVault (a rate set), the backend. Throws
// kInvalidArgument for a malformed URL or an unknown scheme. Does no I/O: a
// missing vault shows up as kNotFound from the first call (Create() excepted).
std::unique_ptr<Vault> OpenVault(const std::string& url, const VaultOptions& options);

// The fleet lease of the vault at `url` (fleet_lease.h): s3:// has one;
// nullptr for backends without conditional writes. Does no I/O.
std::unique_ptr<FleetLease> OpenFleetLease(const std::string& url, const VaultOptions& options,
                                           FleetLeaseOptions lease);

}  // namespace gb
