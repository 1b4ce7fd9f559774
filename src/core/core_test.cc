#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hex.h"
#include "core/host_name.h"
#include "core/line_reader.h"
#include "core/sha256.h"
#include "core/utf8.h"

namespace gb {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Hex(Sha256::Of(std::string())),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256::Of(std::string("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a", 1);
  h.Update("bc", 2);
  EXPECT_EQ(h.Final(), Sha256::Of(std::string("abc")));
}

TEST(Hex, RoundTripAndRejects) {
  Bytes b = {0x00, 0xab, 0xff};
  EXPECT_EQ(Hex(b), "00abff");
  EXPECT_EQ(*Unhex("00ABff"), b);
  EXPECT_FALSE(Unhex("abc"));
  EXPECT_FALSE(Unhex("zz"));
}

TEST(Clock, FormatsAndParses) {
  EXPECT_EQ(FormatCompactUtc(1795748820), "20261127T030700Z");
  EXPECT_EQ(*ParseUtc("20261127T030700Z"), 1795748820);
  EXPECT_EQ(*ParseUtc("2026-11-27T03:07:00Z"), 1795748820);
  EXPECT_EQ(*ParseUtc("2026-11-27 03:07:00"), 1795748820);
  EXPECT_EQ(*ParseUtc("2026-11-27"), 1795748820 - 3 * 3600 - 7 * 60);
  EXPECT_EQ(*ParseUtc("@42"), 42);
  EXPECT_FALSE(ParseUtc("yesterday"));
  EXPECT_FALSE(ParseUtc("2026-13-01"));
}

TEST(AtomicFile, AppearsOnlyOnCommit) {
  auto dir = std::filesystem::temp_directory_path() / ("gb-core-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "f.txt").string();
  {
    AtomicFile f(path, 0600);
    f.sink().Write("hello", 5);
    EXPECT_FALSE(PathExists(path));
  }
  EXPECT_FALSE(PathExists(path));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 0);
  WriteFileAtomic(path, std::string("hello"), 0600);
  EXPECT_EQ(ReadFileToString(path), "hello");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::filesystem::remove_all(dir);
}

TEST(File, MissingFileIsNotFound) {
  try {
    ReadFileToString("/nonexistent/xyz");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kNotFound);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/xyz"), std::string::npos);
  }
}

}  // namespace
}  // namespace gb

namespace gb {
namespace {

TEST(Utf8, AcceptsWellFormedAndRejectsTheRest) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain.txt"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("caf\xe9.txt"));       // Latin-1
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe6\x97"));          // cut short
}

}  // namespace
}  // namespace gb

namespace gb {
namespace {

// Lines across buffer boundaries, empty lines, and a last line without '\n'.
TEST(LineReader, SplitsLinesOfAnyLength) {
  std::string text = "first\n\n" + std::string(200000, 'x') + "\nlast";
  SpanSource in(AsBytes(text));
  LineReader r(in);
  std::string line;
  ASSERT_TRUE(r.Next(&line));
  EXPECT_EQ(line, "first");
  ASSERT_TRUE(r.Next(&line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE(r.Next(&line));
  EXPECT_EQ(line.size(), 200000u);
  ASSERT_TRUE(r.Next(&line));
  EXPECT_EQ(line, "last");
  EXPECT_FALSE(r.Next(&line));
}

TEST(HostName, SafeNamesOnly) {
  for (const char* good : {"laptop", "nas-01.home", "a", "HOST_2"})
    EXPECT_TRUE(IsSafeHostName(good)) << good;
  EXPECT_TRUE(IsSafeHostName(std::string(63, 'x')));
  for (const char* bad : {"", "..", ".hidden", "-x", "a/b", "lap top", "x\n", "caf\xc3\xa9"})
    EXPECT_FALSE(IsSafeHostName(bad)) << bad;
  EXPECT_FALSE(IsSafeHostName(std::string(64, 'x')));
  EXPECT_TRUE(IsSafeHostName(SystemHostName())) << SystemHostName();
}

}  // namespace
}  // namespace gb
