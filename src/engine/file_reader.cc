#include "engine/file_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/sha256.h"

namespace gb {
namespace {

constexpr int kSnapshotAttempts = 3;
constexpr size_t kChunk = 1 << 20;

}  // namespace

Fd OpenForBackup(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  return Fd(fd);
}

void HintReadahead(int fd, uint64_t offset, uint64_t bytes) {
  ::posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(bytes), POSIX_FADV_WILLNEED);
}

void HintReadahead(const std::string& path, uint64_t offset, uint64_t bytes) {
  Fd fd = OpenForBackup(path);
  if (fd.valid()) HintReadahead(fd.get(), offset, bytes);
}

bool SameVersion(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_ctim.tv_sec == b.st_ctim.tv_sec &&
         a.st_ctim.tv_nsec == b.st_ctim.tv_nsec && a.st_ino == b.st_ino;
}

bool SameVersion(const Entry& seen, const struct stat& st) {
  return seen.size == static_cast<uint64_t>(st.st_size) && seen.mtime == FileTime::Of(st.st_mtim) &&
         seen.ctime == FileTime::Of(st.st_ctim) && seen.ino == st.st_ino;
}

void ApplyStat(const struct stat& st, Entry* e) {
  e->mode = st.st_mode & 07777;
  e->uid = st.st_uid;
  e->gid = st.st_gid;
  e->size = static_cast<uint64_t>(st.st_size);
  e->mtime = FileTime::Of(st.st_mtim);
  e->ctime = FileTime::Of(st.st_ctim);
  e->ino = st.st_ino;
  e->dev = st.st_dev;
  e->nlink = static_cast<uint32_t>(st.st_nlink);
}

SparseMap DataRegions(int fd, uint64_t size) {
  SparseMap map;
  off_t pos = 0;
  while (static_cast<uint64_t>(pos) < size) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;  // ENXIO: only a hole remains
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) hole = static_cast<off_t>(size);
    map.emplace_back(static_cast<uint64_t>(data), static_cast<uint64_t>(hole - data));
    pos = hole;
  }
  return map;
}

namespace {

// Reads the first `size` + 1 bytes of fd into *data (resized to them): one
// byte more, so a file that grew since `size` was seen reads longer. A first
// read that stops at the size is the end of the file (one that grew even so
// has a new size or time in the stat after it): no second read only to be
// told so. Returns the bytes read; -1 with errno set.
ssize_t ReadPastSize(int fd, size_t size, std::vector<uint8_t>* data) {
  data->resize(size + 1);
  size_t n = 0;
  while (n < data->size()) {
    ssize_t r = ::pread(fd, data->data() + n, data->size() - n, static_cast<off_t>(n));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    n += static_cast<size_t>(r);
    if (n == size) break;
  }
  return static_cast<ssize_t>(n);
}

// The read succeeded with `st` the stat it matches.
SmallFileRead Kept(const struct stat& st, Entry* e, SmallFileRead r) {
  ApplyStat(st, e);
  e->sparse = false;
  e->hash = Sha256::Of(r.data);
  e->has_hash = true;
  r.outcome = SmallFileRead::Outcome::kRead;
  return r;
}

}  // namespace

SmallFileRead ReadSmallFile(const std::string& abs, Entry* e, std::vector<uint8_t> buffer) {
  SmallFileRead r;
  r.data = std::move(buffer);
  r.data.clear();
  Fd fd = OpenForBackup(abs);
  if (!fd.valid()) {
    r.problem = std::string("cannot read: ") + std::strerror(errno);
    return r;
  }
  struct stat st1, st2;
  // Most files are still as the walk saw them: its stat stands for the one
  // before the read, and one read and one stat suffice. Otherwise the stat
  // after this read starts the attempts below.
  if (e->ino != 0 && e->size <= kSmallFile) {
    ssize_t n = ReadPastSize(fd.get(), static_cast<size_t>(e->size), &r.data);
    if (n >= 0 && static_cast<uint64_t>(n) == e->size && ::fstat(fd.get(), &st1) == 0 &&
        S_ISREG(st1.st_mode) && SameVersion(*e, st1)) {
      r.data.resize(static_cast<size_t>(n));
      return Kept(st1, e, std::move(r));
    }
  }
  if (::fstat(fd.get(), &st1) != 0 || !S_ISREG(st1.st_mode)) {
    r.problem = "is no longer a regular file";
    return r;
  }
  size_t n = 0;
  for (int attempt = 0; attempt < kSnapshotAttempts; ++attempt) {
    if (static_cast<uint64_t>(st1.st_size) > kSmallFile) {
      r.outcome = SmallFileRead::Outcome::kLarge;
      return r;
    }
    ssize_t got = ReadPastSize(fd.get(), static_cast<size_t>(st1.st_size), &r.data);
    if (got < 0) {
      r.problem = "read " + abs + ": " + std::strerror(errno);
      r.data.clear();
      return r;
    }
    n = static_cast<size_t>(got);
    if (::fstat(fd.get(), &st2) != 0) {
      r.problem = "stat " + abs + ": " + std::strerror(errno);
      r.data.clear();
      return r;
    }
    if (SameVersion(st1, st2) && n == static_cast<size_t>(st1.st_size)) {
      r.data.resize(n);
      return Kept(st1, e, std::move(r));
    }
    if (attempt + 1 < kSnapshotAttempts) st1 = st2;
  }
  // The last version read, up to the size it had when the read began (for
  // a file that only grew, a consistent prefix).
  r.data.resize(std::min(n, static_cast<size_t>(st1.st_size)));
  r = Kept(st1, e, std::move(r));
  e->size = r.data.size();
  e->changed_while_read = true;
  r.outcome = SmallFileRead::Outcome::kChanging;
  r.problem = "kept changing while being read";
  return r;
}

Digest HashFile(const std::string& path) {
  Fd fd = OpenForBackup(path);
  if (!fd.valid()) ThrowErrno("read " + path);
  Sha256 sha;
  std::vector<uint8_t> buf(kChunk);
  uint64_t off = 0;
  for (;;) {
    size_t n = PreadFull(fd.get(), buf.data(), buf.size(), off, path);
    if (n == 0) break;
    sha.Update(buf.data(), n);
    off += n;
  }
  return sha.Final();
}

}  // namespace gb
