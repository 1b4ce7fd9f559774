// Disaster recovery, in process: back up through several sets, sync to a
// file:// vault, lose the state and the cache, recover into a fresh
// workspace, and compare what the catalog says and what restores with what
// was backed up. Also: recovering from archive files alone, a lagging
// (Glacier-like) vault that makes recover wait, and verify --vault.
#include "engine/recover.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "archive/manifest.h"
#include "catalog/vault_state.h"
#include "core/file.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "crypto/identity_file.h"
#include "engine/archive_name.h"
#include "engine/archive_signature.h"
#include "engine/backup.h"
#include "engine/cold_restore.h"
#include "engine/engine_test_util.h"
#include "engine/point.h"
#include "engine/restore.h"
#include "engine/retrieval.h"
#include "engine/sync.h"
#include "engine/vault_verify.h"
#include "vault/file_vault.h"
#include "vault/vault_test_doubles.h"
#include "vault/vault_wrapper.h"

namespace gb {
namespace {

namespace fs = std::filesystem;
using test::FakeClock;
using test::RandomText;
using test::RecordingProgress;
using test::ScanTree;
using test::TrustedSigningKey;
using test::WriteText;

// Glacier accepts a retrieval range that ends at the archive's end; the test
// double wants whole MiBs, so such a range is passed on as "to the end".
class GlacierDouble : public test::GlacierLikeVault {
 public:
  using GlacierLikeVault::GlacierLikeVault;
  std::string StartRetrieval(const std::string& id, Tier tier,
                             std::optional<ByteRange> range) override {
    ++retrievals_started;
    if (range && range->length != ByteRange::kToEnd && range->length % kTreeHashChunkSize)
      range->length = ByteRange::kToEnd;
    return GlacierLikeVault::StartRetrieval(id, tier, range);
  }
  std::string StartInventory() override {
    ++inventories_started;
    return GlacierLikeVault::StartInventory();
  }
  int retrievals_started = 0, inventories_started = 0;
};

std::string Describe(const BackupRecord& b) {
  return BackupId(b) + " set=" + std::to_string(b.set_id) + " seq=" + std::to_string(b.seq) +
         " time=" + std::to_string(b.time) + " size=" + std::to_string(b.archive_size) +
         " sha=" + b.archive_sha256 + " files=" + std::to_string(b.files) +
         " bytes=" + std::to_string(b.bytes) + " deleted=" + std::to_string(b.deleted) +
         " skipped=" + std::to_string(b.skipped) + " host=" + b.host;
}

// Every backup and every entry row, as text; `sparse` off drops the walk's
// sparse guess, which only a catalog copy carries exactly.
std::vector<std::string> DumpCatalog(Catalog& c, bool sparse = true) {
  std::vector<std::string> out;
  for (const BackupRecord& b : c.Backups()) {
    out.push_back(Describe(b));
    auto cur = c.EntriesOf(b.set_id, b.seq);
    while (cur->Next()) {
      nlohmann::json j = EntryToJson(cur->entry());
      if (!sparse) j.erase("sparse");
      out.push_back("  " + j.dump());
    }
  }
  return out;
}

std::vector<std::string> ArchivesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (ArchiveName::Parse(n) && n.find(kArchiveSuffix) != std::string::npos) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

class RecoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "gb-recover-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    src_ = root_ + "/src";
    vault_dir_ = root_ + "/vault";
    aside_ = root_ + "/archives";
    fs::create_directories(src_);
    fs::create_directories(aside_);
    age::X25519Identity id = age::X25519Identity::Generate();
    age::WriteIdentityFile(root_ + "/identity.txt", id, clock_);
    recipient_ = id.Recipient().ToString();
  }
  void TearDown() override { fs::remove_all(root_); }

  // A machine: its own state and cache, the shared source, vault and key.
  Config MachineConfig(const std::string& name, const std::string& extra = "") {
    std::string path = root_ + "/" + name + ".toml";
    WriteText(path, "[source]\nincludes = [\"" + src_ + "\"]\n[backup]\ncache_dir = \"" + root_ +
                        "/" + name + "/cache\"\nstate_dir = \"" + root_ + "/" + name +
                        "/state\"\nmax_incrementals = 1\n[encryption]\n" +
                        TrustedSigningKey(root_) + "recipients = [\"" + recipient_ +
                        "\"]\nidentity_file = \"" + root_ +
                        "/identity.txt\"\n[vault]\nurl = \"file://" + vault_dir_ + "\"\n" + extra);
    return LoadConfig(path);
  }

