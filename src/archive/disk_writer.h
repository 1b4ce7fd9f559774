// Writes restored entries below a target directory, and nowhere else.
//
// Every path is resolved from a descriptor of the target, one component at a
// time, each directory opened with O_NOFOLLOW; where the kernel has openat2,
// existing directories are first looked up in one call that follows no
// symlink and stays beneath the target, the same guarantee. An absolute path,
// "..", or a symlink anywhere on the way (one that was there before, one
// restored, or one a concurrent process swaps in for a directory mid-restore)
// cannot redirect a write; the entry is refused instead. The last component is created with
// O_EXCL / mkdirat / symlinkat / linkat, which never follow a symlink either.
// The process's working directory is never changed.
// Directory permissions and times are applied at Close(), after their contents.
// Extended attributes and POSIX ACLs are set through the descriptor of each
// restored file and directory; what could not be applied (not root, a file
// system without xattrs) is listed by metadata_not_restored(), not an error.
// File flags (chattr: immutable, append-only, nodump, ...) are set at Close(),
// last of all: an immutable file or directory takes no later change.
//
// Threads: the const methods (OpenFile, WriteBlock and FinishFile on a
// FileHandle, RemoveFile, HardLink, Symlink) change nothing of the DiskWriter and may run
// on several threads at once, each file on one thread at a time; everything
// else belongs to one thread, the one that calls Close().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/entry.h"
#include "core/file.h"

namespace gb {

// Why one entry was not written.
struct EntryError {
  enum class Kind {
    kExists,   // something is already at the path (and overwrite is off)
    kRefused,  // the path is unsafe, or a symlink/non-directory is in the way
    kFailed,   // the system refused (permissions, space...)
  };
  Kind kind = Kind::kFailed;
  std::string message;
  bool exists() const { return kind == Kind::kExists; }
};

class DiskWriter {
 public:
  // Creates target_dir if needed. Without overwrite nothing that exists is
  // replaced (file, symlink, or a symlink where a directory is restored): the
  // entry fails with kExists. With overwrite, what is in the way (not a
  // non-empty directory) is removed first.
  DiskWriter(const std::string& target_dir, bool overwrite);
  ~DiskWriter();
  DiskWriter(const DiskWriter&) = delete;
  DiskWriter& operator=(const DiskWriter&) = delete;

  // Without `xattrs` extended attributes are not restored; with
  // `numeric_owner` owners and ACL entries are the recorded ids, not the
  // recorded names looked up here (restoring from a rescue system).
  void SetMetadataOptions(bool xattrs, bool numeric_owner);

  // Each returns false and sets *err when this one entry cannot be written.
  bool Dir(const Entry& e, EntryError* err);
  // A FIFO or a device node (devices need root).
  bool Special(const Entry& e, EntryError* err);
  bool Symlink(const Entry& e, EntryError* err) const;
  bool HardLink(const Entry& e, const std::string& existing, EntryError* err) const;
  // A regular file of e.size bytes; data follows with WriteBlock (gaps are holes).
  bool BeginFile(const Entry& e, EntryError* err);
  // Throws kCorruption for data past the size BeginFile was given, kIOError on a write error.
  void WriteBlock(uint64_t offset, std::span<const uint8_t> data);
  bool EndFile(EntryError* err);
  // Removes a file this writer wrote (e.g. after a failed hash check).
  void Remove(const std::string& path);
  // A regular file whose bytes are already in the file at `from` (the
  // caller's, outside the target, e.size bytes long): linked into the target
  // as BeginFile would create it (refused where BeginFile refuses; never over
  // an existing file without overwrite), then given its metadata as EndFile
  // does. `from` keeps its name (the caller removes it). kOtherFileSystem,
  // with nothing done in the target, when `from` is on another file system.
  enum class Adopted { kDone, kFailed, kOtherFileSystem };
  Adopted AdoptFile(const Entry& e, const std::string& from, EntryError* err);
  // Whether `from` and e's folder (made if missing) are on one file system,
  // so that AdoptFile can link the one into the other. False when either
  // cannot be reached.
  bool CanAdopt(const Entry& e, const std::string& from) const;
  // Applies deferred directory metadata; throws on failure.
  void Close();
  const std::string& target() const { return target_; }
  // Entries written whose metadata was applied only in part: (path, what not).
  struct PartialMetadata {
    std::string path, what;
  };
  const std::vector<PartialMetadata>& metadata_not_restored() const { return not_restored_; }

