#include "engine/file_prefetcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
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

// Entries come out in spool order whatever the memory bound and the number of
// readers, each small file with its content and hash; other entries and
// unreadable files pass through. The inodes run against spool order, so
// reads started in inode order finish out of spool order.
TEST_F(FilePrefetcherTest, KeepsOrderAndReadsWithinTheBound) {
  for (int readers : {1, 4}) {
    SCOPED_TRACE("readers " + std::to_string(readers));
    EntrySpool spool(root_.string());
    std::vector<std::string> contents;
    for (int i = 0; i < 200; ++i) {
      contents.push_back(
          std::string(static_cast<size_t>(i * 37 % 5000), static_cast<char>('a' + i % 26)));
      Entry e = FileEntry("f" + std::to_string(i), contents.back());
      e.ino = static_cast<uint64_t>(1000 - i);
      spool.Append(e);
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

    FilePrefetcher prefetcher(spool, /*max_bytes=*/4096, readers);
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
}

// With slow reads (a cold disk), several are in flight at once, and the reads
// queued behind them start in inode order, batch by batch: far fewer descents
// in inode order than the spool order has.
TEST_F(FilePrefetcherTest, StartsQueuedReadsInInodeOrderSeveralAtATime) {
  constexpr int kReaders = 4, kFiles = 400;
  EntrySpool spool(root_.string());
  std::vector<uint64_t> inodes;
  std::vector<std::string> paths;
  for (int i = 0; i < kFiles; ++i) {
    Entry e = FileEntry("f" + std::to_string(i), std::string(1000, 'x'));
    paths.push_back(e.path);
    e.ino = static_cast<uint64_t>((kFiles - 1 - i) * 7 % kFiles);  // mostly descending
    inodes.push_back(e.ino);
    spool.Append(e);
  }
  spool.Rewind();

  std::mutex mu;
  std::vector<uint64_t> started;
  int in_flight = 0, most_in_flight = 0;
  auto slow_read = [&](const std::string& abs, Entry* e, std::vector<uint8_t> buffer) {
    {
      std::lock_guard lock(mu);
      started.push_back(e->ino);
      most_in_flight = std::max(most_in_flight, ++in_flight);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    SmallFileRead r = ReadSmallFile(abs, e, std::move(buffer));
    std::lock_guard lock(mu);
    --in_flight;
    return r;
  };
  // A window of 64 files: batches of about 16.
  FilePrefetcher prefetcher(spool, /*max_bytes=*/64 * 1000, kReaders, slow_read);
  PrefetchedEntry p;
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_TRUE(prefetcher.Next(&p));
    EXPECT_EQ(p.entry.path, paths[static_cast<size_t>(i)]) << "spool order";
    ASSERT_EQ(p.read.outcome, SmallFileRead::Outcome::kRead) << p.read.problem;
  }
  EXPECT_FALSE(prefetcher.Next(&p));

  std::lock_guard lock(mu);
  EXPECT_EQ(most_in_flight, kReaders);
  ASSERT_EQ(started.size(), static_cast<size_t>(kFiles));
  auto descents = [](const std::vector<uint64_t>& v) {
    size_t n = 0;
    for (size_t i = 1; i < v.size(); ++i) n += v[i] < v[i - 1];
    return n;
  };
  ASSERT_GE(descents(inodes), 300u);
  // Batches of about 16 sorted reads: some 25 descents, plus a few where two
  // readers record their start in the other order.
  EXPECT_LE(descents(started), 80u) << "reads did not start in inode order";
}

// Dropping the prefetcher half-way stops its threads without waiting for the rest.
TEST_F(FilePrefetcherTest, StopsWhenDroppedEarly) {
  // Owned by shared pointers so that a destructor that hangs (the failure this
  // test looks for) cannot touch freed memory after the test gives up on it.
  auto spool = std::make_shared<EntrySpool>(root_.string());
  for (int i = 0; i < 100; ++i)
    spool->Append(FileEntry("f" + std::to_string(i), std::string(3000, 'x')));
  spool->Rewind();
  auto reads = std::make_shared<std::atomic<int>>(0);
  auto counting_read = [reads](const std::string& abs, Entry* e, std::vector<uint8_t> buffer) {
    ++*reads;
    return ReadSmallFile(abs, e, std::move(buffer));
  };
  auto prefetcher = std::make_shared<FilePrefetcher>(*spool, 1024, 4, counting_read);
  PrefetchedEntry p;
  ASSERT_TRUE(prefetcher->Next(&p));
  EXPECT_EQ(p.read.outcome, SmallFileRead::Outcome::kRead) << p.read.problem;

  auto dropped = std::make_shared<std::promise<void>>();
  std::future<void> done = dropped->get_future();
  std::thread([spool, prefetcher = std::move(prefetcher), dropped]() mutable {
    prefetcher.reset();  // the reading threads are blocked on a full window here
    dropped->set_value();
  }).detach();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "dropping the prefetcher did not stop its reading threads";
  // The window holds one 3000-byte file: the readers stopped at most a few
  // files ahead of what was consumed, not after reading the rest.
  EXPECT_LE(reads->load(), 10) << "the files not consumed were read all the same";
}

}  // namespace
}  // namespace gb