  std::unique_ptr<Vault> FileVaultNow() {
    auto v = std::make_unique<FileVault>(vault_dir_, clock_);
    v->Create();
    return v;
  }

  void Generation(int g) {
    switch (g) {
      case 1:
        WriteText(src_ + "/a.txt", "alpha\n");
        WriteText(src_ + "/dir/b.txt", RandomText(3000, 1));
        WriteText(src_ + "/big.bin", RandomText(1536 * 1024, 2));  // bundles beyond 1 MiB
        fs::create_symlink("a.txt", src_ + "/link");
        WriteText(src_ + "/hard1", "linked\n");
        fs::create_hard_link(src_ + "/hard1", src_ + "/hard2");
        fs::create_directories(src_ + "/empty");
        break;
      case 2:
        WriteText(src_ + "/a.txt", "alpha, edited\n");
        WriteText(src_ + "/c.txt", "gamma\n");
        fs::remove(src_ + "/dir/b.txt");
        break;
      case 3:
        WriteText(src_ + "/d.txt", RandomText(5000, 3));
        ::chmod((src_ + "/a.txt").c_str(), 0600);
        break;
      case 4:
        fs::rename(src_ + "/c.txt", src_ + "/e.txt");
        // Metadata only: recorded without the content, which stays in the full.
        ::chmod((src_ + "/d.txt").c_str(), 0640);
        ::setxattr((src_ + "/d.txt").c_str(), "user.note", "kept", 4, 0);
        break;
      default:
        WriteText(src_ + "/f" + std::to_string(g) + ".txt", "generation " + std::to_string(g));
        break;
    }
  }

  // Backs up generations 1..n, an hour apart, syncing after `sync_after`
  // ones; archives are also copied aside (sync frees the cache).
  void BackupGenerations(Workspace& ws, Vault* vault, int n, std::set<int> sync_after) {
    for (int g = 1; g <= n; ++g) {
      Generation(g);
      clock_.AdvanceSeconds(3600);
      BackupResult b = RunBackup(ws, progress_, clock_, BackupOptions{});
      trees_[BackupId(b.record)] = ScanTree(src_);
      for (const auto& name : ArchivesIn(ws.config().cache_dir)) {
        fs::copy_file(ws.ArchivePath(name), aside_ + "/" + name, fs::copy_options::skip_existing);
        fs::copy_file(SignaturePath(ws.ArchivePath(name)), SignaturePath(aside_ + "/" + name),
                      fs::copy_options::skip_existing);
      }
      if (vault && sync_after.count(g)) RunSync(ws, *vault, progress_, clock_, SyncOptions{});
    }
  }

  // Restores every backup point the catalog knows and compares it with the
  // tree as it was backed up.
  void ExpectEveryPointRestores(Workspace& ws, const std::vector<std::string>& archive_dirs) {
    for (const BackupRecord& b : ws.catalog().Backups()) {
      std::string id = BackupId(b);
      ASSERT_TRUE(trees_.count(id) && trees_[id].size() > 5) << id;
      RestoreOptions ro;
      ro.at = id;
      ro.target_dir = root_ + "/restore-" + id;
      ro.archive_dirs = archive_dirs;
      RecordingProgress p;
      RestoreResult r = RunRestore(ws, p, ro);
      EXPECT_EQ(r.failed, 0u) << id << "\n" << p.Show();
      EXPECT_EQ(ScanTree(ro.target_dir + src_), trees_[id]) << id;
    }
  }

  FakeClock clock_;
  RecordingProgress progress_;
  std::string root_, src_, vault_dir_, aside_, recipient_;
  std::map<std::string, std::map<std::string, std::string>> trees_;
};

