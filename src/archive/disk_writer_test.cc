// DiskWriter writes below its target and nowhere else, whatever the entries say
// and whatever another process does to the target meanwhile.
#include "archive/disk_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/test_entries.h"

namespace gb {
namespace {

namespace fs = std::filesystem;
using test::DirEntry;
using test::FileEntry;
using test::SymlinkEntry;

class DiskWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("gb-diskwriter-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "outside");
    fs::create_directories(root_ / "target");
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes one byte-long file; returns whether the writer accepted it.
  static bool WriteOne(DiskWriter& w, const std::string& path, EntryError* err) {
    if (!w.BeginFile(FileEntry(path), err)) return false;
    uint8_t byte = 'x';
    w.WriteBlock(0, {&byte, 1});
    return w.EndFile(err);
  }
  static std::string Read(const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  bool OutsideEmpty() const { return fs::is_empty(root_ / "outside"); }

  // Swaps directory `d` for a symlink to the outside and back, as fast as it
  // can, until `stop`.
  std::thread StartSwapper(const fs::path& d, const std::atomic<bool>& stop) const {
    return std::thread([d, &stop, outside = root_ / "outside"] {
      fs::path real = d.string() + ".real", link = d.string() + ".link";
      std::error_code ec;
      fs::create_directory_symlink(outside, link, ec);
      while (!stop.load()) {
        fs::rename(d, real, ec);            // the real directory steps aside...
        ::rename(link.c_str(), d.c_str());  // ...the symlink takes its name...
        ::symlink(outside.c_str(), link.c_str());
        ::rename(d.c_str(), link.c_str());  // ...and back
        fs::rename(real, d, ec);
      }
    });
  }

  fs::path root_;
};

TEST_F(DiskWriterTest, NothingIsWrittenThroughASymlinkItMade) {
  DiskWriter w((root_ / "target").string(), /*overwrite=*/false);
  EntryError err;
  ASSERT_TRUE(w.Symlink(SymlinkEntry("link", (root_ / "outside").string()), &err)) << err.message;
  EXPECT_FALSE(WriteOne(w, "link/planted", &err));
  EXPECT_EQ(err.kind, EntryError::Kind::kRefused) << err.message;
  EXPECT_FALSE(w.Dir(DirEntry("link/sub"), &err));
  w.Close();
  EXPECT_TRUE(OutsideEmpty()) << "a file was written through the symlink";
}

// Deep below the target, where existing directories are reached in one
// lookup: a symlink at any depth, to the outside or back inside, is refused
// all the same, and the directories on the way are used, not replaced.
TEST_F(DiskWriterTest, SymlinkDeepOnTheWayIsRefused) {
  fs::path t = root_ / "target";
  fs::create_directories(t / "a" / "b" / "c");
  fs::create_directory_symlink(root_ / "outside", t / "a" / "b" / "out");
  fs::create_directory_symlink(t / "a", t / "a" / "b" / "c" / "up");
  DiskWriter w(t.string(), /*overwrite=*/true);
  EntryError err;
  EXPECT_TRUE(WriteOne(w, "a/b/c/deep", &err)) << err.message;
  for (const char* p : {"a/b/out/planted", "a/b/out/x/planted", "a/b/c/up/planted"}) {
    EXPECT_FALSE(WriteOne(w, p, &err)) << p;
    EXPECT_EQ(err.kind, EntryError::Kind::kRefused) << p << ": " << err.message;
  }
  w.Close();
  EXPECT_TRUE(OutsideEmpty());
  EXPECT_EQ(Read(t / "a" / "b" / "c" / "deep"), "x");
  EXPECT_FALSE(fs::exists(t / "a" / "planted"));
  EXPECT_TRUE(fs::is_symlink(t / "a" / "b" / "out"));
}

// The very first entry is checked too: a symlink that was in the target before.
TEST_F(DiskWriterTest, NothingIsWrittenThroughASymlinkThatWasThere) {
  fs::create_directory_symlink(root_ / "outside", root_ / "target" / "dir");
  DiskWriter w((root_ / "target").string(), /*overwrite=*/true);
  EntryError err;
  EXPECT_FALSE(WriteOne(w, "dir/planted", &err));
  EXPECT_EQ(err.kind, EntryError::Kind::kRefused) << err.message;
  w.Close();
  EXPECT_TRUE(OutsideEmpty());
}

TEST_F(DiskWriterTest, UnsafePathsAndLinkTargetsAreRefused) {
  DiskWriter w((root_ / "target").string(), /*overwrite=*/false);
  EntryError err;
  for (std::string p : {"../outside/x", "/tmp/gb-absolute-x", "a/../../outside/x", ""}) {
    EXPECT_FALSE(WriteOne(w, p, &err)) << p;
    EXPECT_EQ(err.kind, EntryError::Kind::kRefused) << p;
  }
  std::ofstream((root_ / "outside" / "secret")) << "secret";
  EXPECT_FALSE(w.HardLink(FileEntry("hl"), "../outside/secret", &err));
  EXPECT_FALSE(w.HardLink(FileEntry("hl"), (root_ / "outside" / "secret").string(), &err));
  w.Close();
  EXPECT_FALSE(fs::exists(root_ / "target" / "hl"));
  EXPECT_FALSE(fs::exists("/tmp/gb-absolute-x"));
}

TEST_F(DiskWriterTest, WithoutOverwriteNothingExistingIsReplaced) {
  fs::path t = root_ / "target";
  std::ofstream(t / "file") << "old";
  fs::create_symlink("nowhere", t / "symlink");
  fs::create_directory_symlink(root_ / "outside", t / "dir");
  DiskWriter w(t.string(), /*overwrite=*/false);
  EntryError err;
  EXPECT_FALSE(WriteOne(w, "file", &err));
  EXPECT_TRUE(err.exists()) << err.message;
  EXPECT_FALSE(WriteOne(w, "symlink", &err));
  EXPECT_TRUE(err.exists()) << err.message;
  EXPECT_FALSE(w.Symlink(SymlinkEntry("file", "elsewhere"), &err));
  EXPECT_TRUE(err.exists()) << err.message;
  EXPECT_FALSE(w.Dir(DirEntry("dir"), &err));
  EXPECT_TRUE(err.exists()) << "a symlink where a directory is restored: " << err.message;
  w.Close();
  EXPECT_EQ(Read(t / "file"), "old");
  EXPECT_EQ(fs::read_symlink(t / "symlink"), "nowhere");
  EXPECT_TRUE(fs::is_symlink(t / "dir"));
}

TEST_F(DiskWriterTest, OverwriteReplacesButNeverFollows) {
  fs::path t = root_ / "target";
  fs::create_symlink(root_ / "outside" / "victim", t / "file");
  fs::create_directory_symlink(root_ / "outside", t / "dir");
  DiskWriter w(t.string(), /*overwrite=*/true);
  EntryError err;
  EXPECT_TRUE(WriteOne(w, "file", &err)) << err.message;
  EXPECT_TRUE(w.Dir(DirEntry("dir"), &err)) << err.message;
  w.Close();
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(t / "file")));
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(t / "dir")));
  EXPECT_TRUE(OutsideEmpty());
}

