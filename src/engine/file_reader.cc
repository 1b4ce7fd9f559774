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

size_t PreadFull(int fd, uint8_t* buf, size_t n, uint64_t off, const std::string& path) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(off + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("read " + path);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
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
  if (::fstat(fd.get(), &st1) != 0 || !S_ISREG(st1.st_mode)) {
    r.problem = "is no longer a regular file";
    return r;
  }
  try {
    size_t n = 0;
    for (int attempt = 0; attempt < kSnapshotAttempts; ++attempt) {
      if (static_cast<uint64_t>(st1.st_size) > kSmallFile) {
        r.outcome = SmallFileRead::Outcome::kLarge;
        return r;
      }
      // One byte more than the size: a file that grew meanwhile reads longer.
      // A first read that stops at the size is the end of the file (one that
      // grew even so has a new size or time in the stat after it): no second
      // read only to be told so.
      const size_t size = static_cast<size_t>(st1.st_size);
      r.data.resize(size + 1);
      ssize_t first = ::pread(fd.get(), r.data.data(), r.data.size(), 0);
      n = first > 0 ? static_cast<size_t>(first) : 0;
      if (first < 0 || n != size)
        n += PreadFull(fd.get(), r.data.data() + n, r.data.size() - n, n, abs);
      if (::fstat(fd.get(), &st2) != 0) ThrowErrno("stat " + abs);
      if (SameVersion(st1, st2) && n == static_cast<size_t>(st1.st_size)) {
        r.data.resize(n);
        ApplyStat(st1, e);
        e->sparse = false;
        e->hash = Sha256::Of(r.data);
        e->has_hash = true;
        r.outcome = SmallFileRead::Outcome::kRead;
        return r;
      }
      if (attempt + 1 < kSnapshotAttempts) st1 = st2;
    }
    // The last version read, up to the size it had when the read began (for
    // a file that only grew, a consistent prefix).
    r.data.resize(std::min(n, static_cast<size_t>(st1.st_size)));
    ApplyStat(st1, e);
    e->size = r.data.size();
    e->sparse = false;
    e->hash = Sha256::Of(r.data);
    e->has_hash = true;
    e->changed_while_read = true;
    r.outcome = SmallFileRead::Outcome::kChanging;
    r.problem = "kept changing while being read";
    return r;
  } catch (const Error& err) {
    r.problem = err.what();
  }
  r.data.clear();
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
