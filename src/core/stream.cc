#include "core/stream.h"

#include <algorithm>
#include <cstring>

namespace gb {

size_t ByteSource::ReadFull(std::span<uint8_t> buf) {
  size_t got = 0;
  while (got < buf.size()) {
    size_t n = Read(buf.subspan(got));
    if (n == 0) break;
    got += n;
  }
  return got;
}

size_t SpanSource::Read(std::span<uint8_t> buf) {
  size_t n = std::min(buf.size(), data_.size() - pos_);
  if (n) std::memcpy(buf.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

uint64_t Pump(ByteSource& src, ByteSink& sink) {
  std::vector<uint8_t> buf(1 << 20);
  uint64_t total = 0;
  while (size_t n = src.Read(buf)) {
    sink.Write(std::span<const uint8_t>(buf.data(), n));
    total += n;
  }
  return total;
}

}  // namespace gb
