// [[source.command]]: a program's output backed up as a file. A real
// PostgreSQL server (started here, as an unprivileged user when the tests run
// as root) is dumped, restored and loaded into a fresh database; failing and
// hanging commands are reported without stopping the rest of the backup.
#include <glob.h>

#include <chrono>
#include <thread>

#include "e2e_util.h"

namespace gbe2e {
namespace {

// The directory of PostgreSQL's server programs (Debian keeps them out of PATH).
std::string PostgresBinDir() {
  glob_t g{};
  std::string found;
  if (::glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &g) == 0 && g.gl_pathc > 0)
    found = Parent(g.gl_pathv[g.gl_pathc - 1]);  // the newest version
  ::globfree(&g);
  return found;
}

class CommandSourceTest : public E2eTest {
 protected:
  void SetUp() override {
    WriteFile(S("notes.txt"), "plain files are backed up beside the commands\n");
    ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  }
  // The test config plus `sections` (TOML appended after [encryption]).
  void Configure(const std::string& sections) {
    WriteFile(tool_.config(), tool_.ConfigText({src_}, "", "\n" + sections), 0600);
  }
  std::string RestoreLatest() {
    std::string target = dir_ / ("restored-" + std::to_string(++restores_));
    Result r = tool_.Run({"restore", "--to", target});
    EXPECT_EQ(r.code, 0) << r.Show();
    return target;
  }
  int restores_ = 0;
};

TEST_F(CommandSourceTest, FailingCommandIsReportedAndKeepsTheLastGoodOutput) {
  std::string dump = dir_ / "dumps/app.sql";  // never exists on disk
  std::string flag = dir_ / "fail";
  Configure("[[source.command]]\npath = \"" + dump + "\"\nrun = [\"sh\", \"-c\", \"if [ -e " +
            flag +
            " ]; then echo partial; echo 'pg_dump: error: connection refused' >&2; exit 1; fi; "
            "echo good output\"]\n");
  nlohmann::json first = Backup();
  EXPECT_FALSE(Exists(dump));
  std::string restored = RestoreLatest();
  EXPECT_EQ(ReadFile(Restored(restored, dump)), "good output\n");
  EXPECT_EQ(ReadFile(Restored(restored, S("notes.txt"))),
            "plain files are backed up beside the commands\n");
  struct stat st;
  ASSERT_EQ(::stat(Restored(restored, dump).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Failing: reported with its stderr, exit 3, the rest backed up, nothing recorded for it.
  WriteFile(flag, "");
  WriteFile(S("later.txt"), "a file added since\n");
  Result r = tool_.Run({"backup"});
  EXPECT_EQ(r.code, 3) << r.Show();
  EXPECT_NE(r.err.find("warning: " + dump + ": command `sh -c "), std::string::npos) << r.Show();
  EXPECT_NE(r.err.find("exited with status 1: pg_dump: error: connection refused; not backed "
                       "up, retried next run"),
            std::string::npos)
      << r.Show();
  restored = RestoreLatest();
  EXPECT_EQ(ReadFile(Restored(restored, dump)), "good output\n")
      << "the last good output stays the latest; the partial one is not stored";
  EXPECT_EQ(ReadFile(Restored(restored, S("later.txt"))), "a file added since\n");

  // The same output as last time is not stored again.
  ::unlink(flag.c_str());
  nlohmann::json same = Backup();
  EXPECT_EQ(same["files"], 0) << same.dump();
}

TEST_F(CommandSourceTest, HangingCommandTimesOut) {
  std::string dump = dir_ / "hang.sql";
  Configure("[[source.command]]\npath = \"" + dump +
            "\"\nrun = [\"sh\", \"-c\", \"echo started; sleep 60\"]\ntimeout = 1\n");
  auto start = std::chrono::steady_clock::now();
  Result r = tool_.Run({"backup"});
  EXPECT_EQ(r.code, 3) << r.Show();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_NE(r.err.find("command `sh -c 'echo started; sleep 60'` timed out after 1 s"),
            std::string::npos)
      << r.Show();
  std::string restored = RestoreLatest();
  EXPECT_FALSE(Exists(Restored(restored, dump)));
  EXPECT_TRUE(Exists(Restored(restored, S("notes.txt"))));
}

// A backup killed while the command runs leaves none of its output on disk.
TEST_F(CommandSourceTest, KilledBackupLeavesNoOutputBehind) {
  std::string marker = "plaintext-secret-" + std::to_string(::getpid());
  Configure("[[source.command]]\npath = \"/dump.sql\"\nrun = [\"sh\", \"-c\", \"echo " + marker +
            "; touch " + (dir_ / "running") + "; sleep 5\"]\ntimeout = 10\n");
  Child backup = tool_.Start({"backup"});
  for (int i = 0; i < 200 && !Exists(dir_ / "running"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_TRUE(Exists(dir_ / "running")) << backup.Wait().Show();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the output is read meanwhile
  backup.Kill(SIGKILL);
  backup.Wait();
  Result grep = Exec({"grep", "-rl", marker, tool_.cache(), tool_.state()});
  EXPECT_EQ(grep.code, 1) << "output found on disk:\n" << grep.Show();
}

// A dump that changes a little from night to night is stored as an rsync
// delta against the previous night's output, and every night restores
// byte-exact.
TEST_F(CommandSourceTest, NightlyDumpsAreStoredAsDeltas) {
  const uint64_t kSize = 6 << 20;
  const std::string db = dir_ / "database.bin";  // outside the backed-up tree
  WriteRandomFile(db, kSize, 31);
  Configure("[[source.command]]\npath = \"/dump.sql\"\nrun = [\"cat\", \"" + db + "\"]\n");
  std::vector<std::pair<std::string, std::string>> nights;  // (backup id, its dump's digest)
  for (int night = 0; night < 3; ++night) {
    if (night > 0)
      for (uint64_t page = 0; page < 4; ++page)
        WriteAt(db, page * (kSize / 4) + 4096 * static_cast<uint64_t>(night),
                Random(4096, 100 + page + 10 * static_cast<uint64_t>(night)));
    tool_.SetEnv("GLACIER_BACKUP_FAKE_NOW", "@" + std::to_string(1800000000 + night * 86400));
    nlohmann::json b = Backup();
    ASSERT_TRUE(b.is_object());
    nights.push_back({b["id"].get<std::string>(), ContentDigest(db)});
    if (night > 0) {
      uint64_t size = 0;
      for (const auto& s : tool_.Snapshots())
        if (s["id"] == nights.back().first) size = s["archive_size"].get<uint64_t>();
      EXPECT_LT(size, kSize / 10) << "night " << night << ": the dump was stored whole";
    }
  }
  for (const auto& [id, digest] : nights) {
    std::string target = dir_ / ("night-" + id);
    Result r = tool_.Run({"restore", "--at", id, "--to", target, "/dump.sql"});
    ASSERT_EQ(r.code, 0) << r.Show();
    EXPECT_EQ(ContentDigest(Restored(target, "/dump.sql")), digest) << id;
  }
}

// Runs a PostgreSQL 15 server in a temporary directory on a unix socket only.
class Postgres {
 public:
  Postgres(const std::string& bin, const std::string& dir) : bin_(bin), dir_(dir) {
    if (::geteuid() == 0) {
      user_ = "nobody";
      prefix_ = {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"};
    }
    MakeDirs(dir_ + "/data", 0700);
    MakeDirs(socket(), 0755);
    if (!user_.empty()) Exec({"chown", "-R", "nobody:nogroup", dir_});
  }
  ~Postgres() {
    if (started_) As({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "stop"});
  }
  std::string socket() const { return dir_ + "/sock"; }
  const std::string& user() const { return user_; }
  // initdb and start; the failure, if any.
  std::string Start() {
    Result r = As({bin_ + "/initdb", "-D", dir_ + "/data", "-A", "trust", "-U", "postgres",
                   "--no-sync", "--no-instructions"});
    if (r.code != 0) return "initdb: " + r.Show();
    r = As({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-w", "-l", dir_ + "/server.log", "-o",
            "-k " + socket() + " -c listen_addresses='' -c fsync=off", "start"});
    if (r.code != 0) return "pg_ctl start: " + r.Show() + ReadFile(dir_ + "/server.log");
    started_ = true;
    return "";
  }
  // psql on database `db` with `args`; its result.
  Result Psql(const std::string& db, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {bin_ + "/psql",    "-X", "-q",     "-v",
                                     "ON_ERROR_STOP=1", "-h", socket(), "-U",
                                     "postgres",        "-d", db};
    argv.insert(argv.end(), args.begin(), args.end());
    return As(argv);
  }
  Result As(const std::vector<std::string>& argv) const {
    RunOptions o;
    o.prefix = prefix_;
    return Exec(argv, o);
  }

 private:
  std::string bin_, dir_, user_;
  std::vector<std::string> prefix_;
  bool started_ = false;
};

TEST_F(CommandSourceTest, PostgresDumpRestoresIntoAFreshDatabase) {
  std::string bin = PostgresBinDir();
  if (bin.empty())
    GTEST_SKIP() << "PostgreSQL server programs (/usr/lib/postgresql/*/bin) are not installed; "
                    "scripts/install-deps.sh installs the postgresql package";
  Postgres pg(bin, dir_ / "pg");
  std::string failure = pg.Start();
  ASSERT_EQ(failure, "");
  Result r = pg.Psql("postgres", {"-c", "CREATE DATABASE app"});
  ASSERT_EQ(r.code, 0) << r.Show();
  r = pg.Psql("app", {"-c",
                      "CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, "
                      "total numeric(10,2), note text);"
                      "INSERT INTO orders (customer, total, note) SELECT 'customer ' || i, "
                      "i * 1.25, CASE WHEN i % 7 = 0 THEN E'tab\\there, quote '' and é' END "
                      "FROM generate_series(1, 2000) AS i;"});
  ASSERT_EQ(r.code, 0) << r.Show();
  const std::string query =
      "SELECT count(*), sum(total), md5(string_agg(id || customer || coalesce(note, '-'), ',' "
      "ORDER BY id)) FROM orders";
  Result before = pg.Psql("app", {"-At", "-c", query});
  ASSERT_EQ(before.code, 0) << before.Show();

  std::string dump_path = "/var/backups/postgres/app.sql";
  std::string config = "[[source.command]]\npath = \"" + dump_path + "\"\nrun = [\"" + bin +
                       "/pg_dump\", \"-h\", \"" + pg.socket() +
                       "\", \"-U\", \"postgres\", \"--format=plain\", \"app\"]\ntimeout = 60\n";
  if (!pg.user().empty()) config += "user = \"" + pg.user() + "\"\n";
  Configure(config);
  Backup();

  std::string restored = RestoreLatest();
  std::string dump = Restored(restored, dump_path);
  ASSERT_TRUE(Exists(dump));
  ::chmod(dump.c_str(), 0644);  // for psql running as the unprivileged user
  ::chmod(Parent(dump).c_str(), 0755);
  for (std::string d = Parent(Parent(dump)); d.size() > restored.size(); d = Parent(d))
    ::chmod(d.c_str(), 0755);
  ::chmod(restored.c_str(), 0755);
  r = pg.Psql("postgres", {"-c", "CREATE DATABASE fresh"});
  ASSERT_EQ(r.code, 0) << r.Show();
  r = pg.Psql("fresh", {"-f", dump});
  ASSERT_EQ(r.code, 0) << r.Show();
  Result after = pg.Psql("fresh", {"-At", "-c", query});
  ASSERT_EQ(after.code, 0) << after.Show();
  EXPECT_EQ(after.out, before.out);
  EXPECT_NE(before.out.find("2000|"), std::string::npos) << before.out;
}

}  // namespace
}  // namespace gbe2e
