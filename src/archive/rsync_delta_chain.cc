#include "archive/rsync_delta_chain.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <utility>

#include "core/error.h"
#include "core/file.h"
#include "core/file_system.h"

namespace gb {
namespace {

constexpr uint32_t kDeltaMagic = 0x72730236;
constexpr uint8_t kOpLastImmediateLiteral = 0x40;
constexpr uint8_t kOpFirstLiteralN = 0x41;
constexpr uint8_t kOpFirstCopy = 0x45;
constexpr uint8_t kOpLastCopy = 0x54;
// Lengths and offsets are off_t in the end (librsync reads them as signed).
constexpr uint64_t kMaxLength = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
constexpr size_t kReadBuffer = 64 << 10;
constexpr size_t kWriteBuffer = 1 << 20;

[[noreturn]] void Damaged(const std::string& name, const std::string& what) {
  throw Error(Code::kCorruption, name + ": damaged rdiff delta, " + what);
}

std::string Hex(uint8_t op) {
  char s[8];
  std::snprintf(s, sizeof s, "0x%02x", op);
  return s;
}

std::string SourceName(uint32_t source) {
  return source == 0 ? "the base version" : "delta " + std::to_string(source);
}

// Reads bytes [at, at + buf.size()) of piece p from its source `fd`.
// kCorruption when the source ends before them.
void ReadPiece(int fd, const RsyncDeltaChain::Piece& p, uint64_t at, std::span<uint8_t> buf) {
  size_t got = PreadFull(fd, buf.data(), buf.size(), p.offset + at, SourceName(p.source));
  if (got < buf.size())
    throw Error(Code::kCorruption, "rdiff chain: " + SourceName(p.source) + " ends at offset " +
                                       std::to_string(p.offset + at + got) +
                                       ", before the bytes its deltas refer to");
}

}  // namespace

RsyncDeltaReader::RsyncDeltaReader(int fd, uint64_t size, std::string name)
    : fd_(fd), size_(size), name_(std::move(name)), buf_(kReadBuffer) {
  if (size_ < 4) Damaged(name_, "too short (" + std::to_string(size_) + " bytes)");
  if (Int(4) != kDeltaMagic) Damaged(name_, "it does not start with the rdiff delta magic");
}

uint8_t RsyncDeltaReader::Byte() {
  if (pos_ >= size_) Damaged(name_, "truncated command at offset " + std::to_string(pos_));
  if (pos_ < buf_start_ || pos_ >= buf_start_ + buf_len_) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf_.size(), size_ - pos_));
    buf_start_ = pos_;
    buf_len_ = PreadFull(fd_, buf_.data(), want, pos_, name_);
    if (buf_len_ == 0)
      Damaged(name_, "the file ends at offset " + std::to_string(pos_) + ", before its " +
                         std::to_string(size_) + " bytes");
  }
  return buf_[static_cast<size_t>(pos_++ - buf_start_)];
}

uint64_t RsyncDeltaReader::Int(int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) v = v << 8 | Byte();
  return v;
}

RsyncDeltaCommand RsyncDeltaReader::Next() {
  if (ended_) return {};
  const uint64_t at = pos_;
  if (at >= size_) Damaged(name_, "it ends without an END command (truncated)");
  const uint8_t op = Byte();
  RsyncDeltaCommand c;
  if (op == 0) {
    if (pos_ != size_)
      Damaged(name_, std::to_string(size_ - pos_) + " bytes follow its END command");
    ended_ = true;
    return c;
  }
  if (op <= kOpLastImmediateLiteral) {
    c.kind = RsyncDeltaCommand::Kind::kLiteral;
    c.length = op;
  } else if (op < kOpFirstCopy) {
    c.kind = RsyncDeltaCommand::Kind::kLiteral;
    c.length = Int(1 << (op - kOpFirstLiteralN));
  } else if (op <= kOpLastCopy) {
    c.kind = RsyncDeltaCommand::Kind::kCopy;
    c.offset = Int(1 << ((op - kOpFirstCopy) / 4));
    c.length = Int(1 << ((op - kOpFirstCopy) % 4));
  } else {
    Damaged(name_, "unknown command " + Hex(op) + " at offset " + std::to_string(at));
  }
  if (c.length == 0 || c.length > kMaxLength || c.offset > kMaxLength)
    Damaged(name_, "invalid command at offset " + std::to_string(at) + " (length " +
                       std::to_string(c.length) + ", position " + std::to_string(c.offset) + ")");
  if (c.kind == RsyncDeltaCommand::Kind::kLiteral) {
    if (c.length > size_ - pos_)
      Damaged(name_, "a literal of " + std::to_string(c.length) + " bytes at offset " +
                         std::to_string(at) + " runs past its end (" + std::to_string(size_) +
                         " bytes)");
    c.offset = pos_;
    pos_ += c.length;
  }
  return c;
}

