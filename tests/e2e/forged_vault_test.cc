// A vault written by an attacker who knows the public recipient key (it is in
// every config): a bundle whose encrypted catalog copy names its backup with an
// absolute path. recover, restore --yes and sync refuse it, name the problem,
// and leave every file outside the tool's folders and the target as it was.
// tests/e2e/forge_bundle.py forges the bundle; cloud_e2e_test.cc puts the same
// one into Glacier and S3.
#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

class ForgedVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_ / "src";
    vault_ = dir_ / "vault";
    victim_ = dir_ / "victim/precious.txt";
    WriteFile(src_ + "/a.txt", "alpha\n");
    WriteFile(victim_, "precious\n", 0644);
    MakeDirs(tool_.dir());
    ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
    WriteFile(tool_.config(),
              tool_.ConfigText({src_}, "", "\n[vault]\nurl = \"file://" + vault_ + "\"\n"), 0600);
    tool_.SetPrefix({"env", "GLACIER_BACKUP_FAKE_NOW=1767250000"});
    Result r = tool_.Run({"vault", "create"});
    ASSERT_EQ(r.code, 0) << r.Show();
    r = Exec({"python3", std::string(GB_SOURCE_DIR) + "/tests/e2e/forge_bundle.py", "file", vault_,
              tool_.recipient(), victim_, "attacker bytes"});
    ASSERT_EQ(r.code, 0) << r.Show();
  }

  void ExpectVictimUntouched() {
    EXPECT_EQ(ReadFile(victim_), "precious\n") << "a file outside the tool's folders was changed";
    EXPECT_EQ(ListDir(dir_ / "victim"), std::vector<std::string>{"precious.txt"})
        << "a file was created beside the victim";
  }

  TempDir dir_;
  Tool tool_{dir_ / "gb"};
  std::string src_, vault_, victim_;
};

TEST_F(ForgedVaultTest, RecoverRestoreAndSyncRefuseAnAbsoluteBackupName) {
  // Signed by nobody: refused before any of it is read.
  Result r = tool_.Run({"recover", "--yes"});
  EXPECT_EQ(r.code, 4) << r.Show();
  EXPECT_NE(r.err.find("not signed"), std::string::npos) << r.Show();
  ExpectVictimUntouched();
  // Accepted unsigned (as from before signatures), the name itself is refused.
  r = tool_.Run({"recover", "--yes", "--allow-unsigned"});
  EXPECT_EQ(r.code, 4) << r.Show();
  EXPECT_NE(r.err.find("not an archive name"), std::string::npos) << r.Show();
  EXPECT_NE(r.err.find(victim_), std::string::npos) << "the message names the forged name\n"
                                                    << r.Show();
  ExpectVictimUntouched();
  nlohmann::json snaps = tool_.Snapshots();
  EXPECT_TRUE(snaps.is_array() && snaps.empty()) << "the forged set reached the catalog\n"
                                                 << snaps.dump(2);

  r = tool_.Run({"restore", "--yes", "--wait", "--allow-unsigned", "--to", dir_ / "target"});
  EXPECT_NE(r.code, 0) << r.Show();
  ExpectVictimUntouched();

  // sync keeps no local sets by default: a forged archive name must not turn into an unlink.
  r = tool_.Run({"sync", "--allow-unsigned"});
  ExpectVictimUntouched();
  EXPECT_EQ(r.err.find(victim_ + ": removed"), std::string::npos) << r.Show();
}

}  // namespace
}  // namespace gbe2e
