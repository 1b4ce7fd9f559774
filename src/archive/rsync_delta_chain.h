// A chain of rdiff deltas (a whole base version, then deltas each made
// against the version before) rebuilt in one pass, without materialising the
// versions in between: the deltas' commands are composed into a list of
// pieces of the newest version, each a byte range of the base file or of the
// literal bytes of one delta file, which are then read in order with pread.
//
// The rdiff delta format (librsync's prototab): the magic 0x72730236, then
// commands. 0x00 END; 0x01-0x40 LITERAL of that many bytes, which follow;
// 0x41-0x44 LITERAL whose length follows in 1, 2, 4 or 8 bytes; 0x45-0x54
// COPY of a range of the basis, its start then its length in 1, 2, 4 or 8
// bytes each (start width = 1 << ((op - 0x45) / 4), length width =
// 1 << ((op - 0x45) % 4)). Integers are big-endian. Nothing may follow END.
//
// Checking: only the result can be hashed (the intermediate versions never
// exist), so the caller checks the SHA-256 of the output against the hash
// recorded for the newest version; that one check covers the whole chain.
//
// Hostile input: every command is checked against the real sizes of the
// files (a literal past the end of its delta, a copy past the end of its
// basis, zero or overflowing lengths, a truncated command, an unknown
// opcode, bytes after END); memory is O(pieces), never taken from a claimed
// length, and the pieces of one version are capped at kMaxPieces. Every
// refusal is a kCorruption Error naming the delta.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/stream.h"

namespace gb {

// One command of an rdiff delta.
struct RsyncDeltaCommand {
  enum class Kind { kEnd, kLiteral, kCopy };
  Kind kind = Kind::kEnd;
  uint64_t offset = 0;  // literal: where its bytes start in the delta; copy: in the basis
  uint64_t length = 0;  // > 0 except for kEnd
};

// Reads the commands of the delta in `fd` (read with pread, not owned), which
// holds `size` bytes; `name` names it in errors.
class RsyncDeltaReader {
 public:
  // Throws kCorruption when the delta does not start with the rdiff magic.
  RsyncDeltaReader(int fd, uint64_t size, std::string name);
  // The next command; kEnd once, at the end. Throws kCorruption on a malformed
  // or truncated delta. A literal's bytes are skipped, not read.
  RsyncDeltaCommand Next();
  const std::string& name() const { return name_; }

 private:
  uint8_t Byte();
  uint64_t Int(int width);

  int fd_;
  uint64_t size_;
  std::string name_;
  uint64_t pos_ = 0;  // of the next byte to read
  std::vector<uint8_t> buf_;
  uint64_t buf_start_ = 0;  // file offset of buf_[0]
  size_t buf_len_ = 0;
  bool ended_ = false;
};

// The newest version of a chain, as pieces of its sources: source 0 is the
// base file, source k (1-based) the k-th delta applied.
class RsyncDeltaChain {
 public:
  struct Piece {
    uint32_t source;
    uint64_t offset;  // in the source
    uint64_t length;
  };
  // At most this many pieces per version (24 bytes each; two versions are
  // held while one delta is composed): ~48 MiB each. A librsync delta has at
  // most about one command per block of its basis (blocks of ~sqrt(size)
  // bytes), so a legitimate chain stays far below it for files of terabytes.
  static constexpr size_t kMaxPieces = size_t{1} << 21;

  // Starts from a base of `base_size` bytes.
  explicit RsyncDeltaChain(uint64_t base_size);

  // Composes the delta in `fd` (`size` bytes, named `name` in errors) onto
  // the version built so far. Throws kCorruption as the header says.
  void Apply(int fd, uint64_t size, const std::string& name);

  uint64_t size() const { return size_; }
  const std::vector<Piece>& pieces() const { return pieces_; }
  int deltas() const { return deltas_; }

  // Whether every piece of the base lies at its own offset in the newest
  // version (page writes in place, growth, shrinking: no insertion or move
  // before it), so that PatchBase can turn the base file into the newest
  // version by writing only the deltas' pieces.
  bool BaseStaysInPlace() const;
  // Writes every piece that is not the base's into `base_fd` (open for
  // reading and writing; `base_name` names it in errors) at its offset in the
  // version, then gives it the version's size: the base file becomes the
  // newest version. REQUIRES: BaseStaysInPlace(). Throws as WriteTo does.
  void PatchBase(int base_fd, std::span<const int> delta_fds, const std::string& base_name) const;

  // Writes the newest version to `out` (not finished) in one sequential pass,
  // reading `base_fd` and `delta_fds[k - 1]` for source k with pread. Throws
  // kCorruption when a source turns out shorter than composed, kIOError on a
  // read error.
  void WriteTo(int base_fd, std::span<const int> delta_fds, ByteSink& out) const;

 private:
  std::vector<Piece> pieces_;
  std::vector<uint64_t> starts_;  // offset in the version of each piece
  uint64_t size_ = 0;
  int deltas_ = 0;
};

}  // namespace gb
