// The small things a new user trips over: messages that say what happened and
// what to do, and nothing done before the tool knows it can finish.
#include <sys/file.h>

#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

constexpr int kExitCorrupt = 4, kExitNoKey = 5, kExitNotFound = 6, kExitLocked = 7, kExitVault = 8;

class RoughEdgesTest : public E2eTest {
 protected:
  // The one cached archive.
  std::string OnlyArchive() {
    std::vector<std::string> files;
    for (const auto& f : tool_.CacheFiles())
      if (f.ends_with(".tar.zst.age")) files.push_back(tool_.cache() + "/" + f);
    EXPECT_EQ(files.size(), 1u) << JoinLines(files);
    return files.empty() ? "" : files[0];
  }
  // Flips one byte at `fraction` of a file's length.
  void FlipByte(const std::string& path, double fraction) {
    std::string bytes = ReadFile(path);
    ASSERT_FALSE(bytes.empty()) << path;
    size_t at = static_cast<size_t>(static_cast<double>(bytes.size()) * fraction);
    WriteAt(path, at, std::string(1, static_cast<char>(bytes[at] ^ 0x40)));
  }
};

// A lost machine: no backups in the catalog. restore and snapshots point to recover.
TEST_F(RoughEdgesTest, EmptyCatalogPointsToRecover) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Result restore = tool_.Run({"restore", "--to", dir_ / "t"});
  EXPECT_EQ(restore.code, kExitNotFound) << restore.Show();
  EXPECT_NE(restore.err.find("glacier-backup recover"), std::string::npos) << restore.Show();
  Result snapshots = tool_.Run({"snapshots"});
  EXPECT_EQ(snapshots.code, 0) << snapshots.Show();
  EXPECT_NE(snapshots.err.find("glacier-backup recover"), std::string::npos) << snapshots.Show();
}

// One flipped byte: verify names the hash that does not match, not two equal sizes.
TEST_F(RoughEdgesTest, VerifyNamesTheHashMismatch) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  tool_.Json({"backup"});
  ASSERT_NO_FATAL_FAILURE(FlipByte(OnlyArchive(), 0.5));
  Result r = tool_.Run({"verify"});
  EXPECT_EQ(r.code, kExitCorrupt) << r.Show();
  EXPECT_NE(r.err.find("SHA-256"), std::string::npos) << r.Show();
  EXPECT_EQ(r.err.find("size"), std::string::npos) << "the size is not what differs\n" << r.Show();
}

// A damaged archive: restore exits 4 naming every path it did not restore, and
// what it did restore is whole and correct.
TEST_F(RoughEdgesTest, DamagedArchiveRestoreNamesWhatWasNotRestored) {
  std::vector<std::string> names;
  for (int i = 0; i < 30; ++i) {
    names.push_back("data/f" + std::to_string(10 + i) + ".bin");
    WriteFile(S(names.back()), Random(200000, static_cast<uint64_t>(i)));
  }
  Symlink("f10.bin", S("data/link"));
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}, "compression_level = 1"));
  tool_.Json({"backup"});
  ASSERT_NO_FATAL_FAILURE(FlipByte(OnlyArchive(), 0.8));
  // A signed archive is checked whole before anything is written: refused, nothing restored.
  std::string refused = dir_ / "refused";
  Result r = tool_.Run({"restore", "--to", refused});
  EXPECT_EQ(r.code, kExitCorrupt) << r.Show();
  EXPECT_NE(r.err.find(Basename(OnlyArchive())), std::string::npos) << r.Show();
  EXPECT_FALSE(Exists(refused)) << r.Show();
  // Without its signature (an archive from before signatures, --allow-unsigned) the
  // damage is found while reading: what was restored is whole and the rest is named.
  ASSERT_EQ(::unlink((OnlyArchive() + ".minisig").c_str()), 0);
  std::string target = dir_ / "t";
  r = tool_.Run({"restore", "--allow-unsigned", "--to", target});
  EXPECT_EQ(r.code, kExitCorrupt) << r.Show();
  EXPECT_NE(r.err.find("were restored into"), std::string::npos) << r.Show();
  int restored = 0, named = 0;
  for (const std::string& n : names) {
    std::string out = Restored(target, S(n));
    bool here = Exists(out);
    bool reported = r.err.find(out + ": not restored") != std::string::npos;
    EXPECT_NE(here, reported) << n << " must be either restored or named\n" << r.Show();
    if (here) {
      ++restored;
      EXPECT_EQ(ReadFile(out), ReadFile(S(n))) << n;
    }
    named += reported;
  }
  EXPECT_GT(restored, 0) << r.Show();
  EXPECT_GT(named, 0) << r.Show();
  EXPECT_NE(r.err.find(Restored(target, S("data/link")) + ": not restored"), std::string::npos)
      << r.Show();
}

