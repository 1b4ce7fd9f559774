#include "catalog/catalog.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>

#include "core/error.h"

namespace gb {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gb-catalog-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "catalog.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static Entry E(const std::string& path, EntryType t = EntryType::kFile, uint64_t size = 1) {
    Entry e;
    e.path = path;
    e.type = t;
    e.size = size;
    e.mode = 0644;
    return e;
  }

  int64_t AddBackup(Catalog& c, int64_t set, int seq, const std::vector<Entry>& entries,
                    bool new_set = false) {
    Catalog::Writer w(c);
    if (new_set) set = w.CreateSet(100);
    for (const auto& e : entries) w.AddEntry(set, seq, e);
    BackupRecord b;
    b.set_id = set;
    b.seq = seq;
    b.time = 100 + seq;
    b.name = "b" + std::to_string(set) + "-" + std::to_string(seq);
    b.archive_sha256 = "00";
    w.AddBackup(b);
    w.Commit();
    return set;
  }

  std::vector<std::string> State(Catalog& c, int64_t set, int seq, const std::string& path = "") {
    std::vector<std::string> out;
    auto cur = c.State(set, seq, false, path);
    while (cur->Next()) out.push_back(cur->entry().path + "@" + std::to_string(cur->seq()));
    return out;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(CatalogTest, StateIsLatestEntryPerPathInWalkOrder) {
  Catalog c(path_);
  int64_t s = AddBackup(c, 0, 0, {E("a", EntryType::kDir), E("a/x"), E("a.b"), E("a/y")}, true);
  AddBackup(c, s, 1, {E("a/x", EntryType::kFile, 2), E("a/y", EntryType::kDeleted), E("a/z")});
  AddBackup(c, s, 2, {E("a/z", EntryType::kDeleted), E("a/w")});
  // Walk order: a directory's children come before names that sort after "a".
  EXPECT_EQ(State(c, s, 0), (std::vector<std::string>{"a@0", "a/x@0", "a/y@0", "a.b@0"}));
  EXPECT_EQ(State(c, s, 1), (std::vector<std::string>{"a@0", "a/x@1", "a/z@1", "a.b@0"}));
  EXPECT_EQ(State(c, s, 2), (std::vector<std::string>{"a@0", "a/w@2", "a/x@1", "a.b@0"}));
  EXPECT_EQ(State(c, s, 2, "a"), (std::vector<std::string>{"a@0", "a/w@2", "a/x@1"}));
  EXPECT_EQ(State(c, s, 2, "a.b"), (std::vector<std::string>{"a.b@0"}));
}

TEST_F(CatalogTest, UncommittedBackupLeavesNothing) {
  Catalog c(path_);
  int64_t s = AddBackup(c, 0, 0, {E("a")}, true);
  {
    Catalog::Writer w(c);
    w.AddEntry(s, 1, E("b"));
    w.CreateSet(200);
    // destroyed without Commit: a crash mid-backup
  }
  EXPECT_EQ(State(c, s, 5), (std::vector<std::string>{"a@0"}));
  EXPECT_EQ(c.Sets().size(), 1u);
  EXPECT_EQ(c.Backups().size(), 1u);
}

TEST_F(CatalogTest, OpenSetAndCompletion) {
  Catalog c(path_);
  EXPECT_FALSE(c.OpenSet());
  int64_t s = AddBackup(c, 0, 0, {E("a")}, true);
  ASSERT_TRUE(c.OpenSet());
  EXPECT_EQ(c.OpenSet()->backups, 1);
  {
    Catalog::Writer w(c);
    w.CompleteSet(s, 500);
    w.Commit();
  }
  EXPECT_FALSE(c.OpenSet());
  EXPECT_EQ(*c.GetSet(s)->completed, 500);
}

TEST_F(CatalogTest, ReopensAndRejectsNewerSchema) {
  { Catalog c(path_); }
  { Catalog c(path_); }
  {
    Db db(path_);
    db.Exec("UPDATE meta SET value='99' WHERE key='schema_version'");
  }
  try {
    Catalog c(path_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos);
  }
}

// A catalog written before times were kept as seconds + nanoseconds (schema 2,
// one nanosecond column) opens with every time intact, pre-1970 ones included.
TEST_F(CatalogTest, MigratesNanosecondTimesOfSchema2) {
  Entry old = E("old"), recent = E("recent");
  old.mtime = {-2, 750000000};
  old.ctime = {-1, 0};
  recent.mtime = {1795748820, 123456789};
  recent.ctime = {1795748821, 1};
  {
    Catalog c(path_);
    AddBackup(c, 0, 0, {old, recent}, true);
  }
  {
    Db db(path_);
    db.Exec(R"sql(
      UPDATE entries SET mtime = mtime * 1000000000 + mtime_nsec,
                         ctime = ctime * 1000000000 + ctime_nsec;
      ALTER TABLE entries DROP COLUMN mtime_nsec;
      ALTER TABLE entries DROP COLUMN ctime_nsec;
      ALTER TABLE entries RENAME COLUMN mtime TO mtime_ns;
      ALTER TABLE entries RENAME COLUMN ctime TO ctime_ns;
      ALTER TABLE entries DROP COLUMN extra;
      UPDATE meta SET value='2' WHERE key='schema_version';
    )sql");
  }
  Catalog c(path_);
  auto cur = c.State(1, 0);
  std::map<std::string, Entry> got;
  while (cur->Next()) got[cur->entry().path] = cur->entry();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got["old"].mtime, old.mtime);
  EXPECT_EQ(got["old"].ctime, old.ctime);
  EXPECT_EQ(got["recent"].mtime, recent.mtime);
  EXPECT_EQ(got["recent"].ctime, recent.ctime);
}

