// End-to-end tests of `sync` / `run` / `status`: the built binary against a file://
// vault, with simulated dates (GLACIER_BACKUP_FAKE_NOW) and kill -9 at every crash
// point of sync (GLACIER_BACKUP_CRASH_AT).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "archive/tar_reader.h"
#include "catalog/catalog.h"
#include "catalog/vault_state.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "crypto/identity_file.h"
#include "crypto/minisign.h"
#include "crypto/x25519.h"
#include "vault/file_vault.h"

namespace gb {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kDay = 86400;
constexpr int64_t kStart = 1767236400;  // 2026-01-01T03:00:00Z
constexpr uint64_t kOverhead = 4096;    // the file vault's per-archive overhead
constexpr int kExitNotFound = 6, kExitNoSpace = 9;

struct GbRun {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out, err;
};

struct Listed {
  std::string id, description, token;
  int64_t created = 0;
  uint64_t size = 0;
  int64_t set = -1;  // -1: not written by glacier-backup
};

class SyncE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    // tmpfs when there is one: every run fsyncs its files.
    fs::path tmp = access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string templ = (tmp / "gb-sync-e2e-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    src_ = root_ + "/src";
    vault_dir_ = root_ + "/vault";
    cache_ = root_ + "/cache";
    state_ = root_ + "/state";
    MakeDirs(src_);
    MakeDirs(root_ + "/home");
    identity_ = root_ + "/identity.txt";
    auto id = age::X25519Identity::Generate();
    age::WriteIdentityFile(identity_, id);
    recipient_ = id.Recipient().ToString();
    auto key = minisign::SecretKey::Generate();
    minisign::WriteSecretKeyFile(root_ + "/signing.key", key);
    signer_ = key.Public().ToString();
  }
  void TearDown() override { fs::remove_all(root_); }

  void WriteConfig(const std::string& vault_lines, int max_incrementals,
                   const std::string& vault_url = "") {
    std::string toml =
        "[source]\nincludes = [\"" + src_ +
        "\"]\n[backup]\nmax_incrementals = " + std::to_string(max_incrementals) +
        "\ncompression_level = 1\nthreads = 1\ncache_dir = \"" + cache_ + "\"\nstate_dir = \"" +
        state_ + "\"\n[encryption]\nrecipients = [\"" + recipient_ + "\"]\ntrusted_signers = [\"" +
        signer_ + "\"]\nidentity_file = \"" + identity_ + "\"\n[vault]\nurl = \"" +
        (vault_url.empty() ? "file://" + vault_dir_ : vault_url) + "\"\n" + vault_lines;
    WriteFileAtomic(root_ + "/config.toml", toml);
  }

  // Runs the binary at simulated time `now` (unix seconds), optionally killed at `crash_at`.
  GbRun Gb(const std::vector<std::string>& args, int64_t now, const std::string& crash_at = "") {
    std::vector<std::string> argv = {GB_BINARY, "--config", root_ + "/config.toml"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = {"HOME=" + root_ + "/home", "PATH=/usr/bin:/bin",
                                    "GLACIER_BACKUP_FAKE_NOW=" + std::to_string(now)};
    if (!crash_at.empty()) env.push_back("GLACIER_BACKUP_CRASH_AT=" + crash_at);
    std::string out_path = root_ + "/stdout", err_path = root_ + "/stderr";
    pid_t pid = fork();
    if (pid == 0) {
      int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(o, 1);
      dup2(e, 2);
      int devnull = ::open("/dev/null", O_RDONLY);
      dup2(devnull, 0);
      std::vector<char*> a, en;
      for (auto& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      for (auto& s : env) en.push_back(s.data());
      en.push_back(nullptr);
      execve(a[0], a.data(), en.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    GbRun r;
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    r.out = ReadFileToString(out_path);
    r.err = ReadFileToString(err_path);
    return r;
  }
  static std::string Show(const GbRun& r) {
    return "exit " + std::to_string(r.exit_code) + " signal " + std::to_string(r.signal) +
           "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
  }
  // Runs and expects exit 0.
  GbRun Ok(const std::vector<std::string>& args, int64_t now) {
    GbRun r = Gb(args, now);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << Show(r);
    return r;
  }

  void WriteSource(const std::string& rel, size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i += 8) {
      uint64_t v = rng();
      std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
    }
    MakeDirs(Dirname(src_ + "/" + rel));
    WriteFileAtomic(src_ + "/" + rel, s);
  }

  std::map<std::string, Listed> Listing() {
    std::map<std::string, Listed> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(vault_dir_ + "/archives", ec)) {
      std::string name = e.path().filename().string();
      if (name.size() != 37 || name.substr(32) != ".meta") continue;
      auto meta = nlohmann::json::parse(ReadFileToString(e.path().string()));
      Listed l;
      l.id = name.substr(0, 32);
      l.description = meta.at("description");
      l.created = meta.at("created");
      l.size = meta.at("size");
      auto d = nlohmann::json::parse(l.description, nullptr, false);
      if (d.is_object() && d.value("tool", "") == "glacier-backup") {
        l.set = d.at("set");
        l.token = d.value("token", "");
      }
      out[l.id] = l;
    }
    return out;
  }
  static uint64_t Billed(const std::map<std::string, Listed>& l) {
    uint64_t b = 0;
    for (const auto& [id, a] : l) b += a.size + kOverhead;
    return b;
  }
  static std::map<int64_t, int> PerSet(const std::map<std::string, Listed>& l) {
    std::map<int64_t, int> n;
    for (const auto& [id, a] : l) ++n[a.set];
    return n;
  }
  std::vector<std::string> CachedArchives() {
    std::vector<std::string> v;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache_, ec)) {
      std::string n = e.path().filename().string();
      if (n.ends_with(".tar.zst.age")) v.push_back(n);  // not their .minisig
    }
    std::sort(v.begin(), v.end());
    return v;
  }

