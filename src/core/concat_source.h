// A rewindable source made of pieces: bytes held in memory and ranges of files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/file.h"
#include "core/stream.h"

namespace gb {

class ConcatSource : public RewindableSource {
 public:
  void AddBytes(Bytes bytes);
  void AddFile(const std::string& path, uint64_t size);  // REQUIRES: the file has `size` bytes
  void AddZeros(uint64_t n);

  size_t Read(std::span<uint8_t> buf) override;
  void Rewind() override;
  uint64_t Size() const override { return size_; }

 private:
  struct Piece {
    Bytes bytes;       // when path is empty
    std::string path;  // a whole file
    uint64_t zeros = 0;
    uint64_t size = 0;
  };
  std::vector<Piece> pieces_;
  uint64_t size_ = 0;
  size_t index_ = 0;
  uint64_t offset_ = 0;  // within pieces_[index_]
  std::unique_ptr<FileSource> file_;
};

}  // namespace gb
