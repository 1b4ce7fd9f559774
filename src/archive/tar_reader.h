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
  // Reads the whole current member into memory: small, dense members only.
  // Throws kCorruption when it claims or holds more than max_bytes, or has holes.
  static constexpr uint64_t kMaxReadAll = uint64_t{1} << 30;
  std::string ReadAll(uint64_t max_bytes = kMaxReadAll);

 private:
  static long ReadCallback(struct archive*, void* self, const void** buf);
  ByteSource& in_;
  struct archive* a_;
  Bytes buf_;
  std::exception_ptr source_error_;
  std::string current_path_;  // of the member Next() returned
  uint64_t current_size_ = 0;
  void Fail(int rc, const char* what);
};

}  // namespace gb