  // Every table of the catalog, row by row, as text.
  std::string DumpCatalog() {
    sqlite3* db = nullptr;
    std::string dump;
    if (sqlite3_open_v2((state_ + "/catalog.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK) {
      sqlite3_close(db);
      return "cannot open";
    }
    std::vector<std::string> tables;
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name", -1,
                       &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW)
      tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    for (const auto& t : tables) {
      dump += "[" + t + "]\n";
      sqlite3_prepare_v2(db, ("SELECT * FROM \"" + t + "\"").c_str(), -1, &s, nullptr);
      while (sqlite3_step(s) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(s); ++c) {
          const unsigned char* v = sqlite3_column_text(s, c);
          dump += (v ? reinterpret_cast<const char*>(v) : "NULL") + std::string("|");
        }
        dump += "\n";
      }
      sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return dump;
  }

  struct SetRow {
    int64_t id;
    bool completed, uploaded, pruned;
  };
  std::map<int64_t, SetRow> Sets() {
    Catalog c(state_ + "/catalog.db");
    std::map<int64_t, SetRow> m;
    for (const auto& s : c.Sets())
      m[s.id] = {s.id, s.completed.has_value(), s.uploaded.has_value(), s.pruned.has_value()};
    return m;
  }
  std::map<int64_t, std::vector<BackupRecord>> BackupsBySet() {
    Catalog c(state_ + "/catalog.db");
    std::map<int64_t, std::vector<BackupRecord>> m;
    for (const auto& b : c.Backups()) m[b.set_id].push_back(b);
    return m;
  }

  // Retrieves every bundle in the vault through the Vault interface, checks its
  // archives' SHA-256 against the catalog and puts them back into the cache, then
  // `verify --read-data` decrypts everything. Returns the number of sets retrieved.
  int RetrieveAllAndVerify(int64_t now) {
    test_clock_now_ = now;
    struct AtClock : Clock {
      int64_t* t;
      int64_t NowNanos() override { return *t * 1000000000LL; }
      void SleepNanos(int64_t) override {}
    } clock;
    clock.t = &test_clock_now_;
    FileVault vault(vault_dir_, clock);
    auto backups = BackupsBySet();
    int sets = 0;
    for (const auto& [id, l] : Listing()) {
      if (l.set < 0) continue;
      SCOPED_TRACE("set " + std::to_string(l.set));
      std::string job = vault.StartRetrieval(id, Tier::kBulk, std::nullopt);
      BufferSink out;
      vault.ReadJobOutput(job, std::nullopt, out);
      SpanSource src(out.bytes);
      TarReader tar(src);
      TarMember m;
      std::vector<std::string> names;
      bool first = true;
      while (tar.Next(&m)) {
        std::string data = tar.ReadAll();
        std::string base = m.entry.path.substr(m.entry.path.rfind('/') + 1);
        if (first) {
          EXPECT_EQ(base, "catalog.json.zst.age");
        }
        first = false;
        if (base == "catalog.json.zst.age" || base == "catalog.json.zst.age.minisig") continue;
        if (base.ends_with(".minisig")) {  // the previous archive's signature, kept beside it
          if (!PathExists(cache_ + "/" + base)) WriteFileAtomic(cache_ + "/" + base, data, 0600);
          continue;
        }
        names.push_back(base);
        bool known = false;
        for (const auto& b : backups[l.set]) {
          if (b.name != base) continue;
          known = true;
          EXPECT_EQ(Hex(Sha256::Of(data)), b.archive_sha256) << base;
        }
        EXPECT_TRUE(known) << base << " is not in the catalog";
        if (!PathExists(cache_ + "/" + base)) WriteFileAtomic(cache_ + "/" + base, data, 0600);
      }
      EXPECT_EQ(names.size(), backups[l.set].size());
      ++sets;
    }
    GbRun v = Gb({"verify", "--read-data"}, now);
    EXPECT_EQ(v.exit_code, 0) << Show(v);
    return sets;
  }

  std::string root_, src_, vault_dir_, cache_, state_, identity_, recipient_, signer_;
  int64_t test_clock_now_ = 0;
};

// ---------------------------------------------------------------------------------------

TEST_F(SyncE2E, ThirtyDaysOfRunUnderASmallCap) {
  constexpr int kMinDays = 6;
  WriteConfig("size_limit = \"1 MiB\"\nmin_storage_days = 6\nkeep_local_sets = 0\n", 2);
  Ok({"vault", "create"}, kStart);
  std::map<std::string, int64_t> first_seen;
  int64_t newest_set = -1;
  int pruned = 0;
  for (int day = 0; day < 30; ++day) {
    SCOPED_TRACE("day " + std::to_string(day));
    int64_t now = kStart + day * kDay;
    // Some days nothing changes, some a file, some several, one day a large one.
    if (day % 4 == 1) WriteSource("a/f" + std::to_string(day % 3), 12 << 10, day);
    if (day % 5 == 2)
      for (int i = 0; i < 4; ++i) WriteSource("b/g" + std::to_string(i), 8 << 10, day * 10 + i);
    if (day == 0) WriteSource("big", 60 << 10, 1);
    auto before = Listing();
    GbRun r = Gb({"--json", "run"}, now);
    ASSERT_EQ(r.exit_code, 0) << Show(r);
    auto j = nlohmann::json::parse(r.out);
    pruned += static_cast<int>(j["pruned_sets"].size());
    auto after = Listing();
    EXPECT_LE(Billed(after), 1u << 20);
    EXPECT_EQ(j["vault_bytes"].get<uint64_t>(), Billed(after));
    for (const auto& [id, l] : before) {
      if (!after.count(id)) {
        EXPECT_GE(now - first_seen[id], kMinDays * kDay) << "set " << l.set << " deleted early";
      }
    }
    for (const auto& [id, l] : after)
      if (!first_seen.count(id)) first_seen[id] = now, newest_set = std::max(newest_set, l.set);
    for (const auto& [set, n] : PerSet(after)) EXPECT_EQ(n, 1) << "set " << set;
    if (newest_set >= 0) {
      EXPECT_EQ(PerSet(after)[newest_set], 1) << "newest set gone";
    }
  }
  EXPECT_GE(pruned, 3);
  EXPECT_GE(RetrieveAllAndVerify(kStart + 30 * kDay), 2);
}

// The crash points of sync, as named in src/engine/sync.cc.
const std::vector<std::string> kSyncCrashPoints = {
    "sync-before-prune-delete", "sync-after-prune-delete", "sync-before-upload",
    "sync-after-upload",        "sync-after-record",       "sync-after-local-delete"};

// Reached only when backlog = "newest" drops waiting sets (see the test below).
const std::vector<std::string> kSupersedeCrashPoints = {"sync-mid-supersede"};

TEST_F(SyncE2E, CrashPointListMatchesTheSource) {
  std::string src = ReadFileToString(std::string(GB_SOURCE_DIR) + "/src/engine/sync.cc");
  std::set<std::string> found;
  std::regex re("CrashPoint\\(\"([a-z0-9-]+)\"\\)");
  for (std::sregex_iterator it(src.begin(), src.end(), re), end; it != end; ++it)
    found.insert((*it)[1]);
  std::set<std::string> listed(kSyncCrashPoints.begin(), kSyncCrashPoints.end());
  listed.insert(kSupersedeCrashPoints.begin(), kSupersedeCrashPoints.end());
  EXPECT_EQ(found, listed);
}

// Day 0 and 1 upload sets 1 and 2; the cap fits two sets, so day 2 must delete set 1
// (min_storage_days = 0) and upload set 3. That run is killed at `point`; the next sync
// finishes the job.
TEST_F(SyncE2E, KillNineAtEveryCrashPointIsFinishedByTheNextRun) {
  for (const std::string& point : kSyncCrashPoints) {
    SCOPED_TRACE("crash point " + point);
    TearDown();
    SetUp();
    WriteConfig("min_storage_days = 0\nkeep_local_sets = 0\n", 0);
    Ok({"vault", "create"}, kStart);
    WriteSource("data", 64 << 10, 1);
    Ok({"run"}, kStart);
    WriteSource("data", 64 << 10, 2);
    Ok({"run"}, kStart + kDay);
    auto two = Listing();
    ASSERT_EQ(two.size(), 2u);
    uint64_t cap = Billed(two) + two.begin()->second.size / 2;
    // Two days of minimum storage: set 1 may go on day 2, set 2 may not (so it stays).
    WriteConfig(
        "size_limit = " + std::to_string(cap) + "\nmin_storage_days = 2\nkeep_local_sets = 0\n", 0);
    WriteSource("data", 64 << 10, 3);
    GbRun killed = Gb({"run"}, kStart + 2 * kDay, point);
    ASSERT_EQ(killed.signal, SIGKILL) << "never reached " << point << ": " << Show(killed);

    // Local archives are deleted only after their set's upload is recorded.
    {
      auto sets = Sets();
      auto backups = BackupsBySet();
      for (const auto& [id, s] : sets) {
        if (s.uploaded || s.pruned) continue;
        for (const auto& b : backups[id])
          EXPECT_TRUE(PathExists(cache_ + "/" + b.name))
              << b.name << " deleted before set " << id << " was recorded uploaded";
      }
    }

    GbRun next = Gb({"--json", "sync"}, kStart + 2 * kDay + 3600);
    ASSERT_EQ(next.exit_code, 0) << Show(next);

    auto listing = Listing();
    auto per_set = PerSet(listing);
    EXPECT_EQ(per_set.count(-1), 0u) << "an archive not written as a bundle";
    EXPECT_EQ(per_set[1], 0) << "set 1 should have been pruned";
    EXPECT_EQ(per_set[2], 1) << "set 2";
    EXPECT_EQ(per_set[3], 1) << "set 3";
    EXPECT_LE(Billed(listing), cap);
    auto sets = Sets();
    EXPECT_TRUE(sets[1].pruned) << "set 1 left the vault but the catalog does not say so";
    EXPECT_TRUE(sets[2].uploaded && !sets[2].pruned);
    EXPECT_TRUE(sets[3].uploaded && !sets[3].pruned);
    auto backups = BackupsBySet();
    EXPECT_EQ(backups.count(1), 0u) << "the catalog still offers backups of the pruned set 1";
    EXPECT_EQ(CachedArchives(), std::vector<std::string>{}) << "uploaded sets still cached";
    {
      Catalog c(state_ + "/catalog.db");
      VaultState vs(c);
      for (const auto& u : vs.Uploads()) {
        EXPECT_EQ(u.state, "done") << "upload of set " << u.set_id;
        EXPECT_TRUE(u.set_id == 1 || listing.count(u.archive_id)) << "set " << u.set_id;
      }
      uint64_t catalog_billed = 0;
      for (const auto& a : vs.Archives()) catalog_billed += a.size + kOverhead;
      EXPECT_EQ(catalog_billed, Billed(listing)) << "catalog and vault disagree";
    }
    // Nothing left over: one more sync has nothing to upload or delete, and nothing to
    // warn about but the cap (the next set will not fit until set 2 may be deleted).
    GbRun again = Gb({"--json", "sync"}, kStart + 2 * kDay + 7200);
    ASSERT_EQ(again.exit_code, 0) << Show(again);
    auto j = nlohmann::json::parse(again.out);
    EXPECT_EQ(j["uploaded"].size(), 0u);
    EXPECT_EQ(j["pruned_sets"].size(), 0u);
    EXPECT_LE(j["warnings"].get<int>(), 1) << again.err;
    for (const char* bad :
         {"duplicate", "missing from the vault", "not in this catalog", "interrupted"})
      EXPECT_THAT(again.err, Not(HasSubstr(bad)));
    EXPECT_EQ(Listing().size(), listing.size());
    GbRun status = Gb({"--json", "status"}, kStart + 2 * kDay + 7200);
    ASSERT_EQ(status.exit_code, 0) << Show(status);
    auto st = nlohmann::json::parse(status.out);
    for (const auto& s : st["sets"]) EXPECT_EQ(s["state"], "in vault") << s.dump();
    if (HasFailure()) break;  // one crash point's failures are enough to read
  }
}

// backlog = "newest" under a cap of two sets that must stay 4 days, a set a day: the
// vault takes one every 2 days. Day 0 uploads set 1, set 2 waits on day 1, day 2 uploads
// set 3 and supersedes set 2, killed after removing its archives but before the
// catalog forgets it. Nothing not safely in the
// vault is lost, and the next sync finishes the job.
TEST_F(SyncE2E, KillNineWhileSupersedingLosesNothingNotInTheVault) {
  for (const std::string& point : kSupersedeCrashPoints) {
    SCOPED_TRACE("crash point " + point);
    WriteConfig("size_limit = \"180 KiB\"\nmin_storage_days = 4\nkeep_local_sets = 0\n", 0);
    Ok({"vault", "create"}, kStart);
    for (int day = 0; day < 2; ++day) {
      WriteSource("data", 64 << 10, 10 + day);
      Ok({"run"}, kStart + day * kDay);
    }
    EXPECT_EQ(PerSet(Listing()), (std::map<int64_t, int>{{1, 1}}));
    GbRun dry = Gb({"sync", "--dry-run"}, kStart + kDay + 60);
    EXPECT_THAT(dry.out, HasSubstr("too small for the backup cadence")) << Show(dry);
    EXPECT_THAT(dry.out, HasSubstr("wait in the cache")) << Show(dry);
    WriteSource("data", 64 << 10, 12);
    GbRun killed = Gb({"run"}, kStart + 2 * kDay, point);
    ASSERT_EQ(killed.signal, SIGKILL) << "never reached " << point << ": " << Show(killed);
    auto sets = Sets();
    ASSERT_TRUE(sets[3].uploaded) << "set 2 was dropped before set 3 was safely in the vault";
    EXPECT_EQ(PerSet(Listing())[3], 1);

    GbRun next = Gb({"--json", "sync"}, kStart + 2 * kDay + 3600);
    ASSERT_EQ(next.exit_code, 0) << Show(next);
    EXPECT_EQ(PerSet(Listing()), (std::map<int64_t, int>{{1, 1}, {3, 1}}));
    EXPECT_EQ(CachedArchives(), std::vector<std::string>{}) << "superseded set 2 still cached";
    sets = Sets();
    EXPECT_TRUE(sets[2].pruned) << "set 2 is still queued for upload";
    GbRun status = Gb({"--json", "status"}, kStart + 2 * kDay + 7200);
    ASSERT_EQ(status.exit_code, 0) << Show(status);
    auto st = nlohmann::json::parse(status.out);
    EXPECT_EQ(st["max_staleness_days"], 30);
    EXPECT_EQ(st["newest_vault_backup"]["age_days"], 0) << status.out;
    EXPECT_TRUE(st["steady_state"]["cap_too_small"].get<bool>()) << status.out;
    ASSERT_EQ(st["dropped_sets"].size(), 1u) << "superseded set 2 vanished from status";
    EXPECT_EQ(st["dropped_sets"][0]["id"], 2);
    EXPECT_THAT(st["dropped_sets"][0]["reason"].get<std::string>(), HasSubstr("superseded"));
  }
}

// Exit 9 only once the vault is more than max_staleness_days stale with nothing uploaded.
TEST_F(SyncE2E, NothingUploadedExitsNineOnlyWhenTheVaultIsStale) {
  WriteConfig("size_limit = \"100 KiB\"\nmin_storage_days = 0\nmax_staleness_days = 3\n", 0);
  Ok({"vault", "create"}, kStart);
  WriteSource("data", 32 << 10, 1);
  Ok({"run"}, kStart);  // set 1 fits
  WriteSource("big", 300 << 10, 2);
  for (int day = 1; day <= 5; ++day) {
    GbRun r = Gb({"run"}, kStart + day * kDay);
    if (day <= 3) {
      EXPECT_EQ(r.exit_code, 0) << "day " << day << ": " << Show(r);
      EXPECT_THAT(r.out, HasSubstr("wait in the cache")) << Show(r);
    } else {
      EXPECT_EQ(r.exit_code, kExitNoSpace) << "day " << day << ": " << Show(r);
      EXPECT_THAT(r.err, HasSubstr("max_staleness_days")) << Show(r);
    }
    EXPECT_THAT(r.err, Not(HasSubstr("not uploaded"))) << "one warning per waiting set";
  }
}

TEST_F(SyncE2E, SetLargerThanTheCapExitsNineAndUploadsNothing) {
  WriteConfig("size_limit = \"100 KiB\"\nmin_storage_days = 0\n", 0);
  Ok({"vault", "create"}, kStart);
  WriteSource("big", 300 << 10, 7);
  GbRun r = Gb({"run"}, kStart);
  EXPECT_EQ(r.exit_code, kExitNoSpace) << Show(r);
  EXPECT_THAT(r.err, HasSubstr("size cap"));
  EXPECT_THAT(r.err, HasSubstr("nothing was uploaded"));
  EXPECT_THAT(r.err, HasSubstr("size_limit"));
  // The sizes in the message must say something at this scale.
  EXPECT_THAT(r.err, Not(HasSubstr("0.00 GiB"))) << r.err;
  EXPECT_TRUE(Listing().empty());
  EXPECT_EQ(CachedArchives().size(), 1u) << "the set must stay in the cache";
  GbRun s = Gb({"sync"}, kStart + 60);
  EXPECT_EQ(s.exit_code, kExitNoSpace) << Show(s);
  EXPECT_TRUE(Listing().empty());
}

// The vault is out of reach for days: backups stop at [backup] cache_limit instead of
// filling the disk, and the first `run` that reaches the vault again uploads before it
// backs up.
TEST_F(SyncE2E, CacheLimitStopsBackupsUntilSyncMakesRoom) {
  WriteConfig("", 0);
  std::string config = ReadFileToString(root_ + "/config.toml");
  config.replace(config.find("[backup]\n"), 9, "[backup]\ncache_limit = \"200 KiB\"\n");
  WriteFileAtomic(root_ + "/config.toml", config);
  Ok({"vault", "create"}, kStart);
  fs::rename(vault_dir_, root_ + "/vault-away");  // the NAS is off
  uint64_t most = 0;
  int refused = 0;
  for (int day = 0; day < 7; ++day) {
    WriteSource("day" + std::to_string(day), 60 << 10, 100 + day);
    GbRun r = Gb({"run"}, kStart + day * kDay);
    EXPECT_NE(r.exit_code, 0) << "day " << day << ": " << Show(r);
    GbRun b = Gb({"backup"}, kStart + day * kDay + 60);
    if (b.exit_code == kExitNoSpace) {
      ++refused;
      EXPECT_THAT(b.err, HasSubstr("cache_limit")) << Show(b);
      EXPECT_THAT(b.err, HasSubstr("glacier-backup sync")) << Show(b);
    }
    uint64_t bytes = 0;
    for (const std::string& a : CachedArchives()) bytes += fs::file_size(cache_ + "/" + a);
    most = std::max(most, bytes);
  }
  EXPECT_GT(refused, 0) << "backups went on past cache_limit";
  EXPECT_LE(most, (200u << 10) + (64u << 10)) << "the cache grew past its limit";
  fs::rename(root_ + "/vault-away", vault_dir_);
  WriteSource("back", 1000, 7);
  GbRun r = Gb({"run"}, kStart + 8 * kDay);
  EXPECT_EQ(r.exit_code, 0) << Show(r);
  EXPECT_THAT(r.out, HasSubstr("syncing before the backup")) << Show(r);
  EXPECT_TRUE(CachedArchives().empty()) << "every set went up";
  std::set<int64_t> sets;
  for (const auto& [id, l] : Listing()) sets.insert(l.set);
  EXPECT_GE(sets.size(), 4u);
}

// A full cache makes `run` sync before the backup. When the backup then completes no set
// (it opens a new one), it gave the vault nothing new: the run syncs once, not twice.
TEST_F(SyncE2E, RunWithAFullCacheSyncsOnceWhenTheBackupCompletesNoSet) {
  WriteConfig("", 1);
  std::string config = ReadFileToString(root_ + "/config.toml");
  config.replace(config.find("[backup]\n"), 9, "[backup]\ncache_limit = \"200 KiB\"\n");
  WriteFileAtomic(root_ + "/config.toml", config);
  Ok({"vault", "create"}, kStart);
  WriteSource("a", 150 << 10, 1);
  Ok({"backup"}, kStart);
  WriteSource("b", 60 << 10, 2);
  Ok({"backup"}, kStart + kDay);  // the incremental completes set 1: the cache is full
  WriteSource("c", 1000, 3);
  GbRun r = Ok({"run"}, kStart + 2 * kDay);
  EXPECT_THAT(r.out, HasSubstr("syncing before the backup")) << Show(r);
  size_t syncs = 0;
  for (size_t at = 0; (at = r.out.find("\nvault: ", at)) != std::string::npos; ++at) ++syncs;
  EXPECT_EQ(syncs, 1u) << Show(r);
  std::set<int64_t> sets;
  for (const auto& [id, l] : Listing()) sets.insert(l.set);
  EXPECT_EQ(sets, std::set<int64_t>{1}) << "set 1 went up before the backup";
  EXPECT_EQ(CachedArchives().size(), 1u) << "the new set's full waits in the cache";
}

// [backup] host names this host in what goes to the vault (several hosts may share it).
TEST_F(SyncE2E, ConfiguredHostNameIsWhatTheVaultSees) {
  WriteConfig("", 0);
  std::string config = ReadFileToString(root_ + "/config.toml");
  config.replace(config.find("[backup]\n"), 9, "[backup]\nhost = \"laptop-a\"\n");
  WriteFileAtomic(root_ + "/config.toml", config);
  Ok({"vault", "create"}, kStart);
  WriteSource("f", 1000, 1);
  Ok({"run"}, kStart);
  auto listing = Listing();
  ASSERT_EQ(listing.size(), 1u);
  auto d = nlohmann::json::parse(listing.begin()->second.description);
  EXPECT_EQ(d.value("host", ""), "laptop-a") << listing.begin()->second.description;
}

// Three hosts share one vault; status --fleet shows each with its sets and newest
// upload, the total against [fleet] size_limit, and flags the one that went quiet.
TEST_F(SyncE2E, StatusFleetShowsEveryHostAndFlagsTheStaleOne) {
  WriteConfig("", 0);
  const std::string base = ReadFileToString(root_ + "/config.toml");
  auto as_host = [&](const std::string& host) {
    std::string c = base;
    for (const std::string& dir : {cache_, state_}) {
      std::string own = root_ + "/" + host + dir.substr(root_.size());
      c.replace(c.find(dir), dir.size(), own);
    }
    c.replace(c.find("[backup]\n"), 9, "[backup]\nhost = \"" + host + "\"\n");
    c += "[fleet]\nstale_after_days = 3\nsize_limit = \"10 MiB\"\n";
    WriteFileAtomic(root_ + "/config.toml", c);
  };
  as_host("nas");
  Ok({"vault", "create"}, kStart);
  WriteSource("f", 20000, 1);
  for (int day = 0; day < 6; ++day) {
    for (const char* host : {"nas", "laptop", "desktop"}) {
      if (std::string(host) == "laptop" && day > 1) continue;  // stops after day 1
      as_host(host);
      Ok({"run"}, kStart + day * kDay + 60);
    }
  }
  as_host("desktop");
  GbRun r = Gb({"status", "--fleet"}, kStart + 6 * kDay);
  EXPECT_EQ(r.exit_code, 13) << Show(r);
  EXPECT_THAT(r.out, HasSubstr("desktop (this host): 6 set(s)")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("laptop: 2 set(s)")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("STALE")) << r.out;
  EXPECT_THAT(r.out, HasSubstr("of the fleet's 10.0 MiB")) << r.out;
  EXPECT_THAT(r.err, HasSubstr("laptop")) << Show(r);
  GbRun j = Gb({"--json", "status", "--fleet"}, kStart + 6 * kDay);
  EXPECT_EQ(j.exit_code, 13) << Show(j);
  auto fleet = nlohmann::json::parse(j.out);
  ASSERT_EQ(fleet["hosts"].size(), 3u) << j.out;
  std::map<std::string, nlohmann::json> by_host;
  for (const auto& h : fleet["hosts"]) by_host[h["host"]] = h;
  EXPECT_EQ(by_host["laptop"]["age_days"], 4);  // day 1 + 60 s to day 6
  EXPECT_TRUE(by_host["laptop"]["stale"].get<bool>());
  EXPECT_FALSE(by_host["nas"]["stale"].get<bool>());
  EXPECT_EQ(fleet["stale_hosts"], nlohmann::json::array({"laptop"}));
  uint64_t sum = 0;
  for (const auto& [id, l] : Listing()) sum += l.size + kOverhead;
  EXPECT_EQ(fleet["total_billed_bytes"].get<uint64_t>(), sum) << "the view must match the vault";
  // Once the laptop is back, nothing is stale.
  as_host("laptop");
  Ok({"run"}, kStart + 6 * kDay + 60);
  EXPECT_EQ(Gb({"status", "--fleet"}, kStart + 6 * kDay + 120).exit_code, 0);
  // No host deleted or adopted another's archives (their set numbers overlap).
  std::map<std::string, int> per_host;
  for (const auto& [id, l] : Listing())
    ++per_host[nlohmann::json::parse(l.description).value("host", "")];
  EXPECT_EQ(per_host, (std::map<std::string, int>{{"desktop", 6}, {"laptop", 3}, {"nas", 6}}));
}

TEST_F(SyncE2E, MissingVaultNamesItAndVaultCreate) {
  WriteConfig("", 0);  // the vault directory is never created
  WriteSource("f", 1000, 1);
  for (const char* cmd : {"sync", "run"}) {
    GbRun r = Gb({cmd}, kStart);
    EXPECT_EQ(r.exit_code, kExitNotFound) << cmd << ": " << Show(r);
    EXPECT_THAT(r.err, HasSubstr(vault_dir_)) << cmd;
    EXPECT_THAT(r.err, HasSubstr("vault create")) << cmd;
    EXPECT_FALSE(PathExists(vault_dir_)) << cmd << " created the vault";
  }
  Ok({"vault", "create"}, kStart);
  Ok({"sync"}, kStart + 60);
  EXPECT_EQ(Listing().size(), 1u);
}

// The clock jumps back below the last backup: no crash, nothing deleted, and the
// sets uploaded meanwhile are not deleted early once the clock is right again.
TEST_F(SyncE2E, ClockSkewBackwardsNoCrashNothingDeletedEarly) {
  // backlog = "all": every day's set goes up (this cap is too small for "newest" to take one
  // a day), so there is something to delete early.
  WriteConfig(
      "size_limit = \"400 KiB\"\nmin_storage_days = 30\nkeep_local_sets = 0\nbacklog = \"all\"\n",
      0);
  Ok({"vault", "create"}, kStart);
  for (int day = 0; day < 3; ++day) {
    WriteSource("f", 60 << 10, day);
    Ok({"run"}, kStart + (40 + day) * kDay);
  }
  auto before = Listing();
  ASSERT_EQ(before.size(), 3u);
  WriteSource("f", 60 << 10, 100);
  GbRun skewed = Gb({"run"}, kStart);  // 40 days earlier than the last run
  EXPECT_EQ(skewed.signal, 0) << Show(skewed);
  EXPECT_TRUE(skewed.exit_code == 0 || skewed.exit_code == kExitNoSpace) << Show(skewed);
  auto after = Listing();
  for (const auto& [id, l] : before) EXPECT_TRUE(after.count(id)) << "set " << l.set << " deleted";
  GbRun status = Gb({"--json", "status"}, kStart);
  EXPECT_EQ(status.exit_code, 0) << Show(status);
  // Back to the right time, a few more days: the vault stays under the cap, and no set
  // is deleted less than 30 (simulated) days after the run that uploaded it.
  std::map<std::string, int64_t> uploaded_at;
  for (const auto& [id, l] : after)
    uploaded_at[id] = before.count(id) ? kStart + 40 * kDay : kStart + 42 * kDay;
  for (int day = 3; day < 8; ++day) {
    int64_t now = kStart + (40 + day) * kDay;
    WriteSource("f", 60 << 10, day);
    GbRun r = Gb({"run"}, now);
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == kExitNoSpace) << Show(r);
    auto l = Listing();
    EXPECT_LE(Billed(l), 400u << 10);
    for (const auto& [id, t] : uploaded_at) {
      if (!l.count(id)) {
        EXPECT_GE(now - t, 30 * kDay) << "archive " << id << " deleted early";
      }
    }
    for (const auto& [id, a] : l) uploaded_at.emplace(id, now);
  }
}

