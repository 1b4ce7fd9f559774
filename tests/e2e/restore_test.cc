// Restores: they never clobber what exists unless asked, restore only what
// was asked for, refuse damaged, tampered or foreign archives without losing
// the good backups, and the archives open with stock tools (age, zstd, tar).
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

// ------------------------------------------------------------------ safety

class RestoreTest : public E2eTest {};

TEST_F(RestoreTest, ExistingFileIsLeftAloneAndReported) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  std::string target = dir_ / "target";
  WriteFile(Restored(target, S("docs/a.txt")), "my local edit\n");

  Result r = tool_.Run({"restore", "--to", target});
  EXPECT_EQ(r.code, 3) << r.Show();
  EXPECT_NE(r.err.find(S("docs/a.txt")), std::string::npos) << r.Show();
  EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.Show();
  EXPECT_EQ(ReadFile(Restored(target, S("docs/a.txt"))), "my local edit\n");
  EXPECT_EQ(ReadFile(Restored(target, S("docs/b.txt"))), "backed up b\n");
  EXPECT_EQ(ReadFile(Restored(target, S("photos/p.bin"))), ReadFile(S("photos/p.bin")));
}

TEST_F(RestoreTest, OverwriteReplacesExistingFile) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  std::string target = dir_ / "target";
  WriteFile(Restored(target, S("docs/a.txt")), "my local edit\n", 0666);

  Result r = tool_.Run({"restore", "--overwrite", "--to", target});
  EXPECT_EQ(r.code, 0) << r.Show();
  auto want = ScanTree(S("docs")), got = ScanTree(Restored(target, S("docs")));
  EXPECT_EQ(ReadFile(Restored(target, S("docs/a.txt"))), "backed up a\n");
  EXPECT_EQ(got["a.txt"].mode, want["a.txt"].mode);
  EXPECT_EQ(got["a.txt"].mtime.tv_sec, want["a.txt"].mtime.tv_sec);
  EXPECT_EQ(got["a.txt"].mtime.tv_nsec, want["a.txt"].mtime.tv_nsec);
  EXPECT_EQ(ReadFile(Restored(target, S("docs/b.txt"))), "backed up b\n");
}

// Restoring again over an earlier restore (say, after an interrupted one)
// with --overwrite gives exactly the backed-up tree, directories included.
TEST_F(RestoreTest, OverwriteOverEarlierRestoreGivesTheBackedUpTree) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  std::string target = dir_ / "target";
  Result r = tool_.Run({"restore", "--to", target});
  ASSERT_EQ(r.code, 0) << r.Show();
  WriteFile(Restored(target, S("docs/a.txt")), "changed since\n");
  r = tool_.Run({"restore", "--overwrite", "--to", target});
  EXPECT_EQ(r.code, 0) << r.Show();
  std::vector<std::string> diffs = CompareTrees(src_, Restored(target, src_));
  EXPECT_TRUE(diffs.empty()) << JoinLines(diffs);
}

TEST_F(RestoreTest, SelectedPathsOnly) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  std::string target = dir_ / "target";
  Result r = tool_.Run({"restore", "--to", target, S("docs/b.txt"), S("photos")});
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_EQ(ReadFile(Restored(target, S("docs/b.txt"))), "backed up b\n");
  EXPECT_EQ(ReadFile(Restored(target, S("photos/p.bin"))), ReadFile(S("photos/p.bin")));
  EXPECT_FALSE(Exists(Restored(target, S("docs/a.txt"))));
  EXPECT_FALSE(Exists(Restored(target, S("notes"))));
  EXPECT_FALSE(Exists(Restored(target, S("empty"))));

  r = tool_.Run({"restore", "--to", dir_ / "none", S("no/such/path")});
  EXPECT_EQ(r.code, 6) << r.Show();
  EXPECT_NE(r.err.find(InArchive("no/such/path")), std::string::npos) << r.Show();
}

// A symlink planted in the target where the backup has a directory is never
// followed out of the target, with or without --overwrite.
TEST_F(RestoreTest, SymlinkInTargetIsNotFollowed) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  std::string outside = dir_ / "outside";
  MakeDirs(outside);
  for (const char* flag : {"", "--overwrite"}) {
    std::string target = dir_ / (std::string("target") + flag);
    Symlink(outside, Restored(target, S("docs")));
    std::vector<std::string> args = {"restore", "--to", target};
    if (*flag) args.push_back(flag);
    Result r = tool_.Run(args);
    EXPECT_NE(r.code, 1) << r.Show();
    EXPECT_TRUE(ListDir(outside).empty()) << "restore " << flag << " wrote through a symlink";
  }
}

