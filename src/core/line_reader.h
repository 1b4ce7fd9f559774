// Reads '\n'-terminated lines from a byte stream, a buffer at a time: text of
// any size in bounded memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/stream.h"

namespace gb {

class LineReader {
 public:
  static constexpr size_t kMaxLine = size_t{64} << 20;
  explicit LineReader(ByteSource& in, size_t max_line = kMaxLine)
      : in_(in), buf_(1 << 16), max_line_(max_line) {}
  // The next line without its '\n' (the last may lack one); false at the end.
  // Throws kCorruption for a line longer than max_line: memory stays bounded.
  bool Next(std::string* line);

 private:
  ByteSource& in_;
  std::vector<uint8_t> buf_;
  size_t max_line_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
};

}  // namespace gb
