// Reads the extended metadata of walked entries (xattrs, POSIX ACLs, file
// flags: what DiskMetadataReader reads) on a few threads while the walk goes
// on, and hands the entries back in walk order. A full backup stores every
// entry, so it reads this for all of them; one file at a time, the reads are a
// large part of a walk over many small files.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/entry.h"
#include "engine/ordered_pool.h"

namespace gb {

class MetadataReadAhead {
 public:
  struct Walked {
    Entry entry;                   // with its extended metadata, as far as it could be read
    bool subtree_unknown = false;  // as the walker said
    bool above_roots = false;      // as the walker said
    std::string problem;           // why some or all of it could not be read; empty if none
  };
  // Called on the thread that calls Add and Finish, in the order of Add.
  using Done = std::function<void(Walked&)>;

  MetadataReadAhead(int threads, Done done);

  // Queues an entry. Entries walked earlier may be handed back meanwhile.
  void Add(const Entry& e, bool subtree_unknown, bool above_roots);
  // Hands back every entry queued. Call before the pool is destroyed, unless
  // something already threw.
  void Finish();

 private:
  using Batch = std::vector<Walked>;
  void Submit();

  Done done_;
  std::shared_ptr<Batch> batch_;
  OrderedPool pool_;
};

}  // namespace gb
