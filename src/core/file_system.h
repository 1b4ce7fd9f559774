// The one seam to the local file system, as core/clock.h is for time: every call
// of the program that creates, writes, syncs, renames, removes or locks a file
// or a directory goes through the FileSystem that Fs() returns, so a test can
// make any of them fail.
//
// Contract of every method: it behaves exactly as its POSIX namesake (same
// arguments, same result): -1 with errno set on failure, and a write may write
// fewer bytes than asked. Callers keep their own error handling (ThrowErrno,
// EINTR loops, loops on short writes).
// Thread-safety: every implementation may be called from several threads at
// once.
//
// Reads (read, pread, stat, readdir) and metadata that allocates no data
// (chmod, chown, utimens) stay direct system calls: they change nothing a
// crash or a full disk could leave half done.
//
// SQLite does its own file I/O for the catalog, not through this seam: it turns
// a failed write or sync into SQLITE_FULL / SQLITE_IOERR and rolls the
// transaction back from its journal (its own test suite injects I/O errors at
// every call), and catalog/sqlite.cc turns those into an Error like any other.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace gb {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // openat(2); dir_fd AT_FDCWD for a path relative to the working directory.
  virtual int OpenAt(int dir_fd, const char* path, int flags, mode_t mode = 0) = 0;
  int Open(const char* path, int flags, mode_t mode = 0) {
    return OpenAt(AT_FDCWD, path, flags, mode);
  }
  // mkostemp(3) with O_CLOEXEC: creates a file named after `templ` (its XXXXXX replaced).
  virtual int Mkstemp(char* templ) = 0;
  virtual ssize_t Write(int fd, const void* data, size_t n) = 0;
  virtual ssize_t Pwrite(int fd, const void* data, size_t n, off_t offset) = 0;
  virtual int Ftruncate(int fd, off_t size) = 0;
  virtual int Truncate(const char* path, off_t size) = 0;
  virtual int Fsync(int fd) = 0;
  virtual int Rename(const char* from, const char* to) = 0;
  // unlinkat(2); flags AT_REMOVEDIR removes an empty directory.
  virtual int UnlinkAt(int dir_fd, const char* path, int flags) = 0;
  int Unlink(const char* path) { return UnlinkAt(AT_FDCWD, path, 0); }
  virtual int MkdirAt(int dir_fd, const char* path, mode_t mode) = 0;
  int Mkdir(const char* path, mode_t mode) { return MkdirAt(AT_FDCWD, path, mode); }
  virtual int SymlinkAt(const char* target, int dir_fd, const char* path) = 0;
  virtual int LinkAt(int from_dir, const char* from, int to_dir, const char* to, int flags) = 0;
  int Link(const char* from, const char* to) { return LinkAt(AT_FDCWD, from, AT_FDCWD, to, 0); }
  virtual int MknodAt(int dir_fd, const char* path, mode_t mode, dev_t dev) = 0;
  virtual int Flock(int fd, int operation) = 0;
};

// The file system every caller uses: the POSIX one, or, when the environment
// sets GLACIER_BACKUP_FAULT (see FaultSpec), the POSIX one behind a
// FaultInjectingFileSystem; or the one a test installed. Throws
// kInvalidArgument when GLACIER_BACKUP_FAULT cannot be parsed.
FileSystem& Fs();
// The plain POSIX implementation.
FileSystem& PosixFileSystem();

// Installs `fs` as Fs() for its lifetime (tests), restoring the previous one
// after. REQUIRES: no other thread uses Fs() while it is installed or removed.
class ScopedFileSystem {
 public:
  explicit ScopedFileSystem(FileSystem& fs);
  ~ScopedFileSystem();
  ScopedFileSystem(const ScopedFileSystem&) = delete;
  ScopedFileSystem& operator=(const ScopedFileSystem&) = delete;

 private:
  FileSystem* previous_;
};

// Which call fails, and how. Text form (GLACIER_BACKUP_FAULT): KIND@N, N >= 1.
//   enospc@N  the Nth counted call fails with ENOSPC (No space left on device)
//   eio@N     the Nth counted call fails with EIO (Input/output error)
//   short@N   the Nth write (Write or Pwrite) writes only half its bytes (at
//             least one fewer) and returns that count; the write after it fails
//             with ENOSPC, as on a disk that just filled up
//   fsync@N   the Nth Fsync fails with EIO
// Counted calls (enospc, eio): the ones that change the file system: OpenAt
// and Mkstemp that may create or write (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC),
// Write, Pwrite, Ftruncate, Truncate, Fsync, Rename, UnlinkAt, MkdirAt,
// SymlinkAt, LinkAt, MknodAt. Opens for reading and Flock are never failed.
// One fault per process: every other call goes through unchanged.
struct FaultSpec {
  enum class Kind { kNoSpace, kIOError, kShortWrite, kFsync };
  Kind kind = Kind::kIOError;
  uint64_t n = 1;
  // nullopt when `text` is not of the form above.
  static std::optional<FaultSpec> Parse(const std::string& text);
};

// Forwards every call to `target`, failing one as `spec` says. When it fails a
// call it writes one line to stderr, "glacier-backup: injected fault: ...",
// naming the call and its number, so a test knows the fault was reached.
class FaultInjectingFileSystem : public FileSystem {
 public:
  FaultInjectingFileSystem(FileSystem& target, FaultSpec spec);
  // Whether the fault has been injected (the Nth call was made).
  bool fired() const { return fired_.load(); }
  // How many calls of the kind the spec counts were made so far.
  uint64_t calls() const { return counter_.load(); }

  int OpenAt(int dir_fd, const char* path, int flags, mode_t mode) override;
  int Mkstemp(char* templ) override;
  ssize_t Write(int fd, const void* data, size_t n) override;
  ssize_t Pwrite(int fd, const void* data, size_t n, off_t offset) override;
  int Ftruncate(int fd, off_t size) override;
  int Truncate(const char* path, off_t size) override;
  int Fsync(int fd) override;
  int Rename(const char* from, const char* to) override;
  int UnlinkAt(int dir_fd, const char* path, int flags) override;
  int MkdirAt(int dir_fd, const char* path, mode_t mode) override;
  int SymlinkAt(const char* target, int dir_fd, const char* path) override;
  int LinkAt(int from_dir, const char* from, int to_dir, const char* to, int flags) override;
  int MknodAt(int dir_fd, const char* path, mode_t mode, dev_t dev) override;
  int Flock(int fd, int operation) override { return target_.Flock(fd, operation); }

 private:
  enum class Call { kOther, kWrite, kFsync };
  // Counts a call of `kind` (when the spec counts it); the errno to fail it
  // with, or 0 to let it through. *shorten is set for the short write.
  int Decide(Call kind, const char* what, bool* shorten = nullptr);
  // call() unless this call is the one to fail.
  template <typename Fn>
  int Guarded(Call kind, const std::string& what, Fn call);
  ssize_t WriteFaulted(int fd, const void* data, size_t n, const off_t* offset);

  FileSystem& target_;
  const FaultSpec spec_;
  std::atomic<uint64_t> counter_{0};
  std::atomic<bool> fired_{false};
  std::atomic<bool> fail_next_write_{false};  // after a short write
};

}  // namespace gb
