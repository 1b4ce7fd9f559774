// What sync uploads. A bundle is one complete set as a plain tar: first an
// encrypted copy of the set's catalog rows, then the set's archives in order.
// A signed bundle (description format 2) has each file's minisign signature
// as the member right after it (see archive_signature.h); format 1 bundles,
// written before signatures or by a host without a signing key, have none.
// It is produced on the fly from the cache (no second copy on disk) and its
// bytes are the same on every attempt, so an interrupted upload can resume.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "catalog/vault_state.h"
#include "core/concat_source.h"
#include "engine/workspace.h"
#include "vault/vault.h"

namespace gb {

inline constexpr const char* kDescriptionTool = "glacier-backup";
inline constexpr int kDescriptionFormat = 1;        // unsigned bundles and archives
inline constexpr int kSignedDescriptionFormat = 2;  // signature members follow each file

struct UploadItem {
  int64_t set_id = 0;
  std::string backup_name;  // empty: a whole-set bundle
  std::unique_ptr<ConcatSource> source;
  uint64_t catalog_offset = 0, catalog_length = 0;  // bundles only
  int64_t first_time = 0, last_time = 0;
  int backups = 0;
  // Each file is followed by its signature: in a bundle as a member, after a
  // single archive as kMaxSignatureSize bytes (the text padded with NULs).
  bool is_signed = false;
};

// The durable catalog copy a bundle carries; written once per set and kept
// until the set is uploaded, so retries send identical bytes.
std::string CatalogCopyPath(const Workspace& ws, int64_t set_id);

// REQUIRES: the set is complete and its archives are in the cache.
// With a signing key the bundle is signed: signatures missing from the cache
// (archives written before signatures) are made after checking each archive
// against the SHA-256 the catalog recorded, and every signature is checked
// against trusted_signers before a byte is sent (kCorruption when one fails).
UploadItem PrepareBundle(Workspace& ws, int64_t set_id);
// A single backup archive (upload = "each"), followed by its signature when
// there is a signing key (checked and made like PrepareBundle's).
UploadItem PrepareSingle(Workspace& ws, const BackupRecord& backup);

// The archive description: short JSON, printable ASCII, at most 1024 bytes,
// enough to rebuild the catalog's view of the vault from an inventory alone.
std::string DescribeUpload(const UploadItem& item, const std::string& host,
                           const std::string& token);

// What a description says, when it is one of ours.
struct ParsedDescription {
  int format = kDescriptionFormat;  // kSignedDescriptionFormat: signature members
  std::string kind;                 // "bundle" | "archive"
  std::string host, token, backup_name;
  int64_t set_id = 0;
  int64_t first_time = 0, last_time = 0;
  std::optional<uint64_t> catalog_offset, catalog_length;
};
std::optional<ParsedDescription> ParseDescription(const std::string& description);

// The inventory cache's row for an archive an inventory listed on `date` that this
// catalog did not know: origin "upstream", with what its description says when it
// is one of ours, and a creation time the listing can be trusted with.
// `description`: ParseDescription(listed.description), which callers parse
// once for their own use too.
VaultArchive UpstreamArchive(const ArchiveInfo& listed,
                             const std::optional<ParsedDescription>& description, int64_t date);

// The creation time a listing of `date` claims, if plausible: not before
// 2006 (no storage service held archives then) nor after the listing. Any
// other claim (a lying server, an unparsable date) reads as `date`, which
// makes the archive look young: it is never pruned early because of it.
int64_t PlausibleCreationTime(int64_t claimed, int64_t date);

}  // namespace gb