TEST_F(DiskWriterTest, DataPastTheRecordedSizeIsRefused) {
  DiskWriter w((root_ / "target").string(), /*overwrite=*/false);
  EntryError err;
  ASSERT_TRUE(w.BeginFile(FileEntry("f", 4), &err));
  uint8_t bytes[8] = {};
  EXPECT_THROW(w.WriteBlock(uint64_t{1} << 40, {bytes, 8}), Error);
  EXPECT_THROW(w.WriteBlock(0, {bytes, 8}), Error);
  w.Remove("f");
  w.Close();
}

// A file made elsewhere is linked in with its metadata, like a file written
// here: never over an existing file, never through a symlink; from another
// file system, nothing is done.
TEST_F(DiskWriterTest, AdoptedFilesLandLikeWrittenOnes) {
  const fs::path t = root_ / "target";
  auto made = [&](const std::string& name) {
    fs::path p = root_ / name;
    std::ofstream(p) << "made elsewhere";
    return p.string();
  };
  DiskWriter w(t.string(), /*overwrite=*/false);
  EntryError err;
  Entry e = FileEntry("d/adopted", 14);
  e.mode = 0640;
  e.mtime = FileTime{1234567890, 0};
  ASSERT_TRUE(w.Dir(DirEntry("d"), &err));
  std::string from = made("scratch");
  EXPECT_TRUE(w.CanAdopt(e, from));
  ASSERT_EQ(w.AdoptFile(e, from, &err), DiskWriter::Adopted::kDone) << err.message;
  EXPECT_TRUE(fs::exists(from)) << "the caller's name stays the caller's";
  EXPECT_EQ(Read(t / "d/adopted"), "made elsewhere");
  struct stat st {};
  ASSERT_EQ(::stat((t / "d/adopted").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_mtime, 1234567890);

  std::ofstream(t / "d/existing") << "keep me";
  EXPECT_EQ(w.AdoptFile(FileEntry("d/existing", 14), made("scratch2"), &err),
            DiskWriter::Adopted::kFailed);
  EXPECT_TRUE(err.exists());
  EXPECT_EQ(Read(t / "d/existing"), "keep me");

  fs::create_directory_symlink(root_ / "outside", t / "link");
  EXPECT_EQ(w.AdoptFile(FileEntry("link/f", 14), made("scratch3"), &err),
            DiskWriter::Adopted::kFailed);
  EXPECT_TRUE(OutsideEmpty());

  struct stat shm {
  }, here{};
  if (::stat("/dev/shm", &shm) == 0 && ::stat(root_.c_str(), &here) == 0 &&
      shm.st_dev != here.st_dev && ::access("/dev/shm", W_OK) == 0) {
    fs::path other = fs::path("/dev/shm") / ("gb-adopt-" + std::to_string(::getpid()));
    std::ofstream(other) << "made elsewhere";
    EXPECT_FALSE(w.CanAdopt(FileEntry("d/other-fs", 14), other.string()));
    EXPECT_EQ(w.AdoptFile(FileEntry("d/other-fs", 14), other.string(), &err),
              DiskWriter::Adopted::kOtherFileSystem);
    EXPECT_FALSE(fs::exists(t / "d/other-fs"));
    fs::remove(other);
  }
  w.Close();
}

// A file gets its recorded size however its data ends: holes at the end, no
// data at all, data written out of order.
TEST_F(DiskWriterTest, AFileGetsItsRecordedSize) {
  DiskWriter w((root_ / "target").string(), /*overwrite=*/false);
  EntryError err;
  const std::string ab = "ab";
  std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(ab.data()), ab.size());
  ASSERT_TRUE(w.BeginFile(FileEntry("trailing-hole", 1 << 20), &err));
  w.WriteBlock(0, data);
  ASSERT_TRUE(w.EndFile(&err)) << err.message;
  ASSERT_TRUE(w.BeginFile(FileEntry("all-hole", 5000), &err));
  ASSERT_TRUE(w.EndFile(&err)) << err.message;
  ASSERT_TRUE(w.BeginFile(FileEntry("backwards", 12), &err));
  w.WriteBlock(10, data);
  w.WriteBlock(0, data);
  ASSERT_TRUE(w.EndFile(&err)) << err.message;
  w.Close();
  const fs::path t = root_ / "target";
  EXPECT_EQ(fs::file_size(t / "trailing-hole"), 1u << 20);
  EXPECT_EQ(Read(t / "trailing-hole").substr(0, 3), std::string("ab\0", 3));
  EXPECT_EQ(Read(t / "all-hole"), std::string(5000, '\0'));
  EXPECT_EQ(Read(t / "backwards"), std::string("ab\0\0\0\0\0\0\0\0ab", 12));
}

