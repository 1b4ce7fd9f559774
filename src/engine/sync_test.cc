// Engine tests of sync: a 410-day simulation of daily backup + sync against the
// file vault on a fake clock (size cap, minimum storage duration, restorability
// of every set in the vault), inventory reconcile against a lagging Glacier-like
// vault, inventory scheduling and job failure/expiry, duplicates, dry run.
#include "engine/sync.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "archive/tar_reader.h"
#include "catalog/vault_state.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "crypto/identity_file.h"
#include "crypto/x25519.h"
#include "engine/archive_signature.h"
#include "engine/backlog_plan.h"
#include "engine/backup.h"
#include "engine/catalog_copy.h"
#include "engine/config.h"
#include "engine/engine_test_util.h"
#include "engine/point.h"
#include "engine/restore.h"
#include "engine/verify.h"
#include "engine/workspace.h"
#include "vault/file_vault.h"
#include "vault/vault_test_doubles.h"

namespace gb {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kDay = 86400;
constexpr uint64_t kOverhead = 4096;  // FileVault's per-archive overhead

class RecordingProgress : public Progress {
 public:
  void Notice(const std::string& path, const std::string& msg, bool problem) override {
    (problem ? warnings : notes).push_back(path + ": " + msg);
  }
  bool Warned(const std::string& needle) const {
    for (const auto& w : warnings)
      if (w.find(needle) != std::string::npos) return true;
    return false;
  }
  std::string AllWarnings() const {
    std::string s;
    for (const auto& w : warnings) s += "  " + w + "\n";
    return s;
  }
  void Clear() { warnings.clear(), notes.clear(); }
  std::vector<std::string> warnings, notes;
};

// One archive as the vault itself lists it (its .meta file), independent of the catalog.
struct Listed {
  std::string id, description, token;
  int64_t created = 0;
  uint64_t size = 0;
  int64_t set = -1;  // -1: not a glacier-backup bundle
};

std::map<std::string, Listed> ListVaultDir(const std::string& vault_dir) {
  std::map<std::string, Listed> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(vault_dir + "/archives", ec)) {
    std::string name = e.path().filename().string();
    if (name.size() != 32 + 5 || name.substr(32) != ".meta") continue;
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

uint64_t Billed(const std::map<std::string, Listed>& listing) {
  uint64_t b = 0;
  for (const auto& [id, l] : listing) b += l.size + kOverhead;
  return b;
}

std::map<int64_t, int> CountPerSet(const std::map<std::string, Listed>& listing) {
  std::map<int64_t, int> n;
  for (const auto& [id, l] : listing)
    if (l.set >= 0) ++n[l.set];
  return n;
}

// A bundle read back through the Vault interface and taken apart (it is a plain tar).
struct Bundle {
  std::string catalog_copy;
  std::vector<std::pair<std::string, std::string>> archives;  // name, bytes, in order
  std::vector<std::string> members;
  std::map<std::string, std::string> signatures;  // file name -> its signature member
};

Bundle RetrieveBundle(Vault& vault, const std::string& archive_id) {
  std::string job = vault.StartRetrieval(archive_id, Tier::kBulk, std::nullopt);
  BufferSink out;
  vault.ReadJobOutput(job, std::nullopt, out);
  SpanSource src(out.bytes);
  TarReader tar(src);
  TarMember m;
  Bundle b;
  while (tar.Next(&m)) {
    std::string data = tar.ReadAll();
    b.members.push_back(m.entry.path);
    std::string base = m.entry.path.substr(m.entry.path.rfind('/') + 1);
    if (base.ends_with(kSignatureSuffix))
      b.signatures[base.substr(0, base.size() - std::string(kSignatureSuffix).size())] = data;
    else if (base == "catalog.json.zst.age")
      b.catalog_copy = data;
    else
      b.archives.emplace_back(base, std::move(data));
  }
  return b;
}

// Deterministic random bytes.
std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return s;
}

class SyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // tmpfs when there is one: the engine fsyncs every file, and this test writes thousands.
    fs::path tmp = access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string templ = (tmp / "gb-sync-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    src_ = root_ + "/src";
    vault_dir_ = root_ + "/vault";
    MakeDirs(src_);
    identity_ = root_ + "/identity.txt";
    auto id = age::X25519Identity::Generate();
    age::WriteIdentityFile(identity_, id, clock_);
    recipient_ = id.Recipient().ToString();
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(root_);
  }

  // (Re)opens the workspace with these [vault] lines.
  void Open(const std::string& vault_lines, int max_incrementals) {
    std::string toml = "[source]\nincludes = [\"" + src_ +
                       "\"]\n[backup]\nmax_incrementals = " + std::to_string(max_incrementals) +
                       "\ncompression_level = 1\nthreads = 1\ncache_dir = \"" + root_ +
                       "/cache\"\nstate_dir = \"" + root_ + "/state\"\n[encryption]\n" +
                       test::TrustedSigningKey(root_) + "recipients = [\"" + recipient_ +
                       "\"]\nidentity_file = \"" + identity_ + "\"\n[vault]\nurl = \"file://" +
                       vault_dir_ + "\"\n" + vault_lines;
    WriteFileAtomic(root_ + "/config.toml", toml);
    ws_.reset();
    cfg_ = LoadConfig(root_ + "/config.toml");
    ws_ = std::make_unique<Workspace>(cfg_);
  }

  void WriteSource(const std::string& rel, const std::string& data) {
    std::string p = src_ + "/" + rel;
    MakeDirs(Dirname(p));
    WriteFileAtomic(p, data);
    // mtime = simulated time, so every day's change is seen whatever the real clock does.
    struct timespec ts[2] = {{clock_.NowSeconds(), 0}, {clock_.NowSeconds(), 0}};
    utimensat(AT_FDCWD, p.c_str(), ts, 0);
  }

