// Walks the backup sources in catalog key order (see PathKey): depth first,
// children in byte order, so the walk merges against the catalog's sorted
// listing without a per-file query. Memory is bounded by the sibling lists
// along the current path, never by the size of the tree.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/entry.h"
#include "engine/selector.h"

namespace gb {

class Walker {
 public:
  // Called for entries that are skipped (sockets) or that cannot be examined
  // (unreadable directory, vanished file).
  using NoticeFn =
      std::function<void(const std::string& abs_path, const std::string& what, bool is_problem)>;

  // REQUIRES: every root is absolute. Throws kInvalidArgument naming a root
  // that does not exist.
  Walker(const Selector& selector, NoticeFn notice);

  // Produces the next entry (metadata from lstat; no content hash, no xattrs
  // or ACLs: the backup reads those only where it needs them). When the
  // entry is a directory whose contents could not be listed, *subtree_unknown
  // is set: its previous contents must be kept, not taken as deleted.
  bool Next(Entry* e, bool* subtree_unknown);

  // Whether the entry Next() produced last is a directory above the roots
  // (recorded so a restore recreates the path, but not itself backed up).
  bool AboveRoots() const { return above_roots_; }

  static std::string AbsPath(const std::string& rel) { return "/" + rel; }

 private:
  struct Child {
    std::string name;
    struct stat st;
    std::string link_target;
  };
  struct Listed {  // a directory entry as readdir gave it
    std::string name;
    ino_t ino;
  };
  struct Frame {
    std::string rel;  // "" for "/"
    bool full;        // inside a root: list everything; else only the way to roots
    std::vector<Child> children;
    size_t next = 0;
  };

  bool PushFull(const std::string& rel, Frame* f);
  void StatChildren(int dirfd, const std::string& base, std::vector<Listed> listed, Frame* f);
  void PushAncestor(const std::string& rel);
  bool IsRoot(const std::string& rel) const;
  void FillEntry(const std::string& rel, const Child& c, Entry* e);
  const std::string& UserName(uint32_t uid);
  const std::string& GroupName(uint32_t gid);

  const Selector& selector_;
  NoticeFn notice_;
  std::vector<std::string> roots_;  // relative, sorted
  std::vector<Frame> stack_;
  bool above_roots_ = false;
  std::map<uint32_t, std::string> users_, groups_;
};

}  // namespace gb
