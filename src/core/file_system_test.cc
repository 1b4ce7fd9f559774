#include "core/file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/file.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

class FaultInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("gb-fs-" + std::to_string(getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static FaultSpec Spec(const std::string& text) {
    std::optional<FaultSpec> spec = FaultSpec::Parse(text);
    EXPECT_TRUE(spec) << text;
    return spec.value_or(FaultSpec{});
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    return names;
  }

  std::string dir_;
};

TEST_F(FaultInjectionTest, ParsesTheFourKindsAndRejectsTheRest) {
  EXPECT_EQ(Spec("enospc@3").kind, FaultSpec::Kind::kNoSpace);
  EXPECT_EQ(Spec("enospc@3").n, 3u);
  EXPECT_EQ(Spec("eio@1").kind, FaultSpec::Kind::kIOError);
  EXPECT_EQ(Spec("short@12").kind, FaultSpec::Kind::kShortWrite);
  EXPECT_EQ(Spec("short@12").n, 12u);
  EXPECT_EQ(Spec("fsync@2").kind, FaultSpec::Kind::kFsync);
  for (const char* bad : {"", "enospc", "enospc@", "enospc@0", "enospc@-1", "enospc@1x", "eio@ 2",
                          "ENOSPC@1", "full@1", "@3"})
    EXPECT_FALSE(FaultSpec::Parse(bad)) << bad;
}

// The Nth call that changes the file system fails, once; reads are not counted.
TEST_F(FaultInjectionTest, FailsTheNthChangingCallOnce) {
  FaultInjectingFileSystem faulty(PosixFileSystem(), Spec("enospc@3"));
  std::string a = dir_ + "/a", b = dir_ + "/b";
  int fd = faulty.Open(a.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);  // 1
  ASSERT_GE(fd, 0);
  Fd owned(fd);
  EXPECT_EQ(faulty.Write(fd, "abc", 3), 3);  // 2
  Fd reading(faulty.Open(a.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(reading.valid()) << "opens for reading pass and are not counted";
  EXPECT_FALSE(faulty.fired());
  errno = 0;
  EXPECT_EQ(faulty.Rename(a.c_str(), b.c_str()), -1);  // 3
  EXPECT_EQ(errno, ENOSPC);
  EXPECT_TRUE(faulty.fired());
  EXPECT_TRUE(fs::exists(a));
  EXPECT_EQ(faulty.Rename(a.c_str(), b.c_str()), 0) << "one fault only";
  EXPECT_EQ(faulty.Fsync(fd), 0);
  EXPECT_EQ(faulty.calls(), 5u);
}

TEST_F(FaultInjectionTest, ShortWriteThenNoSpace) {
  FaultInjectingFileSystem faulty(PosixFileSystem(), Spec("short@2"));
  std::string a = dir_ + "/a";
  Fd fd(faulty.Open(a.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(faulty.Write(fd.get(), "0123", 4), 4);
  EXPECT_EQ(faulty.Write(fd.get(), "456789", 6), 3) << "half of it";
  errno = 0;
  EXPECT_EQ(faulty.Write(fd.get(), "789", 3), -1) << "the disk is full now";
  EXPECT_EQ(errno, ENOSPC);
  EXPECT_EQ(faulty.Write(fd.get(), "x", 1), 1);
  EXPECT_EQ(ReadFileToString(a), "0123456x");
}

TEST_F(FaultInjectionTest, FsyncCountsOnlyFsyncs) {
  FaultInjectingFileSystem faulty(PosixFileSystem(), Spec("fsync@2"));
  std::string a = dir_ + "/a";
  Fd fd(faulty.Open(a.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_EQ(faulty.Write(fd.get(), "x", 1), 1);
  EXPECT_EQ(faulty.Fsync(fd.get()), 0);
  errno = 0;
  EXPECT_EQ(faulty.Fsync(fd.get()), -1);
  EXPECT_EQ(errno, EIO);
  EXPECT_EQ(faulty.calls(), 2u);
}

// Through Fs(): a file written with AtomicFile never appears, and leaves no
// temporary, whichever of its calls fails.
TEST_F(FaultInjectionTest, AtomicFileLeavesNothingWhateverCallFails) {
  std::string path = dir_ + "/f";
  for (const char* kind : {"enospc", "eio", "short", "fsync"}) {
    uint64_t n = 1;
    for (;; ++n) {
      SCOPED_TRACE(std::string(kind) + "@" + std::to_string(n));
      FaultInjectingFileSystem faulty(PosixFileSystem(),
                                      Spec(std::string(kind) + "@" + std::to_string(n)));
      ScopedFileSystem installed(faulty);
      try {
        WriteFileAtomic(path, std::string(3 << 20, 'x'));  // more than FdSink's buffer
      } catch (const Error& e) {
        EXPECT_TRUE(faulty.fired()) << e.what();
        EXPECT_EQ(e.code(), Code::kIOError);
        EXPECT_NE(std::string(e.what()).find(dir_), std::string::npos) << "names the path";
      }
      if (!faulty.fired()) break;
      EXPECT_FALSE(fs::exists(path) && fs::file_size(path) != 3u << 20) << "never half a file";
      std::vector<std::string> names = Names();
      std::erase(names, "f");
      EXPECT_TRUE(names.empty()) << names.front();
      fs::remove(path);
    }
    EXPECT_GT(n, 1u) << kind << " was never injected";
    EXPECT_EQ(ReadFileToString(path).size(), 3u << 20);
  }
}

// Used from several threads at once, exactly one call fails.
TEST_F(FaultInjectionTest, OneFaultAcrossThreads) {
  FaultInjectingFileSystem faulty(PosixFileSystem(), Spec("eio@1500"));
  std::vector<Fd> files;
  for (int t = 0; t < 4; ++t) {
    std::string path = dir_ + "/t" + std::to_string(t);
    files.emplace_back(faulty.Open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_TRUE(files.back().valid());
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&faulty, &failures, fd = files[static_cast<size_t>(t)].get()] {
      for (int i = 0; i < 999; ++i)
        if (faulty.Write(fd, "x", 1) != 1) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 1);
  EXPECT_EQ(faulty.calls(), 4u * 1000);
}

TEST_F(FaultInjectionTest, ScopedFileSystemInstallsAndRestores) {
  FileSystem* before = &Fs();
  {
    FaultInjectingFileSystem faulty(PosixFileSystem(), Spec("eio@1"));
    ScopedFileSystem installed(faulty);
    EXPECT_EQ(&Fs(), &faulty);
    EXPECT_THROW(MakeDirs(dir_ + "/x/y"), Error);
  }
  EXPECT_EQ(&Fs(), before);
  MakeDirs(dir_ + "/x/y");
  EXPECT_TRUE(fs::is_directory(dir_ + "/x/y"));
}

}  // namespace
}  // namespace gb