TEST_F(RecoverTest, VaultRecoveryRebuildsTheCatalogAndEveryPointRestores) {
  auto vault = FileVaultNow();
  Config old_cfg = MachineConfig("old");
  std::vector<std::string> before;
  {
    Workspace ws(old_cfg);
    BackupGenerations(ws, vault.get(), 5, {2, 5});  // sets 1 and 2 uploaded, set 3 open
    for (const BackupRecord& b : ws.catalog().Backups())
      if (b.set_id < 3) {
        ASSERT_FALSE(PathExists(ws.ArchivePath(b.name))) << "sync freed the cache";
      }
    std::vector<std::string> all = DumpCatalog(ws.catalog());
    for (const std::string& line : all) {
      if (line.find("set=3") != std::string::npos) break;  // the open set never left the machine
      before.push_back(line);
    }
  }
  ASSERT_EQ(
      std::count_if(before.begin(), before.end(), [](const std::string& l) { return l[0] != ' '; }),
      4);
  ASSERT_GT(before.size(), 20u) << "entries too";
  fs::remove_all(root_ + "/old");  // the machine is lost

  Workspace ws(MachineConfig("new"));
  RecordingProgress p;
  RecoverResult r = RunRecover(ws, *vault, p, clock_, RecoverOptions{});
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.problems, 0) << p.Show();
  EXPECT_EQ(r.bundles, 2);
  EXPECT_EQ(r.retrievals, 2);  // one small ranged retrieval per bundle
  EXPECT_EQ(r.sets_recovered, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r.restorable.size(), 4u);
  EXPECT_EQ(DumpCatalog(ws.catalog()), before);

  VaultState vs(ws.catalog());
  for (const SetRecord& s : ws.catalog().Sets()) {
    EXPECT_TRUE(s.completed) << s.id;
    EXPECT_TRUE(s.uploaded) << s.id;
  }
  int here = 0;
  for (const VaultArchive& a : vs.Archives()) {
    EXPECT_EQ(a.origin, "here");
    EXPECT_TRUE(a.catalog_offset && a.catalog_length);
    ++here;
  }
  EXPECT_EQ(here, 2);
  EXPECT_TRUE(fs::is_empty(root_ + "/new/state/staging")) << "staging cleaned";

  // A second run changes nothing and retrieves nothing.
  size_t jobs = vs.Jobs().size();
  RecoverResult again = RunRecover(ws, *vault, p, clock_, RecoverOptions{});
  EXPECT_TRUE(again.complete);
  EXPECT_EQ(again.retrievals, 0);
  EXPECT_EQ(vs.Jobs().size(), jobs);
  EXPECT_EQ(DumpCatalog(ws.catalog()), before);

  ExpectEveryPointRestores(ws, {aside_});

  // Life goes on: the next backup starts set 3, and sync uploads nothing twice.
  clock_.AdvanceSeconds(3600);
  Generation(9);
  BackupResult next = RunBackup(ws, p, clock_, BackupOptions{});
  EXPECT_EQ(next.record.set_id, 3);
  EXPECT_TRUE(next.full);
  SyncResult s = RunSync(ws, *vault, p, clock_, SyncOptions{});
  EXPECT_TRUE(s.uploaded.empty());
  EXPECT_EQ(s.warnings, 0) << p.Show();
}

TEST_F(RecoverTest, RecoverRefusesACatalogInUseUnlessForced) {
  auto vault = FileVaultNow();
  Workspace ws(MachineConfig("old"));
  BackupGenerations(ws, vault.get(), 2, {2});
  std::vector<std::string> before = DumpCatalog(ws.catalog());
  try {
    RunRecover(ws, *vault, progress_, clock_, RecoverOptions{});
    FAIL() << "recover merged into a catalog in use";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
  }
  RecoverOptions force;
  force.force = true;
  RecoverResult r = RunRecover(ws, *vault, progress_, clock_, force);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.retrievals, 0);
  EXPECT_EQ(DumpCatalog(ws.catalog()), before);
}