TEST_F(SyncE2E, DryRunChangesNothingAndReportsThePlan) {
  WriteConfig("min_storage_days = 0\nkeep_local_sets = 0\n", 0);
  Ok({"vault", "create"}, kStart);
  for (int day = 0; day < 2; ++day) {
    WriteSource("f", 50 << 10, day);
    Ok({"run"}, kStart + day * kDay);
  }
  auto two = Listing();
  ASSERT_EQ(two.size(), 2u);
  WriteConfig("size_limit = " + std::to_string(Billed(two) + 30000) +
                  "\nmin_storage_days = 0\nkeep_local_sets = 0\n",
              0);
  WriteSource("f", 50 << 10, 2);
  Ok({"backup"}, kStart + 2 * kDay);  // set 3 is complete and ready

  std::string catalog_before = DumpCatalog();
  auto cache_before = CachedArchives();
  std::vector<std::string> cache_files_before;
  for (const auto& e : fs::directory_iterator(cache_))
    cache_files_before.push_back(e.path().filename().string());
  std::sort(cache_files_before.begin(), cache_files_before.end());
  GbRun dry = Gb({"--json", "sync", "--dry-run"}, kStart + 2 * kDay + 60);
  ASSERT_EQ(dry.exit_code, 0) << Show(dry);
  auto j = nlohmann::json::parse(dry.out);
  EXPECT_TRUE(j["dry_run"].get<bool>());
  EXPECT_EQ(j["uploaded"].size(), 1u) << dry.out;
  EXPECT_EQ(j["pruned_sets"], nlohmann::json::array({1})) << dry.out;
  EXPECT_EQ(Listing().size(), 2u);
  for (const auto& [id, l] : two) EXPECT_TRUE(Listing().count(id));
  EXPECT_EQ(DumpCatalog(), catalog_before);
  std::vector<std::string> cache_files_after;
  for (const auto& e : fs::directory_iterator(cache_))
    cache_files_after.push_back(e.path().filename().string());
  std::sort(cache_files_after.begin(), cache_files_after.end());
  EXPECT_EQ(cache_files_after, cache_files_before) << "dry run changed the cache";

  GbRun human = Gb({"sync", "--dry-run"}, kStart + 2 * kDay + 60);
  ASSERT_EQ(human.exit_code, 0) << Show(human);
  EXPECT_THAT(human.out, HasSubstr("would upload set 3"));
  EXPECT_THAT(human.out, HasSubstr("would delete set 1"));
  EXPECT_EQ(DumpCatalog(), catalog_before);

  // The real run does what the dry run said.
  GbRun real = Gb({"--json", "sync"}, kStart + 2 * kDay + 120);
  ASSERT_EQ(real.exit_code, 0) << Show(real);
  auto k = nlohmann::json::parse(real.out);
  EXPECT_EQ(k["uploaded"], j["uploaded"]);
  EXPECT_EQ(k["pruned_sets"], j["pruned_sets"]);
}

