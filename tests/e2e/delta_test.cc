// Incrementals store changed big files as rsync deltas against the version
// last stored in the same set: generations of edits, growth, shrinking and a
// deleted basis restore byte-exact at every point, an incremental of a few
// page writes stays small, a lost or damaged signature store or a kill -9
// means whole files (never a wrong delta), and the stock-tools script
// (age, zstd, tar, rdiff, python3) restores a set with deltas. Renamed, moved
// and copied big files are stored by reference to content already in the set,
// and every point restores from the cache, from the vault and with the script.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

constexpr uint64_t kMiB = 1ULL << 20;

class DeltaTest : public E2eTest {
 protected:
  void SetUp() override { tool_.Init({src_}, "max_incrementals = 4\n"); }

  // `backup --json` at a distinct fake time (archive names have one-second resolution).
  nlohmann::json BackupAt(int n, const std::vector<std::string>& extra = {}) {
    tool_.SetEnv("GLACIER_BACKUP_FAKE_NOW", "@" + std::to_string(1800000000 + n * 3600));
    nlohmann::json b = Backup(extra);
    EXPECT_TRUE(b.is_object());
    if (b.is_object()) {
      EXPECT_EQ(b["skipped"], 0);
    }
    return b;
  }

  // A few scattered 4 KiB page writes, as a database makes them.
  void PageWrites(const std::string& path, uint64_t size, int n, uint64_t seed) {
    for (int i = 0; i < n; ++i)
      WriteAt(path, (size / static_cast<uint64_t>(n)) * static_cast<uint64_t>(i) + 8192 * i,
              Random(4096, seed + static_cast<uint64_t>(i)));
  }

  uint64_t ArchiveSize(const std::string& id) {
    for (const auto& s : tool_.Snapshots())
      if (s["id"] == id) return s["archive_size"].get<uint64_t>();
    ADD_FAILURE() << "no backup " << id;
    return 0;
  }

  // The paths `ls --at id` lists.
  std::set<std::string> Listed(const std::string& id) {
    std::set<std::string> out;
    nlohmann::json ls = tool_.Json({"ls", "--at", id});
    if (ls.is_array())
      for (const auto& e : ls) out.insert(e["path"].get<std::string>());
    return out;
  }

  void Move(const std::string& from, const std::string& to) {
    MakeDirs(std::filesystem::path(S(to)).parent_path());
    ASSERT_EQ(::rename(S(from).c_str(), S(to).c_str()), 0) << from << " -> " << to;
  }
  void Copy(const std::string& from, const std::string& to) {
    Result r = Exec({"cp", "--preserve=mode,timestamps", S(from), S(to)});
    ASSERT_EQ(r.code, 0) << r.Show();
  }

  // A full, then incrementals that rename, move, copy, move and edit, copy
  // twice in one backup, and delete what references point to. Returns the
  // points as (id, snapshot). The last incremental holds kNewInLast bytes of
  // new data (stored whole) besides its references.
  static constexpr uint64_t kNewInLast = 2 * kMiB;
  static uint64_t MostForIncremental(size_t i) { return kMiB + (i == 3 ? kNewInLast : 0); }
  std::vector<std::pair<std::string, std::string>> MovesAndCopies(uint64_t big) {
    std::vector<std::pair<std::string, std::string>> points;
    auto take = [&](int n) {
      nlohmann::json b = BackupAt(n);
      points.push_back({b["id"].get<std::string>(), Snapshot("snap" + std::to_string(n))});
    };
    WriteRandomFile(S("db.bin"), big, 11);
    WriteRandomFile(S("video.bin"), big + kMiB, uint64_t{12} << 40);
    WriteFile(S("small.txt"), "small\n");
    take(1);
    Move("video.bin", "media/renamed.bin");  // a rename into a new folder
    PageWrites(S("db.bin"), big, 3, 70);     // and a delta beside it
    take(2);
    Copy("db.bin", "db-copy.bin");  // a copy of a version stored as a delta
    take(3);
    Move("db-copy.bin", "moved/db.bin");  // a move plus an edit
    PageWrites(S("moved/db.bin"), big, 2, 80);
    EXPECT_EQ(::unlink(S("db.bin").c_str()), 0);  // what the copy referred to
    // A seed far from the others: the generator's streams of nearby seeds are
    // the same bytes shifted, which would make new-a.bin a near-copy of db.bin.
    WriteRandomFile(S("new-a.bin"), kNewInLast, uint64_t{13} << 40);
    Copy("new-a.bin", "new-b.bin");  // both new in one backup
    take(4);
    return points;
  }