TEST_F(RecoverTest, LaggingVaultRecoverWaitsAndContinuesWithoutStartingTwice) {
  constexpr int64_t kJobHours = 4;
  {
    auto vault = std::make_unique<GlacierDouble>(FileVaultNow(), clock_, kJobHours * 3600);
    Workspace ws(MachineConfig("old"));
    BackupGenerations(ws, vault.get(), 4, {4});
  }
  clock_.AdvanceSeconds(2 * 86400);  // the vault's own inventory job is old by now
  GlacierDouble vault(FileVaultNow(), clock_, kJobHours * 3600);
  Workspace ws(MachineConfig("new"));
  VaultState vs(ws.catalog());
  RecordingProgress p;

  RecoverResult r = RunRecover(ws, vault, p, clock_, RecoverOptions{});
  EXPECT_FALSE(r.complete);
  EXPECT_TRUE(r.inventory_pending);
  r = RunRecover(ws, vault, p, clock_, RecoverOptions{});
  EXPECT_TRUE(r.inventory_pending);
  EXPECT_EQ(vault.inventories_started, 1) << "the inventory job was started twice";

  clock_.AdvanceSeconds(kJobHours * 3600);
  r = RunRecover(ws, vault, p, clock_, RecoverOptions{});
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.sets_waiting, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r.retrieval_bytes, 2u * kTreeHashChunkSize) << "one aligned MiB per bundle";
  EXPECT_EQ(vault.retrievals_started, 2);
  r = RunRecover(ws, vault, p, clock_, RecoverOptions{});
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(vault.retrievals_started, 2) << "a retrieval was started twice";

  clock_.AdvanceSeconds(kJobHours * 3600);
  r = RunRecover(ws, vault, p, clock_, RecoverOptions{});
  EXPECT_TRUE(r.complete) << p.Show();
  EXPECT_EQ(r.problems, 0) << p.Show();
  EXPECT_EQ(r.sets_recovered, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(vault.inventories_started, 1);
  EXPECT_EQ(vault.retrievals_started, 2);
  EXPECT_EQ(ws.catalog().Backups().size(), 4u);
  ExpectEveryPointRestores(ws, {aside_});

  // With --wait one call polls until done.
  Workspace other(MachineConfig("other"));
  RecoverOptions wait;
  wait.wait = true;
  RecoverResult w = RunRecover(other, vault, p, clock_, wait);
  EXPECT_TRUE(w.complete);
  EXPECT_GT(w.passes, 2);
  EXPECT_EQ(DumpCatalog(other.catalog()), DumpCatalog(ws.catalog()));
}

// The lost machine's last sync asked Glacier for an inventory, then uploaded another
// set: recover adopts that recent inventory job, whose listing predates the last
// upload. It recovers what the listing shows, asks for a newer inventory and is not
// complete; a later run adds the set the newer inventory lists.
TEST_F(RecoverTest, AnInventoryOlderThanTheLastUploadIsNotTheEnd) {
  constexpr int64_t kJobHours = 4;
  GlacierDouble old_vault(FileVaultNow(), clock_, kJobHours * 3600);
  {
    Workspace ws(MachineConfig("old"));
    BackupGenerations(ws, &old_vault, 2, {2});  // set 1 uploaded
    clock_.AdvanceSeconds(60);
    old_vault.StartInventory();  // lists set 1 only
    for (int g : {3, 4}) {
      Generation(g);
      clock_.AdvanceSeconds(3600);
      RunBackup(ws, progress_, clock_, BackupOptions{});
    }
    RunSync(ws, old_vault, progress_, clock_, SyncOptions{});  // set 2 uploaded
    ASSERT_EQ(ws.catalog().Backups().size(), 4u);
  }
  clock_.AdvanceSeconds(kJobHours * 3600);
  GlacierDouble vault(FileVaultNow(), clock_, kJobHours * 3600);
  Workspace ws(MachineConfig("new"));
  RecordingProgress p;

  RecoverResult r = RunRecover(ws, vault, p, clock_, RecoverOptions{});
  EXPECT_FALSE(r.complete);
  EXPECT_TRUE(r.inventory_outdated) << p.Show();
  EXPECT_EQ(r.bundles, 1) << "the adopted inventory lists set 1 only";
  EXPECT_EQ(vault.inventories_started, 1) << "no newer inventory was requested";
  clock_.AdvanceSeconds(kJobHours * 3600);
  r = RunRecover(ws, vault, p, clock_, RecoverOptions{});  // set 1's retrieval finishes
  EXPECT_EQ(r.sets_recovered, (std::vector<int64_t>{1})) << p.Show();

  clock_.AdvanceSeconds(kJobHours * 3600);
  for (int pass = 0; pass < 3 && !r.complete; ++pass) {
    r = RunRecover(ws, vault, p, clock_, RecoverOptions{});
    clock_.AdvanceSeconds(kJobHours * 3600);
  }
  EXPECT_TRUE(r.complete) << p.Show();
  EXPECT_FALSE(r.inventory_outdated);
  EXPECT_EQ(r.bundles, 2);
  EXPECT_EQ(vault.inventories_started, 1) << "a newer inventory was requested twice";
  EXPECT_EQ(ws.catalog().Backups().size(), 4u) << p.Show();
}

