// A temporary, unlinked file of entries: written once in order, read back
// once. Lets a backup hold millions of entries without holding them in memory.
#pragma once

#include <cstdint>
#include <string>

#include "core/entry.h"
#include "core/file.h"

namespace gb {

class EntrySpool {
 public:
  // The file lives (unlinked) in `dir`; it vanishes when the spool is destroyed
  // or the process dies.
  explicit EntrySpool(const std::string& dir);
  void Append(const Entry& e);
  // Switches from writing to reading from the start.
  void Rewind();
  bool Next(Entry* e);
  uint64_t count() const { return count_; }

 private:
  void Fill(size_t need);
  Fd fd_;
  std::string dir_;
  Bytes wbuf_, rbuf_;
  size_t rpos_ = 0;
  uint64_t count_ = 0;
  bool eof_ = false;
  void FlushWrites();
};

}  // namespace gb
