#include "core/concat_source.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace gb {

void ConcatSource::AddBytes(Bytes bytes) {
  Piece p;
  p.size = bytes.size();
  p.bytes = std::move(bytes);
  size_ += p.size;
  pieces_.push_back(std::move(p));
}

void ConcatSource::AddFile(const std::string& path, uint64_t size) {
  Piece p;
  p.path = path;
  p.size = size;
  size_ += size;
  pieces_.push_back(std::move(p));
}

void ConcatSource::AddZeros(uint64_t n) {
  Piece p;
  p.zeros = n;
  p.size = n;
  size_ += n;
  pieces_.push_back(std::move(p));
}

void ConcatSource::Rewind() {
  index_ = 0;
  offset_ = 0;
  file_.reset();
}

size_t ConcatSource::Read(std::span<uint8_t> buf) {
  while (index_ < pieces_.size()) {
    Piece& p = pieces_[index_];
    uint64_t left = p.size - offset_;
    if (left == 0 || buf.empty()) {
      if (buf.empty()) return 0;
      ++index_;
      offset_ = 0;
      file_.reset();
      continue;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    if (!p.path.empty()) {
      if (!file_) {
        file_ = std::make_unique<FileSource>(p.path);
        if (file_->Size() != p.size)
          throw Error(Code::kIOError, p.path + " changed size while being uploaded");
      }
      n = file_->Read(buf.first(n));
      if (n == 0) throw Error(Code::kIOError, p.path + " ended early while being uploaded");
    } else if (p.zeros) {
      std::memset(buf.data(), 0, n);
    } else {
      std::memcpy(buf.data(), p.bytes.data() + offset_, n);
    }
    offset_ += n;
    return n;
  }
  return 0;
}

}  // namespace gb
