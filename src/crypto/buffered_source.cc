#include "crypto/buffered_source.h"

#include <algorithm>
#include <cstring>

namespace gb::age {

BufferedSource::BufferedSource(ByteSource& upstream, size_t capacity)
    : upstream_(upstream), buf_(capacity) {}

bool BufferedSource::Fill() {
  if (eof_) return false;
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (begin_ > 0 && (end_ == buf_.size() || begin_ >= buf_.size() / 2)) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a Peek larger than the buffer
  size_t n = upstream_.Read(std::span(buf_).subspan(end_));
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += n;
  return true;
}

std::span<const uint8_t> BufferedSource::Peek(size_t n) {
  while (end_ - begin_ < n && Fill()) {
  }
  return std::span<const uint8_t>(buf_.data() + begin_, std::min(n, end_ - begin_));
}

BufferedSource::LineEnd BufferedSource::ReadLine(std::string& line, size_t max_size) {
  line.clear();
  for (;;) {
    size_t avail = end_ - begin_;
    size_t scan = std::min(avail, max_size - line.size());
    const uint8_t* start = buf_.data() + begin_;
    const void* nl = std::memchr(start, '\n', scan);
    size_t take = nl ? static_cast<size_t>(static_cast<const uint8_t*>(nl) - start) + 1 : scan;
    line.append(reinterpret_cast<const char*>(start), take);
    begin_ += take;
    if (nl) return LineEnd::kNewline;
    if (line.size() >= max_size) return LineEnd::kTooLong;
    if (!Fill()) return LineEnd::kEof;
  }
}

size_t BufferedSource::Read(std::span<uint8_t> buf) {
  if (buf.empty()) return 0;
  if (begin_ == end_) {
    if (eof_) return 0;
    // Large reads bypass the buffer.
    if (buf.size() >= buf_.size()) {
      size_t n = upstream_.Read(buf);
      if (n == 0) eof_ = true;
      return n;
    }
    if (!Fill()) return 0;
  }
  size_t n = std::min(buf.size(), end_ - begin_);
  std::memcpy(buf.data(), buf_.data() + begin_, n);
  begin_ += n;
  return n;
}

}  // namespace gb::age