TEST_F(DiskWriterTest, NeverChangesTheWorkingDirectory) {
  fs::path before = fs::current_path();
  {
    DiskWriter w((root_ / "target").string(), /*overwrite=*/false);
    EntryError err;
    EXPECT_TRUE(WriteOne(w, "a/b/c", &err)) << err.message;
    EXPECT_EQ(fs::current_path(), before);
    w.Close();
  }
  EXPECT_EQ(fs::current_path(), before);
  EXPECT_EQ(Read(root_ / "target" / "a" / "b" / "c"), "x");
}

// Another process swaps a directory of the target for a symlink to the outside,
// as fast as it can, while files are written below it: none lands outside.
TEST_F(DiskWriterTest, ARacingSwapperCannotRedirectAWrite) {
  fs::path t = root_ / "target";
  fs::create_directories(t / "d");
  std::atomic<bool> stop{false};
  std::thread swapper = StartSwapper(t / "d", stop);
  int written = 0, refused = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  {
    DiskWriter w(t.string(), /*overwrite=*/true);
    for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
      EntryError err;
      if (WriteOne(w, "d/f" + std::to_string(i % 50), &err))
        ++written;
      else
        ++refused;
    }
    stop = true;
    swapper.join();
    w.Close();
  }
  EXPECT_TRUE(OutsideEmpty()) << "a write was redirected outside the target (" << written
                              << " written, " << refused << " refused)";
  EXPECT_GT(written + refused, 100);
}

// The same, with files written on several threads at once through their own
// handles, each followed by a hard link, their folder looked up once for a
// run of 8 files, as a restore's writer threads do.
TEST_F(DiskWriterTest, ARacingSwapperCannotRedirectWritesFromSeveralThreads) {
  fs::path t = root_ / "target";
  fs::create_directories(t / "d");
  std::atomic<bool> stop{false};
  std::thread swapper = StartSwapper(t / "d", stop);
  std::atomic<int> written{0}, refused{0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  {
    DiskWriter w(t.string(), /*overwrite=*/true);
    const DiskWriter& shared = w;
    std::vector<std::thread> writers;
    for (int k = 0; k < 4; ++k)
      writers.emplace_back([&, k] {
        DiskWriter::ParentCache parent;
        for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
          std::string name = "d/w" + std::to_string(k) + "-" + std::to_string(i % 20);
          DiskWriter::FileHandle f;
          EntryError err;
          uint8_t byte = 'x';
          if (i % 8 == 0) parent = {};
          bool ok = shared.OpenFile(FileEntry(name), &f, &err, &parent);
          if (ok) {
            shared.WriteBlock(f, 0, {&byte, 1});
            ok = shared.FinishFile(f, &err);
          }
          Entry link = FileEntry(name + "-link");
          ok = ok && shared.HardLink(link, name, &err);
          ++(ok ? written : refused);
        }
      });
    for (std::thread& th : writers) th.join();
    stop = true;
    swapper.join();
    w.Close();
  }
  EXPECT_TRUE(OutsideEmpty()) << "a write was redirected outside the target (" << written
                              << " written, " << refused << " refused)";
  EXPECT_GT(written + refused, 100);
}

