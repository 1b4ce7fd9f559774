// What a new user meets first, following the README on a fresh home directory
// with the built-in local vault: init makes everything the first `run` needs,
// a lost cache does not block every later upload, and the small commands say
// what is true (dates, progress, exit codes).
#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

constexpr int kExitUsage = 2, kExitNotFound = 6;

class FirstRunTest : public E2eTest {
 protected:
  // The built-in vault: $XDG_DATA_HOME/glacier-backup/vault (XDG_DATA_HOME is dir/home).
  std::string BuiltInVault() const { return tool_.dir() + "/home/glacier-backup/vault"; }

  // Runs the tool at a simulated time.
  Result RunAt(const std::string& when, const std::vector<std::string>& args) {
    tool_.SetEnv("GLACIER_BACKUP_FAKE_NOW", when);
    return tool_.Run(args);
  }

  // --json ARGS at a simulated time, expecting exit `want`.
  nlohmann::json JsonAt(const std::string& when, const std::vector<std::string>& args,
                        int want = 0) {
    tool_.SetEnv("GLACIER_BACKUP_FAKE_NOW", when);
    return tool_.Json(args, want);
  }

  // The cached archive of backup `id`.
  std::string Cached(const std::string& id) const {
    return tool_.cache() + "/" + id + ".tar.zst.age";
  }

  // The state of set `id` in `status --json`; "" when status does not list it.
  std::string SetState(int64_t id) {
    nlohmann::json s = tool_.Json({"status"});
    if (!s.is_object()) return "";
    for (const char* list : {"sets", "dropped_sets"})
      for (const auto& set : s[list])
        if (set["id"] == id) return set["state"];
    return "";
  }
};

// Bug 1: with set 1 still open, its full vanished from the cache. The next backup
// starts set 2 with a full instead of adding to set 1; sync uploads set 2 and names
// set 1 (exit 6); status says set 1 is broken; `sync --drop-set 1` discards it and
// sync is clean again.
TEST_F(FirstRunTest, LostCachedArchiveHoldsBackOnlyItsOwnSet) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}, "max_incrementals = 1"));
  nlohmann::json first = JsonAt("2026-12-01T10:00:00Z", {"backup"});
  ASSERT_EQ(first["set"], 1);
  ASSERT_EQ(::unlink(Cached(first["id"]).c_str()), 0);
  EXPECT_EQ(SetState(1), "broken");

  WriteFile(S("docs/new.txt"), "after the loss\n");
  Result second = RunAt("2026-12-01T11:00:00Z", {"--json", "backup"});
  ASSERT_EQ(second.code, 0) << second.Show();
  nlohmann::json b = nlohmann::json::parse(second.out);
  EXPECT_EQ(b["kind"], "full") << "an incremental on top of a lost full restores nothing";
  EXPECT_EQ(b["set"], 2);
  EXPECT_NE(second.err.find("set 1"), std::string::npos) << second.Show();
  EXPECT_NE(second.err.find("--drop-set 1"), std::string::npos) << second.Show();

  JsonAt("2026-12-01T12:00:00Z", {"backup"});  // completes set 2
  Result sync = RunAt("2026-12-01T12:10:00Z", {"--json", "sync"});
  EXPECT_EQ(sync.code, kExitNotFound) << sync.Show();
  nlohmann::json s = nlohmann::json::parse(sync.out, nullptr, false);
  ASSERT_TRUE(s.is_object()) << sync.Show();
  EXPECT_EQ(s["uploaded"], nlohmann::json::array({"set 2"})) << sync.Show();
  EXPECT_EQ(s["unuploadable_sets"], nlohmann::json::array({1})) << sync.Show();
  EXPECT_NE(sync.err.find("--drop-set 1"), std::string::npos) << sync.Show();
  EXPECT_EQ(SetState(1), "broken");
  EXPECT_EQ(SetState(2), "in vault");

  // Only a set that cannot be uploaded may be dropped.
  Result refused = RunAt("2026-12-01T12:20:00Z", {"sync", "--drop-set", "2"});
  EXPECT_EQ(refused.code, kExitUsage) << refused.Show();
  EXPECT_EQ(SetState(2), "in vault");

  Result dropped = RunAt("2026-12-01T12:30:00Z", {"sync", "--drop-set", "1"});
  EXPECT_EQ(dropped.code, 0) << dropped.Show();
  EXPECT_NE(dropped.out.find("dropped set 1"), std::string::npos) << dropped.Show();
  EXPECT_EQ(SetState(1), "dropped") << "a dropped set must not vanish from status";
  Result status = tool_.Run({"status"});
  EXPECT_NE(status.out.find("set 1: never uploaded, dropped: archives lost from the cache"),
            std::string::npos)
      << status.Show();
  nlohmann::json snaps = tool_.Snapshots();
  for (const auto& p : snaps) EXPECT_EQ(p["set"], 2) << snaps.dump(2);
  Result clean = RunAt("2026-12-01T12:40:00Z", {"sync"});
  EXPECT_EQ(clean.code, 0) << clean.Show();
}

