#include "engine/walker.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "engine/archive_name.h"
#include "engine/entry_spool.h"
#include "engine/point.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

class WalkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("gb-walk-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Touch(const std::string& rel) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << rel;
  }
  std::vector<std::string> Walk(const std::vector<std::string>& includes,
                                const std::vector<std::string>& excludes = {},
                                std::vector<std::string>* notices = nullptr) {
    Selector sel(includes, excludes);
    Walker w(sel, [&](const std::string& p, const std::string& what, bool) {
      if (notices) notices->push_back(p + ": " + what);
    });
    std::vector<std::string> out;
    Entry e;
    bool unknown;
    std::string prefix = root_.string().substr(1) + "/";
    while (w.Next(&e, &unknown)) {
      if (e.path.rfind(prefix, 0) == 0) out.push_back(e.path.substr(prefix.size()));
    }
    return out;
  }
  fs::path root_;
};

TEST_F(WalkerTest, ProducesCatalogKeyOrder) {
  for (auto p : {"a/x", "a.b", "a-c/y", "a/sub/z", "b"}) Touch(p);
  fs::create_directories(root_ / "empty");
  auto got = Walk({root_.string()});
  EXPECT_EQ(got, (std::vector<std::string>{"a", "a/sub", "a/sub/z", "a/x", "a-c", "a-c/y", "a.b",
                                           "b", "empty"}));
  for (size_t i = 1; i < got.size(); ++i) EXPECT_LT(PathKey(got[i - 1]), PathKey(got[i]));
}

// A large directory is examined by several threads in inode order; what the
// walk produces is still every entry, in key order, each with its own metadata.
TEST_F(WalkerTest, LargeDirectoryComesOutWholeAndInOrder) {
  std::vector<std::string> want;
  for (int i = 499; i >= 0; --i) {  // created backwards: inodes against name order
    std::string name = "big/n" + std::to_string(i);
    if (i % 50 == 7) {
      fs::create_directories(root_ / "big");
      fs::create_symlink("target-" + std::to_string(i), root_ / name);
    } else if (i % 50 == 9) {
      fs::create_directories(root_ / name);
    } else {
      Touch(name);
    }
    want.push_back(name);
  }
  want.push_back("big");
  Touch("big/n9/inside");
  want.push_back("big/n9/inside");
  std::sort(want.begin(), want.end(),
            [](const std::string& a, const std::string& b) { return PathKey(a) < PathKey(b); });

  Selector sel({root_.string()}, {"n13"});
  std::vector<std::string> notices;
  Walker w(sel, [&](const std::string& p, const std::string& what, bool) {
    notices.push_back(p + ": " + what);
  });
  std::vector<std::string> got;
  Entry e;
  bool unknown;
  std::string prefix = root_.string().substr(1) + "/";
  while (w.Next(&e, &unknown)) {
    if (e.path.rfind(prefix, 0) != 0) continue;
    std::string rel = e.path.substr(prefix.size());
    got.push_back(rel);
    std::string name = rel.substr(rel.rfind('/') + 1);
    if (rel == "big" || rel == "big/n9/inside") continue;
    int i = std::stoi(name.substr(1));
    if (i % 50 == 7) {
      EXPECT_EQ(e.type, EntryType::kSymlink) << rel;
      EXPECT_EQ(e.target, "target-" + std::to_string(i));
    } else if (i % 50 == 9) {
      EXPECT_EQ(e.type, EntryType::kDir) << rel;
    } else {
      EXPECT_EQ(e.type, EntryType::kFile) << rel;
      EXPECT_EQ(e.size, rel.size()) << rel;  // Touch writes the relative path
    }
  }
  want.erase(std::remove(want.begin(), want.end(), "big/n13"), want.end());
  EXPECT_EQ(got, want);
  EXPECT_TRUE(notices.empty());
}

TEST_F(WalkerTest, ExcludesAndNestedRootsAndAncestors) {
  for (auto p : {"keep/a.txt", "keep/a.tmp", "keep/.git/config", "keep/n/x", "other/y"}) Touch(p);
  auto got = Walk({(root_ / "keep").string(), (root_ / "keep/n").string()}, {"*.tmp", ".git"});
  EXPECT_EQ(got, (std::vector<std::string>{"keep", "keep/a.txt", "keep/n", "keep/n/x"}));
}

TEST_F(WalkerTest, KeepsFifosAndSkipsSocketsWithNotice) {
  Touch("f");
  ASSERT_EQ(mkfifo((root_ / "pipe").c_str(), 0600), 0);
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string sock = (root_ / "sock").string();
  ASSERT_LT(sock.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, sock.c_str(), sock.size());
  ASSERT_EQ(::bind(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr), 0);
  std::vector<std::string> notices;
  auto got = Walk({root_.string()}, {}, &notices);
  ::close(s);
  EXPECT_EQ(got, (std::vector<std::string>{"f", "pipe"}));
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("skipped socket"), std::string::npos);
}

TEST_F(WalkerTest, MissingIncludeIsAnError) {
  try {
    Walk({(root_ / "nope").string()});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
}

TEST(EntrySpool, RoundTripsManyEntries) {
  EntrySpool spool(fs::temp_directory_path().string());
  for (int i = 0; i < 20000; ++i) {
    Entry e;
    e.path = "dir/file" + std::to_string(i) + std::string(i % 300, 'x');
    e.size = static_cast<uint64_t>(i);
    e.has_hash = i % 2;
    e.hash[0] = static_cast<uint8_t>(i);
    e.target = i % 3 ? "" : "t";
    spool.Append(e);
  }
  spool.Rewind();
  Entry e;
  int n = 0;
  while (spool.Next(&e)) {
    ASSERT_EQ(e.path, "dir/file" + std::to_string(n) + std::string(n % 300, 'x'));
    ASSERT_EQ(e.size, static_cast<uint64_t>(n));
    ASSERT_EQ(e.has_hash, n % 2 == 1);
    if (e.has_hash) {
      ASSERT_EQ(e.hash[0], static_cast<uint8_t>(n));
    }
    ++n;
  }
  EXPECT_EQ(n, 20000);
}

TEST(ArchiveName, FormatsAndParses) {
  ArchiveName n{1795748820, 4, 3};
  EXPECT_EQ(n.FileName(), "20261127T030700Z-s0004-i03.tar.zst.age");
  EXPECT_EQ((ArchiveName{1795748820, 4, 0}.Id()), "20261127T030700Z-s0004-full");
  auto p = ArchiveName::Parse("20261127T030700Z-s0004-i03.tar.zst.age");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->set_id, 4);
  EXPECT_EQ(p->seq, 3);
  EXPECT_EQ(p->time, 1795748820);
  EXPECT_FALSE(ArchiveName::Parse("notes.txt"));
  EXPECT_FALSE(ArchiveName::Parse("20261127T030700Z-s0004-i00.tar.zst.age"));
}

TEST(FilterPath, NormalisesAndRefuses) {
  EXPECT_EQ(NormaliseFilterPath("/home/me/docs/"), "home/me/docs");
  EXPECT_EQ(NormaliseFilterPath("/"), "");
  EXPECT_THROW(NormaliseFilterPath("/home/../etc"), Error);
}

}  // namespace
}  // namespace gb
