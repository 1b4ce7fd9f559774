#include "core/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

#include "core/error.h"
#include "core/file_system.h"

namespace gb {

void Fd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Fd OpenRead(const std::string& path) {
  int fd = Fs().Open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(path);
  return Fd(fd);
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

void PwriteFull(int fd, std::span<const uint8_t> data, uint64_t off, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        Fs().Pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(off + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("write " + what);
    }
    done += static_cast<size_t>(n);
  }
}

FdSink::FdSink(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
  buf_.reserve(1 << 20);
}

void FdSink::Write(std::span<const uint8_t> data) {
  bytes_ += data.size();
  if (buf_.size() + data.size() > buf_.capacity()) Flush();
  if (data.size() >= buf_.capacity()) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = Fs().Write(fd_, data.data() + off, data.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        ThrowErrno("write " + path_);
      }
      off += static_cast<size_t>(n);
    }
    return;
  }
  buf_.insert(buf_.end(), data.begin(), data.end());
}

void FdSink::Flush() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = Fs().Write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("write " + path_);
    }
    off += static_cast<size_t>(n);
  }
  buf_.clear();
}

FileSource::FileSource(const std::string& path, uint64_t offset, uint64_t length)
    : path_(path), fd_(OpenRead(path)), offset_(offset) {
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0) ThrowErrno(path);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset > size) offset_ = size;
  length_ = std::min<uint64_t>(length, size - offset_);
}

size_t FileSource::Read(std::span<uint8_t> buf) {
  uint64_t left = length_ - pos_;
  size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), left));
  if (want == 0) return 0;
  for (;;) {
    ssize_t n = ::pread(fd_.get(), buf.data(), want, static_cast<off_t>(offset_ + pos_));
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("read " + path_);
    }
    if (n == 0) throw Error(Code::kIOError, path_ + ": file shrank while reading");
    pos_ += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }
}

static std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s(8, 'x');
  for (auto& c : s) c = kChars[rng() % 36];
  return s;
}

AtomicFile::AtomicFile(const std::string& path, mode_t mode)
    : path_(path),
      temp_(JoinPath(Dirname(path),
                     std::string(kTempPrefix) + Basename(path) + "." + RandomSuffix())),
      fd_(Fs().Open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)),
      sink_(fd_.get(), temp_) {
  if (!fd_.valid()) ThrowErrno("create " + temp_);
}

AtomicFile::~AtomicFile() {
  if (!committed_) Fs().Unlink(temp_.c_str());
}

void AtomicFile::Commit() {
  sink_.Flush();
  if (Fs().Fsync(fd_.get()) != 0) ThrowErrno("fsync " + temp_);
  fd_.Reset();
  if (Fs().Rename(temp_.c_str(), path_.c_str()) != 0) ThrowErrno("rename to " + path_);
  committed_ = true;
  SyncDir(Dirname(path_));
}

void WriteFileAtomic(const std::string& path, std::span<const uint8_t> data, mode_t mode) {
  AtomicFile f(path, mode);
  f.sink().Write(data);
  f.Commit();
}

std::string ReadFileToString(const std::string& path) {
  Fd fd = OpenRead(path);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Fd OpenAnonymousTemp(const std::string& dir) {
  int fd = Fs().Open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::string tmpl = JoinPath(dir, ".tmp-spool-XXXXXX");
    fd = Fs().Mkstemp(tmpl.data());
    if (fd < 0) ThrowErrno("create a temporary file in " + dir);
    Fs().Unlink(tmpl.c_str());
  }
  return Fd(fd);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

void MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw Error(Code::kIOError, path + ": exists and is not a directory");
    return;
  }
  std::string parent = Dirname(path);
  if (parent != path) MakeDirs(parent, mode);
  if (Fs().Mkdir(path.c_str(), mode) != 0 && errno != EEXIST) ThrowErrno("mkdir " + path);
}

void SyncDir(const std::string& dir) {
  int fd = Fs().Open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ThrowErrno("open directory " + dir);
  int rc = Fs().Fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) ThrowErrno("fsync directory " + dir, err);
}

std::vector<std::string> ListDirNames(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (!d) ThrowErrno("open directory " + dir);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d.get())) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  if (errno != 0) ThrowErrno("read directory " + dir);
  return names;
}

int RemoveStaleTemps(const std::string& dir) {
  if (!PathExists(dir)) return 0;
  int removed = 0;
  for (const std::string& name : ListDirNames(dir)) {
    if (name.starts_with(AtomicFile::kTempPrefix) &&
        Fs().Unlink(JoinPath(dir, name).c_str()) == 0) {
      ++removed;
    }
  }
  return removed;
}

std::string ExpandUser(const std::string& path) {
  if (path.empty() || path[0] != '~') return path;
  if (path.size() > 1 && path[1] != '/') return path;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + path.substr(1);
}

std::string Dirname(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

std::string Basename(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty() || (!b.empty() && b[0] == '/')) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

// A name from outside, fit for a one-line message: control bytes shown as '?', cut at 100 bytes.
static std::string PrintableName(const std::string& name) {
  std::string out = name.substr(0, 100);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return name.size() > 100 ? out + "..." : out;
}

bool IsPlainFileName(const std::string& name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

std::string ChildPath(const std::string& dir, const std::string& name) {
  if (!IsPlainFileName(name))
    throw Error(Code::kCorruption, "refused the name \"" + PrintableName(name) +
                                       "\" for a file in " + dir +
                                       ": not a plain file name (a path, \"..\" or empty)");
  return JoinPath(dir, name);
}

}  // namespace gb
