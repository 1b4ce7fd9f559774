// Writes restored entries below a target directory with libarchive's secure
// extraction: absolute paths, ".." and writing through symlinks are refused.
// (Into a target that started empty, symlinks are checked for only after the
// first one is written: restore writes them last, so most restores skip it.)
// Directory permissions and times are applied at Close(), after their contents.
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

  // Each returns false and sets *err when this one entry cannot be written.
  bool Dir(const Entry& e, std::string* err);
  bool Symlink(const Entry& e, std::string* err);
  bool HardLink(const Entry& e, const std::string& existing, std::string* err);
  bool BeginFile(const Entry& e, std::string* err);
  void WriteBlock(uint64_t offset, std::span<const uint8_t> data);
  bool EndFile(std::string* err);
  // Removes a file this writer wrote (e.g. after a failed hash check).
  void Remove(const std::string& path);
  // Applies deferred directory metadata; throws on failure.
  void Close();
  const std::string& target() const { return target_; }

 private:
  bool Header(const Entry& e, const std::string* hardlink, std::string* err);
  void SetOptions();
  struct DirTime {
    std::string path;
    FileTime mtime;
  };
  std::string target_;
  bool overwrite_;
  bool no_symlinks_yet_;  // the target started empty and no symlink was written since
  Fd target_fd_, old_cwd_;
  std::vector<DirTime> dirs_;  // restored directories, their times set again at Close()
  struct archive* a_;
  bool closed_ = false;
};

}  // namespace gb