  std::vector<std::string> ArchivesUpTo(const std::string& id) {
    std::vector<std::string> out;
    for (const auto& s : tool_.Snapshots()) {
      out.push_back(tool_.cache() + "/" + s["archive"].get<std::string>());
      if (s["id"] == id) break;
    }
    return out;
  }
};

// 20 MB of incompressible data with a few page writes: the incremental adds
// far less than the file, and every point of a chain (up to max_incrementals)
// restores byte-exact, through grow, shrink, and a basis deleted in between.
TEST_F(DeltaTest, ChainsOfDeltasRestoreEveryPointByteExact) {
  const uint64_t kDb = 20 * 1000 * 1000;
  WriteRandomFile(S("db/app.sqlite"), kDb, 1);
  WriteRandomFile(S("grows.bin"), 3 * kMiB, 2);
  WriteRandomFile(S("basis-goes.bin"), 2 * kMiB, 3);
  WriteFile(S("small.txt"), "small\n");
  std::vector<std::pair<std::string, std::string>> points;  // (id, snapshot)
  auto take = [&](int n) {
    nlohmann::json b = BackupAt(n);
    points.push_back({b["id"].get<std::string>(), Snapshot("snap" + std::to_string(n))});
    return b;
  };
  take(1);  // full

  PageWrites(S("db/app.sqlite"), kDb, 5, 100);
  AppendFile(S("grows.bin"), Random(kMiB, 4));
  nlohmann::json inc = take(2);
  uint64_t full_size = ArchiveSize(points[0].first), inc_size = ArchiveSize(points[1].first);
  EXPECT_LT(inc_size, kDb / 10) << "an incremental of 5 page writes stored " << inc_size
                                << " bytes (the full: " << full_size << ")";

  PageWrites(S("db/app.sqlite"), kDb, 7, 200);
  ASSERT_EQ(::truncate(S("grows.bin").c_str(), 2 * kMiB + 12345), 0);  // shrinks
  WriteAt(S("grows.bin"), 1000, "edited while shrinking");
  ASSERT_EQ(::unlink(S("basis-goes.bin").c_str()), 0);
  take(3);

  PageWrites(S("db/app.sqlite"), kDb, 3, 300);
  WriteRandomFile(S("basis-goes.bin"), 2 * kMiB, 3);  // back, its basis deleted in between
  WriteAt(S("basis-goes.bin"), 4096, "changed");
  AppendFile(S("grows.bin"), Random(3 * kMiB, 5));  // grows past its old size
  take(4);

  PageWrites(S("db/app.sqlite"), kDb, 2, 400);
  WriteAt(S("basis-goes.bin"), 8192, "changed again");
  nlohmann::json last = take(5);  // the 4th incremental: the set is complete
  EXPECT_LT(ArchiveSize(points[4].first), kDb / 10);

  // A new set starts whole: deltas never point outside their set.
  PageWrites(S("db/app.sqlite"), kDb, 2, 500);
  nlohmann::json next = take(6);
  EXPECT_EQ(next["kind"], "full");
  EXPECT_GT(ArchiveSize(points[5].first), kDb);

  for (const auto& [id, snap] : points) {
    SCOPED_TRACE("restoring " + id);
    ExpectRestoresTo(id, snap);
  }

  // A partial restore of one file needs (and reads) the whole chain.
  std::string target = dir_ / "partial";
  Result r = tool_.Run({"restore", "--at", points[3].first, "--to", target, S("db/app.sqlite")});
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_EQ(ContentDigest(Restored(target, S("db/app.sqlite"))),
            ContentDigest(points[3].second + "/db/app.sqlite"));
  // Into another file system than the cache's, where the file rebuilt in the
  // cache cannot be linked: it is copied.
  struct stat shm {
  }, cache{};
  if (::stat("/dev/shm", &shm) == 0 && ::stat(tool_.cache().c_str(), &cache) == 0 &&
      shm.st_dev != cache.st_dev && ::access("/dev/shm", W_OK) == 0) {
    std::string other = "/dev/shm/gb-delta-e2e-" + std::to_string(::getpid());
    Result o = tool_.Run({"restore", "--at", points[3].first, "--to", other, S("db/app.sqlite")});
    EXPECT_EQ(o.code, 0) << o.Show();
    EXPECT_EQ(ContentDigest(Restored(other, S("db/app.sqlite"))),
              ContentDigest(points[3].second + "/db/app.sqlite"));
    std::filesystem::remove_all(other);
  }

  Result v = tool_.Run({"verify"});
  EXPECT_EQ(v.code, 0) << v.Show();
}

