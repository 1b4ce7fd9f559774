#include "core/entry.h"

#include <algorithm>

namespace gb {

const char* EntryTypeName(EntryType t) {
  switch (t) {
    case EntryType::kDeleted:
      return "deleted";
    case EntryType::kFile:
      return "file";
    case EntryType::kDir:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kHardlink:
      return "hardlink";
    case EntryType::kFifo:
      return "fifo";
    case EntryType::kCharDevice:
      return "chardev";
    case EntryType::kBlockDevice:
      return "blockdev";
  }
  return "?";
}

bool ParseEntryType(const std::string& s, EntryType* out) {
  for (auto t :
       {EntryType::kDeleted, EntryType::kFile, EntryType::kDir, EntryType::kSymlink,
        EntryType::kHardlink, EntryType::kFifo, EntryType::kCharDevice, EntryType::kBlockDevice}) {
    if (s == EntryTypeName(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

std::string PathKey(const std::string& path) {
  std::string k = path;
  std::replace(k.begin(), k.end(), '/', '\0');
  return k;
}

std::string KeyPath(const std::string& key) {
  std::string p = key;
  std::replace(p.begin(), p.end(), '\0', '/');
  return p;
}

bool IsSafeRelativePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view seg(path.data() + start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (seg.find('\0') != std::string_view::npos) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace gb
