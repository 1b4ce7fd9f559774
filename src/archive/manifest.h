// The self-description inside every archive: a manifest member first (the
// backup point and every entry, deletions included) and a checksums member
// last (the content hash of every file whose data the archive holds). With
// both, an archive and its predecessors describe themselves without the catalog.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/entry.h"

namespace gb {

inline constexpr const char* kManifestMember = ".glacier-backup/manifest.json";
inline constexpr const char* kChecksumsMember = ".glacier-backup/checksums.json";
inline constexpr const char* kManifestFormat = "glacier-backup-manifest/1";

// The most of each member that is read into memory (recover --from-archives,
// verify): generous, yet well below TarReader::kMaxReadAll, so an archive that
// claims more is refused before memory runs out. A manifest line takes about
// 150-300 bytes, so 512 MiB holds some two million entries; a checksums line
// (path and hash of a file whose data the archive holds) takes about 100-200.
// Backup refuses to write an archive with either member larger than its cap.
inline constexpr uint64_t kMaxManifestBytes = uint64_t{512} << 20;
inline constexpr uint64_t kMaxChecksumsBytes = uint64_t{256} << 20;

struct BackupMeta {
  int64_t id = 0;
  std::string name;  // archive file name
  int64_t set_id = 0;
  int seq = 0;         // 0 = the set's full backup, 1.. = incrementals
  std::string parent;  // archive name of the previous backup in the set ("" for a full)
  int64_t time = 0;    // unix seconds
  std::string host;
  std::string tool;  // "glacier-backup 0.1.0"
};

// Manifest text is one JSON document with one entry per line, so it can be
// written and read as a stream.
std::string ManifestHead(const BackupMeta& meta);
std::string ManifestEntryLine(const Entry& e, bool first);
// One entry as JSON (also used by the catalog copy); the hash only when known.
nlohmann::json EntryToJson(const Entry& e);
Entry EntryFromJson(const nlohmann::json& j);  // kCorruption on bad or unsafe input
std::string ManifestTail();

// The manifest is written before any data is read, so what is learned while
// reading a file travels in its checksums line: that it kept changing while
// it was read, and the size of the version stored.
struct ChecksumMark {
  bool changed_while_read = false;
  uint64_t size = 0;
};

std::string ChecksumsHead();
std::string ChecksumLine(const std::string& path, const Digest& hash, bool first,
                         const ChecksumMark& mark = {});
std::string ChecksumsTail();

// Streaming parsers; throw kCorruption naming the member on malformed text.
BackupMeta ParseManifest(const std::string& text, const std::function<void(Entry&&)>& entry);
void ParseChecksums(
    const std::string& text,
    const std::function<void(const std::string&, const Digest&, const ChecksumMark&)>& file);

}  // namespace gb
