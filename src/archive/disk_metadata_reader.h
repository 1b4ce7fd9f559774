// Reading from disk what stat does not give: extended attributes, POSIX ACLs
// and file flags, exactly as libarchive's archive_read_disk reports them (the
// same attributes, the same ACL text, the same flag names). A file without
// ACLs is read in fewer system calls than archive_read_disk takes: an open,
// the flags ioctl, one listxattr (and a getxattr per attribute) and a close.
#pragma once

#include <string>
#include <vector>

#include "core/entry.h"

struct archive;
struct archive_entry;

namespace gb {

class DiskMetadataReader {
 public:
  DiskMetadataReader();
  ~DiskMetadataReader();
  DiskMetadataReader(const DiskMetadataReader&) = delete;
  DiskMetadataReader& operator=(const DiskMetadataReader&) = delete;

  // Fills e->xattrs (sorted by name), acl_access, acl_default and fflags of
  // `abs`, which the walk saw as an entry of type e->type: every extended
  // attribute the running user can read (user.* always; security.* and
  // trusted.* as root), the access and default ACLs and the file flags. A
  // symlink is not followed. False with a reason when some or all cannot be
  // read. Not thread-safe: one reader per thread.
  bool Read(const std::string& abs, Entry* e, std::string* problem);

 private:
  // Everything through archive_read_disk: for an entry with ACLs.
  bool ReadWithLibarchive(const std::string& abs, Entry* e, std::string* problem);
  // The attribute names of `fd` (or of `abs` when fd < 0): the first *size
  // bytes of names_, each ending in a NUL. False with errno set when they
  // cannot be listed.
  bool ListNames(int fd, const std::string& abs, size_t* size);
  // The value of attribute `name` into *value; false with errno set.
  bool GetValue(int fd, const std::string& abs, const char* name, std::string* value);

  struct archive* disk_ = nullptr;   // made when first needed
  archive_entry* flag_names_;        // turns flag bits into libarchive's names
  std::vector<char> names_, value_;  // buffers kept between calls; they only grow
};

}  // namespace gb