TEST_F(SyncE2E, RunIsBackupThenSyncAndStatusJsonShowsSetStates) {
  WriteConfig("min_storage_days = 0\nkeep_local_sets = 1\n", 1);
  Ok({"vault", "create"}, kStart);
  WriteSource("f", 20 << 10, 1);
  GbRun r1 = Gb({"--json", "run"}, kStart);
  ASSERT_EQ(r1.exit_code, 0) << Show(r1);
  auto j1 = nlohmann::json::parse(r1.out);
  EXPECT_EQ(j1["backup"]["kind"], "full");
  EXPECT_EQ(j1["uploaded"].size(), 0u) << "set 1 is still open";
  WriteSource("g", 20 << 10, 2);
  GbRun r2 = Gb({"--json", "run"}, kStart + kDay);
  ASSERT_EQ(r2.exit_code, 0) << Show(r2);
  auto j2 = nlohmann::json::parse(r2.out);
  EXPECT_EQ(j2["backup"]["kind"], "incremental");
  EXPECT_EQ(j2["uploaded"], nlohmann::json::array({"set 1"}));
  EXPECT_EQ(Listing().size(), 1u);
  Ok({"backup"}, kStart + 2 * kDay);  // set 2: open

  GbRun st = Gb({"--json", "status"}, kStart + 2 * kDay);
  ASSERT_EQ(st.exit_code, 0) << Show(st);
  auto s = nlohmann::json::parse(st.out);
  ASSERT_TRUE(s["sets"].is_array());
  ASSERT_EQ(s["sets"].size(), 2u) << st.out;
  EXPECT_EQ(s["sets"][0]["id"], 1);
  EXPECT_EQ(s["sets"][0]["state"], "in vault");
  EXPECT_TRUE(s["sets"][0]["local"].get<bool>()) << "keep_local_sets = 1 keeps set 1";
  EXPECT_TRUE(s["sets"][0].contains("deletable_from"));
  EXPECT_EQ(s["sets"][1]["state"], "open");
  EXPECT_EQ(s["vault"]["billed_bytes"].get<uint64_t>(), Billed(Listing()));
  EXPECT_TRUE(s.contains("last_upload"));

  Ok({"backup"}, kStart + 3 * kDay);  // completes set 2
  s = nlohmann::json::parse(Gb({"--json", "status"}, kStart + 3 * kDay).out);
  EXPECT_EQ(s["sets"][1]["state"], "complete, ready to upload");
  EXPECT_GT(s["ready_to_upload_bytes"].get<uint64_t>(), 0u);
  GbRun human = Ok({"status"}, kStart + 3 * kDay);
  EXPECT_THAT(human.out, HasSubstr("set 1"));
  EXPECT_THAT(human.out, HasSubstr("in vault"));
}