// Bug 2: the README's first steps (init, backup, run) work on a fresh home: init
// creates the built-in vault.
TEST_F(FirstRunTest, InitCreatesTheBuiltInVault) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}, "max_incrementals = 0"));
  EXPECT_TRUE(Exists(BuiltInVault())) << "init did not create " << BuiltInVault();
  Result r = tool_.Run({"run"});
  EXPECT_EQ(r.code, 0) << r.Show();
  EXPECT_NE(r.out.find("uploaded set 1"), std::string::npos) << r.Show();
}

// Bug 2: init with no source yet (the config still needs editing) creates the
// vault too, so the first run after the edit finds it.
TEST_F(FirstRunTest, InitWithoutSourcesCreatesTheBuiltInVault) {
  Result r = tool_.Run({"init"});
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_TRUE(Exists(BuiltInVault())) << r.Show();
}

// Bug 2: a dry run must not say all is well when the vault is not there.
TEST_F(FirstRunTest, DryRunSyncNamesAMissingVault) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}, "max_incrementals = 0"));
  Exec({"rm", "-rf", BuiltInVault()});
  tool_.Json({"backup"});
  Result r = tool_.Run({"sync", "--dry-run"});
  EXPECT_EQ(r.code, kExitNotFound) << r.Show();
  EXPECT_NE(r.err.find(BuiltInVault()), std::string::npos) << r.Show();
  EXPECT_NE(r.err.find("vault create"), std::string::npos) << r.Show();
  EXPECT_FALSE(Exists(BuiltInVault())) << "a dry run created the vault";
}

// Bug 3: a bare date means the whole of that day.
TEST_F(FirstRunTest, BareDateMeansTheEndOfThatDay) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  nlohmann::json morning = JsonAt("2026-12-06T08:00:00Z", {"backup"});
  WriteFile(S("docs/late.txt"), "written in the evening\n");
  nlohmann::json evening = JsonAt("2026-12-07T21:30:00Z", {"backup"});
  nlohmann::json next = JsonAt("2026-12-08T01:00:00Z", {"backup", "--full"});

  nlohmann::json ls = tool_.Json({"ls", "--at", "2026-12-07"});
  ASSERT_TRUE(ls.is_object() || ls.is_array()) << ls;
  EXPECT_NE(ls.dump().find("late.txt"), std::string::npos) << ls.dump(2);
  Result restore = tool_.Run({"restore", "--at", "2026-12-07", "--to", dir_ / "t"});
  EXPECT_EQ(restore.code, 0) << restore.Show();
  EXPECT_TRUE(Exists(Restored(dir_ / "t", S("docs/late.txt")))) << restore.Show();
  // Before the first backup's day: nothing, said in the user's own terms.
  Result none = tool_.Run({"ls", "--at", "2026-12-05"});
  EXPECT_EQ(none.code, kExitNotFound) << none.Show();
  EXPECT_NE(none.err.find("2026-12-05"), std::string::npos) << none.Show();
  // --help says so.
  for (const char* cmd : {"ls", "restore"}) {
    Result help = tool_.Run({cmd, "--help"});
    EXPECT_EQ(help.code, 0) << help.Show();
    EXPECT_NE(help.out.find("end of that day"), std::string::npos) << cmd << "\n" << help.Show();
  }
  (void)morning, (void)evening, (void)next;
}

// Bug 4: on a terminal, verify --read-data counts files out of the files there are.
TEST_F(FirstRunTest, VerifyProgressCountsFilesNotArchives) {
  for (int i = 0; i < 30; ++i) WriteFile(S("f" + std::to_string(i)), Random(2000, i));
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  tool_.Json({"backup"});
  WriteFile(S("f0"), "changed\n");
  tool_.Json({"backup"});  // 2 archives, 31 files in them
  std::string cmd = Quote(Binary()) + " --config " + Quote(tool_.config()) + " verify --read-data";
  Result r = Exec({"script", "-qefc", cmd, "/dev/null"}, tool_.Options());
  ASSERT_EQ(r.code, 0) << r.Show();
  std::string shown = r.out + r.err;
  EXPECT_NE(shown.find("verifying: "), std::string::npos) << "no progress line:\n" << r.Show();
  for (size_t at = shown.find("verifying: "); at != std::string::npos;
       at = shown.find("verifying: ", at + 1)) {
    unsigned done = 0, total = 0;
    ASSERT_EQ(std::sscanf(shown.c_str() + at, "verifying: %u/%u files", &done, &total), 2)
        << shown.substr(at, 60);
    EXPECT_EQ(total, 31u) << shown.substr(at, 60);
    EXPECT_LE(done, total) << shown.substr(at, 60);
  }
}

// Bug 6: a --config that does not exist is a configuration problem: exit 2.
TEST_F(FirstRunTest, MissingConfigFileIsAConfigurationError) {
  for (const char* cmd : {"backup", "status", "snapshots"}) {
    Result r = Exec({Binary(), "--config", dir_ / "no/such/config.toml", cmd}, tool_.Options());
    EXPECT_EQ(r.code, kExitUsage) << cmd << "\n" << r.Show();
    EXPECT_NE(r.err.find(dir_ / "no/such/config.toml"), std::string::npos) << r.Show();
  }
}

}  // namespace
}  // namespace gbe2e
