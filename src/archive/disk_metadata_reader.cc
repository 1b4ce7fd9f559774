#include "archive/disk_metadata_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "archive/entry_metadata.h"
#include "core/error.h"
#include "core/file.h"

namespace gb {
namespace {

constexpr size_t kNamesBuffer = 1024;
constexpr size_t kValueBuffer = 4096;

// ACLs as Linux file systems list them among the attributes (XFS shows root
// its own names for them too): archive_read_disk reads them as ACLs.
bool IsAclAttribute(std::string_view name) {
  return name == "system.posix_acl_access" || name == "system.posix_acl_default" ||
         name == "trusted.SGI_ACL_FILE" || name == "trusted.SGI_ACL_DEFAULT";
}

// Attributes archive_read_disk leaves out on Linux: the ACLs, and XFS's
// obsolete xfsroot namespace.
bool IsLeftOut(std::string_view name) {
  return IsAclAttribute(name) || name.starts_with("xfsroot.");
}

std::string Reason(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

DiskMetadataReader::DiskMetadataReader()
    : flag_names_(archive_entry_new()), names_(kNamesBuffer), value_(kValueBuffer) {
  if (!flag_names_) throw Error(Code::kInternal, "libarchive: out of memory");
}

DiskMetadataReader::~DiskMetadataReader() {
  archive_entry_free(flag_names_);
  if (disk_) archive_read_free(disk_);
}

bool DiskMetadataReader::ListNames(int fd, const std::string& abs, size_t* size) {
  for (;;) {
    ssize_t n = fd >= 0 ? ::flistxattr(fd, names_.data(), names_.size())
                        : ::llistxattr(abs.c_str(), names_.data(), names_.size());
    if (n >= 0) {
      *size = static_cast<size_t>(n);
      return true;
    }
    if (errno != ERANGE) return false;
    n = fd >= 0 ? ::flistxattr(fd, nullptr, 0) : ::llistxattr(abs.c_str(), nullptr, 0);
    if (n < 0) return false;
    names_.resize(static_cast<size_t>(n) + kNamesBuffer);  // room for one added meanwhile
  }
}

bool DiskMetadataReader::GetValue(int fd, const std::string& abs, const char* name,
                                  std::string* value) {
  for (;;) {
    ssize_t n = fd >= 0 ? ::fgetxattr(fd, name, value_.data(), value_.size())
                        : ::lgetxattr(abs.c_str(), name, value_.data(), value_.size());
    if (n >= 0) {
      value->assign(value_.data(), static_cast<size_t>(n));
      return true;
    }
    if (errno != ERANGE) return false;
    n = fd >= 0 ? ::fgetxattr(fd, name, nullptr, 0) : ::lgetxattr(abs.c_str(), name, nullptr, 0);
    if (n < 0) return false;
    value_.resize(static_cast<size_t>(n) + kValueBuffer);
  }
}

bool DiskMetadataReader::Read(const std::string& abs, Entry* e, std::string* problem) {
  e->xattrs.clear();
  e->acl_access.clear();
  e->acl_default.clear();
  e->fflags.clear();
  // Flags are read from an open file or directory (as archive_read_disk does);
  // the attributes then from the same descriptor, without another path lookup.
  Fd fd;
  if (e->type == EntryType::kFile || e->type == EntryType::kDir) {
    constexpr int kFlags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC;
    fd = Fd(::open(abs.c_str(), kFlags | O_NOATIME));
    if (!fd.valid() && errno == EPERM) fd = Fd(::open(abs.c_str(), kFlags));
    // Not opened (no read permission, or no longer a file): no flags, and
    // the attributes are read by path.
    int bits = 0;
    if (fd.valid() && ::ioctl(fd.get(), FS_IOC_GETFLAGS, &bits) == 0 && bits != 0) {
      archive_entry_set_fflags(flag_names_, static_cast<unsigned long>(bits), 0);
      const char* text = archive_entry_fflags_text(flag_names_);
      if (text) e->fflags = text;
    }
  }
  size_t listed = 0;
  if (!ListNames(fd.get(), abs, &listed)) {
    if (errno == ENOTSUP || errno == ENOSYS) return true;  // a file system without them
    *problem = Reason("cannot list extended attributes");
    return false;
  }
  for (size_t at = 0; at < listed;) {
    std::string_view name(names_.data() + at);
    at += name.size() + 1;
    if (IsAclAttribute(name)) return ReadWithLibarchive(abs, e, problem);
  }
  bool complete = true;
  for (size_t at = 0; at < listed;) {
    const char* name = names_.data() + at;
    at += std::strlen(name) + 1;
    if (IsLeftOut(name)) continue;
    std::string value;
    if (GetValue(fd.get(), abs, name, &value)) {
      e->xattrs.emplace_back(name, std::move(value));
    } else if (errno != ENODATA) {  // ENODATA: removed since it was listed
      *problem = Reason((std::string("cannot read extended attribute ") + name).c_str());
      complete = false;
    }
  }
  std::sort(e->xattrs.begin(), e->xattrs.end());
  return complete;
}

bool DiskMetadataReader::ReadWithLibarchive(const std::string& abs, Entry* e,
                                            std::string* problem) {
  if (!disk_) {
    disk_ = archive_read_disk_new();
    if (!disk_) throw Error(Code::kInternal, "libarchive: out of memory");
    archive_read_disk_set_symlink_physical(disk_);
    // Names in ACLs (restored by name, else by the id kept beside it).
    archive_read_disk_set_standard_lookup(disk_);
    // Sparse regions are found by the backup itself.
    archive_read_disk_set_behavior(disk_, ARCHIVE_READDISK_NO_SPARSE);
  }
  archive_entry* ae = archive_entry_new();
  if (!ae) throw Error(Code::kInternal, "libarchive: out of memory");
  archive_entry_copy_sourcepath(ae, abs.c_str());
  archive_entry_copy_pathname(ae, abs.c_str());
  int rc = archive_read_disk_entry_from_file(disk_, ae, -1, nullptr);
  bool ok = rc >= ARCHIVE_WARN;
  if (rc != ARCHIVE_OK) {
    const char* m = archive_error_string(disk_);
    *problem = std::string(ok ? "some extended attributes or ACLs cannot be read: "
                              : "cannot read extended attributes or ACLs: ") +
               (m ? m : "?");
  }
  if (ok) {
    uint64_t rdev = e->rdev;
    GetMetadata(ae, e);
    e->rdev = rdev;
  }
  archive_entry_free(ae);
  return ok && rc == ARCHIVE_OK;
}

}  // namespace gb
