#include "archive/rsync_delta_chain.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "archive/rsync_delta.h"
#include "core/error.h"

namespace gb {
namespace {

Bytes RandomBytes(size_t n, std::mt19937_64& rng) {
  Bytes b(n);
  for (auto& c : b) c = static_cast<uint8_t>(rng());
  return b;
}

// A temp file holding `data`, readable through fd().
class TempFile {
 public:
  explicit TempFile(const Bytes& data) {
    char name[] = "/tmp/gb-rsync-chain-XXXXXX";
    fd_ = ::mkstemp(name);
    path_ = name;
    EXPECT_EQ(::write(fd_, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  TempFile(const TempFile&) = delete;
  ~TempFile() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// The delta librsync makes from `from` to `to`, through our sinks.
Bytes MakeDelta(const Bytes& from, const Bytes& to) {
  BufferSink sig;
  {
    RsyncSignatureSink s(from.size(), sig);
    s.Write(from);
    s.Finish();
  }
  BufferSink delta;
  RsyncDeltaSink d(sig.bytes, delta);
  d.Write(to);
  d.Finish();
  return delta.bytes;
}

// librsync's own patch: the reference the composed chain must match.
Bytes Patch(const Bytes& basis, const Bytes& delta) {
  TempFile b(basis);
  BufferSink out;
  RsyncPatchSink p(b.fd(), out);
  p.Write(delta);
  p.Finish();
  return out.bytes;
}

// Page writes, insertions, deletions, growth and shrinking.
Bytes Edit(Bytes v, std::mt19937_64& rng) {
  int edits = 1 + static_cast<int>(rng() % 12);
  for (int i = 0; i < edits; ++i) {
    size_t at = v.empty() ? 0 : rng() % v.size();
    size_t n = 1 + rng() % 9000;
    auto pos = v.begin() + static_cast<std::ptrdiff_t>(at);
    switch (rng() % 5) {
      case 0:  // overwrite
        for (size_t k = 0; k < n && at + k < v.size(); ++k) v[at + k] = static_cast<uint8_t>(rng());
        break;
      case 1: {  // insert
        Bytes ins = RandomBytes(n, rng);
        v.insert(pos, ins.begin(), ins.end());
        break;
      }
      case 2:  // delete
        v.erase(pos, pos + static_cast<std::ptrdiff_t>(std::min(n, v.size() - at)));
        break;
      case 3:  // grow
        v.resize(v.size() + n * 4, static_cast<uint8_t>(rng()));
        break;
      default:  // shrink
        v.resize(v.size() - std::min(v.size() / 8, n));
        break;
    }
  }
  return v;
}

Bytes Compose(const Bytes& base, const std::vector<Bytes>& deltas) {
  TempFile b(base);
  std::vector<std::unique_ptr<TempFile>> files;
  std::vector<int> fds;
  RsyncDeltaChain chain(base.size());
  for (size_t k = 0; k < deltas.size(); ++k) {
    files.push_back(std::make_unique<TempFile>(deltas[k]));
    fds.push_back(files.back()->fd());
    chain.Apply(fds.back(), deltas[k].size(), "delta" + std::to_string(k + 1));
  }
  BufferSink out;
  chain.WriteTo(b.fd(), fds, out);
  EXPECT_EQ(out.bytes.size(), chain.size());
  return out.bytes;
}

// Chains of 1 to 8 deltas of random edits, made by librsync: the composed
// result is byte-exact, the same as patching step by step.
TEST(RsyncDeltaChainTest, ComposedChainEqualsPatchingStepByStep) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    std::mt19937_64 rng(seed);
    Bytes base = RandomBytes(100000 + rng() % 300000, rng);
    std::vector<Bytes> versions{base};
    std::vector<Bytes> deltas;
    Bytes stepped = base;
    for (size_t k = 0; k < seed; ++k) {
      versions.push_back(Edit(versions.back(), rng));
      deltas.push_back(MakeDelta(versions[k], versions.back()));
      stepped = Patch(stepped, deltas.back());
    }
    ASSERT_EQ(stepped, versions.back()) << seed;
    Bytes composed = Compose(base, deltas);
    EXPECT_TRUE(composed == versions.back())
        << "seed " << seed << ": " << composed.size() << " bytes composed, "
        << versions.back().size() << " expected";
  }
}

// Page writes in place, then growth and shrinking: the base stays in place,
// and patching the base file gives what the composition writes. An insertion
// moves the base: then it does not.
TEST(RsyncDeltaChainTest, PatchingTheBaseInPlaceEqualsTheComposition) {
  std::mt19937_64 rng(7);
  Bytes base = RandomBytes(400000, rng);
  std::vector<Bytes> versions{base};
  for (int k = 0; k < 7; ++k) {
    Bytes v = versions.back();
    for (int w = 0; w < 5; ++w) {  // 4 KiB pages rewritten
      size_t page = rng() % (v.size() / 4096);
      for (size_t i = 0; i < 4096; ++i) v[page * 4096 + i] = static_cast<uint8_t>(rng());
    }
    if (k == 3) v.resize(v.size() + 10000, 'g');  // grows
    if (k == 5) v.resize(v.size() - 30000);       // shrinks
    versions.push_back(v);
  }
  TempFile b(base);
  std::vector<std::unique_ptr<TempFile>> files;
  std::vector<int> fds;
  RsyncDeltaChain chain(base.size());
  for (size_t k = 1; k < versions.size(); ++k) {
    files.push_back(std::make_unique<TempFile>(MakeDelta(versions[k - 1], versions[k])));
    fds.push_back(files.back()->fd());
    chain.Apply(fds.back(), ::lseek(fds.back(), 0, SEEK_END), "delta" + std::to_string(k));
  }
  ASSERT_TRUE(chain.BaseStaysInPlace());
  chain.PatchBase(b.fd(), fds, b.path());
  std::ifstream in(b.path(), std::ios::binary);
  Bytes patched((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(patched == versions.back())
      << patched.size() << " bytes, " << versions.back().size() << " expected";

  Bytes inserted = base;
  inserted.insert(inserted.begin() + 5000, 300, 'i');
  TempFile d(MakeDelta(base, inserted));
  RsyncDeltaChain moved(base.size());
  moved.Apply(d.fd(), ::lseek(d.fd(), 0, SEEK_END), "inserting");
  EXPECT_FALSE(moved.BaseStaysInPlace());
  EXPECT_THROW(moved.PatchBase(b.fd(), std::vector<int>{d.fd()}, b.path()), Error);
}

// Deltas of a file that becomes empty, and grows again from nothing.
TEST(RsyncDeltaChainTest, EmptyVersionsInAChain) {
  std::mt19937_64 rng(42);
  Bytes base = RandomBytes(50000, rng), grown = RandomBytes(70000, rng);
  Bytes empty;
  std::vector<Bytes> deltas{MakeDelta(base, empty), MakeDelta(empty, grown)};
  EXPECT_EQ(Compose(base, {deltas[0]}), empty);
  EXPECT_EQ(Compose(base, deltas), grown);
  EXPECT_EQ(Compose(empty, {deltas[1]}), grown);
}

// Deltas made by the `rdiff` tool (what the stock-tools recipe uses) compose too.
TEST(RsyncDeltaChainTest, DeltasOfTheRdiffTool) {
  if (std::system("command -v rdiff >/dev/null 2>&1") != 0) GTEST_SKIP() << "rdiff not installed";
  std::mt19937_64 rng(7);
  Bytes v0 = RandomBytes(400000, rng);
  Bytes v1 = Edit(v0, rng), v2 = Edit(v1, rng);
  TempFile f0(v0), f1(v1), f2(v2), sig(Bytes{}), d1(Bytes{}), d2(Bytes{});
  auto run = [](const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; };
  run("rdiff --force signature " + f0.path() + " " + sig.path());
  run("rdiff --force delta " + sig.path() + " " + f1.path() + " " + d1.path());
  run("rdiff --force signature " + f1.path() + " " + sig.path());
  run("rdiff --force delta " + sig.path() + " " + f2.path() + " " + d2.path());
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_TRUE(Compose(v0, {read(d1.path()), read(d2.path())}) == v2);
}

// What composing `delta` onto a basis of `basis_size` bytes throws.
Error Refusal(uint64_t basis_size, const Bytes& delta) {
  TempFile d(delta);
  RsyncDeltaChain chain(basis_size);
  try {
    chain.Apply(d.fd(), delta.size(), "archive X member /db");
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "delta accepted";
  return Error(Code::kInternal, "");
}

// The rdiff magic, then `commands`.
Bytes Delta(std::initializer_list<uint8_t> commands) {
  Bytes d(4 + commands.size());
  const uint8_t magic[] = {0x72, 0x73, 0x02, 0x36};
  std::copy(std::begin(magic), std::end(magic), d.begin());
  std::copy(commands.begin(), commands.end(), d.begin() + 4);
  return d;
}

TEST(RsyncDeltaChainTest, HostileDeltasAreCorruptionNamingTheMember) {
  struct Case {
    const char* what;
    uint64_t basis;
    Bytes delta;
  };
  const Case cases[] = {
      {"no magic", 100, Bytes{0x72, 0x73, 0x02, 0x37, 0}},
      {"too short", 100, Bytes{0x72, 0x73}},
      {"no END", 100, Delta({0x45, 0, 10})},
      {"copy past the basis", 100, Delta({0x45, 95, 10, 0})},
      {"copy start past the basis", 100, Delta({0x46, 200, 0, 1, 0})},
      {"copy of nothing", 100, Delta({0x45, 0, 0, 0})},
      {"overflowing copy", 100,
       Delta({0x54, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0})},
      {"10 GB literal in a tiny delta", 100,
       Delta({0x44, 0, 0, 0, 2, 0x54, 0x0b, 0xe4, 0, 1, 2, 0})},
      {"literal of nothing", 100, Delta({0x41, 0, 0})},
      {"literal cut short", 100, Delta({0x05, 1, 2})},
      {"truncated length", 100, Delta({0x42, 1})},
      {"unknown command", 100, Delta({0x55, 0})},
      {"bytes after END", 100, Delta({0x01, 7, 0, 0})},
  };
  for (const Case& c : cases) {
    Error e = Refusal(c.basis, c.delta);
    EXPECT_EQ(e.code(), Code::kCorruption) << c.what;
    EXPECT_NE(std::string(e.what()).find("archive X member /db"), std::string::npos)
        << c.what << ": " << e.what();
  }
}

// Every cut of a real delta is refused, never read past or taken as whole.
TEST(RsyncDeltaChainTest, EveryTruncationOfARealDeltaIsRefused) {
  std::mt19937_64 rng(3);
  Bytes v0 = RandomBytes(200000, rng);
  Bytes delta = MakeDelta(v0, Edit(v0, rng));
  for (size_t n = 0; n < delta.size(); ++n) {
    Error e = Refusal(v0.size(), Bytes(delta.begin(), delta.begin() + static_cast<ptrdiff_t>(n)));
    ASSERT_EQ(e.code(), Code::kCorruption) << "cut at " << n;
  }
}

// Copies that repeat a version of many pieces would multiply its pieces at
// every step: the cap refuses them long before memory runs out.
TEST(RsyncDeltaChainTest, PieceExplosionIsRefusedAtTheCap) {
  const size_t pieces = 2000;  // alternating one byte of the base, one literal byte
  Bytes d1 = Delta({});
  for (size_t i = 0; i < pieces / 2; ++i) {
    Bytes copy_then_literal{
        0x49, static_cast<uint8_t>(i * 2 >> 8), static_cast<uint8_t>(i * 2), 1, 0x01, 0xaa};
    d1.insert(d1.end(), copy_then_literal.begin(), copy_then_literal.end());
  }
  d1.push_back(0);
  Bytes d2 = Delta({});
  const size_t repeats = RsyncDeltaChain::kMaxPieces / pieces + 2;
  for (size_t i = 0; i < repeats; ++i) {
    Bytes whole{0x4e, 0, 0, 0, 0, static_cast<uint8_t>(pieces >> 8), static_cast<uint8_t>(pieces)};
    d2.insert(d2.end(), whole.begin(), whole.end());
  }
  d2.push_back(0);
  TempFile f1(d1), f2(d2);
  RsyncDeltaChain chain(4096);
  chain.Apply(f1.fd(), d1.size(), "d1");
  EXPECT_EQ(chain.pieces().size(), pieces);
  try {
    chain.Apply(f2.fd(), d2.size(), "archive Y member /big");
    FAIL() << "a version of more than kMaxPieces pieces accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kCorruption);
    EXPECT_NE(std::string(e.what()).find("archive Y member /big"), std::string::npos) << e.what();
  }
  EXPECT_EQ(chain.pieces().size(), pieces);  // the chain is left as it was
}

// A source file shorter than what the composed pieces refer to is corruption.
TEST(RsyncDeltaChainTest, ShortSourceWhileWritingIsCorruption) {
  std::mt19937_64 rng(5);
  Bytes v0 = RandomBytes(100000, rng);
  Bytes v1 = Edit(v0, rng);
  Bytes delta = MakeDelta(v0, v1);
  TempFile d(delta), base(Bytes(v0.begin(), v0.begin() + 1000));
  RsyncDeltaChain chain(v0.size());
  chain.Apply(d.fd(), delta.size(), "d");
  BufferSink out;
  int fds[] = {d.fd()};
  try {
    chain.WriteTo(base.fd(), fds, out);
    FAIL() << "a short base accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kCorruption);
  }
}

}  // namespace
}  // namespace gb