// mtimes before 1970 and after 2038 and 2262 (where nanoseconds overflow 64 bits).
TEST_F(RestoreTest, ExtremeTimestampsSurvive) {
  WriteFile(S("pre-epoch"), "1969\n", 0644, -2, 750000000);  // 1969-12-31T23:59:58.75Z
  WriteFile(S("y2040"), "2040\n", 0644, 2222222222, 1);
  WriteFile(S("y2400"), "2400\n", 0644, 13569465600, 500000000);  // 2400-01-01T00:00:00.5Z
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  nlohmann::json b = Backup();
  ExpectRestoresTo(b["id"], src_);
  nlohmann::json ls = tool_.Json({"ls", S("y2400")});
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["mtime"], std::string("2400-01-01T00:00:00Z"));
}

// ------------------------------------------------------------------ damage

// Two backups: a small full one, then an incremental holding a 4 MiB random
// file between two small ones. The tests damage the second archive.
class DamageTest : public E2eTest {
 protected:
  void SetUp() override {
    MakeSmallTree();
    ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
    first_ = Backup();
    snap1_ = Snapshot("snap1");
    WriteFile(S("data/a-small.txt"), "before the big one\n");
    WriteRandomFile(S("data/big.bin"), 4 << 20, 42);
    WriteFile(S("data/z-small.txt"), "after the big one\n");
    second_ = Backup();
    ASSERT_EQ(second_["kind"], "incremental");
    archive_ = second_["archive"].get<std::string>();
    size_ = second_["archive_size"];
  }

  // After a failed restore of the damaged backup: whatever was written is
  // whole and correct; nothing half-written remains.
  void ExpectNoHalfWrittenFiles(const std::string& target) {
    for (const char* rel : {"data/a-small.txt", "data/big.bin", "data/z-small.txt"}) {
      std::string p = Restored(target, S(rel));
      if (Exists(p)) {
        EXPECT_EQ(ContentDigest(p), ContentDigest(S(rel)))
            << rel << " was left half-written or wrong after a failed restore";
      }
    }
  }

  // The good backup still restores, and verify names the damaged archive.
  void ExpectFirstBackupIntact() { ExpectRestoresTo(first_["id"], snap1_); }

  nlohmann::json first_, second_;
  std::string snap1_, archive_;
  uint64_t size_ = 0;
};

TEST_F(DamageTest, FlippedByteIsDetectedByVerifyAndRestore) {
  std::string bytes = ReadFile(archive_);
  bytes[bytes.size() / 2] ^= 0x01;
  WriteFile(archive_, bytes, 0600);

  Result r = tool_.Run({"verify"});
  EXPECT_EQ(r.code, 4) << r.Show();
  EXPECT_NE(r.err.find(second_["id"].get<std::string>()), std::string::npos) << r.Show();
  r = tool_.Run({"verify", "--read-data"});
  EXPECT_EQ(r.code, 4) << r.Show();

  std::string target = dir_ / "target";
  r = tool_.Run({"restore", "--to", target});
  EXPECT_NE(r.code, 0) << r.Show();
  EXPECT_TRUE(r.code == 4 || r.code == 3) << r.Show();
  EXPECT_NE(r.err.find(second_["id"].get<std::string>()), std::string::npos)
      << "the error must name the damaged archive\n"
      << r.Show();
  ExpectNoHalfWrittenFiles(target);
  ExpectFirstBackupIntact();
}

TEST_F(DamageTest, TruncatedArchiveIsDetectedByVerifyAndRestore) {
  ASSERT_EQ(::truncate(archive_.c_str(), static_cast<off_t>(size_ / 2)), 0);

  Result r = tool_.Run({"verify"});
  EXPECT_EQ(r.code, 4) << r.Show();
  r = tool_.Run({"verify", "--read-data"});
  EXPECT_EQ(r.code, 4) << r.Show();

  std::string target = dir_ / "target";
  r = tool_.Run({"restore", "--to", target});
  EXPECT_NE(r.code, 0) << r.Show();
  EXPECT_TRUE(r.code == 4 || r.code == 3) << r.Show();
  EXPECT_NE(r.err.find(second_["id"].get<std::string>()), std::string::npos)
      << "the error must name the damaged archive\n"
      << r.Show();
  ExpectNoHalfWrittenFiles(target);
  ExpectFirstBackupIntact();
}

