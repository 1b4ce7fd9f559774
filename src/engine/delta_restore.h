// The restore half of rsync deltas: files whose version at the restore point
// is a delta chain (a whole version, then one delta per step) are rebuilt in
// one pass. As the archives are read, the whole version and each delta of a
// chain are kept in scratch files in the cache directory; once the member of
// a version a path is restored from has arrived, the chain's deltas are
// composed (archive/rsync_delta_chain.h) and the file is written once,
// reading the base and the deltas, its SHA-256 checked against the recorded
// one. The versions in between are never built, so that one check covers the
// whole chain (the whole version's own hash is checked when it arrives).
// When only one path needs a chain and its deltas leave the base's bytes
// where they are (pages rewritten in place, growth, shrinking), the base's
// scratch file is patched instead, checked, and linked into the target: the
// file is then written once in all (copied as above when the cache is on
// another file system).
// A step's basis may be another path's version (a rename, a move or a copy
// stored by reference), so chains share versions: each scratch file is kept
// while later steps need it, and every path restored from a version
// (intermediate ones included) is written from its own composition. Memory
// stays bounded for any file size (O(commands of the deltas)).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "archive/disk_writer.h"
#include "archive/rsync_delta_chain.h"
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

  // Pass 1: `e`, whose data backup `seq` holds, is wanted. True (and the
  // archives of its chain marked in `needed`, by seq) when it is rebuilt from
  // a delta chain. Throws kCorruption for a catalog whose deltas refer forward.
  bool Plan(const Entry& e, int seq, std::vector<bool>* needed);
  // Whether `path` is rebuilt here (its archive holds a delta, not the file).
  bool Handles(const std::string& path) const { return dests_.count(path) > 0; }

  enum class Use {
    kNo,        // no step of a chain: the caller reads the member
    kConsumed,  // read here
    kKept,      // read here into the file kept(), whose bytes the caller reads instead
  };
  // Whether Consume reads member `m` of archive `seq` (a step of a chain)
  // rather than returning kNo.
  bool Wants(int seq, const TarMember& m) const;
  // For each member of archive `seq` (named `archive`), in order. Problems are
  // reported per file.
  Use Consume(int seq, const std::string& archive, const TarMember& m, TarReader& tar,
              DiskWriter& disk, const Problem& problem, const Restored& restored);
  const std::string& kept() const { return kept_; }
  // After the last archive: paths whose chain did not complete.
  void ReportUnfinished(const Problem& problem);

 private:
  using Key = std::pair<int, std::string>;  // (seq, path) of one version
  struct Version {
    std::optional<DeltaRecord> delta;  // none: stored whole in archive seq
    Digest hash{};                     // of the content
    std::optional<Key> basis;          // with a delta
    int waiting = 0;                   // versions whose member has not been dealt with
                                       // that are built on this one
    std::vector<Entry> dests;          // paths restored from it
    // kArrived: its member is in `scratch` (a whole version checked against
    // its hash; a delta as stored).
    enum class State { kWaiting, kArrived, kFailed } state = State::kWaiting;
    std::string scratch;  // its content or its delta, while versions still need it
    uint64_t size = 0;    // of `scratch`
    std::string archive;  // the archive its member came from
  };
  Version& Ensure(int seq, const std::string& path, const Digest& hash, std::vector<bool>* needed);
  std::string ScratchPath();
  void Drop(Version& v);     // removes its scratch file
  void Release(Version& v);  // dealt with and needed by no later version
  void Fail(Version& v, const Problem& problem, const std::string& err);
  // Composes the chain up to `v` (arrived, like every version below it) and
  // writes every path restored from it; problems are reported per path.
  void WriteDests(Version& v, DiskWriter& disk, const Problem& problem, const Restored& restored);
  // Whether v's one path can be written by patching the base's scratch file
  // (`steps`: v down to the base) and moving it into place: nothing else
  // needs the base or the steps in between, and the base stays in place.
  bool InPlace(const Version& v, const std::vector<const Version*>& steps,
               const RsyncDeltaChain& chain) const;

  Catalog& catalog_;
  int64_t set_id_;
  bool any_;  // the set holds deltas at all
  DeltaLookup deltas_;
  std::string scratch_dir_;
  int counter_ = 0;
  std::map<Key, Version> versions_;
  std::set<std::string> dests_;
  std::string kept_;
};

}  // namespace gb
