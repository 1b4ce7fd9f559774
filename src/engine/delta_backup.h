// The backup half of rsync deltas. In an incremental, a changed regular file
// of at least delta_min_size whose previous version is stored in the same set
// (and whose signature the SignatureStore holds for exactly that version) is
// stored as the member ".glacier-backup/delta/<path>" in the rdiff delta
// format, when the delta is less than half the file. Every stored file of at
// least delta_min_size (sparse files excepted: always whole) leaves its
// signature for the next incremental.
// The archive lists its deltas in the member ".glacier-backup/deltas.json",
// written after the data; the catalog in its deltas table.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "archive/tar_writer.h"
#include "catalog/catalog.h"
#include "catalog/delta_catalog.h"
#include "core/entry.h"
#include "engine/config.h"
#include "engine/delta_signatures.h"

namespace gb {

inline constexpr const char* kDeltaMemberPrefix = ".glacier-backup/delta/";
inline constexpr const char* kDeltasMember = ".glacier-backup/deltas.json";
inline constexpr const char* kDeltasFormat = "glacier-backup-deltas/1";

// One line of the deltas member: the record (set_id and seq left 0: the
// archive's own) and the size of the rebuilt file.
struct DeltaMemberRow {
  DeltaRecord record;
  uint64_t size = 0;
};
// Throws kCorruption naming the member when `text` is malformed.
std::vector<DeltaMemberRow> ParseDeltasMember(const std::string& text);

class DeltaBackup {
 public:
  explicit DeltaBackup(const Config& cfg);
  // Phase 2 starts: the backup (set_id, seq); `archives` names the set's
  // backups so far, by seq (the basis archives).
  void Start(int64_t set_id, int seq, std::vector<std::string> archives);

  // Phase 1: `before` (recorded at before_seq of this set) is the version a
  // changed path had at the previous backup point.
  void NotePrevious(const Entry& before, int before_seq);
  // Whether `e` is big enough to get a signature (and maybe a delta).
  bool Tracks(const Entry& e) const;

  // Stores `e` (open as `fd`, stat `st`) as a delta when it can: then writes
  // the member, fills e's metadata and hash, records its signature and returns
  // true. False means store it whole (also when it changed while read).
  bool TryStore(int fd, const std::string& abs, const struct stat& st, Entry* e, TarWriter& tar);
  // After `e` was stored whole with `signature` computed over the same bytes.
  void StoredWhole(const Entry& e, std::span<const uint8_t> signature);

  // Writes the deltas member (only when there are deltas) and the catalog rows.
  void Finish(TarWriter& tar, Catalog& catalog, FileTime now);
  uint64_t deltas() const { return records_.size(); }

 private:
  struct Previous {
    int seq;
    Digest hash;
  };
  const Config& cfg_;
  int64_t set_id_ = 0;
  int seq_ = 0;
  std::vector<std::string> archives_;
  SignatureStore store_;
  std::map<std::string, Previous> previous_;
  std::vector<DeltaMemberRow> records_;
  std::vector<uint8_t> buf_;
};

}  // namespace gb
