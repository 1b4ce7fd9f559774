// The command line itself: init, --json output, --help, exit codes, and bad
// configuration reported as one line naming the file, line and key, with
// nothing changed and the earlier backups still restoring.
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "e2e_util.h"
#include "engine/config.h"

namespace gbe2e {
namespace {

// ------------------------------------------------------------------ init

class InitTest : public E2eTest {};

TEST_F(InitTest, SecondRunChangesNothing) {
  MakeSmallTree();
  Result r = tool_.Run({"init", "--include", src_});
  ASSERT_EQ(r.code, 0) << r.Show();
  std::string config = ReadFile(tool_.config()), identity = ReadFile(tool_.identity());
  ASSERT_FALSE(config.empty());
  ASSERT_NE(identity.find("AGE-SECRET-KEY-1"), std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat(tool_.identity().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u) << "the identity must be private";

  r = tool_.Run({"init", "--include", src_});
  EXPECT_EQ(r.code, 0) << r.Show();
  r = tool_.Run({"init", "--include", S("docs")});  // different options change nothing either
  EXPECT_EQ(r.code, 0) << r.Show();
  EXPECT_NE(r.out.find("unchanged"), std::string::npos) << r.Show();
  EXPECT_EQ(ReadFile(tool_.config()), config);
  EXPECT_EQ(ReadFile(tool_.identity()), identity);
  ASSERT_EQ(::stat(tool_.identity().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  gb::Config c = gb::LoadConfig(tool_.config());
  EXPECT_EQ(c.includes, std::vector<std::string>{src_});
  EXPECT_EQ(c.identity_file, tool_.identity());
  ASSERT_EQ(c.recipients.size(), 1u);
  Result pub = Exec({"age-keygen", "-y", tool_.identity()});
  ASSERT_EQ(pub.code, 0) << pub.Show();
  EXPECT_EQ(c.recipients[0] + "\n", pub.out) << "the config encrypts to another key";
  // The generated config works as is.
  nlohmann::json b = tool_.Json({"backup"});
  EXPECT_EQ(b["kind"], "full");
  r = tool_.Run({"restore", "--to", dir_ / "target"});
  EXPECT_EQ(r.code, 0) << r.Show();
  EXPECT_EQ(ReadFile(Restored(dir_ / "target", S("docs/a.txt"))), "backed up a\n");
}

TEST_F(InitTest, KeepsAnExistingIdentity) {
  Result r = tool_.Run({"init", "--include", src_});
  ASSERT_EQ(r.code, 0) << r.Show();
  std::string identity = ReadFile(tool_.identity());
  ASSERT_EQ(::unlink(tool_.config().c_str()), 0);
  r = tool_.Run({"init", "--include", src_});
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_EQ(ReadFile(tool_.identity()), identity);
  Result pub = Exec({"age-keygen", "-y", tool_.identity()});
  EXPECT_NE(ReadFile(tool_.config()).find(Lines(pub.out).at(0)), std::string::npos);
}

// ------------------------------------------------------------------ --json, --help

class CliTest : public E2eTest {};

TEST_F(CliTest, JsonOutputParsesForEveryCommand) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  nlohmann::json b = tool_.Json({"backup"});
  ASSERT_TRUE(b.is_object());
  for (const char* key : {"id", "kind", "set", "archive", "files", "bytes", "changed", "deleted",
                          "skipped", "scanned_files"})
    EXPECT_TRUE(b.contains(key)) << key;
  nlohmann::json dry = tool_.Json({"backup", "--dry-run"});
  EXPECT_EQ(dry["dry_run"], true);
  EXPECT_EQ(tool_.Snapshots().size(), 1u) << "a dry run must not add a backup";

  nlohmann::json snaps = tool_.Json({"snapshots"});
  ASSERT_TRUE(snaps.is_array());
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0]["id"], b["id"]);

  nlohmann::json ls = tool_.Json({"ls"});
  ASSERT_TRUE(ls.is_array());
  bool found = false;
  for (const auto& e : ls) found |= e["path"] == S("docs/a.txt") && e["type"] == "file";
  EXPECT_TRUE(found) << ls.dump(1);
  nlohmann::json one = tool_.Json({"ls", S("notes")});
  ASSERT_TRUE(one.is_array());
  EXPECT_EQ(one.size(), 3u) << one.dump(1);  // notes/, notes/link, notes/n.txt

  nlohmann::json r = tool_.Json({"restore", "--to", dir_ / "target"});
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["files"], 4);
  EXPECT_EQ(r["symlinks"], 1);
  EXPECT_EQ(r["failed"], 0);