  BackupResult Backup() { return RunBackup(*ws_, progress_, clock_, BackupOptions{}); }
  SyncResult Sync(Vault& v, bool dry_run = false) {
    SyncOptions o;
    o.dry_run = dry_run;
    return RunSync(*ws_, v, progress_, clock_, o);
  }
  std::map<std::string, Listed> Listing() { return ListVaultDir(vault_dir_); }
  VaultState State() { return VaultState(ws_->catalog()); }

  // What the source holds now: relative path -> SHA-256 hex.
  std::map<std::string, std::string> Snapshot() {
    std::map<std::string, std::string> m;
    for (const auto& e : fs::recursive_directory_iterator(src_))
      if (e.is_regular_file())
        m[fs::relative(e.path(), src_).string()] =
            Hex(Sha256::Of(ReadFileToString(e.path().string())));
    return m;
  }

  // Proves every set in the vault restorable from the vault alone: each bundle is
  // retrieved through the Vault interface, taken apart, its archives' SHA-256 checked
  // against the catalog, its catalog copy decrypted and compared, then the archives are
  // put back into the cache for verify --read-data and a restore of the set's last
  // point, compared with the source as it was then. Returns the number of sets checked.
  int CheckVaultRestorable(Vault& vault,
                           const std::map<int64_t, std::map<std::string, std::string>>& snapshots) {
    int checked = 0;
    std::vector<std::string> placed;
    std::vector<BackupRecord> last_points;
    for (const auto& [id, l] : Listing()) {
      if (l.set < 0) continue;
      SCOPED_TRACE("set " + std::to_string(l.set) + " archive " + id);
      Bundle b = RetrieveBundle(vault, id);
      std::vector<BackupRecord> backups = ws_->catalog().BackupsOfSet(l.set);
      EXPECT_FALSE(backups.empty()) << "the catalog forgot a set that is still in the vault";
      if (backups.empty()) continue;
      EXPECT_FALSE(b.catalog_copy.empty());
      EXPECT_THAT(b.members.front(), HasSubstr("catalog.json.zst.age"));
      EXPECT_EQ(b.archives.size(), backups.size());
      if (b.archives.size() != backups.size()) continue;
      for (size_t i = 0; i < backups.size(); ++i) {
        EXPECT_EQ(b.archives[i].first, backups[i].name);
        EXPECT_EQ(b.archives[i].second.size(), backups[i].archive_size);
        EXPECT_EQ(Hex(Sha256::Of(b.archives[i].second)), backups[i].archive_sha256)
            << backups[i].name;
        std::string path = ws_->ArchivePath(backups[i].name);
        EXPECT_TRUE(b.signatures.count(backups[i].name)) << "unsigned " << backups[i].name;
        if (!PathExists(path)) {
          WriteFileAtomic(path, b.archives[i].second, 0600);
          WriteFileAtomic(SignaturePath(path), b.signatures[backups[i].name], 0600);
          placed.push_back(path);
        }
      }
      {  // The catalog copy decrypts and describes the same backups.
        Catalog fresh(root_ + "/copy-check.db");
        SpanSource in(AsBytes(b.catalog_copy));
        EXPECT_EQ(ReadCatalogCopy(cfg_, fresh, in), l.set);
        auto copied = fresh.BackupsOfSet(l.set);
        EXPECT_EQ(copied.size(), backups.size());
        for (size_t i = 0; i < std::min(copied.size(), backups.size()); ++i)
          EXPECT_EQ(copied[i].archive_sha256, backups[i].archive_sha256);
      }
      fs::remove(root_ + "/copy-check.db");
      fs::remove(root_ + "/copy-check.db-wal");
      fs::remove(root_ + "/copy-check.db-shm");
      last_points.push_back(backups.back());
      ++checked;
    }
    RecordingProgress vp;
    VerifyOptions vo;
    vo.read_data = true;
    VerifyResult vr = RunVerify(*ws_, vp, vo);
    EXPECT_EQ(vr.problems, 0u) << vp.AllWarnings();
    EXPECT_FALSE(vr.corrupt);
    for (const BackupRecord& last : last_points) {
      std::string target = root_ + "/restore-" + std::to_string(last.set_id);
      RestoreOptions ro;
      ro.at = BackupId(last);
      ro.target_dir = target;
      RecordingProgress rp;
      RestoreResult rr = RunRestore(*ws_, rp, ro);
      EXPECT_EQ(rr.failed, 0u) << rp.AllWarnings();
      auto it = snapshots.find(last.time);
      if (it != snapshots.end()) {
        std::map<std::string, std::string> got;
        std::string base = target + src_;
        for (const auto& e : fs::recursive_directory_iterator(base))
          if (e.is_regular_file())
            got[fs::relative(e.path(), base).string()] =
                Hex(Sha256::Of(ReadFileToString(e.path().string())));
        EXPECT_EQ(got, it->second) << "restore of " << BackupId(last) << " differs";
      } else {
        ADD_FAILURE() << "no snapshot for " << BackupId(last);
      }
      fs::remove_all(target);
    }
    for (const auto& p : placed) {
      ::unlink(p.c_str());
      ::unlink(SignaturePath(p).c_str());
    }
    return checked;
  }

  std::string root_, src_, vault_dir_, identity_, recipient_;
  test::FakeClock clock_{1767236400};  // 2026-01-01T03:00:00Z
  Config cfg_;
  std::unique_ptr<Workspace> ws_;
  RecordingProgress progress_;
};

// ---------------------------------------------------------------------------------------
// 410 days of `run` (backup, then sync) against the file vault.

