// SetStandings: the state `status` shows and the metrics count for each set.
#include "engine/set_state.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>

#include "catalog/vault_state.h"
#include "engine/config.h"
#include "engine/engine_test_util.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

class SetStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "gb-set-state-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    Config cfg;
    cfg.cache_dir = root_ + "/cache";
    cfg.state_dir = root_ + "/state";
    ws_ = std::make_unique<Workspace>(cfg);
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(root_);
  }

  // A set with one backup whose archive is in the cache unless `lost`.
  int64_t AddSet(bool completed, bool lost = false) {
    Catalog::Writer w(ws_->catalog());
    int64_t id = w.CreateSet(1000 + next_);
    BackupRecord b;
    b.set_id = id;
    b.time = 1000 + next_;
    b.name = "backup-" + std::to_string(next_++) + ".tar.zst.age";
    w.AddBackup(b);
    if (completed) w.CompleteSet(id, b.time + 1);
    w.Commit();
    if (!lost) test::WriteText(ws_->ArchivePath(b.name), "archive");
    return id;
  }

  std::map<int64_t, SetStanding> Standings() {
    std::map<int64_t, SetStanding> out;
    for (SetStanding& s : SetStandings(*ws_)) out[s.set.id] = s;
    return out;
  }

  std::string root_;
  std::unique_ptr<Workspace> ws_;
  int next_ = 0;
};

TEST_F(SetStateTest, EachSetGetsTheStateThatHoldsFirst) {
  const int64_t open = AddSet(false);
  const int64_t complete = AddSet(true);
  const int64_t uploading = AddSet(true);
  const int64_t in_vault = AddSet(true);
  const int64_t broken = AddSet(true, /*lost=*/true);
  const int64_t broken_uploading = AddSet(true, /*lost=*/true);
  VaultState vs(ws_->catalog());
  for (int64_t id : {uploading, broken_uploading}) {
    UploadRecord u;
    u.set_id = id;
    u.token = "t" + std::to_string(id);
    vs.AddUpload(u);
  }
  VaultArchive a;
  a.archive_id = "archive-of-set-" + std::to_string(in_vault);
  a.set_id = in_vault;
  vs.PutArchive(a);

  std::map<int64_t, SetStanding> s = Standings();
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s[open].state, SetState::kOpen);
  EXPECT_EQ(s[complete].state, SetState::kComplete);
  EXPECT_EQ(s[uploading].state, SetState::kUploading);
  EXPECT_EQ(s[in_vault].state, SetState::kInVault);
  EXPECT_EQ(s[broken].state, SetState::kBroken);
  EXPECT_EQ(s[broken].lost_archives.size(), 1u);
  EXPECT_EQ(s[broken_uploading].state, SetState::kBroken);  // it can never go up whole
  EXPECT_TRUE(s[complete].lost_archives.empty());
  EXPECT_STREQ(SetStateName(s[in_vault].state), "in_vault");
}

TEST_F(SetStateTest, PrunedSetsAreLeftOut) {
  const int64_t kept = AddSet(true);
  const int64_t pruned = AddSet(true);
  VaultState(ws_->catalog()).MarkSetPruned(pruned, 5000);
  std::map<int64_t, SetStanding> s = Standings();
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.count(kept), 1u);
}

}  // namespace
}  // namespace gb
