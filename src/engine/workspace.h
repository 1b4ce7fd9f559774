// Where one configuration keeps its local state: the catalog and the lock in
// state_dir, archives in cache_dir. Both are created (0700) on first use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "engine/config.h"
#include "engine/progress.h"

namespace gb {

class Workspace {
 public:
  explicit Workspace(const Config& config);
  const Config& config() const { return config_; }
  Catalog& catalog() { return *catalog_; }
  // cache_dir/name; throws kCorruption unless name is a plain file name.
  std::string ArchivePath(const std::string& name) const;
  // Removes leftovers of interrupted runs from cache_dir: temp files, and
  // archives the catalog does not reference (written but never committed).
  // REQUIRES: the state lock is held.
  void CleanCache(Progress& progress);
  // Bytes of the catalog's archives present in cache_dir (what [backup] cache_limit bounds).
  uint64_t CachedArchiveBytes();

 private:
  Config config_;
  std::unique_ptr<Catalog> catalog_;
};

}  // namespace gb
