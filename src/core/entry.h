// One file-system entry as a backup records it. Shared by the walker, the
// archive manifest and the catalog.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "core/sha256.h"

namespace gb {

enum class EntryType : uint8_t {
  kDeleted = 0,  // the path existed at the previous backup point and is gone now
  kFile = 1,
  kDir = 2,
  kSymlink = 3,
  kHardlink = 4,  // another name for the file at `target` in the same backup
  kFifo = 5,
  kCharDevice = 6,
  kBlockDevice = 7,
};

const char* EntryTypeName(EntryType t);  // "file", "dir", ...
bool ParseEntryType(const std::string& s, EntryType* out);

// A file time as stat(2) gives it: seconds since the epoch (negative before 1970)
// and nanoseconds 0..999999999. Kept apart, so every year a file system holds fits
// (64-bit nanoseconds end in 2262).
struct FileTime {
  int64_t sec = 0;
  uint32_t nsec = 0;
  static FileTime Of(const struct timespec& ts) {
    return {static_cast<int64_t>(ts.tv_sec), static_cast<uint32_t>(ts.tv_nsec)};
  }
  bool operator==(const FileTime&) const = default;
};

struct Entry {
  std::string path;  // relative to "/", '/'-separated, no leading or trailing '/'
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;  // permission bits (07777)
  uint32_t uid = 0, gid = 0;
  std::string uname, gname;
  uint64_t size = 0;  // logical size of a regular file
  FileTime mtime, ctime;
  uint64_t dev = 0, ino = 0;
  uint32_t nlink = 1;
  std::string target;  // symlink target, or the path a hard link points to
  Digest hash{};       // SHA-256 of a regular file's logical content
  bool has_hash = false;
  bool sparse = false;

  // Beyond stat: empty for most files (see entry_extras.h for their encoding).
  uint64_t rdev = 0;  // kCharDevice / kBlockDevice: the device number
  // Extended attributes, sorted by name; POSIX ACLs are kept apart, below.
  std::vector<std::pair<std::string, std::string>> xattrs;
  // POSIX.1e ACLs in the text form of pax SCHILY.acl.access / SCHILY.acl.default
  // ("user::rw-,user:alice:r--:1000,..."); "" = none (the mode says it all).
  std::string acl_access, acl_default;
  std::string fflags;  // file flags (chattr) as libarchive names them, "" = none
  // A metadata-only entry: mode, owner, xattrs or ACLs changed, the content did
  // not; the data is the previous entry's (same hash), this archive holds none.
  bool content_unchanged = false;
  bool changed_while_read = false;  // kept changing; stored as it was read
};

// The catalog's sort key for a path: '/' replaced by '\0', so that byte order
// of keys equals a depth-first walk that visits children in byte order.
std::string PathKey(const std::string& path);
std::string KeyPath(const std::string& key);

// Rejects absolute paths, empty segments, "." and "..": the only paths that
// may ever reach an archive, the catalog or a restore target.
bool IsSafeRelativePath(const std::string& path);

}  // namespace gb
