#include "core/read_ahead_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/error.h"

namespace gb {
namespace {

// Hands out `total` bytes (byte i is i % 251) in reads of 1, 2, ... 7 bytes
// (so reads never line up with chunks), then throws when `fail` is set.
class CountingSource : public ByteSource {
 public:
  CountingSource(uint64_t total, bool fail) : total_(total), fail_(fail) {}
  size_t Read(std::span<uint8_t> buf) override {
    ++reads;
    if (pos_ == total_) {
      if (fail_) throw Error(Code::kCorruption, "damaged after " + std::to_string(pos_));
      return 0;
    }
    size_t n = std::min<uint64_t>({buf.size(), total_ - pos_, 1 + reads % 7});
    for (size_t i = 0; i < n; ++i) buf[i] = static_cast<uint8_t>((pos_ + i) % 251);
    pos_ += n;
    return n;
  }
  std::atomic<uint64_t> reads{0};

 private:
  const uint64_t total_;
  const bool fail_;
  uint64_t pos_ = 0;
};

// Reads `src` to its end in reads of `step` bytes; checks each byte's value.
uint64_t Drain(ByteSource& src, size_t step) {
  std::vector<uint8_t> buf(step);
  uint64_t pos = 0;
  while (size_t n = src.Read(buf)) {
    for (size_t i = 0; i < n; ++i)
      if (buf[i] != (pos + i) % 251) ADD_FAILURE() << "byte " << pos + i << " differs";
    pos += n;
  }
  return pos;
}

TEST(ReadAheadSourceTest, EveryByteArrivesInOrder) {
  for (uint64_t total : {0, 1, 99, 100, 101, 12345}) {
    for (size_t step : {1, 33, 100, 4096}) {
      CountingSource in(total, false);
      ReadAheadSource ahead(in, 100, 3);
      EXPECT_EQ(Drain(ahead, step), total) << "total " << total << ", step " << step;
      std::vector<uint8_t> more(8);
      EXPECT_EQ(ahead.Read(more), 0u) << "the end stays the end";
    }
  }
}

TEST(ReadAheadSourceTest, LentBytesAndCopiedBytesFollowEachOther) {
  for (uint64_t total : {0, 1, 100, 12345}) {
    CountingSource in(total, false);
    ReadAheadSource ahead(in, 100, 3);
    Bytes scratch;  // a lending source leaves it alone
    std::vector<uint8_t> buf(33);
    uint64_t pos = 0;
    for (int k = 0;; ++k) {
      std::span<const uint8_t> got;
      if (k % 2) {
        got = ahead.ReadView(scratch);
      } else {
        got = {buf.data(), ahead.Read(buf)};
      }
      if (got.empty()) break;
      for (size_t i = 0; i < got.size(); ++i)
        if (got[i] != (pos + i) % 251) ADD_FAILURE() << "byte " << pos + i << " differs";
      pos += got.size();
    }
    EXPECT_EQ(pos, total);
    EXPECT_TRUE(scratch.empty());
    EXPECT_TRUE(ahead.ReadView(scratch).empty()) << "the end stays the end";
  }
}

TEST(ReadAheadSourceTest, AnErrorComesAfterTheBytesLentBeforeIt) {
  CountingSource in(1000, true);
  ReadAheadSource ahead(in, 64, 2);
  Bytes scratch;
  uint64_t pos = 0;
  try {
    while (size_t n = ahead.ReadView(scratch).size()) pos += n;
    FAIL() << "the source's error was lost";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "damaged after 1000");
  }
  EXPECT_EQ(pos, 1000u);
}

TEST(ReadAheadSourceTest, AnErrorComesAfterTheBytesBeforeIt) {
  CountingSource in(1000, true);
  ReadAheadSource ahead(in, 64, 2);
  std::vector<uint8_t> buf(10);
  uint64_t pos = 0;
  try {
    while (size_t n = ahead.Read(buf)) pos += n;
    FAIL() << "the source's error was lost";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kCorruption);
    EXPECT_STREQ(e.what(), "damaged after 1000");
  }
  EXPECT_EQ(pos, 1000u);
  EXPECT_THROW(ahead.Read(buf), Error) << "read again, it fails again";
}

TEST(ReadAheadSourceTest, ASourceNeverReadIsNotTouched) {
  CountingSource in(1 << 20, false);
  { ReadAheadSource ahead(in); }
  EXPECT_EQ(in.reads, 0u);
}

TEST(ReadAheadSourceTest, ReadsAtMostItsChunksAheadAndStopsWhenDropped) {
  CountingSource in(uint64_t{1} << 40, false);  // far more than is ever read
  {
    ReadAheadSource ahead(in, 1000, 4);
    std::vector<uint8_t> buf(10);
    ASSERT_EQ(ahead.Read(buf), 10u);
    // Let the thread run until it blocks on a full queue.
    for (uint64_t seen = 0; seen != in.reads;) {
      seen = in.reads;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }  // destroyed with the thread blocked: it must return
  // At most the chunk handed out, 4 queued and 1 being filled; reads are 1..7 bytes.
  EXPECT_LE(in.reads, 6u * 1000);
}

}  // namespace
}  // namespace gb
