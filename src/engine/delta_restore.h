// The restore half of rsync deltas: files whose version at the restore point
// is a delta chain (a whole version, then one delta per later backup that
// changed it) are rebuilt through scratch files in the cache directory, one
// step per archive, each step checked against its recorded SHA-256; the
// last step streams into the target. Memory stays bounded for any file size.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "archive/disk_writer.h"
#include "archive/tar_reader.h"
#include "catalog/catalog.h"
#include "catalog/delta_catalog.h"
#include "core/file.h"

namespace gb {

class DeltaRestore {
 public:
  using Problem = std::function<void(const std::string& path, const std::string& err)>;
  using Restored = std::function<void(const Entry& e)>;

  DeltaRestore(Catalog& catalog, int64_t set_id, std::string scratch_dir);
  ~DeltaRestore();

  // Pass 1: `e`, recorded at `seq`, is wanted. True (and the archives of its
  // chain marked in `needed`, by seq) when it is rebuilt from a delta chain.
  bool Plan(const Entry& e, int seq, std::vector<bool>* needed);
  // Whether `path` is rebuilt here (its archive holds a delta, not the file).
  bool Handles(const std::string& path) const { return chains_.count(path) > 0; }

  // For each member of archive `seq` (named `archive`): consumes it when it is
  // a step of a chain and returns true. Problems are reported per file.
  bool Consume(int seq, const std::string& archive, const TarMember& m, TarReader& tar,
               DiskWriter& disk, const Problem& problem, const Restored& restored);
  // After the last archive: chains that did not complete.
  void ReportUnfinished(const Problem& problem);

 private:
  struct Chain {
    Entry entry;                     // the version to restore
    std::vector<DeltaRecord> steps;  // oldest first; steps[0].basis_seq holds the whole version
    size_t next = 0;                 // steps applied; SIZE_MAX once finished or failed
    std::string scratch;             // the version built so far
    bool started = false;
  };
  std::string ScratchPath();
  void Fail(Chain& c, const Problem& problem, const std::string& err);

  Catalog& catalog_;
  int64_t set_id_;
  bool any_;  // the set holds deltas at all
  std::string scratch_dir_;
  int counter_ = 0;
  std::map<std::string, Chain> chains_;
};

}  // namespace gb