// A renamed, moved or copied big file costs a few bytes, not the file again;
// a move plus an edit costs the edit. Every point restores byte-exact, a
// partial restore of a moved file finds its chain through the old path, ls
// lists the new paths and verify agrees; a full stores a second copy of a file
// by reference too.
TEST_F(DeltaTest, MovesAndCopiesAreStoredByReference) {
  const uint64_t kBig = 8 * kMiB;
  auto points = MovesAndCopies(kBig);
  ASSERT_EQ(points.size(), 4u);
  for (size_t i = 1; i < points.size(); ++i)
    EXPECT_LT(ArchiveSize(points[i].first), MostForIncremental(i))
        << "incremental " << i << " stored a renamed, moved or copied file again";

  std::set<std::string> listed = Listed(points[3].first);
  for (const char* p : {"media/renamed.bin", "moved/db.bin", "new-a.bin", "new-b.bin"})
    EXPECT_TRUE(listed.count(S(p))) << p;
  EXPECT_FALSE(listed.count(S("video.bin")));
  EXPECT_FALSE(listed.count(S("db.bin")));

  for (const auto& [id, snap] : points) {
    SCOPED_TRACE("restoring " + id);
    ExpectRestoresTo(id, snap);
  }
  // Only the moved file: its chain runs through db.bin, deleted at this point.
  std::string target = dir_ / "partial";
  Result r = tool_.Run({"restore", "--at", points[3].first, "--to", target, S("moved")});
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_EQ(ContentDigest(Restored(target, S("moved/db.bin"))),
            ContentDigest(points[3].second + "/moved/db.bin"));
  EXPECT_FALSE(Exists(Restored(target, S("media/renamed.bin"))));

  Result v = tool_.Run({"verify", "--read-data"});
  EXPECT_EQ(v.code, 0) << v.Show();

  // A new set: the second of two identical files is a reference in the full too.
  nlohmann::json full = BackupAt(10, {"--full"});
  EXPECT_EQ(full["kind"], "full");
  std::string snap = Snapshot("snap-full");
  uint64_t tree = 0;
  for (const char* p : {"media/renamed.bin", "moved/db.bin", "new-a.bin", "new-b.bin"})
    tree += std::filesystem::file_size(S(p));
  EXPECT_LT(ArchiveSize(full["id"].get<std::string>()), tree - 3 * kMiB / 2)
      << "the full stored both copies of new-a.bin";
  ExpectRestoresTo(full["id"].get<std::string>(), snap);
}

