// Writes restored entries below a target directory with libarchive's secure
// extraction: absolute paths, ".." and writing through symlinks are refused.
// (Into a target that started empty, symlinks are checked for only after the
// first one is written: restore writes them last, so most restores skip it.)
// Directory permissions and times are applied at Close(), after their contents.
// Extended attributes, ACLs and file flags are applied as libarchive does
// (ARCHIVE_EXTRACT_XATTR / ACL / FFLAGS); what it could not apply (not root, a
// file system without xattrs) is listed by metadata_not_restored(), not an error.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/entry.h"
#include "core/file.h"

struct archive;

namespace gb {

class DiskWriter {
 public:
  // Creates target_dir if needed. Existing files are left alone (the entry
  // fails with "exists") unless overwrite.
  DiskWriter(const std::string& target_dir, bool overwrite);
  ~DiskWriter();
  DiskWriter(const DiskWriter&) = delete;
  DiskWriter& operator=(const DiskWriter&) = delete;

  // Without `xattrs` extended attributes are not restored; with
  // `numeric_owner` owners and ACL entries are the recorded ids, not the
  // recorded names looked up here (restoring from a rescue system).
  void SetMetadataOptions(bool xattrs, bool numeric_owner);

  // Each returns false and sets *err when this one entry cannot be written.
  bool Dir(const Entry& e, std::string* err);
  bool Symlink(const Entry& e, std::string* err);
  bool HardLink(const Entry& e, const std::string& existing, std::string* err);
  // A FIFO or a device node (mknod: devices need root).
  bool Special(const Entry& e, std::string* err);
  bool BeginFile(const Entry& e, std::string* err);
  void WriteBlock(uint64_t offset, std::span<const uint8_t> data);
  bool EndFile(std::string* err);
  // Removes a file this writer wrote (e.g. after a failed hash check).
  void Remove(const std::string& path);
  // Applies deferred directory metadata; throws on failure.
  void Close();
  const std::string& target() const { return target_; }
  // Entries written whose metadata was applied only in part: (path, what not).
  struct PartialMetadata {
    std::string path, what;
  };
  const std::vector<PartialMetadata>& metadata_not_restored() const { return not_restored_; }

 private:
  bool Header(const Entry& e, const std::string* hardlink, std::string* err);
  void SetOptions();
  void NoteWarning();
  struct DirTime {
    std::string path;
    FileTime mtime;
  };
  std::string target_;
  bool overwrite_;
  bool no_symlinks_yet_;  // the target started empty and no symlink was written since
  bool xattrs_ = true;
  Fd target_fd_, old_cwd_;
  std::vector<DirTime> dirs_;  // restored directories, their times set again at Close()
  std::string current_;        // the entry being written
  std::vector<PartialMetadata> not_restored_;
  struct archive* a_;
  bool closed_ = false;
};

}  // namespace gb
