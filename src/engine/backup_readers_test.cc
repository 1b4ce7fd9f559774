// The number of threads reading ahead of the archive writer changes nothing
// that is stored: the same tree backed up at the same time with one reader and
// with several gives archives whose tar members, in order, are identical.
#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/file.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "crypto/identity_file.h"
#include "crypto/x25519.h"
#include "engine/archive_reader.h"
#include "engine/backup.h"
#include "engine/config.h"
#include "engine/engine_test_util.h"
#include "engine/file_reader.h"
#include "engine/workspace.h"
#include "vault/vault_test_doubles.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

class BackupReadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // tmpfs when there is one: the engine fsyncs what it writes.
    fs::path tmp = access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string templ = (tmp / "gb-readers-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    src_ = root_ + "/src";
    auto id = age::X25519Identity::Generate();
    age::WriteIdentityFile(root_ + "/identity.txt", id, clock_);
    recipient_ = id.Recipient().ToString();
  }
  void TearDown() override { fs::remove_all(root_); }

  // Files created in a random order, so their inodes do not follow the names.
  void MakeTree() {
    struct Spec {
      std::string rel;
      size_t size;
    };
    std::vector<Spec> specs;
    for (int d = 0; d < 6; ++d)
      for (int f = 0; f < 80; ++f)
        specs.push_back({"d" + std::to_string(d) + "/f" + std::to_string(f),
                         static_cast<size_t>((d * 80 + f) * 617 % 40000)});
    specs.push_back({"big/large", kSmallFile + 12345});  // streamed, not read ahead
    std::mt19937_64 rng(7);
    std::shuffle(specs.begin(), specs.end(), rng);
    for (size_t i = 0; i < specs.size(); ++i) {
      std::string path = src_ + "/" + specs[i].rel;
      test::WriteText(path, test::RandomText(specs[i].size, i));
      // Xattrs, read ahead of the walk in a full backup, where the file system keeps them.
      if (i % 5 == 0 &&
          ::setxattr(path.c_str(), "user.rel", specs[i].rel.data(), specs[i].rel.size(), 0) == 0)
        ++with_xattrs_;
    }
    fs::create_hard_link(src_ + "/d1/f3", src_ + "/d4/link-to-d1-f3");
    fs::create_symlink("../d2/f5", src_ + "/d3/symlink");
  }

  struct Member {
    std::string path;
    int type;
    uint64_t size;
    uint32_t mode;
    std::string data_sha256;
    std::vector<std::pair<std::string, std::string>> xattrs;
    bool operator==(const Member&) const = default;
  };

  // A workspace of its own backing up the tree with `threads`. All are
  // written before the first backup: the directories above the tree are in
  // the archive too, and their times must not move between backups.
  void Prepare(int threads) {
    std::string dir = root_ + "/threads-" + std::to_string(threads);
    fs::create_directories(dir);
    std::string toml =
        "[source]\nincludes = [\"" + src_ +
        "\"]\n[backup]\ncompression_level = 1\nthreads = " + std::to_string(threads) +
        "\ncache_dir = \"" + dir + "/cache\"\nstate_dir = \"" + dir + "/state\"\n[encryption]\n" +
        test::TrustedSigningKey(dir) + "recipients = [\"" + recipient_ + "\"]\nidentity_file = \"" +
        root_ + "/identity.txt\"\n[vault]\nurl = " + "\"file://" + dir + "/vault\"\n";
    WriteFileAtomic(dir + "/config.toml", toml);
  }

  // Backs the tree up in the workspace for `threads` and lists the archive's
  // members in order.
  std::vector<Member> BackUpWith(int threads) {
    std::string dir = root_ + "/threads-" + std::to_string(threads);
    Config cfg = LoadConfig(dir + "/config.toml");
    Workspace ws(cfg);
    test::RecordingProgress progress;
    BackupResult r = RunBackup(ws, progress, clock_, BackupOptions{});
    EXPECT_TRUE(progress.problems.empty()) << progress.Show();
    ArchiveReader reader(cfg, ws.ArchivePath(r.record.name));
    std::vector<Member> members;
    TarMember m;
    while (reader.tar().Next(&m)) {
      Sha256 sha;
      reader.tar().ReadData([&](uint64_t, std::span<const uint8_t> d) { sha.Update(d); });
      members.push_back({m.entry.path, static_cast<int>(m.entry.type), m.entry.size, m.entry.mode,
                         Hex(sha.Final()), m.entry.xattrs});
    }
    return members;
  }

  test::FakeClock clock_;
  std::string root_, src_, recipient_;
  size_t with_xattrs_ = 0;
};

TEST_F(BackupReadersTest, ArchiveIsTheSameWithOneReaderAndWithSeveral) {
  MakeTree();
  Prepare(1);
  Prepare(8);
  std::vector<Member> one = BackUpWith(1), several = BackUpWith(8);
  ASSERT_GT(one.size(), 480u);
  ASSERT_EQ(one.size(), several.size());
  for (size_t i = 0; i < one.size(); ++i)
    EXPECT_TRUE(one[i] == several[i]) << "member " << i << ": " << one[i].path << " (1 reader) vs "
                                      << several[i].path << " (8 readers)";
  // Each file with an xattr has its own in the archive.
  size_t with_xattrs = 0;
  for (const Member& m : several) {
    if (m.xattrs.empty()) continue;
    ++with_xattrs;
    ASSERT_EQ(m.xattrs.size(), 1u) << m.path;
    EXPECT_EQ(m.xattrs[0].first, "user.rel");
    EXPECT_EQ(src_.substr(1) + "/" + m.xattrs[0].second, m.path);
  }
  EXPECT_EQ(with_xattrs, with_xattrs_);
  // The large file is in it whole.
  auto large = std::find_if(one.begin(), one.end(), [](const Member& m) {
    return m.path.size() >= 9 && m.path.compare(m.path.size() - 9, 9, "big/large") == 0;
  });
  ASSERT_NE(large, one.end());
  EXPECT_EQ(large->size, kSmallFile + 12345);
}

}  // namespace
}  // namespace gb
