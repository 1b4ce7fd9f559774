#include "archive/disk_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "archive/entry_metadata.h"
#include "core/error.h"

namespace gb {

// libarchive resolves paths against the working directory, so the writer
// works from inside the target and returns to the old directory afterwards.
namespace {

// Whether `dir` is missing or an empty directory.
bool MissingOrEmpty(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errno == ENOENT;
  DIR* d = ::fdopendir(fd.Release());
  if (!d) return false;
  bool empty = true;
  while (struct dirent* de = ::readdir(d)) {
    if (std::strcmp(de->d_name, ".") != 0 && std::strcmp(de->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

}  // namespace

DiskWriter::DiskWriter(const std::string& target_dir, bool overwrite)
    : target_(target_dir), overwrite_(overwrite), no_symlinks_yet_(MissingOrEmpty(target_dir)) {
  MakeDirs(target_dir, 0700);
  target_fd_ = Fd(::open(target_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!target_fd_.valid()) ThrowErrno("open restore target " + target_dir);
  old_cwd_ = Fd(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (::fchdir(target_fd_.get()) != 0) ThrowErrno("enter restore target " + target_dir);
  a_ = archive_write_disk_new();
  SetOptions();
  archive_write_disk_set_standard_lookup(a_);
}

// libarchive's symlink check opens every component of every path it writes; it
// is only needed once a symlink can be in the target: one that was there
// before, or one this writer made.
void DiskWriter::SetOptions() {
  int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
              ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_SPARSE |
              ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS;
  if (xattrs_) flags |= ARCHIVE_EXTRACT_XATTR;
  if (!no_symlinks_yet_) flags |= ARCHIVE_EXTRACT_SECURE_SYMLINKS;
  if (::geteuid() == 0) flags |= ARCHIVE_EXTRACT_OWNER;
  flags |= overwrite_ ? ARCHIVE_EXTRACT_UNLINK : ARCHIVE_EXTRACT_NO_OVERWRITE;
  archive_write_disk_set_options(a_, flags);
}

void DiskWriter::SetMetadataOptions(bool xattrs, bool numeric_owner) {
  xattrs_ = xattrs;
  SetOptions();
  if (numeric_owner) {  // no lookup: libarchive uses the entry's ids
    archive_write_disk_set_user_lookup(a_, nullptr, nullptr, nullptr);
    archive_write_disk_set_group_lookup(a_, nullptr, nullptr, nullptr);
  }
}

DiskWriter::~DiskWriter() {
  if (!closed_) {
    try {
      Close();
    } catch (...) {
    }
  }
  archive_write_free(a_);
  if (old_cwd_.valid()) (void)!::fchdir(old_cwd_.get());
}

static archive_entry* MakeEntry(const Entry& e) {
  archive_entry* ae = archive_entry_new();
  archive_entry_copy_pathname(ae, e.path.c_str());
  archive_entry_set_perm(ae, e.mode & 07777);
  archive_entry_set_uid(ae, e.uid);
  archive_entry_set_gid(ae, e.gid);
  if (!e.uname.empty()) archive_entry_copy_uname(ae, e.uname.c_str());
  if (!e.gname.empty()) archive_entry_copy_gname(ae, e.gname.c_str());
  archive_entry_set_mtime(ae, e.mtime.sec, e.mtime.nsec);
  PutMetadata(e, ae);
  return ae;
}

bool DiskWriter::Header(const Entry& e, const std::string* hardlink, std::string* err) {
  if (!IsSafeRelativePath(e.path)) {
    *err = "refused unsafe path";
    return false;
  }
  // libarchive's NO_OVERWRITE reports success for an existing file and drops
  // the data; an existing non-directory is refused here, by name.
  struct stat st;
  if (!overwrite_ && e.type != EntryType::kDir &&
      ::fstatat(target_fd_.get(), e.path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    *err = "exists";
    return false;
  }
  archive_entry* ae = MakeEntry(e);
  switch (e.type) {
    case EntryType::kSymlink:
      archive_entry_copy_symlink(ae, e.target.c_str());
      break;
    case EntryType::kFile:
    case EntryType::kHardlink:
      archive_entry_set_filetype(ae, AE_IFREG);
      if (hardlink) {
        archive_entry_copy_hardlink(ae, hardlink->c_str());
        archive_entry_set_size(ae, 0);
      } else {
        archive_entry_set_size(ae, static_cast<la_int64_t>(e.size));
      }
      break;
    default:
      break;
  }
  int rc = archive_write_header(a_, ae);
  archive_entry_free(ae);
  if (rc < ARCHIVE_WARN) {
    const char* m = archive_error_string(a_);
    *err = m ? m : "cannot create";
    if (rc == ARCHIVE_FATAL) throw Error(Code::kIOError, "restoring " + e.path + ": " + *err);
    return false;
  }
  current_ = e.path;
  if (rc == ARCHIVE_WARN) NoteWarning();
  if (e.type == EntryType::kDir) dirs_.push_back({e.path, e.mtime});
  return true;
}

bool DiskWriter::Dir(const Entry& e, std::string* err) {
  if (!Header(e, nullptr, err)) return false;
  return EndFile(err);
}

bool DiskWriter::Symlink(const Entry& e, std::string* err) {
  if (no_symlinks_yet_) {
    no_symlinks_yet_ = false;
    SetOptions();
  }
  if (!Header(e, nullptr, err)) return false;
  return EndFile(err);
}

bool DiskWriter::HardLink(const Entry& e, const std::string& existing, std::string* err) {
  if (!IsSafeRelativePath(existing)) {
    *err = "refused unsafe link target";
    return false;
  }
  if (!Header(e, &existing, err)) return false;
  return EndFile(err);
}

bool DiskWriter::Special(const Entry& e, std::string* err) {
  if (!Header(e, nullptr, err)) return false;
  return EndFile(err);
}

bool DiskWriter::BeginFile(const Entry& e, std::string* err) { return Header(e, nullptr, err); }

void DiskWriter::NoteWarning() {
  const char* m = archive_error_string(a_);
  not_restored_.push_back({current_, m ? m : "some metadata could not be restored"});
  archive_clear_error(a_);
}

void DiskWriter::WriteBlock(uint64_t offset, std::span<const uint8_t> data) {
  la_ssize_t n =
      archive_write_data_block(a_, data.data(), data.size(), static_cast<la_int64_t>(offset));
  if (n < ARCHIVE_WARN) {
    const char* m = archive_error_string(a_);
    throw Error(Code::kIOError, std::string("writing restored file: ") + (m ? m : "?"));
  }
}

bool DiskWriter::EndFile(std::string* err) {
  int rc = archive_write_finish_entry(a_);
  if (rc < ARCHIVE_WARN) {
    const char* m = archive_error_string(a_);
    *err = m ? m : "cannot finish";
    if (rc == ARCHIVE_FATAL) throw Error(Code::kIOError, "restoring: " + *err);
    return false;
  }
  if (rc == ARCHIVE_WARN) NoteWarning();
  return true;
}

void DiskWriter::Remove(const std::string& path) {
  if (IsSafeRelativePath(path)) ::unlinkat(target_fd_.get(), path.c_str(), 0);
}

void DiskWriter::Close() {
  if (closed_) return;
  closed_ = true;
  if (archive_write_close(a_) != ARCHIVE_OK) {
    const char* m = archive_error_string(a_);
    throw Error(Code::kIOError, std::string("restoring directory metadata: ") + (m ? m : "?"));
  }
  // libarchive leaves the times of directories that already existed (a restore
  // over an earlier one) as writing into them made them: set them all, deepest first.
  std::sort(dirs_.begin(), dirs_.end(),
            [](const DirTime& a, const DirTime& b) { return a.path > b.path; });
  for (const DirTime& d : dirs_) {
    struct timespec t[2] = {{0, UTIME_OMIT},
                            {static_cast<time_t>(d.mtime.sec), static_cast<long>(d.mtime.nsec)}};
    if (::utimensat(target_fd_.get(), d.path.c_str(), t, AT_SYMLINK_NOFOLLOW) != 0)
      ThrowErrno("set the time of restored directory " + JoinPath(target_, d.path));
  }
}

}  // namespace gb
