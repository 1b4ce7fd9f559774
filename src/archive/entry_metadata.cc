#include "archive/entry_metadata.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdlib>

#include "core/error.h"

namespace gb {
namespace {

// SCHILY.acl.* style: one line, comma-separated, with numeric ids so an ACL
// naming a user unknown on the restoring host still restores by id.
constexpr int kAclStyle =
    ARCHIVE_ENTRY_ACL_STYLE_EXTRA_ID | ARCHIVE_ENTRY_ACL_STYLE_SEPARATOR_COMMA;

// "" for an ACL that says no more than the mode bits: an extended POSIX ACL
// always has a mask entry.
std::string AclText(archive_entry* ae, int type) {
  char* t = archive_entry_acl_to_text(ae, nullptr, type | kAclStyle);
  std::string s = t ? t : "";
  std::free(t);
  if (type == ARCHIVE_ENTRY_ACL_TYPE_ACCESS && s.find("mask:") == std::string::npos) s.clear();
  return s;
}

mode_t FileType(EntryType t) {
  switch (t) {
    case EntryType::kDir:
      return AE_IFDIR;
    case EntryType::kSymlink:
      return AE_IFLNK;
    case EntryType::kFifo:
      return AE_IFIFO;
    case EntryType::kCharDevice:
      return AE_IFCHR;
    case EntryType::kBlockDevice:
      return AE_IFBLK;
    default:
      return AE_IFREG;
  }
}

}  // namespace

void PutMetadata(const Entry& e, archive_entry* ae) {
  archive_entry_set_filetype(ae, FileType(e.type));
  if (e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice)
    archive_entry_set_rdev(ae, static_cast<dev_t>(e.rdev));
  for (const auto& [name, value] : e.xattrs)
    archive_entry_xattr_add_entry(ae, name.c_str(), value.data(), value.size());
  if (!e.acl_access.empty())
    archive_entry_acl_from_text(ae, e.acl_access.c_str(), ARCHIVE_ENTRY_ACL_TYPE_ACCESS);
  if (!e.acl_default.empty())
    archive_entry_acl_from_text(ae, e.acl_default.c_str(), ARCHIVE_ENTRY_ACL_TYPE_DEFAULT);
  if (!e.fflags.empty()) archive_entry_copy_fflags_text(ae, e.fflags.c_str());
}

void GetMetadata(archive_entry* ae, Entry* e) {
  e->rdev = archive_entry_rdev(ae);
  e->xattrs.clear();
  archive_entry_xattr_reset(ae);
  const char* name;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK)
    e->xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
  // A pax reader sees each attribute twice (LIBARCHIVE.xattr.* and SCHILY.xattr.*).
  std::sort(e->xattrs.begin(), e->xattrs.end());
  e->xattrs.erase(std::unique(e->xattrs.begin(), e->xattrs.end(),
                              [](const auto& a, const auto& b) { return a.first == b.first; }),
                  e->xattrs.end());
  e->acl_access = AclText(ae, ARCHIVE_ENTRY_ACL_TYPE_ACCESS);
  e->acl_default = AclText(ae, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT);
  const char* f = archive_entry_fflags_text(ae);
  e->fflags = f ? f : "";
}

void FileFlagBits(const std::string& text, unsigned long* set, unsigned long* clear) {
  archive_entry* ae = archive_entry_new();
  if (!ae) throw Error(Code::kInternal, "libarchive: out of memory");
  archive_entry_copy_fflags_text(ae, text.c_str());
  archive_entry_fflags(ae, set, clear);
  archive_entry_free(ae);
}

}  // namespace gb