// Without the identity, restore stops before it creates anything.
TEST_F(RoughEdgesTest, MissingKeyCreatesNothing) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  tool_.Json({"backup"});
  ASSERT_EQ(::rename(tool_.identity().c_str(), (dir_ / "away.txt").c_str()), 0);
  std::string target = dir_ / "t";
  Result r = tool_.Run({"restore", "--to", target});
  EXPECT_EQ(r.code, kExitNoKey) << r.Show();
  EXPECT_FALSE(Exists(target)) << "restore created " << target << " before finding no key";
}

// The lock message says once what is going on and how to wait for it.
TEST_F(RoughEdgesTest, LockMessageMentionsWaitLock) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  tool_.Json({"backup"});
  int fd = ::open((tool_.state() + "/lock").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  Result r = tool_.Run({"backup"});
  ::close(fd);
  EXPECT_EQ(r.code, kExitLocked) << r.Show();
  EXPECT_NE(r.err.find("--wait-lock"), std::string::npos) << r.Show();
  EXPECT_EQ(Lines(r.err).size(), 1u) << r.Show();
  EXPECT_EQ(r.err.find("running"), std::string::npos) << "says it twice\n" << r.Show();
}

// A vault that cannot be reached: after a few quick tries, the message names the setting.
TEST_F(RoughEdgesTest, UnreachableEndpointIsNamed) {
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  WriteFile(tool_.config(),
            tool_.ConfigText({src_}, "",
                             "\n[vault]\nurl = \"s3://gb-unreachable\"\n"
                             "endpoint = \"http://127.0.0.1:9\"\nregion = \"us-east-1\"\n"),
            0600);
  tool_.SetEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  tool_.SetEnv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret");
  tool_.SetEnv("AWS_CONFIG_FILE", dir_ / "no-such-aws-config");
  tool_.SetEnv("AWS_SHARED_CREDENTIALS_FILE", dir_ / "no-such-aws-credentials");
  Result r = tool_.Run({"vault", "info"});
  EXPECT_EQ(r.code, kExitVault) << r.Show();
  EXPECT_NE(r.err.find("[vault] endpoint = \"http://127.0.0.1:9\""), std::string::npos) << r.Show();
  // An endpoint that never answered is not retried for a minute.
  EXPECT_NE(r.err.find("gave up after 3 attempts"), std::string::npos) << r.Show();
}

// vault ls on an empty vault says so.
TEST_F(RoughEdgesTest, EmptyVaultListingSaysEmpty) {
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Result r = tool_.Run({"vault", "ls"});
  EXPECT_EQ(r.code, 0) << r.Show();
  EXPECT_NE(r.out.find("empty"), std::string::npos) << r.Show();
}

// With --json, a failing command still prints JSON: the error and the exit code.
TEST_F(RoughEdgesTest, JsonErrorsArePrintedAsJson) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  tool_.Json({"backup"});
  nlohmann::json j = tool_.Json({"ls", "--at", "20200101T000000Z-s0099-full"}, kExitNotFound);
  ASSERT_TRUE(j.is_object()) << j;
  EXPECT_EQ(j["exit_code"], kExitNotFound) << j.dump(2);
  EXPECT_NE(j["error"]["message"].get<std::string>().find("20200101T000000Z-s0099-full"),
            std::string::npos)
      << j.dump(2);
}

}  // namespace
}  // namespace gbe2e
