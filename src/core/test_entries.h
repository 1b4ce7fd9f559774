// Entries as tests make them (test-only; not part of the library).
#pragma once

#include <cstdint>
#include <string>

#include "core/entry.h"

namespace gb::test {

// A regular file of `size` bytes, mode 0644.
inline Entry FileEntry(const std::string& path, uint64_t size = 1) {
  Entry e;
  e.path = path;
  e.type = EntryType::kFile;
  e.mode = 0644;
  e.size = size;
  return e;
}

// A directory, mode 0755.
inline Entry DirEntry(const std::string& path) {
  Entry e;
  e.path = path;
  e.type = EntryType::kDir;
  e.mode = 0755;
  return e;
}

// A symlink to `target`.
inline Entry SymlinkEntry(const std::string& path, const std::string& target) {
  Entry e;
  e.path = path;
  e.type = EntryType::kSymlink;
  e.mode = 0777;
  e.target = target;
  return e;
}

}  // namespace gb::test
