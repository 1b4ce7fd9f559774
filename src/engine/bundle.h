// What sync uploads. A bundle is one complete set as a plain tar: first an
// encrypted copy of the set's catalog rows, then the set's archives in order.
// It is produced on the fly from the cache (no second copy on disk) and its
// bytes are the same on every attempt, so an interrupted upload can resume.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/concat_source.h"
#include "engine/workspace.h"

namespace gb {

inline constexpr const char* kDescriptionTool = "glacier-backup";
inline constexpr int kDescriptionFormat = 1;

struct UploadItem {
  int64_t set_id = 0;
  std::string backup_name;  // empty: a whole-set bundle
  std::unique_ptr<ConcatSource> source;
  uint64_t catalog_offset = 0, catalog_length = 0;  // bundles only
  int64_t first_time = 0, last_time = 0;
  int backups = 0;
};

// The durable catalog copy a bundle carries; written once per set and kept
// until the set is uploaded, so retries send identical bytes.
std::string CatalogCopyPath(const Workspace& ws, int64_t set_id);

// REQUIRES: the set is complete and its archives are in the cache.
UploadItem PrepareBundle(Workspace& ws, int64_t set_id);
// A single backup archive (upload = "each").
UploadItem PrepareSingle(Workspace& ws, const BackupRecord& backup);

// The archive description: short JSON, printable ASCII, at most 1024 bytes,
// enough to rebuild the catalog's view of the vault from an inventory alone.
std::string DescribeUpload(const UploadItem& item, const std::string& host,
                           const std::string& token);

// What a description says, when it is one of ours.
struct ParsedDescription {
  std::string kind;  // "bundle" | "archive"
  std::string host, token, backup_name;
  int64_t set_id = 0;
  int64_t first_time = 0, last_time = 0;
  std::optional<uint64_t> catalog_offset, catalog_length;
};
std::optional<ParsedDescription> ParseDescription(const std::string& description);

}  // namespace gb
