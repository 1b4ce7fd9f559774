#include "archive/rsync_delta.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>

#include "core/error.h"

namespace gb {
namespace {

Bytes RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  for (auto& c : b) c = static_cast<uint8_t>(rng());
  return b;
}

// Writes `data` through `sink` in uneven pieces, as files are read.
void Feed(ByteSink& sink, const Bytes& data) {
  for (size_t pos = 0, step = 1; pos < data.size(); step = step * 7 % 100003 + 1) {
    size_t n = std::min(step, data.size() - pos);
    sink.Write(std::span<const uint8_t>(data.data() + pos, n));
    pos += n;
  }
  sink.Finish();
}

// A temp file holding `data`; its descriptor serves as a patch basis.
class TempFile {
 public:
  explicit TempFile(const Bytes& data) {
    char name[] = "/tmp/gb-rsync-XXXXXX";
    fd_ = ::mkstemp(name);
    path_ = name;
    EXPECT_EQ(::write(fd_, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  ~TempFile() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::string path_;
};

// Page writes, growth and shrinking: signature, delta and patch rebuild the
// new version exactly, and the delta is a small part of the file.
TEST(RsyncDeltaTest, DeltaOfPageWritesRebuildsTheNewVersion) {
  Bytes old_version = RandomBytes(3 << 20, 1);
  for (int shape = 0; shape < 3; ++shape) {
    Bytes now = old_version;
    for (size_t off : {size_t{4096}, size_t{1 << 20}, size_t{(2 << 20) + 77}}) {
      Bytes page = RandomBytes(4096, off + shape);
      std::copy(page.begin(), page.end(), now.begin() + static_cast<std::ptrdiff_t>(off));
    }
    if (shape == 1) now.resize(now.size() + 100000, 7);  // grows
    if (shape == 2) now.resize(now.size() / 2);          // shrinks
    BufferSink sig;
    {
      RsyncSignatureSink s(old_version.size(), sig);
      Feed(s, old_version);
    }
    BufferSink delta;
    {
      RsyncDeltaSink d(sig.bytes, delta);
      Feed(d, now);
    }
    EXPECT_LT(delta.bytes.size(), now.size() / 10 + (shape == 1 ? 100000u : 0u)) << shape;
    TempFile basis(old_version);
    BufferSink rebuilt;
    {
      RsyncPatchSink p(basis.fd(), rebuilt);
      Feed(p, delta.bytes);
    }
    EXPECT_TRUE(rebuilt.finished);
    EXPECT_EQ(rebuilt.bytes, now) << shape;
  }
}

TEST(RsyncDeltaTest, GarbageSignatureIsCorruption) {
  BufferSink out;
  Bytes garbage = RandomBytes(1000, 3);
  try {
    RsyncDeltaSink d(garbage, out);
    FAIL() << "garbage accepted as a signature";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kCorruption);
  }
}

}  // namespace
}  // namespace gb