TEST_F(SyncTest, FourHundredDaysUnderTheCapNothingDeletedEarlyEverySetRestorable) {
  constexpr int kDays = 410;
  constexpr int kMinDays = 90;
  const uint64_t kCap = (std::getenv("CAP") ? std::stoull(std::getenv("CAP")) : 46ull) << 20;
  const size_t kBurstBytes = (std::getenv("BURST") ? std::stoull(std::getenv("BURST")) : 6) << 20;
  const int kBurstDay = 302;
  Open("size_limit = " + std::to_string(kCap) + "\nmin_storage_days = " + std::to_string(kMinDays) +
           "\nkeep_local_sets = 0\nbacklog = \"all\"\n",
       /*max_incrementals=*/6);
  FileVault vault(vault_dir_, clock_);
  vault.Create();

  std::mt19937_64 rng(20260101);
  std::map<int64_t, std::map<std::string, std::string>> snapshots;  // backup time -> tree
  std::map<std::string, int> upload_day;                            // archive id -> day seen
  int64_t newest_uploaded_set = -1;
  int next_file = 0;
  int pruned_sets = 0, no_space_days = 0, failures = 0, restorable_checks = 0;
  auto fail = [&](int day, const std::string& what) {
    ADD_FAILURE() << "day " << day << ": " << what;
    ++failures;
  };

  for (int day = 0; day < kDays && failures < 10; ++day) {
    // Change the source: some days nothing, some a few files, some many, some large.
    int kind = static_cast<int>(rng() % 100);
    // One day brings a file so large that its set cannot fit until older sets age out.
    bool burst = day == kBurstDay;
    int files = kind < 25   ? 0
                : kind < 75 ? 1 + static_cast<int>(rng() % 3)
                : kind < 93 ? 8 + static_cast<int>(rng() % 8)
                            : 1;
    size_t lo = kind >= 93 ? 400 << 10 : 4 << 10, hi = kind >= 93 ? 1200 << 10 : 48 << 10;
    if (burst) files = 1, lo = kBurstBytes, hi = kBurstBytes + 1;
    for (int i = 0; i < files; ++i) {
      bool add = next_file < 12 || rng() % 3 == 0;
      int n = add ? next_file++ : static_cast<int>(rng() % next_file);
      WriteSource("d" + std::to_string(n % 4) + "/f" + std::to_string(n),
                  RandomBytes(rng, lo + rng() % (hi - lo)));
    }
    uint64_t total = 0;  // keep the tree under ~2.5 MiB outside the burst
    std::vector<fs::path> present;
    for (const auto& e : fs::recursive_directory_iterator(src_))
      if (e.is_regular_file()) total += e.file_size(), present.push_back(e.path());
    while (!burst && total > (5u << 19) && present.size() > 4) {
      size_t k = rng() % present.size();
      total -= fs::file_size(present[k]);
      fs::remove(present[k]);
      present.erase(present.begin() + static_cast<long>(k));
    }

    auto before = Listing();
    BackupResult b = Backup();
    snapshots[b.record.time] = Snapshot();
    bool no_space = false;
    progress_.Clear();
    try {
      SyncResult r = Sync(vault);
      pruned_sets += static_cast<int>(r.pruned_sets.size());
    } catch (const Error& e) {
      if (e.code() != Code::kNoSpace) throw;
      no_space = true;
      ++no_space_days;
      EXPECT_THAT(e.what(), HasSubstr("nothing was uploaded"));
    }
    auto after = Listing();
    const int64_t now = clock_.NowSeconds();

    // The cap, from the vault's own listing, from Describe(), and from the catalog.
    if (Billed(after) > kCap) fail(day, "vault holds " + std::to_string(Billed(after)) + " > cap");
    VaultInfo vi = vault.Describe();
    if (vi.size_bytes + vi.archive_count * kOverhead != Billed(after))
      fail(day, "Describe() disagrees with the listing");
    if (VaultBilledBytes(*ws_, kOverhead) != Billed(after))
      fail(day, "catalog says " + std::to_string(VaultBilledBytes(*ws_, kOverhead)) +
                    " billed, the vault " + std::to_string(Billed(after)));
    // Nothing younger than the minimum storage duration is ever deleted.
    for (const auto& [id, l] : before) {
      if (after.count(id)) continue;
      if (now - l.created < kMinDays * kDay || day - upload_day[id] < kMinDays)
        fail(day, "archive of set " + std::to_string(l.set) + " deleted after " +
                      std::to_string(day - upload_day[id]) + " days");
    }
    for (const auto& [id, l] : after) {
      if (before.count(id)) continue;
      upload_day[id] = day;
      newest_uploaded_set = std::max(newest_uploaded_set, l.set);
      if (no_space) fail(day, "kNoSpace, yet set " + std::to_string(l.set) + " was uploaded");
    }
    if (no_space) {
      // Liveness: kNoSpace is right only if no ready set could fit, even alone, after
      // deleting what may be deleted (oldest first, never the newest set in the vault).
      std::map<int64_t, std::pair<uint64_t, int64_t>> in_vault;  // set -> bytes, newest upload
      for (const auto& [id, l] : after) {
        auto& v = in_vault[l.set];
        v.first += l.size + kOverhead;
        v.second = std::max(v.second, l.created);
      }
      uint64_t deletable = 0;
      for (auto it = in_vault.begin(); it != in_vault.end() && std::next(it) != in_vault.end();
           ++it) {
        if (now - it->second.second < kMinDays * kDay) break;
        deletable += it->second.first;
      }
      uint64_t could_free = kCap - (Billed(after) - deletable);
      for (const SetRecord& s : ws_->catalog().Sets()) {
        if (!s.completed || s.uploaded || s.pruned) continue;
        uint64_t estimate = 64 << 10;  // tar headers, catalog copy, overhead: generous
        for (const BackupRecord& br : ws_->catalog().BackupsOfSet(s.id))
          estimate += br.archive_size;
        if (estimate <= could_free)
          fail(day, "kNoSpace, yet set " + std::to_string(s.id) + " (about " +
                        std::to_string(estimate >> 10) + " KiB) fits alone in the " +
                        std::to_string(could_free >> 10) + " KiB that deleting old sets frees");
      }
    }
    if (no_space && after.size() != before.size())
      fail(day, "kNoSpace, yet " + std::to_string(before.size() - after.size()) +
                    " archive(s) were deleted from the vault");
    // The newest set ever uploaded is always there, and each set is there at most once.
    bool newest_there = newest_uploaded_set < 0;
    for (const auto& [id, l] : after) newest_there |= l.set == newest_uploaded_set;
    if (!newest_there)
      fail(day, "newest uploaded set " + std::to_string(newest_uploaded_set) + " is gone");
    for (const auto& [set, n] : CountPerSet(after))
      if (n != 1)
        fail(day,
             "set " + std::to_string(set) + " is in the vault " + std::to_string(n) + " times");
    // After a successful sync every complete set is in the vault; the cache keeps only
    // what is not (keep_local_sets = 0).
    for (const SetRecord& s : ws_->catalog().Sets()) {
      if (s.pruned) continue;
      bool in_vault = false;
      for (const auto& [id, l] : after) in_vault |= l.set == s.id;
      if (!no_space && s.completed && !in_vault)
        fail(day, "complete set " + std::to_string(s.id) + " is not in the vault after sync");
      for (const BackupRecord& br : ws_->catalog().BackupsOfSet(s.id)) {
        bool cached = PathExists(ws_->ArchivePath(br.name));
        if (!in_vault && !cached) fail(day, br.name + " is neither cached nor in the vault");
        if (in_vault && cached)
          fail(day, br.name + " is still cached though its set is in the vault");
      }
    }
    if (std::getenv("GB_SIM_TRACE"))
      std::printf("day %3d set %lld %s billed %6.2f MiB archives %zu%s\n", day,
                  static_cast<long long>(b.record.set_id), b.full ? "full" : "incr",
                  Billed(after) / 1048576.0, after.size(), no_space ? " NO SPACE" : "");
    if (day == 150 || day == 305 || day == kDays - 1) {
      SCOPED_TRACE("restorability check on day " + std::to_string(day));
      restorable_checks += CheckVaultRestorable(vault, snapshots);
    }
    clock_.AdvanceSeconds(kDay);
  }
  // The scenario did what it was meant to: pruning many times, at least one day the cap
  // could not be honoured, sets checked for restorability.
  EXPECT_GE(pruned_sets, 30);
  EXPECT_GE(no_space_days, 1);
  EXPECT_GE(restorable_checks, 20);
  RecordProperty("pruned_sets", pruned_sets);
  RecordProperty("no_space_days", no_space_days);
}

