// The backup half of rsync deltas. A changed or new regular file of at least
// delta_min_size is stored as the member ".glacier-backup/delta/<path>" in the
// rdiff delta format, when the delta is less than half the file, against a
// basis stored in the same set whose signature the SignatureStore holds for
// exactly that version. The basis is, best first: the same path's previous
// version (an edit); the version of a path that disappeared in the same walk
// with the same device and inode (a rename or move, maybe edited too); or a
// file of the same size stored in the set, this backup included (a copy).
// For an unchanged rename or copy the delta is a few bytes: the file is stored
// by reference to content already in the set, checked by its SHA-256 on
// restore. Bases stay in the set, so whole sets can still be pruned.
// Every stored file of at least delta_min_size (sparse files excepted: always
// whole) leaves its signature for the next incremental.
// The archive lists its deltas in the member ".glacier-backup/deltas.json",
// written after the data; the catalog in its deltas table.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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
// The most of the deltas member a reader takes into memory. A line takes
// under 9 KiB even with the longest paths, and a delta is made only for a file
// of at least delta_min_size: a backup that would pass it stores the rest whole.
inline constexpr uint64_t kMaxDeltasBytes = uint64_t{64} << 20;

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
  // backups by seq, this one included (the basis archives).
  void Start(int64_t set_id, int seq, std::vector<std::string> archives);

  // Phase 1, for the entries of the previous backup point (`data_seq`: the
  // backup of this set that holds the entry's data):
  // every one (a possible basis for a copy)...
  void NoteKnown(const Entry& before, int data_seq);
  // ...a path that changed (its previous version)...
  void NotePrevious(const Entry& before, int data_seq);
  // ...and a path that disappeared (renamed or moved, maybe).
  void NoteGone(const Entry& before, int data_seq);
  // Whether `e` is big enough to get a signature (and maybe a delta).
  bool Tracks(const Entry& e) const;

  // Stores `e` (open as `fd`, stat `st`) as a delta when it can: then writes
  // the member, fills e's metadata and hash, records its signature and returns
  // true. False means store it whole (also when it changed while read or
  // could not be read). Throws only for the tool's own files: a scratch file,
  // a signature, the archive.
  bool TryStore(int fd, const std::string& abs, const struct stat& st, Entry* e, TarWriter& tar);
  // The same for bytes that cannot change while read (a command's spooled
  // output, `what` in errors): `e` already holds their size and hash.
  bool TryStoreSpooled(int fd, const std::string& what, Entry* e, TarWriter& tar);
  // After `e` was stored whole with `signature` computed over the same bytes.
  void StoredWhole(const Entry& e, std::span<const uint8_t> signature);

  // Writes the deltas member (only when there are deltas) and the catalog rows.
  void Finish(TarWriter& tar, Catalog& catalog, FileTime now);
  uint64_t deltas() const { return records_.size(); }

 private:
  struct Version {
    std::string path;
    int seq;
    Digest hash;
  };
  // A path that disappeared in this walk, as it was last stored.
  struct Gone {
    Version version;
    uint64_t size;
    FileTime mtime;
  };
  // The first candidate basis of `e` whose signature the store holds;
  // `speculative`: a guess (a file of the same size, or one that had e's
  // inode but not its size and mtime) kept only if its delta stays small.
  std::optional<Bytes> FindBasis(const Entry& e, Version* basis, bool* speculative);
  // TryStore's work once `now` (e's metadata as it will be recorded) is known to
  // be tracked; `unchanged` says, after the read, whether the source stayed still.
  bool StoreAsDelta(int fd, const std::string& what, const Entry& now, Entry* e, TarWriter& tar,
                    const std::function<bool()>& unchanged);
  void Known(const std::string& path, int seq, const Entry& e);
  const Config& cfg_;
  int64_t set_id_ = 0;
  int seq_ = 0;
  std::vector<std::string> archives_;
  SignatureStore store_;
  std::map<std::string, Version> previous_;             // by path
  std::map<std::pair<uint64_t, uint64_t>, Gone> gone_;  // by (dev, inode)
  std::multimap<uint64_t, Version> by_size_;            // by size
  // The deltas member's line for `row`, this backup's basis archives known.
  std::string MemberLine(const DeltaMemberRow& row, bool first) const;
  std::vector<DeltaMemberRow> records_;
  uint64_t member_bytes_ = 0;            // of the lines of records_
  std::vector<uint8_t> buf_, side_buf_;  // TryStore's chunks, in turn
};

}  // namespace gb
