// Disaster recovery through the binary, with a file:// vault: back up through
// several sets, sync, lose the cache and the state, `recover`, and find the
// same backup points, each restoring byte for byte from the vault. Also
// `recover --from-archives` and `verify --vault [--sample N]`.
#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

class RecoverE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_ / "src";
    vault_ = dir_ / "vault";
    MakeDirs(src_);
    MakeDirs(tool_.dir());
    ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}, "max_incrementals = 1"));
    WriteFile(tool_.config(),
              tool_.ConfigText({src_}, "max_incrementals = 1",
                               "\n[vault]\nurl = \"file://" + vault_ + "\"\n"),
              0600);
    Tick();
    Result r = tool_.Run({"vault", "create"});
    ASSERT_EQ(r.code, 0) << r.Show();
  }

  // Every run happens an hour after the previous one (backups need distinct seconds).
  void Tick() {
    now_ += 3600;
    tool_.SetPrefix({"env", "GLACIER_BACKUP_FAKE_NOW=" + std::to_string(now_)});
  }

  void Generation(int g) {
    switch (g) {
      case 1:
        WriteFile(src_ + "/a.txt", "alpha\n", 0644, 1500000000, 5);
        WriteFile(src_ + "/dir/b.bin", Random(300000, 1));
        Symlink("a.txt", src_ + "/link");
        WriteFile(src_ + "/hard1", "linked\n");
        HardLink(src_ + "/hard1", src_ + "/hard2");
        MakeDirs(src_ + "/empty");
        break;
      case 2:
        AppendFile(src_ + "/a.txt", "more\n");
        ::unlink((src_ + "/dir/b.bin").c_str());
        break;
      case 3:
        WriteFile(src_ + "/c.txt", Random(5000, 3), 0600);
        break;
      default:
        WriteFile(src_ + "/g" + std::to_string(g) + ".txt", "generation " + std::to_string(g));
        break;
    }
  }

  // Backs up generations 1..n, syncing after those in `sync_after`; returns the ids.
  std::vector<std::string> Backups(int n, std::set<int> sync_after) {
    std::vector<std::string> ids;
    for (int g = 1; g <= n; ++g) {
      Generation(g);
      Tick();
      nlohmann::json b = tool_.Json({"backup"});
      if (!b.is_object()) return ids;
      ids.push_back(b["id"].get<std::string>());
      CopyTree(src_, dir_ / ("snap-" + ids.back()));
      if (sync_after.count(g)) {
        Tick();
        tool_.Json({"sync"});
      }
    }
    return ids;
  }

  std::vector<std::string> SnapshotIds() {
    std::vector<std::string> ids;
    nlohmann::json s = tool_.Snapshots();
    if (s.is_array())
      for (const auto& b : s) ids.push_back(b["id"].get<std::string>());
    return ids;
  }

  void LoseTheMachine() {
    Exec({"rm", "-rf", tool_.cache(), tool_.state()});
    ASSERT_FALSE(Exists(tool_.state()));
  }

  void ExpectRestores(const std::string& id, const std::vector<std::string>& extra = {}) {
    std::string target = dir_ / ("restore-" + id);
    std::vector<std::string> args = {"restore", "--at", id, "--to", target};
    args.insert(args.end(), extra.begin(), extra.end());
    Tick();
    Result r = tool_.Run(args);
    ASSERT_EQ(r.code, 0) << id << "\n" << r.Show();
    std::vector<std::string> diffs = CompareTrees(dir_ / ("snap-" + id), Restored(target, src_));
    EXPECT_TRUE(diffs.empty()) << id << "\n" << JoinLines(diffs);
    Exec({"rm", "-rf", target});
  }

  std::string VaultArchive() {
    for (const auto& name : ListDir(vault_ + "/archives"))
      if (name.find('.') == std::string::npos) return vault_ + "/archives/" + name;
    return "";
  }

  TempDir dir_;
  Tool tool_{dir_ / "gb"};
  std::string src_, vault_;
  int64_t now_ = 1767225600;  // 2026-01-01
};

TEST_F(RecoverE2e, RecoverFromTheVaultThenEveryPointRestores) {
  std::vector<std::string> ids = Backups(5, {2, 5});  // sets 1 and 2 uploaded, set 3 open
  ASSERT_EQ(ids.size(), 5u);
  std::vector<std::string> uploaded(ids.begin(), ids.begin() + 4);
  ASSERT_NO_FATAL_FAILURE(LoseTheMachine());

  Tick();
  nlohmann::json r = tool_.Json({"recover", "--yes"});
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["complete"], true) << r.dump(2);
  EXPECT_EQ(r["bundles"], 2);
  EXPECT_EQ(r["problems"], 0);
  EXPECT_EQ(SnapshotIds(), uploaded);

  Tick();
  Result again = tool_.Run({"recover"});
  EXPECT_EQ(again.code, 0) << again.Show();
  EXPECT_EQ(SnapshotIds(), uploaded);

  // Restore from the vault (the cache is empty).
  for (const std::string& id : uploaded)
    ASSERT_NO_FATAL_FAILURE(ExpectRestores(id, {"--yes", "--wait"}));
}

