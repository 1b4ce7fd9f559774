#include "core/file_system.h"

#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace gb {
namespace {

class Posix : public FileSystem {
 public:
  int OpenAt(int dir_fd, const char* path, int flags, mode_t mode) override {
    return ::openat(dir_fd, path, flags, mode);
  }
  int Mkstemp(char* templ) override { return ::mkostemp(templ, O_CLOEXEC); }
  ssize_t Write(int fd, const void* data, size_t n) override { return ::write(fd, data, n); }
  ssize_t Pwrite(int fd, const void* data, size_t n, off_t offset) override {
    return ::pwrite(fd, data, n, offset);
  }
  int Ftruncate(int fd, off_t size) override { return ::ftruncate(fd, size); }
  int Truncate(const char* path, off_t size) override { return ::truncate(path, size); }
  int Fsync(int fd) override { return ::fsync(fd); }
  int Rename(const char* from, const char* to) override { return ::rename(from, to); }
  int UnlinkAt(int dir_fd, const char* path, int flags) override {
    return ::unlinkat(dir_fd, path, flags);
  }
  int MkdirAt(int dir_fd, const char* path, mode_t mode) override {
    return ::mkdirat(dir_fd, path, mode);
  }
  int SymlinkAt(const char* target, int dir_fd, const char* path) override {
    return ::symlinkat(target, dir_fd, path);
  }
  int LinkAt(int from_dir, const char* from, int to_dir, const char* to, int flags) override {
    return ::linkat(from_dir, from, to_dir, to, flags);
  }
  int MknodAt(int dir_fd, const char* path, mode_t mode, dev_t dev) override {
    return ::mknodat(dir_fd, path, mode, dev);
  }
  int Flock(int fd, int operation) override { return ::flock(fd, operation); }
};

FileSystem& FromEnvironment() {
  const char* text = std::getenv("GLACIER_BACKUP_FAULT");
  if (!text || !*text) return PosixFileSystem();
  std::optional<FaultSpec> spec = FaultSpec::Parse(text);
  if (!spec)
    throw Error(Code::kInvalidArgument,
                std::string("GLACIER_BACKUP_FAULT=") + text +
                    ": expected enospc@N, eio@N, short@N or fsync@N (N from 1)");
  static FaultInjectingFileSystem faulty(PosixFileSystem(), *spec);
  return faulty;
}

std::atomic<FileSystem*> installed{nullptr};

bool MayChange(int flags) {
  return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

void Say(const std::string& line) {
  std::string text = "glacier-backup: injected fault: " + line + "\n";
  (void)!::write(2, text.data(), text.size());
}

}  // namespace

FileSystem& PosixFileSystem() {
  static Posix fs;
  return fs;
}

FileSystem& Fs() {
  if (FileSystem* fs = installed.load(std::memory_order_acquire)) return *fs;
  static FileSystem& from_environment = FromEnvironment();
  return from_environment;
}

ScopedFileSystem::ScopedFileSystem(FileSystem& fs) : previous_(installed.exchange(&fs)) {}
ScopedFileSystem::~ScopedFileSystem() { installed.store(previous_); }

std::optional<FaultSpec> FaultSpec::Parse(const std::string& text) {
  size_t at = text.find('@');
  if (at == std::string::npos || at + 1 >= text.size()) return std::nullopt;
  std::string kind = text.substr(0, at), number = text.substr(at + 1);
  FaultSpec spec;
  if (kind == "enospc")
    spec.kind = Kind::kNoSpace;
  else if (kind == "eio")
    spec.kind = Kind::kIOError;
  else if (kind == "short")
    spec.kind = Kind::kShortWrite;
  else if (kind == "fsync")
    spec.kind = Kind::kFsync;
  else
    return std::nullopt;
  if (number.find_first_not_of("0123456789") != std::string::npos || number.size() > 18)
    return std::nullopt;
  spec.n = std::strtoull(number.c_str(), nullptr, 10);
  if (spec.n == 0) return std::nullopt;
  return spec;
}

FaultInjectingFileSystem::FaultInjectingFileSystem(FileSystem& target, FaultSpec spec)
    : target_(target), spec_(spec) {}

int FaultInjectingFileSystem::Decide(Call kind, const char* what, bool* shorten) {
  bool counted = false;
  switch (spec_.kind) {
    case FaultSpec::Kind::kNoSpace:
    case FaultSpec::Kind::kIOError:
      counted = true;
      break;
    case FaultSpec::Kind::kShortWrite:
      counted = kind == Call::kWrite;
      break;
    case FaultSpec::Kind::kFsync:
      counted = kind == Call::kFsync;
      break;
  }
  if (kind == Call::kWrite && fail_next_write_.exchange(false)) {
    Say(std::string("ENOSPC for the write after the short one (") + what + ")");
    return ENOSPC;
  }
  if (!counted) return 0;
  uint64_t number = counter_.fetch_add(1) + 1;
  if (number != spec_.n) return 0;
  fired_ = true;
  std::string call = std::string(what) + ", call " + std::to_string(number);
  switch (spec_.kind) {
    case FaultSpec::Kind::kNoSpace:
      Say("ENOSPC for " + call);
      return ENOSPC;
    case FaultSpec::Kind::kIOError:
      Say("EIO for " + call);
      return EIO;
    case FaultSpec::Kind::kShortWrite:
      Say("short write for " + call);
      *shorten = true;
      return 0;
    case FaultSpec::Kind::kFsync:
      Say("EIO for " + call);
      return EIO;
  }
  return 0;
}

template <typename Fn>
int FaultInjectingFileSystem::Guarded(Call kind, const std::string& what, Fn call) {
  if (int err = Decide(kind, what.c_str())) {
    errno = err;
    return -1;
  }
  return call();
}

int FaultInjectingFileSystem::OpenAt(int dir_fd, const char* path, int flags, mode_t mode) {
  auto open = [&] { return target_.OpenAt(dir_fd, path, flags, mode); };
  return MayChange(flags) ? Guarded(Call::kOther, std::string("open ") + path, open) : open();
}

int FaultInjectingFileSystem::Mkstemp(char* templ) {
  return Guarded(Call::kOther, std::string("create ") + templ,
                 [&] { return target_.Mkstemp(templ); });
}

ssize_t FaultInjectingFileSystem::WriteFaulted(int fd, const void* data, size_t n,
                                               const off_t* offset) {
  bool shorten = false;
  if (int err = Decide(Call::kWrite, offset ? "pwrite" : "write", &shorten)) {
    errno = err;
    return -1;
  }
  if (shorten && n > 0) {
    n /= 2;  // at least one byte fewer
    fail_next_write_ = true;
    if (n == 0) return 0;
  }
  return offset ? target_.Pwrite(fd, data, n, *offset) : target_.Write(fd, data, n);
}

ssize_t FaultInjectingFileSystem::Write(int fd, const void* data, size_t n) {
  return WriteFaulted(fd, data, n, nullptr);
}

ssize_t FaultInjectingFileSystem::Pwrite(int fd, const void* data, size_t n, off_t offset) {
  return WriteFaulted(fd, data, n, &offset);
}

int FaultInjectingFileSystem::Ftruncate(int fd, off_t size) {
  return Guarded(Call::kOther, "ftruncate", [&] { return target_.Ftruncate(fd, size); });
}

int FaultInjectingFileSystem::Truncate(const char* path, off_t size) {
  return Guarded(Call::kOther, std::string("truncate ") + path,
                 [&] { return target_.Truncate(path, size); });
}

int FaultInjectingFileSystem::Fsync(int fd) {
  return Guarded(Call::kFsync, "fsync", [&] { return target_.Fsync(fd); });
}

int FaultInjectingFileSystem::Rename(const char* from, const char* to) {
  return Guarded(Call::kOther, std::string("rename to ") + to,
                 [&] { return target_.Rename(from, to); });
}

int FaultInjectingFileSystem::UnlinkAt(int dir_fd, const char* path, int flags) {
  return Guarded(Call::kOther, std::string("unlink ") + path,
                 [&] { return target_.UnlinkAt(dir_fd, path, flags); });
}

int FaultInjectingFileSystem::MkdirAt(int dir_fd, const char* path, mode_t mode) {
  return Guarded(Call::kOther, std::string("mkdir ") + path,
                 [&] { return target_.MkdirAt(dir_fd, path, mode); });
}

int FaultInjectingFileSystem::SymlinkAt(const char* target, int dir_fd, const char* path) {
  return Guarded(Call::kOther, std::string("symlink ") + path,
                 [&] { return target_.SymlinkAt(target, dir_fd, path); });
}

int FaultInjectingFileSystem::LinkAt(int from_dir, const char* from, int to_dir, const char* to,
                                     int flags) {
  return Guarded(Call::kOther, std::string("link ") + to,
                 [&] { return target_.LinkAt(from_dir, from, to_dir, to, flags); });
}

int FaultInjectingFileSystem::MknodAt(int dir_fd, const char* path, mode_t mode, dev_t dev) {
  return Guarded(Call::kOther, std::string("mknod ") + path,
                 [&] { return target_.MknodAt(dir_fd, path, mode, dev); });
}

}  // namespace gb
