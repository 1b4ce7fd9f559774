// Command-line habits a script or a person relies on: global options after the
// subcommand, the exit-code table in one place, --json output even when the
// command fails, and a distinct exit status when only a plan was printed.
#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

constexpr int kExitNoSpace = 9, kExitNotStarted = 12;

class CliHabitsTest : public E2eTest {
 protected:
  // glacier-backup ARGS... exactly as given (no --config put first).
  Result Raw(std::vector<std::string> args) {
    args.insert(args.begin(), Binary());
    return Exec(args, tool_.Options());
  }

  // The test's config with a file:// vault and these [vault] lines; the vault is created.
  void UseFileVault(const std::string& vault_lines) {
    std::string text =
        tool_.ConfigText({src_}, "max_incrementals = 0",
                         "\n[vault]\nurl = \"file://" + (dir_ / "vault") + "\"\n" + vault_lines);
    WriteFile(tool_.config(), text, 0600);
    Result r = tool_.Run({"vault", "create"});
    ASSERT_EQ(r.code, 0) << r.Show();
  }
};

TEST_F(CliHabitsTest, GlobalOptionsWorkAfterTheSubcommand) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Result quiet = Raw({"backup", "-q", "--config", tool_.config()});
  ASSERT_EQ(quiet.code, 0) << quiet.Show();
  EXPECT_EQ(quiet.out, "") << "-q after the subcommand was ignored\n" << quiet.Show();

  Result json = Raw({"snapshots", "--json", "--config", tool_.config()});
  ASSERT_EQ(json.code, 0) << json.Show();
  nlohmann::json list = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << json.Show();
  ASSERT_EQ(list.size(), 1u);

  std::string target = dir_ / "target";
  Result restore = Raw({"restore", "--to", target, "--config", tool_.config()});
  ASSERT_EQ(restore.code, 0) << restore.Show();
  EXPECT_EQ(ReadFile(Restored(target, S("docs/a.txt"))), "backed up a\n");

  // Before the subcommand, as always; a global option mistyped after it is still an error.
  EXPECT_EQ(Raw({"--config", tool_.config(), "--json", "snapshots"}).code, 0);
  Result bad = Raw({"snapshots", "--jsn", "--config", tool_.config()});
  EXPECT_EQ(bad.code, 2) << bad.Show();
  EXPECT_NE(bad.err.find("--jsn"), std::string::npos) << bad.Show();
}

TEST_F(CliHabitsTest, ExitCodeTableOnlyInTheMainHelp) {
  Result main_help = Raw({"--help"});
  ASSERT_EQ(main_help.code, 0) << main_help.Show();
  for (const char* line :
       {"Exit codes", "2  bad command line", "9  no space", "10 pending", "12 not started"})
    EXPECT_NE(main_help.out.find(line), std::string::npos) << line << "\n" << main_help.out;
  for (const char* cmd : {"init", "backup", "restore", "sync", "recover", "completion"}) {
    Result r = Raw({cmd, "--help"});
    EXPECT_EQ(r.code, 0) << cmd << "\n" << r.Show();
    EXPECT_NE(r.out.find(cmd), std::string::npos) << r.Show();
    EXPECT_EQ(r.out.find("Exit codes"), std::string::npos) << cmd << " --help repeats the table";
  }
}

// A run whose sync cannot honour the size cap exits 9 and still prints, with --json,
// the backup it made and what sync did, beside the error.
TEST_F(CliHabitsTest, JsonPrintsTheResultWhenTheCommandFails) {
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  ASSERT_NO_FATAL_FAILURE(UseFileVault("size_limit = \"100 KiB\"\nmin_storage_days = 0\n"));
  WriteFile(S("big.bin"), Random(300 << 10, 3));
  Result r = Raw({"run", "--json", "--config", tool_.config()});
  ASSERT_EQ(r.code, kExitNoSpace) << r.Show();
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << "stdout is not one JSON object\n" << r.Show();
  EXPECT_EQ(j["exit_code"], kExitNoSpace) << j.dump(2);
  EXPECT_EQ(j["error"]["code"], "no space") << j.dump(2);
  EXPECT_NE(j["error"]["message"].get<std::string>().find("size_limit"), std::string::npos);
  EXPECT_EQ(j["backup"]["kind"], "full") << j.dump(2);
  EXPECT_TRUE(j["uploaded"].is_array() && j["uploaded"].empty()) << j.dump(2);
  EXPECT_EQ(j["size_limit"], 100 << 10) << j.dump(2);

  Result sync = Raw({"sync", "--json", "--config", tool_.config()});
  ASSERT_EQ(sync.code, kExitNoSpace) << sync.Show();
  nlohmann::json s = nlohmann::json::parse(sync.out, nullptr, false);
  ASSERT_TRUE(s.is_object()) << sync.Show();
  EXPECT_EQ(s["exit_code"], kExitNoSpace);
  EXPECT_TRUE(s.contains("vault_bytes")) << s.dump(2);
  EXPECT_TRUE(s.contains("dropped_sets")) << s.dump(2);
}

// Without --yes and without a terminal to ask on, restore prints its plan and
// exits 12: a script must not read "restored" from its exit status.
TEST_F(CliHabitsTest, RestoreThatOnlyPrintedItsPlanExitsNotStarted) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  ASSERT_NO_FATAL_FAILURE(UseFileVault("keep_local_sets = 0\n"));
  Result run = tool_.Run({"run"});
  ASSERT_EQ(run.code, 0) << run.Show();
  Result full = tool_.Run({"run", "--full"});  // closes set 1, which goes up and leaves the cache
  ASSERT_EQ(full.code, 0) << full.Show();
  nlohmann::json snaps = tool_.Snapshots();
  ASSERT_TRUE(snaps.is_array() && snaps.size() == 2u) << snaps.dump(2);
  std::string first = snaps[0]["id"];

  std::string target = dir_ / "target";
  Result plan = tool_.Run({"restore", "--at", first, "--to", target});
  EXPECT_EQ(plan.code, kExitNotStarted) << plan.Show();
  EXPECT_NE(plan.out.find("restore plan"), std::string::npos) << plan.Show();
  EXPECT_NE(plan.out.find("--yes"), std::string::npos) << plan.Show();
  EXPECT_FALSE(Exists(target)) << "nothing may be restored without --yes";

  nlohmann::json j = tool_.Json({"restore", "--at", first, "--to", target}, kExitNotStarted);
  EXPECT_EQ(j["complete"], false) << j.dump(2);

  Result go = tool_.Run({"restore", "--at", first, "--to", target, "--yes"});
  EXPECT_EQ(go.code, 0) << go.Show();
  EXPECT_EQ(ReadFile(Restored(target, S("docs/a.txt"))), "backed up a\n");
}

}  // namespace
}  // namespace gbe2e
