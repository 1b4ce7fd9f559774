// Reads a tar stream (libarchive) from a ByteSource, member by member.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include "core/entry.h"
#include "core/stream.h"

struct archive;
struct archive_entry;

namespace gb {

struct TarMember {
  Entry entry;                   // path, type, metadata (xattrs, ACLs included), size
  bool other = false;            // a member type glacier-backup never writes (a socket...)
  archive_entry* raw = nullptr;  // valid until the next Next()
};

class TarReader {
 public:
  explicit TarReader(ByteSource& in);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // Advances to the next member; false at the end of the archive.
  // Throws kCorruption on a malformed archive (or what the source throws).
  bool Next(TarMember* m);
  // Streams the current member's data: `block` gets (logical offset, bytes);
  // gaps between blocks are holes (zeros).
  void ReadData(const std::function<void(uint64_t, std::span<const uint8_t>)>& block);
  // Reads the whole current member into memory (small members only).
  std::string ReadAll();

 private:
  static long ReadCallback(struct archive*, void* self, const void** buf);
  ByteSource& in_;
  struct archive* a_;
  Bytes buf_;
  std::exception_ptr source_error_;
  void Fail(int rc, const char* what);
};

}  // namespace gb