// ---------------------------------------------------------------------------------------
// A lagging (Glacier-like) vault: inventories are jobs that finish hours later and list
// the vault as it was when they were requested.

// Fails or expires chosen inventory jobs (by the order they were started), counts starts.
class ScriptedJobsVault : public VaultWrapper {
 public:
  using VaultWrapper::VaultWrapper;
  std::string StartInventory() override {
    std::string id = VaultWrapper::StartInventory();
    index_[id] = static_cast<int>(started.size());
    started.push_back(id);
    return id;
  }
  JobInfo DescribeJob(const std::string& id) override {
    int i = index_.count(id) ? index_[id] : -1;
    if (expire_on_describe.count(i)) throw Error(Code::kNotFound, "job " + id + " expired");
    JobInfo j = VaultWrapper::DescribeJob(id);
    if (fail.count(i) && j.status == JobStatus::kSucceeded) {
      j.status = JobStatus::kFailed;
      j.status_message = "injected failure";
    }
    return j;
  }
  void ReadJobOutput(const std::string& id, std::optional<ByteRange> range,
                     ByteSink& out) override {
    int i = index_.count(id) ? index_[id] : -1;
    if (expire_on_read.count(i)) throw Error(Code::kNotFound, "job " + id + " output expired");
    VaultWrapper::ReadJobOutput(id, range, out);
  }
  std::vector<std::string> started;
  std::set<int> fail, expire_on_describe, expire_on_read;

 private:
  std::map<std::string, int> index_;
};

constexpr const char* kLagging =
    "min_storage_days = 0\nkeep_local_sets = 0\ninventory_max_age_days = 7\n"
    "inventory_min_interval_days = 2\n";

