#include "engine/walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "core/error.h"
#include "core/file.h"

namespace gb {
namespace {

bool ReadLinkAt(int dirfd, const char* name, std::string* out) {
  char buf[4096];
  ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return false;
  out->assign(buf, static_cast<size_t>(n));
  return true;
}

bool IsUnder(const std::string& path, const std::string& dir) {
  if (dir.empty()) return true;
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

// Below this many entries a directory is examined by the walking thread alone.
constexpr size_t kParallelStatMin = 64;
// Threads examining a larger directory: the walking thread and helpers.
constexpr int kStatThreads = 4;

}  // namespace

Walker::Walker(const Selector& selector, NoticeFn notice)
    : selector_(selector), notice_(std::move(notice)) {
  for (const std::string& r : selector.Roots()) {
    struct stat st;
    if (::lstat(r.c_str(), &st) != 0)
      throw Error(Code::kInvalidArgument, "include path " + r + " does not exist (" +
                                              std::strerror(errno) +
                                              "): mount it or remove it from [source] includes");
    roots_.push_back(r == "/" ? "" : r.substr(1));
  }
  std::sort(roots_.begin(), roots_.end(),
            [](const std::string& a, const std::string& b) { return PathKey(a) < PathKey(b); });
  if (roots_.empty()) return;
  if (roots_.front().empty()) {
    Frame f{"", true, {}, 0};
    if (PushFull("", &f)) stack_.push_back(std::move(f));
  } else {
    PushAncestor("");
  }
}

bool Walker::IsRoot(const std::string& rel) const {
  return std::binary_search(
      roots_.begin(), roots_.end(), rel,
      [](const std::string& a, const std::string& b) { return PathKey(a) < PathKey(b); });
}

// Lists a directory inside a root: every child not excluded, lstat'ed, sorted.
bool Walker::PushFull(const std::string& rel, Frame* f) {
  std::string abs = AbsPath(rel);
  int fd = ::open(abs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    notice_(abs, std::string("cannot list directory: ") + std::strerror(errno), true);
    return false;
  }
  // Owns fd from here: closedir closes it.
  std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(fd), &::closedir);
  if (!d) {
    ::close(fd);
    notice_(abs, std::string("cannot list directory: ") + std::strerror(errno), true);
    return false;
  }
  std::string base = rel.empty() ? "/" : abs + "/";
  std::vector<Listed> listed;
  for (;;) {
    errno = 0;
    dirent* de = ::readdir(d.get());
    if (!de) break;
    const char* name = de->d_name;
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
    if (selector_.Excluded(base + name)) continue;
    listed.push_back({name, de->d_ino});
  }
  if (errno != 0) {
    notice_(abs, std::string("error listing directory: ") + std::strerror(errno), true);
    return false;
  }
  StatChildren(fd, base, std::move(listed), f);
  return true;
}

// Examines the listed entries (lstat, and readlink for a symlink) in inode
// order: the order of the inode tables on ext4 and xfs, so a cold disk reads
// them nearly in sequence. A large directory is examined by several threads at
// once, so a cold disk has several inode reads to serve at a time. The
// children come out sorted by name.
void Walker::StatChildren(int dirfd, const std::string& base, std::vector<Listed> listed,
                          Frame* f) {
  std::sort(listed.begin(), listed.end(),
            [](const Listed& a, const Listed& b) { return a.ino < b.ino; });
  struct Stated {
    Child child;
    int stat_error = 0, link_error = 0;  // errno of a failed lstat / readlink
  };
  std::vector<Stated> out(listed.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < listed.size();) {
      Stated& s = out[i];
      s.child.name = std::move(listed[i].name);
      const char* name = s.child.name.c_str();
      if (::fstatat(dirfd, name, &s.child.st, AT_SYMLINK_NOFOLLOW) != 0)
        s.stat_error = errno;
      else if (S_ISLNK(s.child.st.st_mode) && !ReadLinkAt(dirfd, name, &s.child.link_target))
        s.link_error = errno;
    }
  };
  std::vector<std::thread> helpers;
  if (listed.size() >= kParallelStatMin)
    for (int t = 1; t < kStatThreads; ++t) helpers.emplace_back(work);
  work();
  for (std::thread& t : helpers) t.join();
  std::sort(out.begin(), out.end(),
            [](const Stated& a, const Stated& b) { return a.child.name < b.child.name; });
  for (Stated& s : out) {
    if (s.stat_error) {
      if (s.stat_error != ENOENT)  // vanished between readdir and stat: simply gone
        notice_(base + s.child.name, std::string("cannot stat: ") + std::strerror(s.stat_error),
                true);
    } else if (s.link_error) {
      notice_(base + s.child.name,
              std::string("cannot read symlink: ") + std::strerror(s.link_error), true);
    } else {
      f->children.push_back(std::move(s.child));
    }
  }
}

