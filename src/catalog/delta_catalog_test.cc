#include "catalog/delta_catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "catalog/catalog.h"

namespace gb {
namespace {

class DeltaCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gb-delta-catalog-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "catalog.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static DeltaRecord D(int seq, int basis_seq, const std::string& path) {
    DeltaRecord d;
    d.set_id = 1;
    d.seq = seq;
    d.path = path;
    d.basis_seq = basis_seq;
    d.basis_hash = Sha256::Of("v" + std::to_string(basis_seq));
    d.hash = Sha256::Of("v" + std::to_string(seq));
    return d;
  }

  std::filesystem::path dir_;
  std::string path_;
};

// A catalog from before deltas (no deltas table) opens with its rows intact
// and the table created; rows then round-trip and commit with the writer.
TEST_F(DeltaCatalogTest, OldCatalogGetsTheTableAndRowsRoundTrip) {
  {
    Catalog c(path_);
    Catalog::Writer w(c);
    w.CreateSet(100);
    w.Commit();
  }
  {
    Db db(path_);
    db.Exec("DROP TABLE deltas");
  }
  Catalog c(path_);
  ASSERT_EQ(c.Sets().size(), 1u);
  EXPECT_FALSE(FindDelta(c.db(), 1, 2, "home/me/db.sqlite"));
  {
    Catalog::Writer w(c);
    AddDelta(c.db(), D(2, 1, "home/me/db.sqlite"));
    AddDelta(c.db(), D(1, 0, "home/me/db.sqlite"));
    // destroyed uncommitted: rolled back with the backup
  }
  EXPECT_FALSE(FindDelta(c.db(), 1, 2, "home/me/db.sqlite"));
  {
    Catalog::Writer w(c);
    AddDelta(c.db(), D(2, 1, "home/me/db.sqlite"));
    AddDelta(c.db(), D(1, 0, "home/me/db.sqlite"));
    w.Commit();
  }
  auto d = FindDelta(c.db(), 1, 2, "home/me/db.sqlite");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->basis_seq, 1);
  EXPECT_EQ(d->basis_hash, Sha256::Of("v1"));
  EXPECT_EQ(d->hash, Sha256::Of("v2"));
  EXPECT_FALSE(FindDelta(c.db(), 1, 2, "home/me/other"));
  std::vector<int> seqs;
  ForEachDelta(c.db(), 1, [&](const DeltaRecord& r) { seqs.push_back(r.seq); });
  EXPECT_EQ(seqs, (std::vector<int>{1, 2}));
}

// A catalog whose deltas table predates bases on other paths gets the
// column; its rows read as same-path deltas, new rows keep their basis path,
// and a basis must precede its delta.
TEST_F(DeltaCatalogTest, BasisOnAnotherPathRoundTripsAndMustPrecede) {
  { Catalog c(path_); }
  {
    Db db(path_);
    db.Exec("DROP TABLE deltas");
    db.Exec(
        "CREATE TABLE deltas(set_id INTEGER NOT NULL, seq INTEGER NOT NULL, key BLOB NOT NULL, "
        "basis_seq INTEGER NOT NULL, basis_hash BLOB NOT NULL, hash BLOB NOT NULL, "
        "PRIMARY KEY(set_id, seq, key)) WITHOUT ROWID");
    Statement(db, "INSERT INTO deltas VALUES(1, 1, ?1, 0, ?2, ?3)")
        .BindBlob(1, PathKey("old/db"))
        .BindBlob(2, Sha256::Of("v0"))
        .BindBlob(3, Sha256::Of("v1"))
        .Run();
  }
  Catalog c(path_);
  auto old = FindDelta(c.db(), 1, 1, "old/db");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->BasisPath(), "old/db");
  DeltaRecord moved = D(2, 1, "new/place/db");
  moved.basis_path = "old/db";
  AddDelta(c.db(), moved);
  auto d = FindDelta(c.db(), 1, 2, "new/place/db");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->BasisPath(), "old/db");
  EXPECT_EQ(d->basis_seq, 1);
  EXPECT_TRUE(BasisPrecedes(*d));

  DeltaRecord copy = D(3, 3, "b");  // a copy of a file stored in the same backup
  copy.basis_path = "a";
  EXPECT_TRUE(BasisPrecedes(copy));
  copy.basis_path = "c";  // later in key order: refused
  EXPECT_FALSE(BasisPrecedes(copy));
  EXPECT_FALSE(BasisPrecedes(D(3, 3, "b")));  // itself
  EXPECT_FALSE(BasisPrecedes(D(3, 4, "b")));  // a later backup
}

// One lookup answers many questions in turn, found or not, and only for its
// own set; it holds no read open between them, so a writer commits meanwhile.
TEST_F(DeltaCatalogTest, LookupAnswersEntryAfterEntry) {
  Catalog c(path_);
  {
    Catalog::Writer w(c);
    w.CreateSet(100);
    w.CreateSet(200);
    AddDelta(c.db(), D(1, 0, "a/db"));
    AddDelta(c.db(), D(2, 1, "a/db"));
    DeltaRecord other = D(1, 0, "b/db");
    other.set_id = 2;
    AddDelta(c.db(), other);
    w.Commit();
  }
  DeltaLookup lookup(c.db(), 1);
  for (int round = 0; round < 2; ++round) {
    auto first = lookup.Find(1, "a/db");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->basis_seq, 0);
    EXPECT_FALSE(lookup.Find(3, "a/db"));
    auto second = lookup.Find(2, "a/db");
    ASSERT_TRUE(second);
    EXPECT_EQ(second->hash, Sha256::Of("v2"));
    EXPECT_FALSE(lookup.Find(1, "b/db"));  // set 2's
    EXPECT_EQ(lookup.Find(3, "c/db").has_value(), round == 1);
    if (round == 0) {
      Catalog::Writer w(c);
      AddDelta(c.db(), D(3, 2, "c/db"));
      w.Commit();
    }
  }
}

}  // namespace
}  // namespace gb