TEST_F(SyncTest, LaggingInventoryNeitherResurrectsNorLosesArchivesAndReportsStrangers) {
  Open(kLagging, 0);
  auto file = std::make_unique<FileVault>(vault_dir_, clock_);
  FileVault& raw = *file;
  test::GlacierLikeVault vault(std::move(file), clock_, 4 * 3600);
  vault.Create();
  const int64_t t0 = clock_.NowSeconds();
  auto day = [&](int d) {
    clock_.AdvanceSeconds(t0 + d * kDay - clock_.NowSeconds());
    std::mt19937_64 rng(d);
    WriteSource("f", RandomBytes(rng, 40 << 10));
  };
  auto upload_of = [&](int64_t set) {
    for (const auto& a : State().Archives(true))
      if (a.set_id == set && a.origin == "here") return a.archive_id;
    return std::string();
  };

  day(0);  // set 1; the first inventory is requested (before the upload: it misses set 1)
  Backup();
  SyncResult r = Sync(vault);
  EXPECT_TRUE(r.inventory_requested);
  EXPECT_EQ(r.uploaded.size(), 1u);
  day(1);  // the inventory arrives without set 1: set 1 must not vanish, nor be reported
  Backup();
  progress_.Clear();
  r = Sync(vault);
  EXPECT_EQ(r.inventories_reconciled, 1);
  EXPECT_FALSE(r.inventory_requested) << "the last inventory is one day old";
  EXPECT_EQ(progress_.warnings, std::vector<std::string>{});
  const std::string set1 = upload_of(1), set2 = upload_of(2);
  ASSERT_FALSE(set1.empty());
  ASSERT_FALSE(set2.empty());
  EXPECT_TRUE(State().FindArchive(set1)->deleted_here == std::nullopt);
  EXPECT_EQ(VaultBilledBytes(*ws_, kOverhead), Billed(Listing()));

  // Day 8: a cap that fits two sets; set 3 forces set 1 out after the inventory was requested.
  uint64_t cap = Billed(Listing()) + Listing().begin()->second.size / 2;
  Open(std::string(kLagging) + "size_limit = " + std::to_string(cap) + "\n", 0);
  day(8);
  Backup();
  // Strangers in the vault: one not ours, one of glacier-backup from another host.
  std::string junk(3000, 'x');
  SpanSource js(AsBytes(junk));
  std::string foreign = raw.Upload(js, "holiday photos").archive_id;
  std::string other = raw.Upload(js, R"({"tool":"glacier-backup","format":1,"kind":"bundle",)"
                                     R"("host":"otherhost","set":7,"token":"abc"})")
                          .archive_id;
  r = Sync(vault);
  EXPECT_TRUE(r.inventory_requested);
  EXPECT_EQ(r.pruned_sets, std::vector<int64_t>{1});
  const std::string set3 = upload_of(3);
  ASSERT_FALSE(set3.empty());

  Open(kLagging, 0);  // no cap from here on: nothing else is pruned
  day(9);             // the inventory of day 8 lists set 1 (deleted since) and misses set 3 (newer)
  progress_.Clear();
  r = Sync(vault);
  EXPECT_EQ(r.inventories_reconciled, 1);
  EXPECT_TRUE(State().FindArchive(set1)->deleted_here.has_value()) << "set 1 came back";
  EXPECT_FALSE(progress_.Warned(set1)) << progress_.AllWarnings();
  EXPECT_FALSE(progress_.Warned(set3)) << progress_.AllWarnings();
  std::set<std::string> known;
  for (const auto& a : State().Archives()) known.insert(a.archive_id);
  EXPECT_EQ(known, (std::set<std::string>{set2, set3, foreign, other}));
  EXPECT_TRUE(progress_.Warned(foreign)) << progress_.AllWarnings();
  EXPECT_TRUE(progress_.Warned("not written by glacier-backup")) << progress_.AllWarnings();
  EXPECT_TRUE(progress_.Warned("otherhost")) << progress_.AllWarnings();
  EXPECT_EQ(r.warnings, 2) << progress_.AllWarnings();
  EXPECT_EQ(VaultBilledBytes(*ws_, kOverhead), Billed(Listing())) << "strangers count too";
  EXPECT_EQ(r.vault_bytes, Billed(Listing()));

  // Set 2 disappears behind our back; the next inventory (day 16) must report it.
  raw.Delete(set2);
  day(16);
  r = Sync(vault);
  EXPECT_TRUE(r.inventory_requested);
  day(17);
  progress_.Clear();
  r = Sync(vault);
  EXPECT_EQ(r.inventories_reconciled, 1);
  EXPECT_TRUE(progress_.Warned(set2)) << progress_.AllWarnings();
  EXPECT_TRUE(progress_.Warned("missing from the vault inventory")) << progress_.AllWarnings();
  EXPECT_FALSE(progress_.Warned(set3)) << progress_.AllWarnings();
}

TEST_F(SyncTest, InventoryRequestedOnlyWhenOldAndNotTooOftenFailedAndExpiredJobsRetried) {
  Open(kLagging, 0);
  auto glacier = std::make_unique<test::GlacierLikeVault>(
      std::make_unique<FileVault>(vault_dir_, clock_), clock_, 4 * 3600);
  ScriptedJobsVault vault(std::move(glacier));
  vault.Create();
  vault.fail = {1};
  vault.expire_on_describe = {3};
  vault.expire_on_read = {5};
  const int64_t t0 = clock_.NowSeconds();
  std::vector<double> requested_days;
  for (int half_days = 0; half_days < 80; ++half_days) {
    progress_.Clear();
    SyncResult r = Sync(vault);
    if (r.inventory_requested) requested_days.push_back((clock_.NowSeconds() - t0) / double(kDay));
    clock_.AdvanceSeconds(kDay / 2);
  }
  // Every 7 days after the last inventory, 2 days after a failed or expired one.
  EXPECT_EQ(requested_days, (std::vector<double>{0, 7, 9, 16, 18, 25, 27, 34}));
  ASSERT_EQ(vault.started.size(), requested_days.size());
  std::vector<std::string> statuses;
  for (const std::string& id : vault.started) {
    auto j = State().FindJob(id);
    statuses.push_back(j ? JobRecordStatusText(j->status) : "unrecorded");
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"Done", "Failed", "Done", "Expired", "Done",
                                                "Expired", "Done", "Done"}));
  auto failed = State().FindJob(vault.started[1]);
  ASSERT_TRUE(failed);
  EXPECT_THAT(failed->message, HasSubstr("injected failure"));
}