// Lists only the children of `rel` that lead to a root. Ancestors are
// followed through symlinks, so an include under a symlinked directory works.
void Walker::PushAncestor(const std::string& rel) {
  Frame f{rel, false, {}, 0};
  std::string prev;
  for (const std::string& r : roots_) {
    if (!IsUnder(r, rel)) continue;
    size_t start = rel.empty() ? 0 : rel.size() + 1;
    size_t end = r.find('/', start);
    std::string name = r.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (name == prev) continue;
    prev = name;
    Child c;
    c.name = name;
    std::string abs = AbsPath(rel.empty() ? name : rel + "/" + name);
    bool is_root = end == std::string::npos;
    int rc = is_root ? ::lstat(abs.c_str(), &c.st) : ::stat(abs.c_str(), &c.st);
    if (rc != 0) {
      notice_(abs, std::string("cannot stat: ") + std::strerror(errno), true);
      continue;
    }
    if (S_ISLNK(c.st.st_mode)) {
      char buf[4096];
      ssize_t n = ::readlink(abs.c_str(), buf, sizeof buf);
      if (n >= 0) c.link_target.assign(buf, static_cast<size_t>(n));
    }
    f.children.push_back(std::move(c));
  }
  std::sort(f.children.begin(), f.children.end(),
            [](const Child& a, const Child& b) { return a.name < b.name; });
  stack_.push_back(std::move(f));
}

const std::string& Walker::UserName(uint32_t uid) {
  auto it = users_.find(uid);
  if (it != users_.end()) return it->second;
  struct passwd pw, *res = nullptr;
  char buf[4096];
  std::string name;
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) name = res->pw_name;
  return users_.emplace(uid, name).first->second;
}

const std::string& Walker::GroupName(uint32_t gid) {
  auto it = groups_.find(gid);
  if (it != groups_.end()) return it->second;
  struct group gr, *res = nullptr;
  char buf[4096];
  std::string name;
  if (::getgrgid_r(gid, &gr, buf, sizeof buf, &res) == 0 && res) name = res->gr_name;
  return groups_.emplace(gid, name).first->second;
}

void Walker::FillEntry(const std::string& rel, const Child& c, Entry* e) {
  const struct stat& st = c.st;
  e->path = rel;
  e->mode = st.st_mode & 07777;
  e->uid = st.st_uid;
  e->gid = st.st_gid;
  e->uname = UserName(st.st_uid);
  e->gname = GroupName(st.st_gid);
  e->size = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  e->mtime = FileTime::Of(st.st_mtim);
  e->ctime = FileTime::Of(st.st_ctim);
  e->dev = st.st_dev;
  e->ino = st.st_ino;
  e->nlink = static_cast<uint32_t>(st.st_nlink);
  e->target.clear();
  e->has_hash = false;
  e->rdev = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? st.st_rdev : 0;
  e->xattrs.clear();
  e->acl_access.clear();
  e->acl_default.clear();
  e->fflags.clear();
  e->content_unchanged = e->changed_while_read = false;
  e->sparse = S_ISREG(st.st_mode) && st.st_size > (1 << 20) &&
              static_cast<uint64_t>(st.st_blocks) * 512 < static_cast<uint64_t>(st.st_size);
  if (S_ISREG(st.st_mode)) {
    e->type = EntryType::kFile;
  } else if (S_ISDIR(st.st_mode)) {
    e->type = EntryType::kDir;
  } else if (S_ISFIFO(st.st_mode)) {
    e->type = EntryType::kFifo;
  } else if (S_ISCHR(st.st_mode)) {
    e->type = EntryType::kCharDevice;
  } else if (S_ISBLK(st.st_mode)) {
    e->type = EntryType::kBlockDevice;
  } else {
    e->type = EntryType::kSymlink;
    e->target = c.link_target;
  }
}

bool Walker::Next(Entry* e, bool* subtree_unknown) {
  *subtree_unknown = false;
  while (!stack_.empty()) {
    Frame& f = stack_.back();
    if (f.next == f.children.size()) {
      stack_.pop_back();
      continue;
    }
    Child c = std::move(f.children[f.next++]);
    std::string rel = f.rel.empty() ? c.name : f.rel + "/" + c.name;
    bool full = f.full;
    mode_t m = c.st.st_mode;
    if (S_ISSOCK(m)) {  // a socket is made by the program that listens on it
      notice_(AbsPath(rel), "skipped socket", false);
      continue;
    }
    FillEntry(rel, c, e);
    above_roots_ = S_ISDIR(m) && !full && !IsRoot(rel);
    if (S_ISDIR(m)) {
      if (full || IsRoot(rel)) {
        Frame nf{rel, true, {}, 0};
        if (PushFull(rel, &nf))
          stack_.push_back(std::move(nf));
        else
          *subtree_unknown = true;
      } else {
        PushAncestor(rel);
      }
    }
    return true;
  }
  return false;
}

}  // namespace gb
