// Minimal, deterministic ustar headers for bundles: a tar of already
// compressed and encrypted files, produced on the fly so a set uploads from
// its cached archives without a second copy on disk. Sizes of 8 GiB and more
// use the base-256 size field that GNU tar and libarchive read.
#pragma once

#include <cstdint>
#include <string>

#include "core/stream.h"

namespace gb {

// A 512-byte header for a regular file. REQUIRES: name < 100 bytes, ASCII.
Bytes UstarFileHeader(const std::string& name, uint64_t size, int64_t mtime, uint32_t mode = 0600);
// Zero bytes that pad a member of `size` bytes to the 512-byte block size.
inline uint64_t UstarPadding(uint64_t size) { return (512 - size % 512) % 512; }
// The end-of-archive marker: two zero blocks.
inline constexpr uint64_t kUstarTrailer = 1024;

}  // namespace gb
