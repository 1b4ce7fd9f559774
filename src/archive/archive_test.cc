#include <gtest/gtest.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "archive/disk_writer.h"
#include "archive/entry_metadata.h"
#include "archive/manifest.h"
#include "archive/tar_reader.h"
#include "archive/tar_writer.h"
#include "archive/zstd_stream.h"
#include "core/error.h"
#include "core/hex.h"

namespace gb {
namespace {

Bytes RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& c : b) c = static_cast<uint8_t>(rng() % 4);  // compressible
  return b;
}

Bytes Compress(const Bytes& in, int threads) {
  BufferSink out;
  ZstdSink z(out, 3, threads);
  for (size_t off = 0; off < in.size(); off += 100000)
    z.Write(std::span<const uint8_t>(in).subspan(off, std::min<size_t>(100000, in.size() - off)));
  z.Finish();
  EXPECT_TRUE(out.finished);
  return out.bytes;
}

Bytes Decompress(const Bytes& in) {
  SpanSource src(in);
  ZstdSource z(src);
  BufferSink out;
  Pump(z, out);
  return out.bytes;
}

// Extended attributes and ACLs are written as the pax headers GNU tar and
// bsdtar read, and FIFOs and devices as their tar types; all read back exact.
TEST(TarMetadata, XattrsAclsAndSpecialFilesRoundTripAsSchilyHeaders) {
  Entry f;
  f.path = "srv/bin/ping";
  f.mode = 0755;
  f.size = 3;
  f.xattrs = {{"security.capability", std::string("\x01\0\0\x02\0\x20\0\0", 8)},
              {"user.comment", "hello"}};
  f.acl_access = "user::rwx,group::r-x,other::r-x,user:alice:r--:1000,mask::r-x";
  Entry d;
  d.path = "srv/shared";
  d.type = EntryType::kDir;
  d.mode = 0775;
  d.acl_default = "user::rwx,group::r-x,other::r-x,user:bob:rwx:1001,mask::rwx";
  Entry fifo;
  fifo.path = "srv/pipe";
  fifo.type = EntryType::kFifo;
  fifo.mode = 0620;
  Entry dev;
  dev.path = "srv/null";
  dev.type = EntryType::kCharDevice;
  dev.mode = 0666;
  dev.rdev = makedev(1, 3);

  BufferSink out;
  {
    TarWriter w(out);
    w.Begin(f);
    w.WriteData(AsBytes(std::string("abc")));
    w.End();
    for (const Entry* e : {&d, &fifo, &dev}) {
      w.Begin(*e);
      w.End();
    }
    w.Close();
  }
  std::string raw(out.bytes.begin(), out.bytes.end());
  for (const char* header : {"SCHILY.xattr.security.capability", "SCHILY.xattr.user.comment",
                             "SCHILY.acl.access", "SCHILY.acl.default"})
    EXPECT_NE(raw.find(header), std::string::npos) << header;

  SpanSource in(out.bytes);
  TarReader r(in);
  TarMember m;
  std::vector<Entry> got;
  while (r.Next(&m)) got.push_back(m.entry);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].xattrs, f.xattrs);
  EXPECT_EQ(got[0].acl_access, f.acl_access);
  EXPECT_EQ(got[1].acl_default, d.acl_default);
  EXPECT_TRUE(got[1].acl_access.empty());
  EXPECT_EQ(got[2].type, EntryType::kFifo);
  EXPECT_EQ(got[3].type, EntryType::kCharDevice);
  EXPECT_EQ(got[3].rdev, dev.rdev);
}

TEST(Zstd, RoundTripSingleAndMultiThreaded) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{1} << 20, size_t{5} << 20}) {
    Bytes data = RandomBytes(n, static_cast<uint32_t>(n));
    EXPECT_EQ(Decompress(Compress(data, 0)), data) << n;
    Bytes mt = Compress(data, 2);
    EXPECT_EQ(Decompress(mt), data) << n;
    if (n > 1000) {
      EXPECT_LT(mt.size(), n / 2);
    }
  }
}

TEST(Zstd, TruncatedStreamIsCorruption) {
  Bytes c = Compress(RandomBytes(1 << 20, 7), 0);
  c.resize(c.size() / 2);
  try {
    Decompress(c);
    FAIL() << "truncated stream accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kCorruption);
  }
}

