#include "vault/vault_factory.h"

#include "core/file.h"
#include "vault/bandwidth_limited_vault.h"
#include "vault/dry_run_vault.h"
#include "vault/file_vault.h"
#include "vault/glacier_vault.h"
#include "vault/logging_vault.h"
#include "vault/s3_fleet_lease.h"
#include "vault/s3_vault.h"

namespace gb {

namespace {

// `location` is the URL after "scheme://".
using BackendOpener = std::unique_ptr<Vault> (*)(const std::string& url,
                                                 const std::string& location,
                                                 const VaultOptions& options, Clock& clock);

std::unique_ptr<Vault> OpenFileVault(const std::string& url, const std::string& location,
                                     const VaultOptions&, Clock& clock) {
  if (location.empty()) {
    throw Error(Code::kInvalidArgument, "vault URL " + url + " names no directory (file:///DIR)");
  }
  return std::make_unique<FileVault>(ExpandUser(location), clock);
}

// A new backend is one line here (and its opener above or in its own file).
struct Backend {
  const char* scheme;
  BackendOpener open;
};
constexpr Backend kBackends[] = {
    {"file", OpenFileVault},
    {"glacier", OpenGlacierVault},
    {"s3", OpenS3Vault},
};

}  // namespace

std::unique_ptr<Vault> OpenVault(const std::string& url, const VaultOptions& options) {
  Clock& clock = options.clock ? *options.clock : SystemClock();
  auto sep = url.find("://");
  std::string scheme = sep == std::string::npos ? "" : url.substr(0, sep);
  std::unique_ptr<Vault> vault;
  std::string known;
  for (const auto& b : kBackends) {
    if (scheme == b.scheme) vault = b.open(url, url.substr(sep + 3), options, clock);
    known += std::string(known.empty() ? "" : ", ") + b.scheme + "://";
  }
  if (!vault) {
    throw Error(Code::kInvalidArgument,
                "unknown vault URL '" + url + "': it should start with one of " + known);
  }
  if (options.upload_bytes_per_second || options.download_bytes_per_second) {
    vault = std::make_unique<BandwidthLimitedVault>(std::move(vault), clock,
                                                    options.upload_bytes_per_second,
                                                    options.download_bytes_per_second);
  }
  vault = std::make_unique<RetryingVault>(std::move(vault), clock, options.retry, options.log);
  if (options.log_calls && options.log) {
    vault = std::make_unique<LoggingVault>(std::move(vault), clock, options.log);
  }
  if (options.dry_run) vault = std::make_unique<DryRunVault>(std::move(vault), options.log);
  return vault;
}

std::unique_ptr<FleetLease> OpenFleetLease(const std::string& url, const VaultOptions& options,
                                           FleetLeaseOptions lease) {
  Clock& clock = options.clock ? *options.clock : SystemClock();
  if (!url.starts_with("s3://")) return nullptr;
  return OpenS3FleetLease(url, url.substr(5), options, std::move(lease), clock);
}

}  // namespace gb
