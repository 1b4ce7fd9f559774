// Incrementals store changed big files as rsync deltas against the version
// last stored in the same set: generations of edits, growth, shrinking and a
// deleted basis restore byte-exact at every point, an incremental of a few
// page writes stays small, a lost or damaged signature store or a kill -9
// means whole files (never a wrong delta), and the stock-tools script
// (age, zstd, tar, rdiff, python3) restores a set with deltas.
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
  nlohmann::json BackupAt(int n) {
    tool_.SetEnv("GLACIER_BACKUP_FAKE_NOW", "@" + std::to_string(1800000000 + n * 3600));
    nlohmann::json b = Backup();
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

  Result v = tool_.Run({"verify"});
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

}  // namespace
}  // namespace gbe2e
