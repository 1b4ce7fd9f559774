#include "engine/file_prefetcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <thread>

#include "core/sha256.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

class FilePrefetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("gb-prefetch-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  Entry FileEntry(const std::string& name, const std::string& content) {
    std::ofstream(root_ / name, std::ios::binary) << content;
    Entry e;
    e.path = (root_ / name).string().substr(1);  // relative to "/"
    e.type = EntryType::kFile;
    e.size = content.size();
    return e;
  }

  fs::path root_;
};

// Entries come out in spool order whatever the memory bound, each small file
// with its content and hash; other entries and unreadable files pass through.
TEST_F(FilePrefetcherTest, KeepsOrderAndReadsWithinTheBound) {
  EntrySpool spool(root_.string());
  std::vector<std::string> contents;
  for (int i = 0; i < 200; ++i) {
    contents.push_back(
        std::string(static_cast<size_t>(i * 37 % 5000), static_cast<char>('a' + i % 26)));
    spool.Append(FileEntry("f" + std::to_string(i), contents.back()));
  }
  Entry dir;
  dir.path = root_.string().substr(1);
  dir.type = EntryType::kDir;
  spool.Append(dir);
  Entry gone;
  gone.path = (root_ / "vanished").string().substr(1);
  gone.type = EntryType::kFile;
  gone.size = 10;
  spool.Append(gone);
  spool.Rewind();

  FilePrefetcher prefetcher(spool, /*max_bytes=*/4096);
  PrefetchedEntry p;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(prefetcher.Next(&p));
    EXPECT_EQ(p.entry.path, (root_ / ("f" + std::to_string(i))).string().substr(1));
    ASSERT_EQ(p.read.outcome, SmallFileRead::Outcome::kRead) << p.read.problem;
    EXPECT_EQ(std::string(p.read.data.begin(), p.read.data.end()), contents[i]);
    EXPECT_TRUE(p.entry.has_hash);
    EXPECT_EQ(p.entry.hash, Sha256::Of(contents[i]));
  }
  ASSERT_TRUE(prefetcher.Next(&p));
  EXPECT_EQ(p.entry.type, EntryType::kDir);
  EXPECT_EQ(p.read.outcome, SmallFileRead::Outcome::kLarge) << "passed through";
  ASSERT_TRUE(prefetcher.Next(&p));
  EXPECT_EQ(p.read.outcome, SmallFileRead::Outcome::kFailed);
  EXPECT_NE(p.read.problem.find("cannot read"), std::string::npos) << p.read.problem;
  EXPECT_FALSE(prefetcher.Next(&p));
}

// Dropping the prefetcher half-way stops its thread without waiting for the rest.
TEST_F(FilePrefetcherTest, StopsWhenDroppedEarly) {
  // Owned by shared pointers so that a destructor that hangs (the failure this
  // test looks for) cannot touch freed memory after the test gives up on it.
  auto spool = std::make_shared<EntrySpool>(root_.string());
  for (int i = 0; i < 100; ++i)
    spool->Append(FileEntry("f" + std::to_string(i), std::string(3000, 'x')));
  spool->Rewind();
  auto prefetcher = std::make_shared<FilePrefetcher>(*spool, 1024);
  PrefetchedEntry p;
  ASSERT_TRUE(prefetcher->Next(&p));

  auto dropped = std::make_shared<std::promise<void>>();
  std::future<void> done = dropped->get_future();
  std::thread([spool, prefetcher = std::move(prefetcher), dropped]() mutable {
    prefetcher.reset();  // the reading thread is blocked on a full queue here
    dropped->set_value();
  }).detach();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "dropping the prefetcher did not stop its reading thread";
}

}  // namespace
}  // namespace gb