// A lost response made the uploader send a set twice: the second copy is found by its
// token, deleted, and recorded; the set is in the vault exactly once.
TEST_F(SyncTest, DuplicateLeftByARetriedUploadIsDeletedAndAccountedFor) {
  Open("min_storage_days = 0\n", 0);
  FileVault vault(vault_dir_, clock_);
  vault.Create();
  WriteSource("f", std::string(50000, 'a'));
  Backup();
  Sync(vault);
  auto listing = Listing();
  ASSERT_EQ(listing.size(), 1u);
  const Listed first = listing.begin()->second;
  std::string body = ReadFileToString(vault_dir_ + "/archives/" + first.id);
  SpanSource src(AsBytes(body));
  clock_.AdvanceSeconds(60);
  std::string dup = vault.Upload(src, first.description).archive_id;
  clock_.AdvanceSeconds(3600);
  progress_.Clear();
  SyncResult r = Sync(vault);
  EXPECT_TRUE(progress_.Warned("duplicate")) << progress_.AllWarnings();
  listing = Listing();
  EXPECT_EQ(listing.size(), 1u);
  EXPECT_TRUE(listing.count(first.id));
  auto rec = State().FindArchive(dup);
  ASSERT_TRUE(rec) << "the duplicate is not accounted for in the catalog";
  EXPECT_TRUE(rec->deleted_here.has_value());
  EXPECT_EQ(VaultBilledBytes(*ws_, kOverhead), Billed(listing));
  progress_.Clear();
  Sync(vault);
  EXPECT_EQ(progress_.warnings, std::vector<std::string>{});
}

TEST_F(SyncTest, SetLargerThanTheCapIsNoSpaceNothingUploadedClearMessage) {
  Open("size_limit = \"64 KiB\"\nmin_storage_days = 0\n", 0);
  FileVault vault(vault_dir_, clock_);
  vault.Create();
  std::mt19937_64 rng(1);
  WriteSource("big", RandomBytes(rng, 200 << 10));
  BackupResult b = Backup();
  try {
    Sync(vault);
    ADD_FAILURE() << "no kNoSpace";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kNoSpace);
    EXPECT_THAT(e.what(), HasSubstr("nothing was uploaded"));
    EXPECT_THAT(e.what(), HasSubstr("size_limit"));
    EXPECT_THAT(e.what(), Not(HasSubstr("0.00 GiB"))) << "sizes unreadable at this scale";
  }
  EXPECT_TRUE(Listing().empty());
  EXPECT_TRUE(State().Archives(true).empty());
  EXPECT_TRUE(PathExists(ws_->ArchivePath(b.record.name)));
  EXPECT_FALSE(ws_->catalog().GetSet(b.record.set_id)->uploaded);
}

// A set that cannot fit must not keep every later set out of the vault.
TEST_F(SyncTest, SetThatCannotFitDoesNotBlockLaterSets) {
  Open("size_limit = \"256 KiB\"\nmin_storage_days = 0\n", 0);
  FileVault vault(vault_dir_, clock_);
  vault.Create();
  std::mt19937_64 rng(2);
  WriteSource("big", RandomBytes(rng, 400 << 10));
  Backup();  // set 1: larger than the cap
  EXPECT_THROW(Sync(vault), Error);
  fs::remove(src_ + "/big");
  WriteSource("small", RandomBytes(rng, 20 << 10));
  clock_.AdvanceSeconds(kDay);
  Backup();  // set 2: fits easily
  try {
    Sync(vault);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kNoSpace) << e.what();
  }
  EXPECT_EQ(CountPerSet(Listing())[2], 1) << "set 2 fits but was not uploaded";
}

// Two sets are ready and only one fits: one of them should go up.
TEST_F(SyncTest, BacklogOfReadySetsUploadsWhatFits) {
  Open("size_limit = \"100 KiB\"\nmin_storage_days = 0\n", 0);
  FileVault vault(vault_dir_, clock_);
  vault.Create();
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2; ++i) {
    WriteSource("f", RandomBytes(rng, 60 << 10));
    Backup();  // sets 1 and 2, each about 60 KiB; no sync in between (offline)
    clock_.AdvanceSeconds(kDay);
  }
  try {
    Sync(vault);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kNoSpace) << e.what();
  }
  EXPECT_EQ(Listing().size(), 1u) << "one set fits the cap but neither was uploaded";
}

// ---------------------------------------------------------------------------------------
// backlog = "newest": under a cap too small for the cadence the vault keeps the newest data.

struct BacklogSim {
  int days = 200;
  int min_days = 90;
  uint64_t cap = 110ull << 20;
  int max_incrementals = 6;  // a set a week
  int files = 21;            // the full backup: files x file_bytes
  size_t file_bytes = 1 << 20;
  int staleness_bound_days = 30;  // the newest vault backup is never older
  int switch_backlog_every = 0;   // > 0: alternate "newest" and "all" every so many days
  int restore_check_day = -1;     // also check restorability on this day (and the last)
};

struct BacklogSimResult {
  int uploads = 0, superseded = 0, no_space_days = 0, restorable = 0;
  int max_staleness_days = 0;
  uint64_t max_cache_bytes = 0;
};