  nlohmann::json v = tool_.Json({"verify"});
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v["archives"], 1);
  EXPECT_EQ(v["problems"], 0);
  v = tool_.Json({"verify", "--read-data"});
  EXPECT_EQ(v["files"], 4);
  EXPECT_EQ(v["corrupt"], false);

  nlohmann::json init = tool_.Json({"init"});
  EXPECT_TRUE(init.is_object());
}

// -v shows one line per vault call, with what it returned; without -v, none.
TEST_F(CliTest, VerboseShowsEachVaultCall) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}, "max_incrementals = 0"));
  Result r = tool_.Run({"vault", "create"});
  ASSERT_EQ(r.code, 0) << r.Show();
  r = tool_.Run({"backup"});
  ASSERT_EQ(r.code, 0) << r.Show();
  r = tool_.Run({"sync", "--dry-run"});
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_EQ(r.err.find("vault Describe"), std::string::npos) << r.Show();
  r = tool_.Run({"-v", "sync"});
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_NE(r.err.find("vault Upload \""), std::string::npos) << r.Show();
  EXPECT_NE(r.err.find(" bytes -> "), std::string::npos) << "the result of each call" << r.Show();
}

// File names need not be UTF-8 (Latin-1 names from old systems are common);
// `ls --json` must still list them, as valid JSON.
TEST_F(CliTest, JsonLsListsNamesThatAreNotUtf8) {
  WriteFile(S("caf\xe9.txt"), "latin-1 name\n");
  WriteFile(S("plain.txt"), "plain\n");
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  Result text = tool_.Run({"ls", src_});
  ASSERT_EQ(text.code, 0) << text.Show();
  EXPECT_NE(text.out.find(S("caf\xe9.txt")), std::string::npos) << text.Show();
  nlohmann::json ls = tool_.Json({"ls", src_});
  ASSERT_TRUE(ls.is_array());
  EXPECT_EQ(ls.size(), 3u) << ls.dump(1);  // src/, both files
  EXPECT_NE(ls.dump().find("plain.txt"), std::string::npos);
}

TEST_F(CliTest, HelpListsExitCodes) {
  // Once, in the main --help (cli_habits_test.cc: not under every subcommand).
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"}}) {
    args.insert(args.begin(), Binary());
    Result r = Exec(args);
    EXPECT_EQ(r.code, 0) << args[1] << "\n" << r.Show();
    for (const char* line : {"Exit codes", "2  bad command line", "3  partial", "4  integrity",
                             "5  no key", "6  not found", "7  locked"})
      EXPECT_NE(r.out.find(line), std::string::npos) << args[1] << " lacks " << line;
  }
}

TEST_F(CliTest, ExitCodes) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  EXPECT_EQ(Exec({Binary(), "no-such-command"}).code, 2);
  EXPECT_EQ(tool_.Run({"backup", "--no-such-flag"}).code, 2);
  Result r = tool_.Run({"restore", "--at", "2001-01-01", "--to", dir_ / "t"});
  EXPECT_EQ(r.code, 6) << r.Show();
  r = tool_.Run({"ls", S("nothing/here")});
  EXPECT_EQ(r.code, 6) << r.Show();
  r = tool_.Run({"ls", "--at", "yesterday-ish"});
  EXPECT_EQ(r.code, 2) << r.Show();
  // A config file that is not there is a configuration problem, like a bad one.
  r = Exec({Binary(), "--config", dir_ / "missing.toml", "snapshots"}, tool_.Options());
  EXPECT_EQ(r.code, 2) << r.Show();
  EXPECT_NE(r.err.find(dir_ / "missing.toml"), std::string::npos) << r.Show();
}

