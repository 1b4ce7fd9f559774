// Reading one source file for a backup: opened without following symlinks or
// touching its atime, and read so that a file changing meanwhile is noticed.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "archive/tar_writer.h"
#include "core/entry.h"
#include "core/file.h"

namespace gb {

// Files up to this size are read whole (and re-read if they change meanwhile);
// larger ones are streamed.
inline constexpr size_t kSmallFile = 8 << 20;

Fd OpenForBackup(const std::string& path);

// How far ahead of a read large files are announced to the kernel.
inline constexpr uint64_t kReadahead = 8 << 20;

// Asks the kernel to start reading [offset, offset + bytes) of a file into the
// page cache without waiting for it: a hint, so failures are ignored.
void HintReadahead(int fd, uint64_t offset, uint64_t bytes);
void HintReadahead(const std::string& path, uint64_t offset, uint64_t bytes);

// Whether two stats of one file show the same version of its content.
bool SameVersion(const struct stat& a, const struct stat& b);
// The same for an entry as the walk recorded it (ApplyStat) and a later stat.
bool SameVersion(const Entry& seen, const struct stat& st);

// Copies what a backup records of a file from its stat.
void ApplyStat(const struct stat& st, Entry* e);

// The data regions of a sparse file, from SEEK_DATA / SEEK_HOLE.
SparseMap DataRegions(int fd, uint64_t size);

// One consistent read of a small file: its content and SHA-256, with *e's
// metadata from the stat that matched the content.
struct SmallFileRead {
  enum class Outcome {
    kRead,      // data and e->hash are set
    kLarge,     // it is (now) larger than kSmallFile: stream it instead
    kChanging,  // kept changing: data, e->hash and e->size are the last version
                // read, e->changed_while_read is set; see problem
    kFailed,    // cannot be read; see problem
  } outcome = Outcome::kFailed;
  std::vector<uint8_t> data;
  std::string problem;
};
// The content goes into `buffer` when its capacity suffices, so a caller that
// reads on another thread can allocate it on the thread that will free it
// (memory freed to another thread's malloc arena tends to stay there).
SmallFileRead ReadSmallFile(const std::string& abs, Entry* e, std::vector<uint8_t> buffer = {});

// The content hash of a file as backups record it (logical bytes; holes are
// zeros). Throws kIOError.
Digest HashFile(const std::string& path);

}  // namespace gb