// The only inventory the vault offers predates every upload: recover does not
// conclude "nothing to recover"; it waits for a newer inventory and then recovers.
TEST_F(RecoverTest, AnInventoryThatListsNoneOfOursYetIsWaitedFor) {
  constexpr int64_t kJobHours = 4;
  GlacierDouble old_vault(FileVaultNow(), clock_, kJobHours * 3600);
  old_vault.StartInventory();  // of the empty vault
  clock_.AdvanceSeconds(3600);
  {
    Workspace ws(MachineConfig("old"));
    BackupGenerations(ws, &old_vault, 2, {2});
  }
  clock_.AdvanceSeconds(kJobHours * 3600);
  GlacierDouble vault(FileVaultNow(), clock_, kJobHours * 3600);
  Workspace ws(MachineConfig("new"));
  RecordingProgress p;
  RecoverResult r = RunRecover(ws, vault, p, clock_, RecoverOptions{});
  EXPECT_FALSE(r.complete);
  EXPECT_TRUE(r.inventory_outdated) << p.Show();
  EXPECT_TRUE(r.inventory_pending);
  EXPECT_EQ(vault.inventories_started, 1);

  for (int pass = 0; pass < 4 && !r.complete; ++pass) {
    clock_.AdvanceSeconds(kJobHours * 3600);
    r = RunRecover(ws, vault, p, clock_, RecoverOptions{});
  }
  EXPECT_TRUE(r.complete) << p.Show();
  EXPECT_EQ(r.bundles, 1);
  EXPECT_EQ(ws.catalog().Backups().size(), 2u);
  EXPECT_EQ(vault.inventories_started, 1);
}

// moto's Glacier ignores RetrievalByteRange: every retrieval job's output is the
// whole archive, and its description names no range.
class RangeIgnoringVault : public VaultWrapper {
 public:
  using VaultWrapper::VaultWrapper;
  std::string StartRetrieval(const std::string& id, Tier tier,
                             std::optional<ByteRange> range) override {
    if (range) ++ranges_ignored;
    return VaultWrapper::StartRetrieval(id, tier, std::nullopt);
  }
  int ranges_ignored = 0;
};

