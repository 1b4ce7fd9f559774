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
  explicit LineReader(ByteSource& in) : in_(in), buf_(1 << 16) {}
  // The next line without its '\n' (the last may lack one); false at the end.
  bool Next(std::string* line);

 private:
  ByteSource& in_;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
};

}  // namespace gb