TEST(Zstd, FlippedByteIsDetected) {
  Bytes c = Compress(RandomBytes(1 << 20, 9), 0);
  c[c.size() / 2] ^= 0x40;
  EXPECT_THROW(Decompress(c), Error);
}

Entry File(const std::string& path, uint64_t size) {
  Entry e;
  e.path = path;
  e.type = EntryType::kFile;
  e.mode = 0640;
  e.uid = 1000;
  e.gid = 1000;
  e.uname = "alice";
  e.size = size;
  e.mtime = {1795748820, 123456789};
  return e;
}

TEST(Tar, MembersRoundTripWithMetadata) {
  BufferSink out;
  {
    TarWriter w(out);
    w.AddBlob(".glacier-backup/manifest.json", AsBytes(std::string("{}")), FileTime{});
    Entry d = File("home/alice", 0);
    d.type = EntryType::kDir;
    d.mode = 0750;
    w.Begin(d);
    w.End();
    std::string longname = "home/alice/" + std::string(200, 'x') + "/caf\xc3\xa9.txt";
    Entry f = File(longname, 5);
    w.Begin(f);
    w.WriteData(AsBytes(std::string("hello")));
    w.End();
    Entry l = File("home/alice/link", 0);
    l.type = EntryType::kSymlink;
    l.target = "../elsewhere";
    w.Begin(l);
    w.End();
    Entry h = File("home/alice/hard", 0);
    h.type = EntryType::kHardlink;
    h.target = longname;
    w.Begin(h);
    w.End();
    w.Close();
  }
  EXPECT_TRUE(out.finished);
  SpanSource src(out.bytes);
  TarReader r(src);
  TarMember m;
  ASSERT_TRUE(r.Next(&m));
  EXPECT_EQ(m.entry.path, ".glacier-backup/manifest.json");
  EXPECT_EQ(r.ReadAll(), "{}");
  ASSERT_TRUE(r.Next(&m));
  EXPECT_EQ(m.entry.type, EntryType::kDir);
  EXPECT_EQ(m.entry.mode, 0750u);
  ASSERT_TRUE(r.Next(&m));
  EXPECT_EQ(m.entry.type, EntryType::kFile);
  EXPECT_EQ(m.entry.path.size(), 11u + 200 + 10);
  EXPECT_EQ(m.entry.mtime.nsec, 123456789u);
  EXPECT_EQ(m.entry.uname, "alice");
  EXPECT_EQ(r.ReadAll(), "hello");
  ASSERT_TRUE(r.Next(&m));
  EXPECT_EQ(m.entry.type, EntryType::kSymlink);
  EXPECT_EQ(m.entry.target, "../elsewhere");
  ASSERT_TRUE(r.Next(&m));
  EXPECT_EQ(m.entry.type, EntryType::kHardlink);
  EXPECT_FALSE(r.Next(&m));
}

TEST(Tar, SparseFileStoresOnlyData) {
  BufferSink out;
  const uint64_t size = 64ull << 20;
  {
    TarWriter w(out);
    Entry f = File("sparse.img", size);
    SparseMap map = {{1 << 20, 4096}, {size - 4096, 4096}};
    w.Begin(f, &map);
    Bytes zeros(1 << 20, 0), data(4096, 0xab);
    uint64_t pos = 0;
    auto put = [&](std::span<const uint8_t> d) {
      w.WriteData(d);
      pos += d.size();
    };
    put(zeros);
    put(data);
    while (pos < size - 4096)
      put(std::span<const uint8_t>(zeros).first(
          std::min<uint64_t>(zeros.size(), size - 4096 - pos)));
    put(data);
    w.End();
    w.Close();
  }
  EXPECT_LT(out.bytes.size(), 64u * 1024);
  SpanSource src(out.bytes);
  TarReader r(src);
  TarMember m;
  ASSERT_TRUE(r.Next(&m));
  EXPECT_EQ(m.entry.size, size);
  uint64_t data_bytes = 0, last_end = 0;
  r.ReadData([&](uint64_t off, std::span<const uint8_t> d) {
    for (uint8_t c : d) ASSERT_EQ(c, 0xab);
    data_bytes += d.size();
    last_end = off + d.size();
  });
  EXPECT_EQ(data_bytes, 8192u);
  EXPECT_EQ(last_end, size);
}

