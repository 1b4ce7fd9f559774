#include "vault/s3_namespace.h"

#include <algorithm>

#include "core/host_name.h"

namespace gb {
namespace {

constexpr size_t kIdLength = 32;

bool IsBareId(std::string_view id) {
  return id.size() == kIdLength && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

bool IsS3ArchiveId(std::string_view id) {
  size_t slash = id.find('/');
  if (slash == std::string_view::npos) return IsBareId(id);
  return IsSafeHostName(id.substr(0, slash)) && IsBareId(id.substr(slash + 1));
}

std::string_view S3ArchiveHost(std::string_view id) {
  size_t slash = id.find('/');
  return slash == std::string_view::npos ? std::string_view() : id.substr(0, slash);
}

std::optional<std::string> S3ListedArchiveId(std::string_view relative_key, const std::string& host,
                                             bool fleet) {
  if (!IsS3ArchiveId(relative_key)) return std::nullopt;
  std::string_view owner = S3ArchiveHost(relative_key);
  if (!fleet && !owner.empty() && owner != host) return std::nullopt;
  return std::string(relative_key);
}

}  // namespace gb