RsyncDeltaChain::RsyncDeltaChain(uint64_t base_size) : size_(base_size) {
  if (base_size > 0) {
    pieces_.push_back({0, 0, base_size});
    starts_.push_back(0);
  }
}

void RsyncDeltaChain::Apply(int fd, uint64_t size, const std::string& name) {
  RsyncDeltaReader reader(fd, size, name);
  const uint32_t source = static_cast<uint32_t>(deltas_) + 1;
  std::vector<Piece> next;
  uint64_t next_size = 0;
  auto add = [&](uint32_t src, uint64_t offset, uint64_t length) {
    if (!next.empty()) {
      Piece& last = next.back();
      if (last.source == src && last.offset + last.length == offset) {
        last.length += length;
        return;
      }
    }
    if (next.size() >= kMaxPieces)
      Damaged(name,
              "the rebuilt version would have more than " + std::to_string(kMaxPieces) + " pieces");
    next.push_back({src, offset, length});
  };
  for (RsyncDeltaCommand c = reader.Next(); c.kind != RsyncDeltaCommand::Kind::kEnd;
       c = reader.Next()) {
    if (c.length > kMaxLength - next_size)
      Damaged(name, "the rebuilt version would exceed " + std::to_string(kMaxLength) + " bytes");
    next_size += c.length;
    if (c.kind == RsyncDeltaCommand::Kind::kLiteral) {
      add(source, c.offset, c.length);
      continue;
    }
    if (c.length > size_ || c.offset > size_ - c.length)
      Damaged(name, "it copies bytes " + std::to_string(c.offset) + " to " +
                        std::to_string(c.offset + c.length) + " of a version of " +
                        std::to_string(size_) + " bytes");
    // The piece holding the copy's first byte, then the following ones.
    size_t i = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), c.offset) -
                                   starts_.begin()) -
               1;
    uint64_t at = c.offset, left = c.length;
    while (left > 0) {
      const Piece& p = pieces_[i];
      uint64_t within = at - starts_[i];
      uint64_t n = std::min(left, p.length - within);
      add(p.source, p.offset + within, n);
      at += n;
      left -= n;
      ++i;
    }
  }
  pieces_ = std::move(next);
  starts_.resize(pieces_.size());
  uint64_t start = 0;
  for (size_t i = 0; i < pieces_.size(); ++i) {
    starts_[i] = start;
    start += pieces_[i].length;
  }
  size_ = next_size;
  ++deltas_;
}

void RsyncDeltaChain::WriteTo(int base_fd, std::span<const int> delta_fds, ByteSink& out) const {
  if (delta_fds.size() < static_cast<size_t>(deltas_))
    throw Error(Code::kInternal, "rdiff chain: " + std::to_string(deltas_) + " deltas composed, " +
                                     std::to_string(delta_fds.size()) + " files given");
  std::vector<uint8_t> buf(kWriteBuffer);
  size_t used = 0;
  for (const Piece& p : pieces_) {
    int fd = p.source == 0 ? base_fd : delta_fds[p.source - 1];
    uint64_t done = 0;
    while (done < p.length) {
      if (used == buf.size()) {
        out.Write(std::span<const uint8_t>(buf.data(), used));
        used = 0;
      }
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size() - used, p.length - done));
      ReadPiece(fd, p, done, {buf.data() + used, want});
      used += want;
      done += want;
    }
  }
  if (used > 0) out.Write(std::span<const uint8_t>(buf.data(), used));
}

bool RsyncDeltaChain::BaseStaysInPlace() const {
  for (size_t i = 0; i < pieces_.size(); ++i)
    if (pieces_[i].source == 0 && pieces_[i].offset != starts_[i]) return false;
  return true;
}

void RsyncDeltaChain::PatchBase(int base_fd, std::span<const int> delta_fds,
                                const std::string& base_name) const {
  if (!BaseStaysInPlace() || delta_fds.size() < static_cast<size_t>(deltas_))
    throw Error(Code::kInternal, "rdiff chain: PatchBase on a chain that moves its base");
  std::vector<uint8_t> buf(kWriteBuffer);
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const Piece& p = pieces_[i];
    if (p.source == 0) continue;  // already where it belongs
    for (uint64_t done = 0; done < p.length;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), p.length - done));
      ReadPiece(delta_fds[p.source - 1], p, done, {buf.data(), want});
      PwriteFull(base_fd, {buf.data(), want}, starts_[i] + done, base_name);
      done += want;
    }
  }
  if (Fs().Ftruncate(base_fd, static_cast<off_t>(size_)) != 0) ThrowErrno("truncate " + base_name);
}

}  // namespace gb
