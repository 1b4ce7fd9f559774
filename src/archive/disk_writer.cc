#include "archive/disk_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "archive/entry_metadata.h"
#include "core/error.h"
#include "core/file_system.h"

namespace gb {
namespace {

// The directory `dir` (a safe relative path) below `root` in one system call,
// when the kernel resolves it with the same guarantees as the walk in
// OpenParent: openat2 following no symlink (nor a /proc magic link) and never
// leaving `root`. -1 when it cannot: a kernel or sandbox without openat2, a
// component missing or refused, a rename racing the lookup. The caller then
// walks the path component by component, which creates what is missing and
// says why a component is refused.
int OpenDirBeneath(int root, const std::string& dir) {
#ifdef SYS_openat2
  struct open_how how = {};
  how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root, dir.c_str(), &how, sizeof how);
  return fd >= 0 ? static_cast<int>(fd) : -1;
#else
  (void)root;
  (void)dir;
  return -1;
#endif
}

EntryError Problem(EntryError::Kind kind, std::string message) {
  return {kind, std::move(message)};
}

// The error for a failed system call on one entry: "exists" from EEXIST, a
// refusal when a symlink or a non-directory stood where a directory must be.
EntryError FromErrno(int err, const std::string& what) {
  if (err == EEXIST) return Problem(EntryError::Kind::kExists, "exists");
  if (err == ELOOP || err == ENOTDIR)
    return Problem(EntryError::Kind::kRefused,
                   what + ": a symlink or a file is in the way; not followed");
  return Problem(EntryError::Kind::kFailed, what + ": " + std::strerror(err));
}

struct timespec Timespec(const FileTime& t) {
  return {static_cast<time_t>(t.sec), static_cast<long>(t.nsec)};
}

std::optional<uint32_t> LookUpId(bool user, const char* name) {
  char buf[4096];
  if (user) {
    struct passwd pw, *found = nullptr;
    if (::getpwnam_r(name, &pw, buf, sizeof buf, &found) == 0 && found) return found->pw_uid;
  } else {
    struct group gr, *found = nullptr;
    if (::getgrnam_r(name, &gr, buf, sizeof buf, &found) == 0 && found) return found->gr_gid;
  }
  return std::nullopt;
}

// A POSIX ACL in the kernel's xattr form (system.posix_acl_access /
// system.posix_acl_default): version 2, then (tag, perm, id) little-endian,
// sorted by tag and id as the kernel requires. `text` is pax SCHILY.acl text.
// Named entries use the id of the recorded name here, else the recorded id.
// Empty when the text holds no entry.
std::string AclXattr(const std::string& text, int type, bool numeric_owner) {
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> ae(archive_entry_new(),
                                                              &archive_entry_free);
  if (archive_entry_acl_from_text(ae.get(), text.c_str(), type) != ARCHIVE_OK) return "";
  struct Item {
    uint16_t tag, perm;
    uint32_t id;
  };
  std::vector<Item> items;
  archive_entry_acl_reset(ae.get(), type);
  int t, permset, tag, qual;
  const char* name;
  while (archive_entry_acl_next(ae.get(), type, &t, &permset, &tag, &qual, &name) == ARCHIVE_OK) {
    Item it{0, static_cast<uint16_t>(permset & 7), 0xffffffffu};
    switch (tag) {
      case ARCHIVE_ENTRY_ACL_USER_OBJ:
        it.tag = 0x01;
        break;
      case ARCHIVE_ENTRY_ACL_USER:
      case ARCHIVE_ENTRY_ACL_GROUP: {
        bool user = tag == ARCHIVE_ENTRY_ACL_USER;
        it.tag = user ? 0x02 : 0x08;
        it.id = static_cast<uint32_t>(qual);
        if (!numeric_owner && name && *name) it.id = LookUpId(user, name).value_or(it.id);
        break;
      }
      case ARCHIVE_ENTRY_ACL_GROUP_OBJ:
        it.tag = 0x04;
        break;
      case ARCHIVE_ENTRY_ACL_MASK:
        it.tag = 0x10;
        break;
      case ARCHIVE_ENTRY_ACL_OTHER:
        it.tag = 0x20;
        break;
      default:
        continue;
    }
    items.push_back(it);
  }
  if (items.empty()) return "";
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.tag != b.tag ? a.tag < b.tag : a.id < b.id;
  });
  std::string out;
  auto put = [&out](uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put(2, 4);
  for (const Item& it : items) {
    put(it.tag, 2);
    put(it.perm, 2);
    put(it.id, 4);
  }
  return out;
}

}  // namespace

