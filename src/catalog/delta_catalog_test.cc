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

}  // namespace
}  // namespace gb