// A backup killed (SIGKILL) after writing an archive of references, before
// its catalog commit, changes nothing the catalog knows: every earlier point
// restores, and the next backup stores the same rename and copy by reference.
TEST_F(DeltaTest, KillDuringABackupOfReferencesLosesNothing) {
  const uint64_t kBig = 4 * kMiB;
  std::vector<std::pair<std::string, std::string>> points;
  auto take = [&](int n) {
    nlohmann::json b = BackupAt(n);
    points.push_back({b["id"].get<std::string>(), Snapshot("snap" + std::to_string(n))});
    return ArchiveSize(points.back().first);
  };
  WriteRandomFile(S("video.bin"), kBig, 21);
  WriteRandomFile(S("photo.raw"), kBig + kMiB, 22);
  take(1);

  Move("video.bin", "archive/video.bin");
  Copy("photo.raw", "photo-copy.raw");
  tool_.SetEnv("GLACIER_BACKUP_CRASH_AT", "backup-before-commit");
  tool_.SetEnv("GLACIER_BACKUP_FAKE_NOW", "@" + std::to_string(1800000000 + 2 * 3600));
  Result killed = tool_.Run({"backup"});
  EXPECT_EQ(killed.code, 128 + SIGKILL) << killed.Show();
  tool_.SetEnv("GLACIER_BACKUP_CRASH_AT", "");
  ASSERT_EQ(tool_.Snapshots().size(), 1u) << "the killed backup reached the catalog";
  ExpectRestoresTo(points[0].first, points[0].second);

  EXPECT_LT(take(3), kMiB) << "the rename or the copy was stored again after the kill";
  std::set<std::string> listed = Listed(points.back().first);
  EXPECT_TRUE(listed.count(S("archive/video.bin")));
  EXPECT_TRUE(listed.count(S("photo-copy.raw")));
  EXPECT_FALSE(listed.count(S("video.bin")));
  for (const auto& [id, snap] : points) {
    SCOPED_TRACE("restoring " + id);
    ExpectRestoresTo(id, snap);
  }
  Result v = tool_.Run({"verify", "--read-data"});
  EXPECT_EQ(v.code, 0) << v.Show();
}

// Without its signature (lost, damaged) a changed file is stored whole, and
// every point still restores; a kill -9 just before the catalog commit leaves
// signatures the catalog does not know, which must not be used either.
TEST_F(DeltaTest, LostDamagedOrStaleSignaturesMeanWholeFiles) {
  const uint64_t kSize = 8 * kMiB;
  WriteRandomFile(S("big.bin"), kSize, 7);
  std::vector<std::pair<std::string, std::string>> points;
  auto take = [&](int n) {
    nlohmann::json b = BackupAt(n);
    points.push_back({b["id"].get<std::string>(), Snapshot("snap" + std::to_string(n))});
    return ArchiveSize(points.back().first);
  };
  take(1);

  std::filesystem::remove_all(tool_.state() + "/signatures");
  PageWrites(S("big.bin"), kSize, 3, 10);
  EXPECT_GT(take(2), kSize) << "stored as a delta without a signature";

  PageWrites(S("big.bin"), kSize, 3, 20);
  EXPECT_LT(take(3), kSize / 10) << "the signature written by a whole store was not used";

  // Damage every signature in the middle of its bytes.
  for (const auto& set : std::filesystem::directory_iterator(tool_.state() + "/signatures"))
    for (const auto& f : std::filesystem::directory_iterator(set.path())) {
      std::string text = ReadFile(f.path());
      text[text.size() / 2] ^= 0x5a;
      WriteFile(f.path(), text, 0600);
    }
  PageWrites(S("big.bin"), kSize, 3, 30);
  EXPECT_GT(take(4), kSize) << "a damaged signature was used";

  // Killed after its archive and signatures are written, before the commit.
  PageWrites(S("big.bin"), kSize, 3, 40);
  tool_.SetEnv("GLACIER_BACKUP_CRASH_AT", "backup-before-commit");
  tool_.SetEnv("GLACIER_BACKUP_FAKE_NOW", "@" + std::to_string(1800000000 + 5 * 3600));
  Result killed = tool_.Run({"backup"});
  EXPECT_EQ(killed.code, 128 + SIGKILL) << killed.Show();
  tool_.SetEnv("GLACIER_BACKUP_CRASH_AT", "");
  EXPECT_GT(take(6), kSize) << "a signature the catalog never committed was used";

  for (const auto& [id, snap] : points) {
    SCOPED_TRACE("restoring " + id);
    ExpectRestoresTo(id, snap);
  }
}