void DiskWriter::SetMetadataOptions(bool xattrs, bool numeric_owner) {
  xattrs_ = xattrs;
  numeric_owner_ = numeric_owner;
}

void DiskWriter::ApplyExtras(int fd, const Entry& e, bool dir,
                             std::vector<PartialMetadata>* not_restored) const {
  auto set = [&](const std::string& name, const std::string& value) {
    if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) != 0)
      not_restored->push_back({e.path, name + ": " + std::strerror(errno)});
  };
  if (xattrs_) {
    for (const auto& [name, value] : e.xattrs) set(name, value);
  }
  if (!e.acl_access.empty()) {
    std::string acl = AclXattr(e.acl_access, ARCHIVE_ENTRY_ACL_TYPE_ACCESS, numeric_owner_);
    if (!acl.empty()) set("system.posix_acl_access", acl);
  }
  if (dir && !e.acl_default.empty()) {
    std::string acl = AclXattr(e.acl_default, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT, numeric_owner_);
    if (!acl.empty()) set("system.posix_acl_default", acl);
  }
}

void DiskWriter::ApplyFileFlags(int fd, const Entry& e) {
  unsigned long set = 0, clear = 0;
  FileFlagBits(e.fflags, &set, &clear);
  int flags = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
    not_restored_.push_back({e.path, "file flags " + e.fflags + ": " + std::strerror(errno)});
    return;
  }
  int want = static_cast<int>((static_cast<unsigned long>(flags) & ~clear) | set);
  if (want != flags && ::ioctl(fd, FS_IOC_SETFLAGS, &want) != 0)
    not_restored_.push_back({e.path, "file flags " + e.fflags + ": " + std::strerror(errno)});
}