TEST(Tar, GarbageIsCorruption) {
  Bytes junk = RandomBytes(10000, 3);
  SpanSource src(junk);
  try {
    TarReader r(src);
    TarMember m;
    r.Next(&m);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kCorruption);
  }
}

TEST(Manifest, RoundTripIncludingDeletionsAndBinaryNames) {
  BackupMeta meta;
  meta.name = "20261127T030700Z-s0004-i03.tar.zst.age";
  meta.set_id = 4;
  meta.seq = 3;
  meta.parent = "20261126T030700Z-s0004-i02.tar.zst.age";
  meta.time = 1795748820;
  meta.host = "nas";
  meta.tool = "glacier-backup 0.1.0";
  std::vector<Entry> in;
  in.push_back(File("a/b.txt", 3));
  Entry del;
  del.path = "a/gone";
  del.type = EntryType::kDeleted;
  in.push_back(del);
  in.push_back(File(std::string("a/bin\xff\xfe"), 1));
  std::string text = ManifestHead(meta);
  for (size_t i = 0; i < in.size(); ++i) text += ManifestEntryLine(in[i], i == 0);
  text += ManifestTail();
  std::vector<Entry> out;
  BackupMeta got = ParseManifest(text, [&](Entry&& e) { out.push_back(std::move(e)); });
  EXPECT_EQ(got.name, meta.name);
  EXPECT_EQ(got.parent, meta.parent);
  EXPECT_EQ(got.seq, 3);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].type, EntryType::kDeleted);
  EXPECT_EQ(out[2].path, in[2].path);
  EXPECT_EQ(out[0].mtime, in[0].mtime);
}

// The manifest and checksums lines are the bytes nlohmann's dump() gives for
// the same object, whatever the entry holds.
TEST(Manifest, LinesAreWhatDumpGives) {
  std::vector<Entry> entries;
  std::string awkward = "d/q\"b\\s\b\f\n\r\t\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac";
  for (const std::string& path : {std::string("a/b.txt"), awkward, std::string("bin\xff")}) {
    Entry f = File(path, 12345);
    f.hash[0] = 0xab;
    f.has_hash = true;
    entries.push_back(f);
    Entry plain = File(path, 0);  // no hash, no nanoseconds, no names
    plain.mtime = {-5, 0};
    plain.uname = plain.gname = "";
    entries.push_back(plain);
    Entry s = File(path, 1 << 30);
    s.sparse = true;
    s.ctime = {1795748820, 999999999};
    s.uname = "us\"er";
    s.gname = "gr\x02oup";
    entries.push_back(s);
    Entry l = File(path, 0);
    l.type = EntryType::kSymlink;
    l.target = awkward;
    entries.push_back(l);
    Entry d;
    d.path = path;
    d.type = EntryType::kDeleted;
    entries.push_back(d);
    Entry x = File(path, 7);
    x.xattrs = {{"user.a", "v"}};
    x.fflags = "nodump";
    entries.push_back(x);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    EXPECT_EQ(ManifestEntryLine(e, i == 0), (i == 0 ? "" : ",") + EntryToJson(e).dump() + "\n")
        << "entry " << i;
    for (bool changed : {false, true}) {
      ChecksumMark mark;
      mark.changed_while_read = changed;
      mark.size = 99;
      nlohmann::json j = {{"sha256", Hex(e.hash)}};
      if (changed) j.update({{"changed_while_read", true}, {"size", 99}});
      bool utf8 = e.path.find('\xff') == std::string::npos;
      if (utf8)
        j["path"] = e.path;
      else
        j["path_hex"] = Hex(AsBytes(e.path));
      EXPECT_EQ(ChecksumLine(e.path, e.hash, i == 0, mark), (i == 0 ? "" : ",") + j.dump() + "\n")
          << "entry " << i;
    }
  }
}

TEST(Manifest, RejectsUnsafePaths) {
  BackupMeta meta;
  meta.name = "x";
  std::string text =
      ManifestHead(meta) + ManifestEntryLine(File("../etc/passwd", 1), true) + ManifestTail();
  EXPECT_THROW(ParseManifest(text, [](Entry&&) {}), Error);
}

}  // namespace
}  // namespace gb