// Schema 3 had no column for extended attributes, ACLs and devices: its
// entries open unchanged and new ones keep theirs.
TEST_F(CatalogTest, MigratesSchema3AndKeepsExtendedMetadata) {
  {
    Catalog c(path_);
    AddBackup(c, 0, 0, {E("plain")}, true);
  }
  {
    Db db(path_);
    db.Exec(R"sql(
      ALTER TABLE entries DROP COLUMN extra;
      UPDATE meta SET value='3' WHERE key='schema_version';
    )sql");
  }
  Catalog c(path_);
  Entry rich = E("rich"), dev = E("dev", EntryType::kCharDevice, 0);
  rich.xattrs = {{"security.capability", std::string("\x01\0\0\x02", 4)}, {"user.k", "v"}};
  rich.acl_access = "user::rw-,user:nobody:r--:65534,group::r--,mask::r--,other::r--";
  dev.rdev = makedev(1, 3);
  AddBackup(c, 1, 1, {rich, dev});
  auto cur = c.State(1, 1);
  std::map<std::string, Entry> got;
  while (cur->Next()) got[cur->entry().path] = cur->entry();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got["plain"].xattrs.empty());
  EXPECT_EQ(got["rich"].xattrs, rich.xattrs);
  EXPECT_EQ(got["rich"].acl_access, rich.acl_access);
  EXPECT_EQ(got["dev"].type, EntryType::kCharDevice);
  EXPECT_EQ(got["dev"].rdev, dev.rdev);
  Statement n(c.db(), "SELECT COUNT(*) FROM entries WHERE extra IS NULL");
  ASSERT_TRUE(n.Step());
  EXPECT_EQ(n.Int(0), 1) << "an entry without extended metadata stores NULL";
}

// A metadata-only entry carries its data from the backup that stored it.
TEST_F(CatalogTest, MetadataOnlyEntryPointsAtTheStoredData) {
  Catalog c(path_);
  AddBackup(c, 0, 0, {E("f"), E("g")}, true);
  Entry meta = E("f");
  meta.content_unchanged = true;
  meta.mode = 0600;
  AddBackup(c, 1, 1, {meta});
  AddBackup(c, 1, 2, {meta});
  auto cur = c.State(1, 2);
  ASSERT_TRUE(cur->Next());
  EXPECT_EQ(cur->entry().path, "f");
  EXPECT_EQ(cur->entry().mode, 0600u);
  EXPECT_EQ(cur->seq(), 2);
  EXPECT_EQ(cur->data_seq(), 0);
}

// The column costs an entry without extended metadata next to nothing.
TEST_F(CatalogTest, ExtendedMetadataColumnKeepsPlainCatalogsSmall) {
  std::vector<Entry> entries;
  for (int i = 0; i < 20000; ++i) {
    Entry e = E("home/user/projects/some-directory/file-" + std::to_string(i));
    e.uname = e.gname = "user";
    e.mtime = {1795748820 + i, 123456789};
    e.ctime = e.mtime;
    e.ino = 1000000 + static_cast<uint64_t>(i);
    e.has_hash = true;
    entries.push_back(e);
  }
  { AddBackup(*std::make_unique<Catalog>(path_), 0, 0, entries, true); }
  Db db(path_);
  db.Exec("VACUUM");
  auto pages = [&] {
    Statement s(db, "SELECT SUM(pgsize) FROM dbstat WHERE name='entries'");
    if (!s.Step()) return int64_t{0};
    return s.Int(0);
  };
  int64_t with_column = pages();
  db.Exec("ALTER TABLE entries DROP COLUMN extra; VACUUM;");
  int64_t without = pages();
  ASSERT_GT(without, 0);
  EXPECT_LE(with_column, without * 105 / 100);
}

TEST_F(CatalogTest, GarbageFileIsCorruption) {
  {
    FILE* f = fopen(path_.c_str(), "w");
    fputs("this is not a database, just text that is long enough to be a header....", f);
    fclose(f);
  }
  try {
    Catalog c(path_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kCorruption);
  }
}

}  // namespace
}  // namespace gb
