// Extended attributes, POSIX ACLs, file flags and device numbers, moved
// between an Entry and libarchive, which writes them as the pax headers GNU
// tar and bsdtar read (SCHILY.xattr.*, SCHILY.acl.access, SCHILY.acl.default)
// and applies them on restore (archive_write_disk).
#pragma once

#include <string>

#include "core/entry.h"

struct archive_entry;

namespace gb {

// Sets the file type, rdev, xattrs, ACLs and flags of `e` on `ae`.
// The ACL text was produced by GetMetadata, so it parses.
void PutMetadata(const Entry& e, archive_entry* ae);
// The reverse: fills e->xattrs, acl_access, acl_default, fflags and rdev.
void GetMetadata(archive_entry* ae, Entry* e);

// The file flags `text` names (libarchive's names, as GetMetadata gives them): the
// bits to set and to clear, in the values FS_IOC_SETFLAGS takes on Linux.
void FileFlagBits(const std::string& text, unsigned long* set, unsigned long* clear);

}  // namespace gb
