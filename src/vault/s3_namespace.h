// How hosts that share one s3://BUCKET/PREFIX keep apart. Keys under PREFIX/:
//   HOST/<id>      an archive of host HOST; its archive id is "HOST/<id>"
//   <id>           an archive written before hosts had folders (or by a vault
//                  opened without a host); its archive id is "<id>"
//   .fleet-lease   the lease hosts take before uploads that count against the
//                  fleet's cap (s3_fleet_lease.h); host names never start with '.'
// <id> is 32 lower-case hex digits. Anything else is not an archive of ours and
// is never listed, adopted or deleted.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gb {

// "<id>" or "HOST/<id>" with a safe host name (core/host_name.h).
bool IsS3ArchiveId(std::string_view id);

// The host folder of an archive id; empty for one stored directly under PREFIX.
// REQUIRES: IsS3ArchiveId(id).
std::string_view S3ArchiveHost(std::string_view id);

// The archive id of `relative_key` (a key with "PREFIX/" removed) when a
// listing shows it: with `fleet`, every host's archives and the folderless
// ones; otherwise the folderless ones and, when `host` is set, that host's.
std::optional<std::string> S3ListedArchiveId(std::string_view relative_key, const std::string& host,
                                             bool fleet);

}  // namespace gb
