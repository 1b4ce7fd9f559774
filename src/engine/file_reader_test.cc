#include "engine/file_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/sha256.h"
#include "core/test_temp_dir.h"
#include "engine/engine_test_util.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

class ReadSmallFileTest : public ::testing::Test {
 protected:
  // The entry the walk records for `abs` now.
  static Entry Walked(const std::string& abs) {
    struct stat st;
    EXPECT_EQ(::lstat(abs.c_str(), &st), 0) << abs;
    Entry e;
    e.type = EntryType::kFile;
    ApplyStat(st, &e);
    return e;
  }

  test::TempDir dir_{"gb-file-reader"};
  const std::string root_ = dir_.path();
};

TEST_F(ReadSmallFileTest, UnchangedFileIsReadWithTheWalksMetadata) {
  std::string abs = root_ + "/f";
  test::WriteText(abs, "hello, small file");
  Entry e = Walked(abs), walked = e;
  SmallFileRead r = ReadSmallFile(abs, &e);
  ASSERT_EQ(r.outcome, SmallFileRead::Outcome::kRead) << r.problem;
  EXPECT_EQ(std::string(r.data.begin(), r.data.end()), "hello, small file");
  EXPECT_EQ(e.hash, Sha256::Of(std::string("hello, small file")));
  EXPECT_EQ(e.size, walked.size);
  EXPECT_EQ(e.mtime, walked.mtime);
  EXPECT_FALSE(e.changed_while_read);
}

// A file rewritten between the walk and the read (a different size, the same
// size with new bytes, or renamed over) is stored as it is now, with the
// metadata of what was read, never the walk's.
TEST_F(ReadSmallFileTest, FileChangedSinceTheWalkIsReadAsItIsNow) {
  std::string grown = root_ + "/grown", same_size = root_ + "/same-size",
              replaced = root_ + "/replaced";
  test::WriteText(grown, "short");
  test::WriteText(same_size, "aaaa");
  test::WriteText(replaced, "old one");
  Entry e_grown = Walked(grown), e_same = Walked(same_size), e_replaced = Walked(replaced);
  ::usleep(20000);  // past the file system's timestamp granularity
  test::WriteText(grown, "now a good deal longer");
  test::WriteText(same_size, "bbbb");
  test::WriteText(root_ + "/new", "new one");
  ASSERT_EQ(::rename((root_ + "/new").c_str(), replaced.c_str()), 0);

  for (auto [abs, e, want] :
       {std::tuple{grown, &e_grown, "now a good deal longer"},
        std::tuple{same_size, &e_same, "bbbb"}, std::tuple{replaced, &e_replaced, "new one"}}) {
    SmallFileRead r = ReadSmallFile(abs, e);
    ASSERT_EQ(r.outcome, SmallFileRead::Outcome::kRead) << abs << ": " << r.problem;
    EXPECT_EQ(std::string(r.data.begin(), r.data.end()), want) << abs;
    Entry now = Walked(abs);
    EXPECT_EQ(e->size, now.size) << abs;
    EXPECT_EQ(e->mtime, now.mtime) << abs;
    EXPECT_EQ(e->ctime, now.ctime) << abs;
    EXPECT_EQ(e->ino, now.ino) << abs;
    EXPECT_EQ(e->hash, Sha256::Of(std::string(want))) << abs;
  }
}

TEST_F(ReadSmallFileTest, EntryNoLongerAFileIsAProblem) {
  std::string abs = root_ + "/was-a-file";
  test::WriteText(abs, "x");
  Entry e = Walked(abs);
  fs::remove(abs);
  fs::create_directory(abs);
  SmallFileRead r = ReadSmallFile(abs, &e);
  EXPECT_EQ(r.outcome, SmallFileRead::Outcome::kFailed);
  EXPECT_EQ(r.problem, "is no longer a regular file");
}

}  // namespace
}  // namespace gb