TEST_F(RecoverTest, AVaultThatIgnoresRetrievalRangesStillRecoversAndRestoresFromTheVault) {
  {
    auto vault = FileVaultNow();
    Workspace ws(MachineConfig("old"));
    BackupGenerations(ws, vault.get(), 4, {2, 4});
  }
  RangeIgnoringVault vault(FileVaultNow());
  Workspace ws(MachineConfig("new"));
  RecordingProgress p;
  RecoverResult r = RunRecover(ws, vault, p, clock_, RecoverOptions{});
  EXPECT_TRUE(r.complete) << p.Show();
  EXPECT_EQ(r.problems, 0) << p.Show();
  EXPECT_EQ(r.sets_recovered, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(vault.ranges_ignored, 2) << "each bundle's catalog part was asked for alone";
  ASSERT_EQ(ws.catalog().Backups().size(), 4u);

  // Restores from the vault (nothing cached): each set's archives lie past the
  // catalog copy in its bundle, so they too are asked for as a range.
  for (const BackupRecord& b : ws.catalog().Backups()) {
    const std::string id = BackupId(b);
    RestoreOptions ro;
    ro.at = id;
    ro.target_dir = root_ + "/restore-" + id;
    ColdRestorePlan plan = PlanColdRestore(ws, vault, ro, Tier::kBulk);
    ASSERT_EQ(plan.retrievals.size(), 1u) << id;
    EXPECT_GT(plan.retrievals[0].request.range.offset, 0u) << id;
    // The first pass starts the retrieval, the second (the file vault's jobs finish at
    // once) downloads it.
    bool done = AdvanceColdRestore(ws, vault, plan, p, clock_);
    if (!done) done = AdvanceColdRestore(ws, vault, plan, p, clock_);
    ASSERT_TRUE(done) << id << "\n" << p.Show();
    ro.archive_dirs = {StagingDir(ws)};
    RestoreResult rr = RunRestore(ws, p, ro);
    EXPECT_EQ(rr.failed, 0u) << id << "\n" << p.Show();
    EXPECT_EQ(ScanTree(ro.target_dir + src_), trees_[id]) << id;
    CleanStaging(ws, plan);
  }
  EXPECT_EQ(vault.ranges_ignored, 6);
}

// A restore run again while its retrieval is running shows the tier that
// retrieval was started with, not the one this run asks for (or the default).
TEST_F(RecoverTest, ColdRestorePlanShowsTheTierOfTheRetrievalInProgress) {
  GlacierDouble vault(FileVaultNow(), clock_, 3600);
  Workspace ws(MachineConfig("old"));
  BackupGenerations(ws, &vault, 2, {2});
  RestoreOptions ro;
  ro.at = BackupId(ws.catalog().Backups().front());
  ro.target_dir = root_ + "/restore";
  RecordingProgress p;

  ColdRestorePlan first = PlanColdRestore(ws, vault, ro, Tier::kExpedited);
  ASSERT_EQ(first.retrievals.size(), 1u);
  EXPECT_EQ(first.retrievals[0].state, "to start");
  EXPECT_FALSE(AdvanceColdRestore(ws, vault, first, p, clock_));
  EXPECT_EQ(vault.retrievals_started, 1);

  ColdRestorePlan again = PlanColdRestore(ws, vault, ro, Tier::kBulk);
  ASSERT_EQ(again.retrievals.size(), 1u);
  EXPECT_EQ(again.retrievals[0].state, "in progress");
  EXPECT_EQ(again.retrievals[0].request.tier, Tier::kExpedited);
  EXPECT_EQ(again.tier, Tier::kExpedited);
  EXPECT_EQ(again.typical_hours, first.typical_hours);
  EXPECT_DOUBLE_EQ(again.cost_usd, first.cost_usd);
  EXPECT_FALSE(AdvanceColdRestore(ws, vault, again, p, clock_));
  EXPECT_EQ(vault.retrievals_started, 1) << "started again";

  clock_.AdvanceSeconds(3600);
  EXPECT_TRUE(AdvanceColdRestore(ws, vault, again, p, clock_)) << p.Show();
  EXPECT_EQ(vault.retrievals_started, 1);
}

TEST_F(RecoverTest, SingleArchivesAreReportedOrRetrievedWhole) {
  auto vault = FileVaultNow();
  std::vector<std::string> before;
  {
    Workspace ws(MachineConfig("old", "upload = \"each\"\n"));
    BackupGenerations(ws, vault.get(), 4, {4});
    before = DumpCatalog(ws.catalog(), false);
  }
  fs::remove_all(root_ + "/old");
  Workspace ws(MachineConfig("new", "upload = \"each\"\n"));
  RecordingProgress p;
  RecoverResult r = RunRecover(ws, *vault, p, clock_, RecoverOptions{});
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.single_archives, 4);
  EXPECT_EQ(r.need_archives.size(), 4u) << "their rows are inside the archives";
  EXPECT_EQ(r.retrievals, 0);
  EXPECT_TRUE(ws.catalog().Backups().empty());

  RecoverOptions whole;
  whole.include_archives = true;
  r = RunRecover(ws, *vault, p, clock_, whole);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.problems, 0) << p.Show();
  EXPECT_EQ(r.retrievals, 4);
  EXPECT_EQ(r.sets_recovered, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(DumpCatalog(ws.catalog(), false), before);
  for (const SetRecord& s : ws.catalog().Sets()) EXPECT_TRUE(s.uploaded) << s.id;
  ExpectEveryPointRestores(ws, {});
  SyncResult s = RunSync(ws, *vault, p, clock_, SyncOptions{});
  EXPECT_TRUE(s.uploaded.empty()) << "nothing is uploaded twice";
}

