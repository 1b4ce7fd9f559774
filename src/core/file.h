// Local files, the durable way: every write that must survive a crash goes
// through AtomicFile (temp file, fsync, rename, fsync of the directory).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/stream.h"

namespace gb {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& o) noexcept : fd_(o.Release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = o.Release();
    }
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void Reset();

 private:
  int fd_ = -1;
};

// Opens for reading; throws kNotFound / kIOError naming the path.
Fd OpenRead(const std::string& path);

// Reads up to n bytes at offset (fewer only at end of file). Throws kIOError
// naming `path`.
size_t PreadFull(int fd, uint8_t* buf, size_t n, uint64_t off, const std::string& path);
// Writes all of `data` at offset. Throws kIOError ("write " + what).
void PwriteFull(int fd, std::span<const uint8_t> data, uint64_t off, const std::string& what);

// Writes to a file descriptor it does not own, with a 1 MiB buffer.
class FdSink : public ByteSink {
 public:
  FdSink(int fd, std::string path_for_errors);
  void Write(std::span<const uint8_t> data) override;
  using ByteSink::Write;
  void Finish() override { Flush(); }
  void Flush();
  uint64_t bytes() const { return bytes_; }

 private:
  int fd_;
  std::string path_;
  Bytes buf_;
  uint64_t bytes_ = 0;
};

// Reads a whole file (or a range of it) as a rewindable source.
class FileSource : public RewindableSource {
 public:
  explicit FileSource(const std::string& path, uint64_t offset = 0, uint64_t length = UINT64_MAX);
  size_t Read(std::span<uint8_t> buf) override;
  void Rewind() override { pos_ = 0; }
  uint64_t Size() const override { return length_; }

 private:
  std::string path_;
  Fd fd_;
  uint64_t offset_, length_, pos_ = 0;
};

// A file that appears at `path` only when Commit() returns: written to a
// temporary name in the same directory, fsynced, renamed, directory fsynced.
// Destroyed without Commit(), it leaves nothing behind.
class AtomicFile {
 public:
  static constexpr const char* kTempPrefix = ".tmp-";
  AtomicFile(const std::string& path, mode_t mode = 0644);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  ByteSink& sink() { return sink_; }
  const std::string& temp_path() const { return temp_; }
  void Commit();

 private:
  std::string path_, temp_;
  Fd fd_;
  FdSink sink_;
  bool committed_ = false;
};

void WriteFileAtomic(const std::string& path, std::span<const uint8_t> data, mode_t mode = 0644);
inline void WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode = 0644) {
  WriteFileAtomic(path, AsBytes(data), mode);
}
std::string ReadFileToString(const std::string& path);
bool PathExists(const std::string& path);
// An unnamed read-write file in `dir` (O_TMPFILE, else created and unlinked at
// once): gone when closed, whatever happens. Throws kIOError.
Fd OpenAnonymousTemp(const std::string& dir);
// mkdir -p; existing directories are fine.
void MakeDirs(const std::string& path, mode_t mode = 0755);
void SyncDir(const std::string& dir);
// Removes leftover AtomicFile temporaries in dir; returns how many.
int RemoveStaleTemps(const std::string& dir);
// The names in dir (not "." or ".."), unsorted. Throws kNotFound when dir does
// not exist, kIOError when it cannot be read.
std::vector<std::string> ListDirNames(const std::string& dir);
// "~" and "~/..." expand to $HOME.
std::string ExpandUser(const std::string& path);
std::string Dirname(const std::string& path);
std::string Basename(const std::string& path);
// Joins two paths; an absolute `b` is returned as it is. Never for names that
// came from outside (the vault, an archive, a catalog copy): use ChildPath.
std::string JoinPath(const std::string& a, const std::string& b);
// Whether `name` names an entry directly inside a folder: not empty, not "." or
// "..", no '/' and no NUL, at most 255 bytes.
bool IsPlainFileName(const std::string& name);
// dir/name. Throws kCorruption naming `name` unless IsPlainFileName(name): the
// one way the tool builds a path in its own folders from a name it was given.
std::string ChildPath(const std::string& dir, const std::string& name);

}  // namespace gb