DiskWriter::DiskWriter(const std::string& target_dir, bool overwrite)
    : target_(target_dir), overwrite_(overwrite), as_root_(::geteuid() == 0) {
  MakeDirs(target_dir, 0700);
  target_fd_ = Fd(Fs().Open(target_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!target_fd_.valid()) ThrowErrno("open restore target " + target_dir);
}

DiskWriter::~DiskWriter() {
  if (!closed_) {
    try {
      Close();
    } catch (...) {
    }
  }
}

bool DiskWriter::OpenParent(const std::string& path, bool create, Fd* parent, std::string* leaf,
                            EntryError* err) const {
  if (!IsSafeRelativePath(path)) {
    *err = Problem(EntryError::Kind::kRefused, "refused unsafe path");
    return false;
  }
  if (size_t last = path.rfind('/'); last != std::string::npos) {
    Fd dir(OpenDirBeneath(target_fd_.get(), path.substr(0, last)));
    if (dir.valid()) {
      *leaf = path.substr(last + 1);
      *parent = std::move(dir);
      return true;
    }
  }
  Fd cur(::dup(target_fd_.get()));
  if (!cur.valid()) ThrowErrno("dup restore target " + target_);
  size_t start = 0;
  for (size_t slash; (slash = path.find('/', start)) != std::string::npos; start = slash + 1) {
    const std::string name = path.substr(start, slash - start);
    const std::string so_far = path.substr(0, slash);
    int fd = Fs().OpenAt(cur.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (Fs().MkdirAt(cur.get(), name.c_str(), 0700) != 0 && errno != EEXIST) {
        *err = FromErrno(errno, so_far);
        return false;
      }
      fd = Fs().OpenAt(cur.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      int e = errno;
      *err = e == EEXIST ? FromErrno(ENOTDIR, so_far) : FromErrno(e, so_far);
      return false;
    }
    cur = Fd(fd);
  }
  *leaf = path.substr(start);
  *parent = std::move(cur);
  return true;
}

bool DiskWriter::ClearWay(int parent, const std::string& leaf, const std::string& path,
                          EntryError* err) const {
  struct stat st;
  if (::fstatat(parent, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return true;
  int rc = Fs().UnlinkAt(parent, leaf.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
  if (rc != 0 && errno != ENOENT) {
    *err = FromErrno(errno == EEXIST ? ENOTEMPTY : errno, path + ": cannot replace it");
    return false;
  }
  return true;
}

void DiskWriter::Owner(const Entry& e, uid_t* uid, gid_t* gid) const {
  *uid = e.uid;
  *gid = e.gid;
  if (numeric_owner_) return;
  if (!e.uname.empty()) *uid = CachedId(true, e.uname).value_or(e.uid);
  if (!e.gname.empty()) *gid = CachedId(false, e.gname).value_or(e.gid);
}

std::optional<uint32_t> DiskWriter::CachedId(bool user, const std::string& name) const {
  std::lock_guard lock(ids_mu_);
  auto [it, fresh] = ids_.try_emplace((user ? "u:" : "g:") + name);
  if (fresh) it->second = LookUpId(user, name.c_str());
  return it->second;
}

bool DiskWriter::Dir(const Entry& e, EntryError* err) {
  Fd parent;
  std::string leaf;
  if (!OpenParent(e.path, true, &parent, &leaf, err)) return false;
  if (Fs().MkdirAt(parent.get(), leaf.c_str(), 0700) != 0) {
    if (errno != EEXIST) {
      *err = FromErrno(errno, e.path);
      return false;
    }
    struct stat st;
    if (::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      *err = FromErrno(errno, e.path);
      return false;
    }
    if (!S_ISDIR(st.st_mode)) {  // a symlink or a file where the directory belongs
      if (!overwrite_) {
        *err = Problem(EntryError::Kind::kExists, "exists");
        return false;
      }
      if (!ClearWay(parent.get(), leaf, e.path, err)) return false;
      if (Fs().MkdirAt(parent.get(), leaf.c_str(), 0700) != 0) {
        *err = FromErrno(errno, e.path);
        return false;
      }
    }
  }
  dirs_.push_back({e.path, e});
  return true;
}

bool DiskWriter::Symlink(const Entry& e, EntryError* err) const {
  Fd parent;
  std::string leaf;
  if (!OpenParent(e.path, true, &parent, &leaf, err)) return false;
  if (Fs().SymlinkAt(e.target.c_str(), parent.get(), leaf.c_str()) != 0) {
    if (errno != EEXIST || !overwrite_) {
      *err = FromErrno(errno, e.path);
      return false;
    }
    if (!ClearWay(parent.get(), leaf, e.path, err)) return false;
    if (Fs().SymlinkAt(e.target.c_str(), parent.get(), leaf.c_str()) != 0) {
      *err = FromErrno(errno, e.path);
      return false;
    }
  }
  if (as_root_) {
    uid_t uid;
    gid_t gid;
    Owner(e, &uid, &gid);
    (void)!::fchownat(parent.get(), leaf.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
  }
  struct timespec t[2] = {{0, UTIME_OMIT}, Timespec(e.mtime)};
  (void)!::utimensat(parent.get(), leaf.c_str(), t, AT_SYMLINK_NOFOLLOW);
  return true;
}

bool DiskWriter::HardLink(const Entry& e, const std::string& existing, EntryError* err) const {
  Fd from_parent, parent;
  std::string from_leaf, leaf;
  if (!OpenParent(existing, false, &from_parent, &from_leaf, err)) {
    if (err->kind == EntryError::Kind::kRefused && !IsSafeRelativePath(existing))
      err->message = "refused unsafe link target";
    return false;
  }
  if (!OpenParent(e.path, true, &parent, &leaf, err)) return false;
  // Flags 0: a symlink at `existing` is linked itself, never followed.
  if (Fs().LinkAt(from_parent.get(), from_leaf.c_str(), parent.get(), leaf.c_str(), 0) != 0) {
    if (errno != EEXIST || !overwrite_) {
      *err = FromErrno(errno, e.path);
      return false;
    }
    if (!ClearWay(parent.get(), leaf, e.path, err)) return false;
    if (Fs().LinkAt(from_parent.get(), from_leaf.c_str(), parent.get(), leaf.c_str(), 0) != 0) {
      *err = FromErrno(errno, e.path);
      return false;
    }
  }
  return true;
}

bool DiskWriter::BeginFile(const Entry& e, EntryError* err) {
  file_ = FileHandle{};
  return OpenFile(e, &file_, err);
}

void DiskWriter::WriteBlock(uint64_t offset, std::span<const uint8_t> data) {
  WriteBlock(file_, offset, data);
}

bool DiskWriter::EndFile(EntryError* err) {
  if (!file_.fd.valid()) return true;
  bool ok = FinishFile(file_, err);
  FileDone(file_);
  return ok;
}

DiskWriter::Adopted DiskWriter::AdoptFile(const Entry& e, const std::string& from,
                                          EntryError* err) {
  Fd parent;
  std::string leaf;
  if (!OpenParent(e.path, true, &parent, &leaf, err)) return Adopted::kFailed;
  FileHandle f;
  f.fd = Fd(Fs().Open(from.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (!f.fd.valid()) ThrowErrno("open " + from);
  if (overwrite_ && !ClearWay(parent.get(), leaf, e.path, err)) return Adopted::kFailed;
  // A new name: never over an existing file, never through a symlink.
  if (Fs().LinkAt(AT_FDCWD, from.c_str(), parent.get(), leaf.c_str(), 0) != 0) {
    if (errno == EXDEV) return Adopted::kOtherFileSystem;
    *err = FromErrno(errno, e.path);
    return Adopted::kFailed;
  }
  f.entry = e;
  f.end = e.size;
  bool ok = FinishFile(f, err);
  FileDone(f);
  return ok ? Adopted::kDone : Adopted::kFailed;
}

bool DiskWriter::CanAdopt(const Entry& e, const std::string& from) const {
  Fd parent;
  std::string leaf;
  EntryError ignored;
  struct stat dir {
  }, file{};
  return OpenParent(e.path, true, &parent, &leaf, &ignored) && ::fstat(parent.get(), &dir) == 0 &&
         ::stat(from.c_str(), &file) == 0 && dir.st_dev == file.st_dev;
}

bool DiskWriter::OpenFile(const Entry& e, FileHandle* f, EntryError* err,
                          ParentCache* cache) const {
  ParentCache own;
  ParentCache& parent = cache ? *cache : own;
  const size_t slash = e.path.rfind('/');
  const std::string_view dir =
      slash == std::string::npos ? std::string_view() : std::string_view(e.path).substr(0, slash);
  std::string leaf;
  if (parent.fd.valid() && parent.dir == dir && IsSafeRelativePath(e.path)) {
    leaf = e.path.substr(slash + 1);  // npos + 1 == 0
  } else {
    parent = {};
    if (!OpenParent(e.path, true, &parent.fd, &leaf, err)) return false;
    parent.dir = dir;
  }
  if (overwrite_ && !ClearWay(parent.fd.get(), leaf, e.path, err)) return false;
  // O_EXCL: never an existing file, never through a symlink.
  int fd = Fs().OpenAt(parent.fd.get(), leaf.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    *err = FromErrno(errno, e.path);
    return false;
  }
  f->fd = Fd(fd);
  f->entry = e;
  f->end = 0;
  return true;
}

void DiskWriter::CheckWithinSize(const Entry& e, uint64_t offset, size_t bytes) {
  if (offset > e.size || bytes > e.size - offset)
    throw Error(Code::kCorruption,
                "restoring " + e.path +
                    ": the archive holds data past the file's recorded size of " +
                    std::to_string(e.size) + " bytes");
}

void DiskWriter::WriteBlock(FileHandle& f, uint64_t offset, std::span<const uint8_t> data) const {
  if (!f.fd.valid()) throw Error(Code::kInternal, "DiskWriter::WriteBlock without a file");
  CheckWithinSize(f.entry, offset, data.size());
  PwriteFull(f.fd.get(), data, offset, JoinPath(target_, f.entry.path));
  f.end = std::max(f.end, offset + data.size());
}

bool DiskWriter::FinishFile(FileHandle& f, EntryError* err) const {
  if (!f.fd.valid()) throw Error(Code::kInternal, "DiskWriter::FinishFile without a file");
  Fd fd = std::move(f.fd);
  const Entry& e = f.entry;
  auto failed = [&](const char* what) {
    *err = Problem(EntryError::Kind::kFailed, std::string(what) + ": " + std::strerror(errno));
    return false;
  };
  // The size covers a trailing hole. (The file is new: its size is f.end.)
  if (f.end != e.size && Fs().Ftruncate(fd.get(), static_cast<off_t>(e.size)) != 0)
    return failed("set size");
  uint32_t mode = e.mode & 07777;
  if (as_root_) {
    uid_t uid;
    gid_t gid;
    Owner(e, &uid, &gid);
    if (::fchown(fd.get(), uid, gid) != 0) mode &= 01777;
  } else {
    mode &= 01777;  // set-id bits only with the recorded owner
  }
  if (::fchmod(fd.get(), mode) != 0) return failed("set permissions");
  ApplyExtras(fd.get(), e, false, &f.not_restored);  // after chown, which drops file capabilities
  struct timespec t[2] = {{0, UTIME_OMIT}, Timespec(e.mtime)};
  if (::futimens(fd.get(), t) != 0) return failed("set time");
  f.finished = true;
  return true;
}

void DiskWriter::FileDone(FileHandle& f) {
  for (PartialMetadata& m : f.not_restored) not_restored_.push_back(std::move(m));
  f.not_restored.clear();
  if (f.finished && !f.entry.fflags.empty()) flagged_.push_back(f.entry);
}

bool DiskWriter::Special(const Entry& e, EntryError* err) {
  Fd parent;
  std::string leaf;
  if (!OpenParent(e.path, true, &parent, &leaf, err)) return false;
  mode_t kind = e.type == EntryType::kFifo         ? S_IFIFO
                : e.type == EntryType::kCharDevice ? S_IFCHR
                                                   : S_IFBLK;
  auto make = [&] { return Fs().MknodAt(parent.get(), leaf.c_str(), kind | 0600, e.rdev); };
  if (make() != 0) {
    if (errno != EEXIST || !overwrite_) {
      *err = FromErrno(errno, e.path);
      return false;
    }
    if (!ClearWay(parent.get(), leaf, e.path, err)) return false;
    if (make() != 0) {
      *err = FromErrno(errno, e.path);
      return false;
    }
  }
  // Metadata through an O_PATH descriptor of the node just made, so a swap of
  // the name for a symlink cannot redirect it (opening a FIFO or a device
  // itself could block or act on the device).
  Fd node(Fs().OpenAt(parent.get(), leaf.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  struct stat st;
  if (!node.valid() || ::fstat(node.get(), &st) != 0 || (st.st_mode & S_IFMT) != kind) {
    *err = Problem(EntryError::Kind::kRefused, "replaced while being restored; left alone");
    return false;
  }
  const std::string via = "/proc/self/fd/" + std::to_string(node.get());
  uint32_t mode = e.mode & 07777;
  if (as_root_) {
    uid_t uid;
    gid_t gid;
    Owner(e, &uid, &gid);
    if (::fchownat(node.get(), "", uid, gid, AT_EMPTY_PATH) != 0) mode &= 01777;
  } else {
    mode &= 01777;
  }
  if (::chmod(via.c_str(), mode) != 0) {
    *err = FromErrno(errno, e.path + ": set permissions");
    return false;
  }
  struct timespec t[2] = {{0, UTIME_OMIT}, Timespec(e.mtime)};
  (void)!::utimensat(AT_FDCWD, via.c_str(), t, 0);
  return true;
}

void DiskWriter::Remove(const std::string& path) {
  file_.fd.Reset();
  std::erase_if(flagged_, [&](const Entry& e) { return e.path == path; });
  RemoveFile(path);
}

void DiskWriter::RemoveFile(const std::string& path) const {
  Fd parent;
  std::string leaf;
  EntryError ignored;
  if (OpenParent(path, false, &parent, &leaf, &ignored))
    Fs().UnlinkAt(parent.get(), leaf.c_str(), 0);
}

void DiskWriter::Close() {
  if (closed_) return;
  closed_ = true;
  file_.fd.Reset();
  // Files' flags first (hard links to them exist by now), then directories, deepest first.
  for (const Entry& e : flagged_) {
    Fd parent;
    std::string leaf;
    EntryError err;
    if (!OpenParent(e.path, false, &parent, &leaf, &err)) {
      not_restored_.push_back({e.path, "file flags " + e.fflags + ": " + err.message});
      continue;
    }
    Fd file(
        Fs().OpenAt(parent.get(), leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (!file.valid() || ::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      not_restored_.push_back({e.path, "file flags " + e.fflags + ": not the restored file"});
      continue;
    }
    ApplyFileFlags(file.get(), e);
  }
  // Deepest first: setting a directory's time after its children were written.
  std::sort(dirs_.begin(), dirs_.end(),
            [](const DirMeta& a, const DirMeta& b) { return a.path > b.path; });
  for (const DirMeta& d : dirs_) {
    Fd parent;
    std::string leaf;
    EntryError err;
    const std::string where = JoinPath(target_, d.path);
    if (!OpenParent(d.path, false, &parent, &leaf, &err))
      throw Error(Code::kIOError,
                  "setting the metadata of restored directory " + where + ": " + err.message);
    Fd dir(
        Fs().OpenAt(parent.get(), leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) ThrowErrno("open restored directory " + where);
    uint32_t mode = d.entry.mode & 07777;
    if (as_root_) {
      uid_t uid;
      gid_t gid;
      Owner(d.entry, &uid, &gid);
      if (::fchown(dir.get(), uid, gid) != 0) mode &= 01777;
    } else {
      mode &= 01777;
    }
    if (::fchmod(dir.get(), mode) != 0) ThrowErrno("set the permissions of " + where);
    ApplyExtras(dir.get(), d.entry, true, &not_restored_);
    struct timespec t[2] = {{0, UTIME_OMIT}, Timespec(d.entry.mtime)};
    if (::futimens(dir.get(), t) != 0) ThrowErrno("set the time of restored directory " + where);
    if (!d.entry.fflags.empty()) ApplyFileFlags(dir.get(), d.entry);
  }
}

}  // namespace gb