class BacklogTest : public SyncTest {
 protected:
  uint64_t CacheBytes() {
    uint64_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_ + "/cache"))
      if (e.is_regular_file() && e.path().filename().string().find(".age") != std::string::npos)
        n += e.file_size();
    return n;
  }

  BacklogSimResult Simulate(const BacklogSim& sim) {
    BacklogSimResult res;
    auto open = [&](const std::string& backlog) {
      Open("size_limit = " + std::to_string(sim.cap) +
               "\nmin_storage_days = " + std::to_string(sim.min_days) +
               "\nkeep_local_sets = 0\nbacklog = \"" + backlog + "\"\n",
           sim.max_incrementals);
    };
    std::string backlog = "newest";
    open(backlog);
    FileVault vault(vault_dir_, clock_);
    vault.Create();
    std::mt19937_64 rng(20261207);
    std::map<std::string, std::string> tree;                          // path -> SHA-256
    std::map<int64_t, std::map<std::string, std::string>> snapshots;  // backup time -> tree
    std::map<std::string, int> upload_day;
    std::set<int64_t> ever_uploaded;
    int64_t newest_uploaded_set = -1;
    int failures = 0;
    auto fail = [&](int day, const std::string& what) {
      ADD_FAILURE() << "day " << day << " (backlog " << backlog << "): " << what;
      ++failures;
    };
    auto write = [&](int i) {
      std::string data = RandomBytes(rng, sim.file_bytes);
      std::string rel = "f" + std::to_string(i);
      WriteSource(rel, data);
      tree[rel] = Hex(Sha256::Of(data));
    };
    for (int i = 0; i < sim.files; ++i) write(i);

    for (int day = 0; day < sim.days && failures < 10; ++day) {
      if (sim.switch_backlog_every > 0 && day > 0 && day % sim.switch_backlog_every == 0) {
        backlog = backlog == "newest" ? "all" : "newest";
        open(backlog);
      }
      if (day > 0) write(day % sim.files);
      auto before = Listing();
      BackupResult b = Backup();
      snapshots[b.record.time] = tree;
      bool no_space = false;
      std::string no_space_msg;
      SyncResult r;
      try {
        r = Sync(vault);
        res.superseded += static_cast<int>(r.superseded_sets.size());
      } catch (const Error& e) {
        if (e.code() != Code::kNoSpace) throw;
        no_space = true;
        no_space_msg = e.what();
        ++res.no_space_days;
      }
      auto after = Listing();
      const int64_t now = clock_.NowSeconds();

      if (Billed(after) > sim.cap)
        fail(day, "vault holds " + std::to_string(Billed(after)) + " > cap");
      for (const auto& [id, l] : before)
        if (!after.count(id) && day - upload_day[id] < sim.min_days)
          fail(day, "set " + std::to_string(l.set) + " deleted after " +
                        std::to_string(day - upload_day[id]) + " days");
      int uploaded_today = 0;
      for (const auto& [id, l] : after) {
        if (before.count(id)) continue;
        upload_day[id] = day;
        ++uploaded_today, ++res.uploads;
        ever_uploaded.insert(l.set);
        newest_uploaded_set = std::max(newest_uploaded_set, l.set);
      }
      bool newest_there = newest_uploaded_set < 0;
      int64_t newest_in_vault = -1;
      for (const auto& [id, l] : after) {
        newest_there |= l.set == newest_uploaded_set;
        newest_in_vault = std::max(newest_in_vault, l.set);
      }
      if (!newest_there) fail(day, "newest uploaded set is gone");
      // Staleness: the age of the newest backup the vault holds.
      int staleness = -1;
      if (newest_in_vault >= 0) {
        int64_t t = ws_->catalog().BackupsOfSet(newest_in_vault).back().time;
        staleness = static_cast<int>((now - t) / kDay);
        res.max_staleness_days = std::max(res.max_staleness_days, staleness);
        if (backlog == "newest" && sim.switch_backlog_every == 0 &&
            staleness > sim.staleness_bound_days)
          fail(day, "the newest vault backup is " + std::to_string(staleness) + " days old");
      }
      if (no_space && backlog == "newest") {
        if (uploaded_today) fail(day, "kNoSpace though a set was uploaded");
        if (staleness >= 0 && staleness <= 30)
          fail(day, "kNoSpace though the vault is only " + std::to_string(staleness) +
                        " days stale: " + no_space_msg);
        EXPECT_THAT(no_space_msg, HasSubstr("max_staleness_days"));
      }
      if (!no_space && backlog == "newest" && !uploaded_today && staleness > 30) {
        bool waiting = false;
        for (const SetRecord& s : ws_->catalog().Sets())
          waiting |= s.completed && !s.uploaded && !s.pruned;
        if (waiting) fail(day, "stale and nothing uploaded, yet no kNoSpace");
      }
      if (backlog == "newest" && !no_space && r.warnings > 0)
        fail(day, "warnings in a quiet run:\n" + progress_.AllWarnings());
      // The cache: bounded, and it holds everything not safely in the vault.
      uint64_t cache = CacheBytes();
      res.max_cache_bytes = std::max(res.max_cache_bytes, cache);
      if (!no_space && r.cache_limit && cache > r.cache_limit)
        fail(day, "cache " + std::to_string(cache) + " above its limit");
      for (const SetRecord& s : ws_->catalog().Sets()) {
        bool in_vault = false;
        for (const auto& [id, l] : after) in_vault |= l.set == s.id;
        if (s.pruned) {
          // Dropped without ever being stored: only for a newer set that is.
          if (!ever_uploaded.count(s.id) && newest_in_vault <= s.id)
            fail(day, "set " + std::to_string(s.id) + " dropped, no newer set in the vault");
          continue;
        }
        for (const BackupRecord& br : ws_->catalog().BackupsOfSet(s.id))
          if (!in_vault && !PathExists(ws_->ArchivePath(br.name)))
            fail(day, br.name + " is neither cached nor in the vault");
      }
      if (std::getenv("GB_SIM_TRACE"))
        std::printf("day %3d %s set %lld billed %6.2f MiB sets %zu stale %d cache %.1f MiB%s\n",
                    day, backlog.c_str(), static_cast<long long>(b.record.set_id),
                    Billed(after) / 1048576.0, after.size(), staleness, cache / 1048576.0,
                    no_space ? " NO SPACE" : "");
      if (day == sim.restore_check_day || day == sim.days - 1) {
        SCOPED_TRACE("restorability check on day " + std::to_string(day));
        res.restorable += CheckVaultRestorable(vault, snapshots);
      }
      clock_.AdvanceSeconds(kDay);
    }
    return res;
  }
};

