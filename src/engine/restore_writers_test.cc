#include "engine/restore_writers.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/test_entries.h"
#include "core/test_temp_dir.h"

namespace gb {
namespace {

class RestoreWritersTest : public ::testing::Test {
 protected:
  // A small file at `path` holding `data`; `right` false records a wrong hash.
  static std::shared_ptr<RestoredFile> File(const std::string& path, const std::string& data,
                                            bool right = true) {
    auto f = std::make_shared<RestoredFile>();
    f->dests.push_back(test::FileEntry(path, data.size()));
    f->expected = Sha256::Of(right ? data : data + "!");
    f->Hold(0, AsBytes(data));
    return f;
  }
  std::string Read(const std::string& path) const {
    std::ifstream in(dir_ / path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  test::TempDir dir_{"gb-restore-writers"};
};

// Files and symlinks handed over in any mix land whole, and each is reported
// once, in the order it was handed over, on the thread that handed it over.
TEST_F(RestoreWritersTest, EachIsReportedInTheOrderHandedOver) {
  std::vector<std::string> added, reported;
  {
    DiskWriter disk(dir_.path(), false);
    OrderedPool pool(4, 1 << 20, 8);
    RestoreWriters writers(pool, disk);
    const auto self = std::this_thread::get_id();
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 70; ++i) {
        std::string path = "d" + std::to_string(i % 3) + "/f" + std::to_string(round * 100 + i);
        added.push_back(path);
        writers.AddFile(File(path, path), [&](RestoredFile& f) {
          EXPECT_EQ(std::this_thread::get_id(), self);
          EXPECT_TRUE(f.written) << f.dests[0].path << ": " << f.err.message;
          disk.FileDone(f.file);
          reported.push_back(f.dests[0].path);
        });
      }
      for (int i = 0; i < 40; ++i) {
        std::string path = "d" + std::to_string(i % 3) + "/s" + std::to_string(round * 100 + i);
        added.push_back(path);
        writers.AddSymlink(test::SymlinkEntry(path, "f" + std::to_string(i)),
                           [&](const Entry& e, const EntryError* err) {
                             EXPECT_EQ(std::this_thread::get_id(), self);
                             EXPECT_EQ(err, nullptr) << e.path << ": " << err->message;
                             reported.push_back(e.path);
                           });
      }
    }
    writers.Drain();
    disk.Close();
  }
  EXPECT_EQ(reported, added);
  for (const std::string& p : added) {
    if (p.find("/f") != std::string::npos) {
      EXPECT_EQ(Read(p), p);
    } else {
      struct stat st {};
      ASSERT_EQ(::lstat((dir_ / p).c_str(), &st), 0) << p;
      EXPECT_TRUE(S_ISLNK(st.st_mode)) << p;
    }
  }
}

// A file whose data does not match its recorded hash is reported as such and
// is not left behind; its neighbours are written.
TEST_F(RestoreWritersTest, AFileWithTheWrongHashIsRemoved) {
  std::vector<std::string> mismatched;
  {
    DiskWriter disk(dir_.path(), false);
    OrderedPool pool(2, 1 << 20, 8);
    RestoreWriters writers(pool, disk);
    for (const auto& [path, right] : {std::pair{"a", true}, {"b", false}, {"c", true}}) {
      writers.AddFile(File(path, std::string(100, *path), right), [&](RestoredFile& f) {
        if (f.hash_mismatch) mismatched.push_back(f.dests[0].path);
        EXPECT_EQ(f.written, !f.hash_mismatch);
        if (f.written) disk.FileDone(f.file);
      });
    }
    writers.Drain();
    disk.Close();
  }
  EXPECT_EQ(mismatched, std::vector<std::string>{"b"});
  EXPECT_EQ(Read("a"), std::string(100, 'a'));
  EXPECT_EQ(Read("c"), std::string(100, 'c'));
  EXPECT_FALSE(std::ifstream(dir_ / "b").good()) << "a file that failed its hash was left behind";
}

}  // namespace
}  // namespace gb