// contrib/restore-set.py restores a set with deltas using only age, zstd,
// tar, rdiff and python3, byte-exact at its last point.
TEST_F(DeltaTest, StockToolsScriptRestoresASetWithDeltas) {
  if (Exec({"sh", "-c", "command -v rdiff && command -v age && command -v zstd"}).code != 0)
    GTEST_SKIP() << "rdiff, age or zstd not installed";
  const uint64_t kSize = 6 * kMiB;
  WriteRandomFile(S("db.bin"), kSize, 9);
  WriteFile(S("notes.txt"), "notes\n");
  BackupAt(1);
  PageWrites(S("db.bin"), kSize, 4, 50);
  WriteFile(S("notes.txt"), "notes, edited\n");
  BackupAt(2);
  PageWrites(S("db.bin"), kSize, 4, 60);
  ASSERT_EQ(::unlink(S("notes.txt").c_str()), 0);
  std::string id = BackupAt(3)["id"].get<std::string>();
  std::string snap = Snapshot("snap3");
  ASSERT_FALSE(id.empty());
  EXPECT_LT(ArchiveSize(id), kSize / 10);

  std::string target = dir_ / "stock";
  std::vector<std::string> argv = {
      "python3", std::string(GB_SOURCE_DIR) + "/contrib/restore-set.py", tool_.identity(), target};
  for (const auto& a : ArchivesUpTo(id)) argv.push_back(a);
  Result r = Exec(argv);
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_EQ(ContentDigest(Restored(target, S("db.bin"))), ContentDigest(snap + "/db.bin"));
  EXPECT_FALSE(Exists(Restored(target, S("notes.txt"))));
  EXPECT_FALSE(Exists(target + "/.glacier-backup"));

  // A catalog recovered from the archives alone knows the deltas too.
  std::string archives = dir_ / "archives";
  MakeDirs(archives);
  for (const auto& a : ArchivesUpTo(id)) {  // each with its signature
    ASSERT_EQ(Exec({"cp", a, archives + "/"}).code, 0);
    ASSERT_EQ(Exec({"cp", a + ".minisig", archives + "/"}).code, 0);
  }
  Exec({"rm", "-rf", tool_.cache(), tool_.state()});
  nlohmann::json rec = tool_.Json({"recover", "--from-archives", archives});
  ASSERT_TRUE(rec.is_object());
  EXPECT_EQ(rec["problems"], 0);
  std::string again = dir_ / "recovered";
  Result rr = tool_.Run({"restore", "--at", id, "--to", again});
  ASSERT_EQ(rr.code, 0) << rr.Show();
  EXPECT_TRUE(CompareTrees(snap, Restored(again, src_)).empty());
}

// The stock-tools script restores a set with renames, moves and copies stored
// by reference, byte-exact at every point.
TEST_F(DeltaTest, StockToolsScriptRestoresMovesAndCopies) {
  if (Exec({"sh", "-c", "command -v rdiff && command -v age && command -v zstd"}).code != 0)
    GTEST_SKIP() << "rdiff, age or zstd not installed";
  auto points = MovesAndCopies(3 * kMiB);
  ASSERT_EQ(points.size(), 4u);
  for (size_t i = 1; i < points.size(); ++i)
    EXPECT_LT(ArchiveSize(points[i].first), MostForIncremental(i))
        << "incremental " << i << " holds no references";
  for (const auto& [id, snap] : points) {
    SCOPED_TRACE("the script up to " + id);
    std::string target = dir_ / ("stock-" + id);
    std::vector<std::string> argv = {"python3",
                                     std::string(GB_SOURCE_DIR) + "/contrib/restore-set.py",
                                     tool_.identity(), target};
    for (const auto& a : ArchivesUpTo(id)) argv.push_back(a);
    Result r = Exec(argv);
    ASSERT_EQ(r.code, 0) << r.Show();
    std::vector<std::string> diffs = CompareTrees(snap, Restored(target, src_));
    EXPECT_TRUE(diffs.empty()) << JoinLines(diffs);
  }
}