// The issue's numbers: 4 sets of ~27 MiB fit in 110 MiB and each must stay 90 days, so
// one set can go up about every 23 days; a set completes weekly, so the newest vault
// backup gets up to about 30 days old, never more.
TEST_F(BacklogTest, TwoHundredDaysTightCapVaultKeepsTheNewestData) {
  BacklogSim sim;
  sim.restore_check_day = 120;
  BacklogSimResult r = Simulate(sim);
  EXPECT_GE(r.uploads, 8);
  EXPECT_GE(r.superseded, 12) << "waiting sets were not superseded";
  EXPECT_EQ(r.no_space_days, 0);
  EXPECT_LE(r.max_staleness_days, 30);
  EXPECT_LE(r.max_cache_bytes, 6 * (28ull << 20)) << "the cache grew beyond a few sets";
  EXPECT_GE(r.restorable, 8);
  SteadyState st = EstimateSteadyState(ws_->catalog(), cfg_, 90, kOverhead, PricesFor(cfg_));
  EXPECT_TRUE(st.too_small);
  EXPECT_EQ(st.sets_fit, 4);
  EXPECT_EQ(st.upload_interval_days, 23);
  EXPECT_EQ(st.max_staleness_days, 30);
  EXPECT_EQ(st.sets_needed, 13);
  std::string p = DescribeSteadyState(st, "newest");
  EXPECT_THAT(p, HasSubstr("every 23 days"));
  EXPECT_THAT(p, HasSubstr("30 days old"));
  EXPECT_THAT(p, HasSubstr("size_limit = \""));
}

// DEEP_ARCHIVE's 180 days: one set every 45 days, the newest copy up to 52 days old, so
// runs that upload nothing fail (exit 9) once it is over max_staleness_days (30).
TEST_F(BacklogTest, DeepArchiveHundredEightyDaysNewestCopyWithinTheBound) {
  BacklogSim sim;
  sim.days = 180;
  sim.min_days = 180;
  sim.staleness_bound_days = 52;
  BacklogSimResult r = Simulate(sim);
  EXPECT_GE(r.uploads, 4);
  EXPECT_GT(r.no_space_days, 0) << "a vault more than 30 days stale must be an error";
  EXPECT_LE(r.max_staleness_days, 52);
  EXPECT_GE(r.restorable, 4);
}

// Switching backlog between runs drops nothing that a newer vault copy does not replace.
TEST_F(BacklogTest, SwitchingBacklogBetweenRunsLosesNothingNotInTheVault) {
  BacklogSim sim;
  sim.days = 70;
  sim.min_days = 10;
  sim.max_incrementals = 1;
  sim.files = 3;
  sim.file_bytes = 64 << 10;
  sim.cap = 600 << 10;  // two sets of ~256 KiB; five would be needed
  sim.switch_backlog_every = 6;
  sim.restore_check_day = 35;
  BacklogSimResult r = Simulate(sim);
  EXPECT_GE(r.superseded, 3);
  EXPECT_GE(r.restorable, 4);
}

// A cap that takes every set: every set goes up the day it completes, in order.
TEST_F(BacklogTest, GenerousCapEverySetGoesUpInOrder) {
  Open("size_limit = \"50 MiB\"\nmin_storage_days = 10\nkeep_local_sets = 0\n", 1);
  FileVault vault(vault_dir_, clock_);
  vault.Create();
  std::mt19937_64 rng(5);
  std::vector<int64_t> order;
  for (int day = 0; day < 40; ++day) {
    WriteSource("f" + std::to_string(day % 3), RandomBytes(rng, 64 << 10));
    Backup();
    SyncResult r = Sync(vault);
    EXPECT_TRUE(r.superseded_sets.empty());
    EXPECT_TRUE(r.backlog_line.empty()) << r.backlog_line;
    for (const std::string& u : r.uploaded) order.push_back(std::stoll(u.substr(4)));
    for (const SetRecord& s : ws_->catalog().Sets()) {
      if (s.completed) {
        EXPECT_TRUE(s.uploaded) << "day " << day << " set " << s.id << " waits";
      }
    }
    clock_.AdvanceSeconds(kDay);
  }
  ASSERT_EQ(order.size(), 20u);
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], static_cast<int64_t>(i) + 1);
}

// With nothing uploadable the cache stops at its limit with an error naming the cause.
TEST_F(BacklogTest, CacheLimitReachedWithNothingUploadableIsAnErrorNamingTheCause) {
  Open("size_limit = \"64 KiB\"\nmin_storage_days = 0\n", 0);
  std::string toml = ReadFileToString(root_ + "/config.toml");
  toml.replace(toml.find("[backup]\n"), 9, "[backup]\ncache_limit = \"500 KiB\"\n");
  WriteFileAtomic(root_ + "/config.toml", toml);
  ws_.reset();
  cfg_ = LoadConfig(root_ + "/config.toml");
  ws_ = std::make_unique<Workspace>(cfg_);
  FileVault vault(vault_dir_, clock_);
  vault.Create();
  std::mt19937_64 rng(6);
  std::string sync_error, backup_error;
  for (int day = 0; day < 8; ++day) {
    WriteSource("big", RandomBytes(rng, 200 << 10));  // every set is larger than the cap
    try {
      Backup();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Code::kNoSpace);
      backup_error = e.what();
    }
    try {
      Sync(vault);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Code::kNoSpace);
      sync_error = e.what();
    }
    // The backup stops at the limit: the cache grows by at most the archive that reached it.
    EXPECT_LE(ws_->CachedArchiveBytes(), (500u << 10) + (210u << 10)) << "day " << day;
    clock_.AdvanceSeconds(kDay);
  }
  EXPECT_THAT(sync_error, HasSubstr("cache_limit"));
  EXPECT_THAT(sync_error, HasSubstr("too small for the backup cadence"));
  EXPECT_THAT(backup_error, HasSubstr("at its limit [backup] cache_limit"));
  EXPECT_THAT(backup_error, HasSubstr("glacier-backup sync"));
  EXPECT_TRUE(Listing().empty());
}

}  // namespace
}  // namespace gb
