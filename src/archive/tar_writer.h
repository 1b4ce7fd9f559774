// Writes a pax tar stream (libarchive) into a ByteSink.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "core/entry.h"
#include "core/stream.h"

struct archive;

namespace gb {

// Byte ranges [offset, offset+length) that hold data in a sparse file.
using SparseMap = std::vector<std::pair<uint64_t, uint64_t>>;

class TarWriter {
 public:
  explicit TarWriter(ByteSink& out);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // Starts a member. REQUIRES: e.path is safe (IsSafeRelativePath).
  // For kFile, the caller then writes exactly e.size bytes of logical content
  // with WriteData (holes of `sparse` as zeros; they are not stored).
  // kDeleted entries are never written to tar; they live in the manifest.
  // Extended attributes and ACLs become SCHILY.xattr.* / SCHILY.acl.* headers.
  void Begin(const Entry& e, const SparseMap* sparse = nullptr);
  void WriteData(std::span<const uint8_t> data);
  void End();

  // A complete regular-file member from memory (manifests).
  void AddBlob(const std::string& path, std::span<const uint8_t> data, FileTime mtime);
  // Starts a regular-file member of `size` bytes to be streamed with WriteData.
  void BeginBlob(const std::string& path, uint64_t size, FileTime mtime);

  // Writes the end-of-archive marker and finishes `out`.
  void Close();

  // Whether writing to `out` failed: the stream is unusable from then on, and
  // every call throws the sink's own error again (naming the file and cause).
  bool broken() const { return sink_error_ != nullptr; }

 private:
  // libarchive's write callback: hands the bytes to out_, keeping its error.
  friend ssize_t TarWriteCallback(struct archive*, void* self, const void* buf, size_t n);
  void Check(int rc, const std::string& what);
  ByteSink& out_;
  struct archive* a_;
  bool closed_ = false;
  bool abandoned_ = false;  // destroyed unclosed: the callback drops what it gets
  std::exception_ptr sink_error_;
};

}  // namespace gb