// A set with deltas and references goes to a file:// vault; with the cache
// emptied by the upload, every point restores through retrievals (the plan
// lists every archive a chain needs, also for a partial restore of a file
// whose last entry changed only its mode), and again after the machine is
// lost and the catalog recovered from the vault.
TEST_F(DeltaTest, ColdRestoresFromTheVaultRebuildChains) {
  std::string vault = dir_ / "vault";
  WriteFile(tool_.config(),
            tool_.ConfigText({src_}, "max_incrementals = 4",
                             "\n[vault]\nurl = \"file://" + vault + "\"\n"),
            0600);
  ASSERT_EQ(tool_.Run({"vault", "create"}).code, 0);
  auto points = MovesAndCopies(3 * kMiB);
  ASSERT_EQ(points.size(), 4u);
  // Only the mode of the moved file changes: the last point's entry keeps its
  // data in the chain of the point before.
  ASSERT_EQ(::chmod(S("moved/db.bin").c_str(), 0600), 0);
  points.push_back({BackupAt(5)["id"].get<std::string>(), Snapshot("snap5")});
  for (size_t i = 1; i < points.size(); ++i)
    EXPECT_LT(ArchiveSize(points[i].first), MostForIncremental(i))
        << "incremental " << i << " holds no chains";
  tool_.SetEnv("GLACIER_BACKUP_FAKE_NOW", "@" + std::to_string(1800000000 + 20 * 3600));
  nlohmann::json sync = tool_.Json({"sync"});
  ASSERT_TRUE(sync.is_object());
  for (const auto& p : points)
    for (const auto& f : tool_.CacheFiles())
      ASSERT_EQ(f.find(p.first), std::string::npos) << f << " still cached";

  std::string target = dir_ / "cold-partial";
  Result r = tool_.Run(
      {"restore", "--at", points[4].first, "--to", target, "--yes", "--wait", S("moved")});
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_EQ(ContentDigest(Restored(target, S("moved/db.bin"))),
            ContentDigest(points[4].second + "/moved/db.bin"));
  for (const auto& [id, snap] : points) {
    SCOPED_TRACE("cold restore of " + id);
    std::string to = dir_ / ("cold-" + id);
    Result c = tool_.Run({"restore", "--at", id, "--to", to, "--yes", "--wait"});
    ASSERT_EQ(c.code, 0) << c.Show();
    std::vector<std::string> diffs = CompareTrees(snap, Restored(to, src_));
    EXPECT_TRUE(diffs.empty()) << JoinLines(diffs);
  }

  Exec({"rm", "-rf", tool_.cache(), tool_.state()});
  nlohmann::json rec = tool_.Json({"recover", "--yes"});
  ASSERT_TRUE(rec.is_object());
  EXPECT_EQ(rec["problems"], 0) << rec.dump(1);
  std::string to = dir_ / "recovered";
  Result c = tool_.Run({"restore", "--at", points[4].first, "--to", to, "--yes", "--wait"});
  ASSERT_EQ(c.code, 0) << c.Show();
  std::vector<std::string> diffs = CompareTrees(points[4].second, Restored(to, src_));
  EXPECT_TRUE(diffs.empty()) << JoinLines(diffs);
}

}  // namespace
}  // namespace gbe2e
