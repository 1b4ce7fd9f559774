#include "engine/other_host.h"

#include "catalog/vault_state.h"
#include "core/error.h"
#include "core/file.h"
#include "core/host_name.h"

namespace gb {
namespace {

constexpr const char* kOtherHostMeta = "other_host";  // meta: the host whose catalog this is
constexpr const char* kHostsDir = "hosts";

}  // namespace

void CheckHostOption(const std::string& host) {
  if (!IsSafeHostName(host))
    throw Error(Code::kInvalidArgument,
                "--host \"" + host +
                    "\": not a host name (1 to 63 letters, digits, '.', '_' or '-', not "
                    "starting with '.' or '-'); `glacier-backup status --fleet` lists the hosts");
}

bool IsOtherHost(const Config& own, const std::string& host) {
  return !host.empty() && host != own.host;
}

Config OtherHostConfig(const Config& own, const std::string& host) {
  CheckHostOption(host);
  Config c = own;
  c.host = host;
  c.state_dir = JoinPath(JoinPath(own.state_dir, kHostsDir), host);
  c.cache_dir = JoinPath(c.state_dir, "cache");
  return c;
}

void RequireRecoveredHost(const Config& other) {
  if (!PathExists(JoinPath(other.state_dir, Catalog::kFileName)))
    throw Error(Code::kNotFound, "no catalog of host " + other.host + " on this machine (" +
                                     other.state_dir + "): run `glacier-backup recover --host " +
                                     other.host + "` first");
}

void MarkOtherHostCatalog(Workspace& ws, const std::string& host) {
  VaultState(ws.catalog()).SetMeta(kOtherHostMeta, host);
}

std::optional<std::string> OtherHostOf(Workspace& ws) {
  return VaultState(ws.catalog()).GetMeta(kOtherHostMeta);
}

void RefuseOtherHostCatalog(Workspace& ws, const std::string& command) {
  if (auto host = OtherHostOf(ws))
    throw Error(Code::kInvalidArgument,
                "the catalog " + ws.catalog().path() + " is host " + *host +
                    "'s, recovered here to restore from (`recover --host " + *host +
                    "`): " + command + " never runs on it, so nothing of host " + *host +
                    "'s is uploaded or deleted from here; point [backup] state_dir at this "
                    "host's own state folder");
}

}  // namespace gb