  // One regular file being written, with a descriptor of its own: what
  // BeginFile, WriteBlock and EndFile do for one file at a time, OpenFile,
  // WriteBlock and FinishFile do for any number at once.
  struct FileHandle {
    Fd fd;
    Entry entry;
    uint64_t end = 0;                           // the end of the data written so far
    bool finished = false;                      // FinishFile succeeded
    std::vector<PartialMetadata> not_restored;  // as metadata_not_restored()
  };
  // The folder of the last file opened through it, kept open so that the
  // next file of the same folder needs no lookup. Hold one for a short run of
  // files only (one batch of a restore): a folder moved out of the target
  // while it is held still receives them, as one moved between the lookup and
  // the creation of a single file would.
  struct ParentCache {
    std::string dir;  // its path below the target ("" for the target itself)
    Fd fd;
  };
  // As BeginFile, into *f; through `parent` when it holds e's folder, which it
  // holds afterwards.
  bool OpenFile(const Entry& e, FileHandle* f, EntryError* err,
                ParentCache* parent = nullptr) const;
  // As WriteBlock, to f.
  void WriteBlock(FileHandle& f, uint64_t offset, std::span<const uint8_t> data) const;
  // As EndFile: size, owner, mode, xattrs and ACLs, time; closes f.fd.
  bool FinishFile(FileHandle& f, EntryError* err) const;
  // Takes in what a file written through OpenFile noted (metadata not restored,
  // file flags to set at Close()). Call it once per file, in the order the
  // files should be reported.
  void FileDone(FileHandle& f);
  // Unlinks a file written through OpenFile (after a failed write or hash
  // check), before FileDone.
  void RemoveFile(const std::string& path) const;
  // Throws kCorruption when `bytes` at `offset` go past e.size (WriteBlock's check).
  static void CheckWithinSize(const Entry& e, uint64_t offset, size_t bytes);

 private:
  // Sets e's extended attributes and ACLs on fd (a file, or a directory when
  // `dir`); records what could not be set in *not_restored.
  void ApplyExtras(int fd, const Entry& e, bool dir,
                   std::vector<PartialMetadata>* not_restored) const;
  // The directory holding `path`, reached without following any symlink;
  // missing directories on the way are created (0700) when `create`.
  // Sets *leaf to the last component.
  bool OpenParent(const std::string& path, bool create, Fd* parent, std::string* leaf,
                  EntryError* err) const;
  // Removes what is at parent/leaf so it can be replaced (overwrite only).
  bool ClearWay(int parent, const std::string& leaf, const std::string& path,
                EntryError* err) const;
  void Owner(const Entry& e, uid_t* uid, gid_t* gid) const;
  // The id of a user (or group) name here, looked up once per restore.
  std::optional<uint32_t> CachedId(bool user, const std::string& name) const;
  // Sets e.fflags on fd (a regular file or a directory) with FS_IOC_SETFLAGS.
  void ApplyFileFlags(int fd, const Entry& e);
  struct DirMeta {
    std::string path;
    Entry entry;
  };
  std::string target_;
  bool overwrite_;
  bool as_root_;
  bool xattrs_ = true;
  bool numeric_owner_ = false;
  std::vector<PartialMetadata> not_restored_;
  Fd target_fd_;
  FileHandle file_;             // the file between BeginFile and EndFile
  std::vector<DirMeta> dirs_;   // restored directories, their metadata set at Close()
  std::vector<Entry> flagged_;  // restored files with file flags, set at Close()
  bool closed_ = false;
  mutable std::mutex ids_mu_;                                   // guards ids_
  mutable std::map<std::string, std::optional<uint32_t>> ids_;  // "u:name" / "g:name"
};

}  // namespace gb
