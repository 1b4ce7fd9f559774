// A read-ahead buffer over a ByteSource, for the line-oriented parts of the
// format (the header and the armor) followed by bulk reads of the payload.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "core/stream.h"

namespace gb::age {

class BufferedSource : public ByteSource {
 public:
  // `upstream` must outlive this object. Each refill asks upstream for at
  // most `capacity` bytes with a single Read(), so nothing is read far ahead
  // of what the caller consumes.
  explicit BufferedSource(ByteSource& upstream, size_t capacity = 16 * 1024);

  // Returns up to `n` bytes without consuming them; fewer only at end of stream.
  std::span<const uint8_t> Peek(size_t n);

  enum class LineEnd {
    kNewline,  // `line` ends with '\n'
    kEof,      // the stream ended first; `line` holds what was left (maybe nothing)
    kTooLong,  // no '\n' within max_size bytes; `line` holds those bytes
  };
  // Consumes bytes up to and including the next '\n', at most `max_size`.
  LineEnd ReadLine(std::string& line, size_t max_size);

  // Buffered bytes first, then straight from upstream.
  size_t Read(std::span<uint8_t> buf) override;

 private:
  // Reads once from upstream into the buffer; false at end of stream.
  bool Fill();

  ByteSource& upstream_;
  Bytes buf_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
};

}  // namespace gb::age
