#include "core/line_reader.h"

#include <cstring>

#include "core/error.h"

namespace gb {

bool LineReader::Next(std::string* line) {
  line->clear();
  for (;;) {
    if (pos_ < end_) {
      const uint8_t* start = buf_.data() + pos_;
      const void* nl = std::memchr(start, '\n', end_ - pos_);
      size_t n = nl ? static_cast<size_t>(static_cast<const uint8_t*>(nl) - start) : end_ - pos_;
      if (n > max_line_ - line->size())
        throw Error(Code::kCorruption, "a line longer than " + std::to_string(max_line_) +
                                           " bytes: damaged or not the expected text");
      line->append(reinterpret_cast<const char*>(start), n);
      pos_ += n;
      if (nl) {
        ++pos_;
        return true;
      }
    }
    if (eof_) return !line->empty();
    end_ = in_.Read(buf_);
    pos_ = 0;
    if (end_ == 0) eof_ = true;
  }
}

}  // namespace gb