// Like restore, recover shows its plan and its cost and starts no retrieval
// without --yes (or a "y" at the prompt).
TEST_F(RecoverE2e, RecoverAsksBeforeItRetrieves) {
  ASSERT_EQ(Backups(2, {2}).size(), 2u);
  ASSERT_NO_FATAL_FAILURE(LoseTheMachine());
  Tick();
  Result plan = tool_.Run({"recover"});
  EXPECT_EQ(plan.code, 12) << "only the plan was printed: not started\n" << plan.Show();
  EXPECT_NE(plan.out.find("plan: 1 retrieval(s)"), std::string::npos) << plan.Show();
  EXPECT_NE(plan.out.find("$"), std::string::npos) << "no cost in the plan\n" << plan.Show();
  EXPECT_NE(plan.out.find("--yes"), std::string::npos) << plan.Show();
  for (const std::string& job : ListDir(vault_ + "/jobs")) {
    if (!job.ends_with(".json")) continue;
    EXPECT_EQ(ReadFile(vault_ + "/jobs/" + job).find("ArchiveId"), std::string::npos)
        << "a retrieval was started without asking: " << job;
  }
  EXPECT_TRUE(SnapshotIds().empty());
  Tick();
  Result go = tool_.Run({"recover", "--yes"});
  EXPECT_EQ(go.code, 0) << go.Show();
  EXPECT_EQ(SnapshotIds().size(), 2u) << go.Show();
}

TEST_F(RecoverE2e, RecoverRefusesAnExistingCatalog) {
  Backups(2, {2});
  Tick();
  Result r = tool_.Run({"recover"});
  EXPECT_EQ(r.code, 2) << r.Show();
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.Show();
}

TEST_F(RecoverE2e, RecoverFromArchivesAndATamperedOneIsReported) {
  std::vector<std::string> ids = Backups(3, {});
  ASSERT_EQ(ids.size(), 3u);
  std::string archives = dir_ / "archives";
  MakeDirs(archives);
  for (const auto& name : tool_.CacheFiles()) {
    if (name.find(".tar.zst.age") != std::string::npos) {
      ASSERT_EQ(Exec({"cp", tool_.cache() + "/" + name, archives + "/" + name}).code, 0);
    }
  }
  ASSERT_NO_FATAL_FAILURE(LoseTheMachine());

  Tick();
  nlohmann::json r = tool_.Json({"recover", "--from-archives", archives});
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["problems"], 0);
  EXPECT_EQ(SnapshotIds(), ids);
  for (const std::string& id : ids) ASSERT_NO_FATAL_FAILURE(ExpectRestores(id));

  // The same with set 2's full backup damaged: reported, exit 4, not recorded.
  ASSERT_NO_FATAL_FAILURE(LoseTheMachine());
  std::string damaged = archives + "/" + ids[2] + ".tar.zst.age";
  std::string bytes = ReadFile(damaged);
  bytes[bytes.size() / 2] ^= 0x01;
  WriteFile(damaged, bytes, 0600);
  Tick();
  Result bad = tool_.Run({"recover", "--from-archives", archives});
  EXPECT_EQ(bad.code, 4) << bad.Show();
  EXPECT_NE(bad.err.find(ids[2]), std::string::npos) << bad.Show();
  EXPECT_EQ(SnapshotIds(), std::vector<std::string>(ids.begin(), ids.begin() + 2));
}

TEST_F(RecoverE2e, VerifyVaultFindsMissingAndDamagedArchives) {
  Backups(2, {2});
  Tick();
  nlohmann::json clean = tool_.Json({"verify", "--vault"});
  ASSERT_TRUE(clean.is_object());
  EXPECT_EQ(clean["archives"], 1);
  EXPECT_EQ(clean["listed"], 1);
  Tick();
  nlohmann::json sampled = tool_.Json({"verify", "--vault", "--sample", "1"});
  ASSERT_TRUE(sampled.is_object());
  EXPECT_EQ(sampled["sampled"].size(), 1u);
  EXPECT_EQ(sampled["complete"], true);

  std::string archive = VaultArchive();
  ASSERT_FALSE(archive.empty());
  WriteAt(archive, 1000, "tampered");
  Tick();
  Result damaged = tool_.Run({"verify", "--vault", "--sample", "1"});
  EXPECT_EQ(damaged.code, 4) << damaged.Show();

  ::unlink(archive.c_str());
  ::unlink((archive + ".meta").c_str());
  Tick();
  Result missing = tool_.Run({"verify", "--vault"});
  EXPECT_EQ(missing.code, 6) << missing.Show();
  EXPECT_NE(missing.err.find(archive.substr(archive.rfind('/') + 1)), std::string::npos)
      << missing.Show();
}

}  // namespace
}  // namespace gbe2e