// A well-formed id of a backup that does not exist (mistyped, or from another
// machine) is "not found", like any other missing backup point.
TEST_F(CliTest, UnknownBackupIdIsNotFound) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  nlohmann::json b = Backup();
  std::string id = b["id"];
  std::string other = id.substr(0, id.find("-s")) + "-s0099-i03";
  Result r = tool_.Run({"restore", "--at", other, "--to", dir_ / "t"});
  EXPECT_EQ(r.code, 6) << r.Show();
  EXPECT_NE(r.err.find(other), std::string::npos) << r.Show();
  r = tool_.Run({"ls", "--at", other});
  EXPECT_EQ(r.code, 6) << r.Show();
  EXPECT_FALSE(Exists(dir_ / "t"));
}

// ------------------------------------------------------------------ bad input

// One good backup first; each test breaks one thing, checks the message and
// exit status, and that nothing was lost or added.
class BadInputTest : public E2eTest {
 protected:
  void SetUp() override {
    MakeSmallTree();
    ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
    first_ = Backup();
    snap_ = Snapshot("snap");
    good_config_ = ReadFile(tool_.config());
  }
  // A one-line message with every `parts`, exit 2, and the backups untouched.
  void ExpectRejected(const std::vector<std::string>& args, const std::vector<std::string>& parts) {
    Result r = tool_.Run(args);
    EXPECT_EQ(r.code, 2) << r.Show();
    EXPECT_EQ(Lines(r.err).size(), 1u) << "want one line\n" << r.Show();
    for (const auto& p : parts)
      EXPECT_NE(r.err.find(p), std::string::npos) << p << "\n" << r.Show();
  }
  void ExpectNothingLost() {
    WriteFile(tool_.config(), good_config_, 0600);
    nlohmann::json snaps = tool_.Snapshots();
    ASSERT_EQ(snaps.size(), 1u);
    EXPECT_EQ(snaps[0]["id"], first_["id"]);
    ExpectRestoresTo(first_["id"], snap_);
  }
  nlohmann::json first_;
  std::string snap_, good_config_;
};

TEST_F(BadInputTest, MalformedToml) {
  // Line 8 of the file below is broken.
  std::string text = tool_.ConfigText({src_}, "max_incrementals = = 3\n");
  ASSERT_EQ(std::count(text.begin(), text.begin() + text.find("= = 3"), '\n'), 7) << text;
  WriteFile(tool_.config(), text, 0600);
  ExpectRejected({"backup"}, {tool_.config() + ":8"});
  ExpectRejected({"restore", "--to", dir_ / "t"}, {tool_.config() + ":8"});
  EXPECT_FALSE(Exists(dir_ / "t"));
  ExpectNothingLost();
}

TEST_F(BadInputTest, UnknownKeyIsNamedWithItsLine) {
  std::string text = tool_.ConfigText({src_}, "max_incremental = 3\n");
  WriteFile(tool_.config(), text, 0600);
  ExpectRejected({"backup"}, {tool_.config() + ":8", "max_incremental", "max_incrementals"});
  ExpectNothingLost();
}

TEST_F(BadInputTest, MalformedSpecFile) {
  std::string spec = dir_ / "spec.json";
  WriteFile(spec, "{\n  \"includes\": [\"" + src_ + "\",\n  \"excludes\": ]\n}\n");
  std::string text = tool_.ConfigText({src_}, "");
  text.replace(text.find("[backup]"), 0, "spec = \"" + spec + "\"\n\n");
  WriteFile(tool_.config(), text, 0600);
  ExpectRejected({"backup"}, {spec + ":3"});
  ExpectNothingLost();
}

TEST_F(BadInputTest, MissingIncludePath) {
  std::string missing = dir_ / "not-mounted";
  WriteFile(tool_.config(), tool_.ConfigText({src_, missing}, ""), 0600);
  ExpectRejected({"backup"}, {missing});
  ExpectNothingLost();
}

TEST_F(BadInputTest, BadRecipient) {
  std::string text = tool_.ConfigText({src_}, "");
  std::string r = tool_.recipient();
  text.replace(text.find(r), r.size(), r.substr(0, r.size() - 1) + (r.back() == 'q' ? "p" : "q"));
  WriteFile(tool_.config(), text, 0600);
  ExpectRejected({"backup"}, {tool_.config() + ":", "recipients"});
  ExpectNothingLost();
}

}  // namespace
}  // namespace gbe2e