TEST_F(RecoverTest, FromArchivesRebuildsTheCatalogAndRestoreWorks) {
  std::vector<std::string> before;
  {
    Workspace ws(MachineConfig("old"));
    BackupGenerations(ws, nullptr, 5, {});
    before = DumpCatalog(ws.catalog(), false);
  }
  bool metadata_entry = false;  // generation 4's chmod and xattr of d.txt
  for (const auto& line : before)
    metadata_entry |= line.find("d.txt") != std::string::npos &&
                      line.find("\"content_unchanged\":true") != std::string::npos &&
                      line.find("user.note") != std::string::npos;
  EXPECT_TRUE(metadata_entry) << "no metadata-only entry to recover";
  fs::remove_all(root_ + "/old");
  Workspace ws(MachineConfig("new"));
  RecordingProgress p;
  RecoverResult r = RecoverFromArchives(ws, aside_, p, clock_, RecoverOptions{});
  EXPECT_EQ(r.problems, 0) << p.Show();
  EXPECT_EQ(r.sets_recovered, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(DumpCatalog(ws.catalog(), false), before);
  std::vector<SetRecord> sets = ws.catalog().Sets();
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_TRUE(sets[0].completed && sets[1].completed);
  EXPECT_FALSE(sets[2].completed) << "the newest set stays open for the next incremental";
  EXPECT_EQ(ArchivesIn(ws.config().cache_dir), ArchivesIn(aside_));
  ExpectEveryPointRestores(ws, {});

  // The next backup continues the open set.
  clock_.AdvanceSeconds(3600);
  Generation(9);
  BackupResult next = RunBackup(ws, p, clock_, BackupOptions{});
  EXPECT_EQ(next.record.set_id, 3);
  EXPECT_EQ(next.record.seq, 1);
}

TEST_F(RecoverTest, FromArchivesReportsATamperedArchive) {
  {
    Workspace ws(MachineConfig("old"));
    BackupGenerations(ws, nullptr, 5, {});
  }
  std::vector<std::string> names = ArchivesIn(aside_);
  ASSERT_EQ(names.size(), 5u);
  const std::string tampered = names[3];  // set 2's incremental
  ASSERT_NE(tampered.find("-s0002-i01"), std::string::npos) << tampered;
  {
    std::string path = aside_ + "/" + tampered;
    const auto middle = static_cast<std::streamoff>(fs::file_size(path) / 2);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(middle);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x20;
    f.seekp(middle);
    f.write(&c, 1);
  }
  Workspace ws(MachineConfig("new"));
  RecordingProgress p;
  RecoverResult r = RecoverFromArchives(ws, aside_, p, clock_, RecoverOptions{});
  EXPECT_TRUE(r.corrupt);
  ASSERT_EQ(p.problems.size(), 1u) << p.Show();
  EXPECT_NE(p.problems[0].find(tampered), std::string::npos) << p.Show();
  EXPECT_EQ(ws.catalog().BackupsOfSet(1).size(), 2u);
  EXPECT_EQ(ws.catalog().BackupsOfSet(2).size(), 1u) << "the damaged archive is not recorded";
  EXPECT_TRUE(ws.catalog().GetSet(2)->completed) << "a set cut short is closed";
  EXPECT_EQ(ws.catalog().BackupsOfSet(3).size(), 1u);
  EXPECT_FALSE(PathExists(ws.ArchivePath(tampered)));
  trees_.erase(tampered.substr(0, tampered.size() - std::string(kArchiveSuffix).size()));
  ExpectEveryPointRestores(ws, {});
}

TEST_F(RecoverTest, FromArchivesNeverOverwritesCatalogRows) {
  Workspace ws(MachineConfig("old"));
  BackupGenerations(ws, nullptr, 3, {});
  std::vector<std::string> before = DumpCatalog(ws.catalog());
  EXPECT_THROW(RecoverFromArchives(ws, aside_, progress_, clock_, RecoverOptions{}), Error);
  RecoverOptions force;
  force.force = true;
  RecordingProgress p;
  RecoverResult r = RecoverFromArchives(ws, aside_, p, clock_, force);
  EXPECT_TRUE(r.sets_recovered.empty());
  EXPECT_EQ(r.problems, 2) << "each set already in the catalog is reported\n" << p.Show();
  EXPECT_FALSE(r.corrupt);
  EXPECT_EQ(DumpCatalog(ws.catalog()), before);
}

// verify --vault -----------------------------------------------------------

class VaultVerifyTest : public RecoverTest {
 protected:
  std::string OneArchiveFile() {
    for (const auto& e : fs::directory_iterator(vault_dir_ + "/archives"))
      if (e.path().extension() != ".meta") return e.path().string();
    return "";
  }
};

TEST_F(VaultVerifyTest, CleanVaultPassesAndASampleChecksOut) {
  auto vault = FileVaultNow();
  Workspace ws(MachineConfig("m"));
  BackupGenerations(ws, vault.get(), 4, {4});
  RecordingProgress p;
  VaultVerifyResult r = RunVaultVerify(ws, *vault, p, clock_, VaultVerifyOptions{});
  EXPECT_TRUE(r.fresh_listing);
  EXPECT_EQ(r.archives, 2u);
  EXPECT_EQ(r.listed, 2u);
  EXPECT_EQ(r.problems, 0u) << p.Show();

  VaultVerifyOptions sample;
  sample.sample = 2;
  r = RunVaultVerify(ws, *vault, p, clock_, sample);
  EXPECT_EQ(r.problems, 0u) << p.Show();
  EXPECT_EQ(r.sampled.size(), 2u);
  EXPECT_TRUE(r.complete());
}

TEST_F(VaultVerifyTest, AnArchiveDeletedBehindOurBackIsMissing) {
  auto vault = FileVaultNow();
  Workspace ws(MachineConfig("m"));
  BackupGenerations(ws, vault.get(), 2, {2});
  std::string victim = OneArchiveFile();
  ASSERT_FALSE(victim.empty());
  fs::remove(victim);
  fs::remove(victim + ".meta");
  RecordingProgress p;
  VaultVerifyResult r = RunVaultVerify(ws, *vault, p, clock_, VaultVerifyOptions{});
  EXPECT_EQ(r.missing, 1u);
  EXPECT_FALSE(r.corrupt);
  ASSERT_EQ(p.problems.size(), 1u) << p.Show();
  EXPECT_NE(p.problems[0].find(fs::path(victim).filename().string()), std::string::npos);
}

TEST_F(VaultVerifyTest, ASampleOfAlteredBytesIsCorrupt) {
  auto vault = FileVaultNow();
  Workspace ws(MachineConfig("m"));
  BackupGenerations(ws, vault.get(), 2, {2});
  std::string victim = OneArchiveFile();
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5000);
    f.write("XXXX", 4);
  }
  RecordingProgress p;
  VaultVerifyOptions sample;
  sample.sample = 1;
  VaultVerifyResult r = RunVaultVerify(ws, *vault, p, clock_, sample);
  EXPECT_EQ(r.missing, 0u) << "the listing still shows what was uploaded";
  EXPECT_TRUE(r.corrupt) << p.Show();
  EXPECT_TRUE(r.sampled.empty());
}