// Files written on several threads at once land whole, each with its own
// metadata, and none is refused for another's sake.
// Files opened through one ParentCache land in their own folders, whatever
// the order of the folders; an unsafe path is refused as ever.
TEST_F(DiskWriterTest, FilesThroughAParentCacheLandInTheirOwnFolders) {
  fs::path t = root_ / "target";
  const std::vector<std::string> paths = {"a/x", "a/y", "b/z", "a/w", "top", "b/c/d", "b/e", "u"};
  {
    DiskWriter w(t.string(), /*overwrite=*/false);
    DiskWriter::ParentCache parent;
    for (const std::string& p : paths) {
      DiskWriter::FileHandle f;
      EntryError err;
      ASSERT_TRUE(w.OpenFile(FileEntry(p, p.size()), &f, &err, &parent))
          << p << ": " << err.message;
      w.WriteBlock(f, 0, {reinterpret_cast<const uint8_t*>(p.data()), p.size()});
      ASSERT_TRUE(w.FinishFile(f, &err)) << p << ": " << err.message;
      w.FileDone(f);
    }
    for (const char* p : {"a/../../outside/f", "a/..", "a/"}) {
      DiskWriter::FileHandle f;
      EntryError err;
      EXPECT_FALSE(w.OpenFile(FileEntry(p), &f, &err, &parent)) << p;
    }
    w.Close();
  }
  for (const std::string& p : paths) EXPECT_EQ(Read(t / p), p) << p;
  EXPECT_TRUE(OutsideEmpty());
}

TEST_F(DiskWriterTest, FilesWrittenOnSeveralThreadsAtOnceAreEachWhole) {
  fs::path t = root_ / "target";
  {
    DiskWriter w(t.string(), /*overwrite=*/false);
    EntryError dir_err;
    for (int d = 0; d < 4; ++d) ASSERT_TRUE(w.Dir(DirEntry("d" + std::to_string(d)), &dir_err));
    const DiskWriter& shared = w;
    std::vector<std::vector<DiskWriter::FileHandle>> done(4);
    std::vector<std::string> failures(4);
    std::vector<std::thread> writers;
    for (int k = 0; k < 4; ++k)
      writers.emplace_back([&, k] {
        for (int i = 0; i < 200; ++i) {
          // Every thread writes into every directory.
          Entry e = FileEntry(
              "d" + std::to_string(i % 4) + "/f" + std::to_string(k) + "-" + std::to_string(i),
              static_cast<uint64_t>(i));
          e.mode = i % 2 ? 0600 : 0640;
          e.mtime = {1000000000 + i, static_cast<uint32_t>(k)};
          std::string data(static_cast<size_t>(i), static_cast<char>('a' + k));
          DiskWriter::FileHandle f;
          EntryError err;
          if (!shared.OpenFile(e, &f, &err)) {
            failures[static_cast<size_t>(k)] += e.path + ": " + err.message + "\n";
            continue;
          }
          shared.WriteBlock(f, 0, {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
          if (!shared.FinishFile(f, &err))
            failures[static_cast<size_t>(k)] += e.path + ": " + err.message + "\n";
          done[static_cast<size_t>(k)].push_back(std::move(f));
        }
      });
    for (std::thread& th : writers) th.join();
    for (const std::string& f : failures) EXPECT_EQ(f, "");
    for (auto& files : done)
      for (DiskWriter::FileHandle& f : files) w.FileDone(f);
    w.Close();
  }
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 200; ++i) {
      fs::path p =
          t / ("d" + std::to_string(i % 4)) / ("f" + std::to_string(k) + "-" + std::to_string(i));
      EXPECT_EQ(Read(p), std::string(static_cast<size_t>(i), static_cast<char>('a' + k))) << p;
      struct stat st {};
      ASSERT_EQ(::lstat(p.c_str(), &st), 0) << p;
      EXPECT_EQ(st.st_mode & 07777, i % 2 ? 0600u : 0640u) << p;
      EXPECT_EQ(st.st_mtim.tv_sec, 1000000000 + i) << p;
      EXPECT_EQ(st.st_mtim.tv_nsec, k) << p;
    }
}

}  // namespace
}  // namespace gb