TEST_F(DamageTest, MissingArchiveIsNotFound) {
  ASSERT_EQ(::unlink(archive_.c_str()), 0);
  Result r = tool_.Run({"verify"});
  EXPECT_EQ(r.code, 6) << r.Show();
  r = tool_.Run({"restore", "--to", dir_ / "target"});
  EXPECT_EQ(r.code, 6) << r.Show();
  EXPECT_NE(r.err.find(Basename(archive_)), std::string::npos) << r.Show();
  ExpectFirstBackupIntact();
}

TEST_F(DamageTest, WrongIdentityExits5) {
  std::string other = dir_ / "other-identity.txt";
  ASSERT_EQ(Exec({"age-keygen", "-o", other}).code, 0);
  std::string good = ReadFile(tool_.config());
  WriteFile(tool_.config(), tool_.ConfigText({src_}, "", "identity_file = \"" + other + "\"\n"),
            0600);

  Result r = tool_.Run({"restore", "--to", dir_ / "target"});
  EXPECT_EQ(r.code, 5) << r.Show();
  EXPECT_EQ(Lines(r.err).size(), 1u) << r.Show();
  EXPECT_NE(r.err.find(other), std::string::npos) << "the message must name the identity file\n"
                                                  << r.Show();
  EXPECT_FALSE(Exists(Restored(dir_ / "target", S("docs/a.txt"))));
  r = tool_.Run({"verify", "--read-data"});
  EXPECT_EQ(r.code, 5) << r.Show();
  EXPECT_NE(r.err.find(other), std::string::npos) << "the message must name the identity file\n"
                                                  << r.Show();

  WriteFile(tool_.config(), good, 0600);
  ExpectFirstBackupIntact();
  ExpectRestoresTo(second_["id"], src_);
}

// A tar crafted to escape the restore target, encrypted to the right key and
// put in place of the second archive: nothing lands outside the target.
TEST_F(DamageTest, CraftedArchiveCannotWriteOutsideTarget) {
  std::string outside = dir_ / "outside";
  MakeDirs(outside);
  std::string target = dir_ / "target";
  std::string tar = dir_ / "evil.tar";
  std::string in_src = InArchive("data");  // e.g. tmp/gbe2e-XXXXXX/src/data
  std::string script = R"(
import io, sys, tarfile
out, in_src, outside = sys.argv[1], sys.argv[2], sys.argv[3]
def add(t, name, data=b"evil\n", kind=tarfile.REGTYPE, link=""):
    i = tarfile.TarInfo(name)
    i.type = kind
    i.linkname = link
    i.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    add(t, ".glacier-backup/manifest.json", b"{}")
    add(t, "../evil-dotdot")
    add(t, "../../evil-dotdot2")
    add(t, in_src + "/../../../../evil-inner")
    add(t, outside + "/evil-absolute")
    add(t, in_src + "/escape", kind=tarfile.SYMTYPE, link=outside)
    add(t, in_src + "/escape/evil-through-symlink")
    add(t, in_src + "/a-small.txt", b"tampered content\n")
    add(t, in_src + "/big.bin", b"tampered\n")
    add(t, in_src + "/z-small.txt", b"tampered too\n")
)";
  WriteFile(dir_ / "craft.py", script);
  Result r = Exec({"python3", dir_ / "craft.py", tar, in_src, outside});
  ASSERT_EQ(r.code, 0) << r.Show();
  r = Bash("zstd -q -c " + Quote(tar) + " | age -r " + tool_.recipient() + " -o " +
           Quote(archive_));
  ASSERT_EQ(r.code, 0) << r.Show();

  r = tool_.Run({"restore", "--to", target});
  EXPECT_NE(r.code, 0) << r.Show();
  EXPECT_TRUE(ListDir(outside).empty()) << "restore wrote into " << outside;
  for (const std::string& p :
       {dir_ / "evil-dotdot", dir_ / "evil-dotdot2", std::string("/tmp/evil-dotdot"),
        std::string("/evil-dotdot2"), std::string("/evil-inner"), std::string("/tmp/evil-inner"),
        dir_ / "evil-inner"})
    EXPECT_FALSE(Exists(p)) << "restore wrote " << p;
  ExpectNoHalfWrittenFiles(target);
  EXPECT_FALSE(Exists(Restored(target, S("data/escape")))) << "a symlink from the archive";

  r = tool_.Run({"verify"});
  EXPECT_EQ(r.code, 4) << r.Show();
  ExpectFirstBackupIntact();
}