TEST_F(VaultVerifyTest, LaggingVaultUsesTheLastInventoryAndFinishesTheSameSampleLater) {
  GlacierDouble vault(FileVaultNow(), clock_, 3600);
  Workspace ws(MachineConfig("m"));
  BackupGenerations(ws, &vault, 4, {2, 4});  // the second sync reads the first's inventory
  RecordingProgress p;
  VaultVerifyOptions sample;
  sample.sample = 1;
  VaultVerifyResult r = RunVaultVerify(ws, vault, p, clock_, sample);
  EXPECT_FALSE(r.fresh_listing);
  ASSERT_TRUE(r.inventory_date);
  EXPECT_EQ(r.archives, 2u);
  EXPECT_EQ(r.missing + r.mismatched, 0u) << p.Show();
  EXPECT_GE(r.not_yet_listed, 1u) << "uploaded after the inventory: not an error";
  EXPECT_EQ(r.sample_waiting.size(), 1u);
  EXPECT_FALSE(r.complete());
  r = RunVaultVerify(ws, vault, p, clock_, sample);
  EXPECT_EQ(vault.retrievals_started, 1) << "the sample retrieval was started twice";
  clock_.AdvanceSeconds(3600);
  r = RunVaultVerify(ws, vault, p, clock_, sample);
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.sampled.size(), 1u);
  EXPECT_EQ(r.problems, 0u) << p.Show();
  EXPECT_EQ(vault.retrievals_started, 1);
}

}  // namespace
}  // namespace gb