// The crash points of a restore from the vault, as named in src/engine/retrieval.cc
// and cold_restore.cc.
const std::vector<std::string> kRestoreCrashPoints = {
    "retrieval-after-start", "retrieval-after-download", "restore-after-stage"};

TEST_F(SyncE2E, RestoreCrashPointListMatchesTheSource) {
  std::set<std::string> found;
  std::regex re("CrashPoint\\(\"([a-z0-9-]+)\"\\)");
  for (const char* file : {"/src/engine/retrieval.cc", "/src/engine/cold_restore.cc"}) {
    std::string src = ReadFileToString(std::string(GB_SOURCE_DIR) + file);
    for (std::sregex_iterator it(src.begin(), src.end(), re), end; it != end; ++it)
      found.insert((*it)[1]);
  }
  EXPECT_EQ(found, std::set<std::string>(kRestoreCrashPoints.begin(), kRestoreCrashPoints.end()));
}

// A restore from the vault killed (-9) at each of its steps: running the same
// command again finishes it, restores every byte, and the vault saw one
// retrieval per piece, never a second.
TEST_F(SyncE2E, RestoreKilledAtEveryCrashPointIsFinishedByTheNextRun) {
  WriteConfig("keep_local_sets = 0\n", 1);
  Ok({"vault", "create"}, kStart);
  WriteSource("a/one.bin", 300 << 10, 1);
  WriteSource("b/two.txt", 5000, 2);
  Ok({"backup"}, kStart);
  WriteSource("a/three.bin", 200 << 10, 3);
  Ok({"run"}, kStart + 3600);  // completes set 1, uploads it, empties the cache
  ASSERT_TRUE(fs::is_empty(cache_) || !fs::exists(cache_ + "/" + BackupsBySet()[1][0].name));
  auto retrieval_jobs = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator(vault_dir_ + "/jobs"))
      if (e.path().extension() == ".json" &&
          ReadFileToString(e.path().string()).find("\"ArchiveId\"") != std::string::npos)
        ++n;
    return n;
  };
  int64_t now = kStart + 7200;
  for (const std::string& point : kRestoreCrashPoints) {
    SCOPED_TRACE(point);
    std::string target = root_ + "/restored-" + point;
    int before = retrieval_jobs();
    GbRun killed = Gb({"restore", "--yes", "--to", target}, now, point);
    EXPECT_EQ(killed.signal, SIGKILL) << Show(killed);
    GbRun next = Gb({"restore", "--yes", "--to", target}, now + 60);
    ASSERT_EQ(next.exit_code, 0) << Show(next);
    EXPECT_LE(retrieval_jobs() - before, 1) << "one bundle, one retrieval\n" << Show(next);
    // The killed run had started the retrieval: the next one continues it.
    EXPECT_THAT(next.out, Not(HasSubstr("(to start)"))) << "a retrieval started twice\n"
                                                        << Show(next);
    for (const char* rel : {"a/one.bin", "b/two.txt", "a/three.bin"})
      EXPECT_EQ(ReadFileToString(target + src_ + "/" + rel), ReadFileToString(src_ + "/" + rel))
          << rel;
    std::string left;
    if (fs::exists(state_ + "/staging"))
      for (const auto& e : fs::directory_iterator(state_ + "/staging"))
        left += e.path().filename().string() + " ";
    EXPECT_EQ(left, "") << "staging is cleaned after a finished restore";
    now += 3600;
  }
}

}  // namespace
}  // namespace gb