// ------------------------------------------------------------------ stock tools

class StockToolsTest : public E2eTest {
 protected:
  // age -d | zstd -d | tar -x into dir; the member names in order.
  std::vector<std::string> Extract(const std::string& archive, const std::string& dir) {
    MakeDirs(dir);
    Result r = Bash("age -d -i " + Quote(tool_.identity()) + " " + Quote(archive) +
                    " | zstd -d -q | tar -x -C " + Quote(dir));
    EXPECT_EQ(r.code, 0) << r.Show();
    r = Bash("age -d -i " + Quote(tool_.identity()) + " " + Quote(archive) +
             " | zstd -d -q | tar -t");
    EXPECT_EQ(r.code, 0) << r.Show();
    return Lines(r.out);
  }
};

TEST_F(StockToolsTest, ArchivesOpenWithAgeZstdTar) {
  MakeSmallTree();
  WriteRandomFile(S("photos/big.bin"), 3 << 20, 9);
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  nlohmann::json full = Backup();
  std::string snap1 = Snapshot("snap1");
  ASSERT_EQ(::unlink(S("docs/b.txt").c_str()), 0);
  WriteFile(S("docs/a.txt"), "second version of a\n");
  WriteFile(S("docs/c.txt"), "new c\n");
  nlohmann::json inc = Backup();

  // The full backup: every file's bytes, the manifest first, naming every entry.
  std::string x1 = dir_ / "x1";
  std::vector<std::string> members = Extract(full["archive"], x1);
  ASSERT_FALSE(members.empty());
  EXPECT_EQ(members.front(), ".glacier-backup/manifest.json");
  EXPECT_EQ(members.back(), ".glacier-backup/checksums.json");
  for (const char* rel : {"docs/a.txt", "docs/b.txt", "photos/p.bin", "photos/big.bin"})
    EXPECT_EQ(ContentDigest(x1 + "/" + InArchive(rel)), ContentDigest(snap1 + "/" + rel)) << rel;
  nlohmann::json m1 = nlohmann::json::parse(ReadFile(x1 + "/.glacier-backup/manifest.json"));
  EXPECT_EQ(m1["backup"]["name"], Basename(full["archive"]));
  EXPECT_EQ(m1["backup"]["set"], full["set"]);
  EXPECT_EQ(m1["backup"]["kind"], "full");
  EXPECT_EQ(m1["backup"]["parent"], "");
  std::set<std::string> entries;
  for (const auto& e : m1["entries"]) entries.insert(e["path"].get<std::string>());
  for (const auto& [rel, node] : ScanTree(snap1))
    EXPECT_TRUE(entries.count(rel.empty() ? InArchive("") : InArchive(rel)))
        << "the full manifest does not name " << rel;

  // The incremental: the changed files, its parent, and the deletion.
  std::string x2 = dir_ / "x2";
  members = Extract(inc["archive"], x2);
  ASSERT_FALSE(members.empty());
  EXPECT_EQ(members.front(), ".glacier-backup/manifest.json");
  EXPECT_EQ(ReadFile(x2 + "/" + InArchive("docs/a.txt")), "second version of a\n");
  EXPECT_EQ(ReadFile(x2 + "/" + InArchive("docs/c.txt")), "new c\n");
  EXPECT_FALSE(Exists(x2 + "/" + InArchive("photos/big.bin"))) << "unchanged data stored again";
  nlohmann::json m2 = nlohmann::json::parse(ReadFile(x2 + "/.glacier-backup/manifest.json"));
  EXPECT_EQ(m2["backup"]["name"], Basename(inc["archive"]));
  EXPECT_EQ(m2["backup"]["set"], inc["set"]);
  EXPECT_EQ(m2["backup"]["kind"], "incremental");
  EXPECT_EQ(m2["backup"]["parent"], Basename(full["archive"]));
  std::map<std::string, std::string> types;
  for (const auto& e : m2["entries"])
    types[e["path"].get<std::string>()] = e["type"].get<std::string>();
  EXPECT_EQ(types[InArchive("docs/b.txt")], "deleted");
  EXPECT_EQ(types[InArchive("docs/a.txt")], "file");
  EXPECT_EQ(types[InArchive("docs/c.txt")], "file");
  EXPECT_FALSE(types.count(InArchive("photos/big.bin")));
}

}  // namespace
}  // namespace gbe2e
