// Restoring a tree exactly: extended attributes (user.*, security.capability),
// POSIX access and default ACLs, FIFOs and device nodes, through generations
// that change only metadata; from the cache and with GNU tar from the
// archives; as a user who cannot restore everything; and files that keep
// changing while they are read.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

// Every extended attribute of every entry below root (ACLs included, as
// system.posix_acl_*), and the device number of devices: what CompareTrees
// does not look at.
std::map<std::string, std::string> MetadataOf(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& [rel, node] : ScanTree(root)) {
    std::string abs = rel.empty() ? root : root + "/" + rel;
    std::string d;
    struct stat st;
    if (::lstat(abs.c_str(), &st) == 0) {
      if (S_ISFIFO(st.st_mode)) d += "fifo ";
      if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        d += std::string(S_ISCHR(st.st_mode) ? "char " : "block ") +
             std::to_string(major(st.st_rdev)) + "," + std::to_string(minor(st.st_rdev)) + " ";
    }
    std::vector<char> names(65536);
    ssize_t n = ::llistxattr(abs.c_str(), names.data(), names.size());
    std::set<std::string> sorted;
    for (ssize_t i = 0; i < n;) {
      std::string name(names.data() + i);
      i += static_cast<ssize_t>(name.size()) + 1;
      sorted.insert(name);
    }
    for (const auto& name : sorted) {
      std::vector<char> v(65536);
      ssize_t k = ::lgetxattr(abs.c_str(), name.c_str(), v.data(), v.size());
      d += name + "=" +
           (k < 0 ? "?" : gb::Hex(gb::AsBytes(std::string(v.data(), static_cast<size_t>(k))))) +
           " ";
    }
    out[rel] = d;
  }
  return out;
}

std::vector<std::string> CompareMetadata(const std::string& expected, const std::string& actual) {
  std::vector<std::string> diffs;
  auto e = MetadataOf(expected), a = MetadataOf(actual);
  for (const auto& [p, d] : e)
    if (a[p] != d) diffs.push_back((p.empty() ? "<root>" : p) + ": " + d + " became " + a[p]);
  return diffs;
}

void Must(const std::string& script) {
  Result r = Bash(script);
  ASSERT_EQ(r.code, 0) << script << "\n" << r.Show();
}

class MetadataTest : public E2eTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: device nodes, capabilities, owners";
    if (Bash("setfattr -n user.probe -v 1 " + Quote(src_) + " && setfattr -x user.probe " +
             Quote(src_) + " && setfacl -m u:nobody:r " + Quote(src_) + " && setfacl -b " +
             Quote(src_))
            .code != 0)
      GTEST_SKIP() << "the test file system has no user xattrs or ACLs";
  }

  // A capability as setcap writes it; the raw security.capability xattr
  // (VFS_CAP_REVISION_2, cap_net_raw permitted + effective) without setcap.
  void SetCapability(const std::string& path) {
    if (Bash("command -v setcap").code == 0)
      Must("setcap cap_net_raw+ep " + Quote(path));
    else
      Must("setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= " + Quote(path));
  }

  // The tree of the issue: a file with a user xattr and an ACL, a directory
  // with a default ACL (and a file that inherited it), a binary with a
  // capability, a FIFO and a device node.
  void MakeTree() {
    WriteFile(S("docs/report.txt"), "quarterly numbers\n", 0644, 1600000000, 5);
    Must("setfattr -n user.comment -v 'first draft' " + Quote(S("docs/report.txt")));
    Must("setfacl -m u:nobody:rw,g:nogroup:r " + Quote(S("docs/report.txt")));
    MakeDirs(S("shared"));
    Must("setfacl -d -m u:nobody:rwx,g::rx " + Quote(S("shared")));
    WriteFile(S("shared/inherited.txt"), "inherits the default ACL\n");
    WriteFile(S("bin/ping"), Random(50000, 3), 0755);
    SetCapability(S("bin/ping"));
    Must("mkfifo -m 0620 " + Quote(S("pipe")));
    Must("mknod -m 0640 " + Quote(S("null")) + " c 1 3");
    Must("chown nobody:nogroup " + Quote(S("docs")));
  }

  // Restores `id` (from the cache, or from the vault when the cache no longer has
  // it) into a fresh directory: the tree and every xattr, ACL, owner, FIFO and
  // device exactly as in `snapshot`.
  void ExpectExactRestore(const std::string& id, const std::string& snapshot) {
    std::string target = dir_ / ("exact-" + std::to_string(++checks_));
    Result r = tool_.Run(
        {"restore", "--at", id, "--to", target, "--yes", "--wait", "--poll-interval", "1"});
    ASSERT_EQ(r.code, 0) << r.Show();
    auto diffs = CompareTrees(snapshot, Restored(target, src_));
    auto more = CompareMetadata(snapshot, Restored(target, src_));
    diffs.insert(diffs.end(), more.begin(), more.end());
    EXPECT_TRUE(diffs.empty()) << "backup " << id << ":\n" << JoinLines(diffs);
  }

  // The stock-tools recipe: the set's archives up to `upto` (0-based index of
  // `archives`) through contrib/restore-set.py, which runs age | zstd | GNU
  // tar --xattrs --acls and applies the manifests' deletions and metadata-only
  // entries.
  std::string StockRestore(const std::vector<std::string>& archives, size_t upto) {
    std::string target = dir_ / ("tar-" + std::to_string(++checks_));
    std::vector<std::string> argv = {"python3",
                                     std::string(GB_SOURCE_DIR) + "/contrib/restore-set.py",
                                     tool_.identity(), target};
    for (size_t i = 0; i <= upto; ++i) argv.push_back(archives[i]);
    Result r = Exec(argv);
    EXPECT_EQ(r.code, 0) << r.Show();
    return target;
  }

  std::vector<std::string> archives_;
  std::vector<std::string> snapshots_, ids_;

  void BackupGeneration() {
    nlohmann::json b = Backup();
    ids_.push_back(b["id"]);
    archives_.push_back(b["archive"]);
    snapshots_.push_back(Snapshot("gen" + std::to_string(ids_.size())));
    last_ = b;
  }
  nlohmann::json last_;
};

TEST_F(MetadataTest, FiveGenerationsRestoreExactlyFromTheCacheTheVaultAndWithGnuTar) {
  MakeTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}, "max_incrementals = 4"));
  BackupGeneration();  // 1: full

  // 2: metadata only: an xattr, an ACL, an owner and a mode change; size and
  // mtime kept. Stored as metadata entries, without the content again.
  Must("setfattr -n user.comment -v 'final' " + Quote(S("docs/report.txt")));
  Must("setfacl -m u:nobody:r " + Quote(S("bin/ping")));
  Must("chown nobody " + Quote(S("shared/inherited.txt")));
  Must("chmod 0700 " + Quote(S("bin/ping")));
  SetCapability(S("bin/ping"));  // chmod keeps it, chown would drop it
  BackupGeneration();
  EXPECT_EQ(last_["bytes"], 0) << "a metadata-only change stored the content again";
  EXPECT_GE(last_["files"].get<int>(), 3);

  // 3: content and xattr changes together; a new file inherits the default ACL.
  WriteFile(S("docs/report.txt"), "revised numbers\n", 0644, 1600000100, 0);
  Must("setfattr -x user.comment " + Quote(S("docs/report.txt")) + " && setfattr -n user.other " +
       "-v x " + Quote(S("docs/report.txt")));
  WriteFile(S("shared/new.txt"), "new in shared\n");
  BackupGeneration();

  // 4: the default ACL changes, the capability goes, the FIFO's mode changes.
  Must("setfacl -d -m u:nobody:r " + Quote(S("shared")));
  Must("setcap -r " + Quote(S("bin/ping")) + " 2>/dev/null || setfattr -x security.capability " +
       Quote(S("bin/ping")));
  Must("chmod 0600 " + Quote(S("pipe")));
  BackupGeneration();
  EXPECT_EQ(last_["bytes"], 0) << "a metadata-only change stored the content again";

  // 5: the ACL is removed, another device appears.
  Must("setfacl -b " + Quote(S("docs/report.txt")));
  Must("mknod -m 0600 " + Quote(S("zero")) + " c 1 5");
  BackupGeneration();

  for (size_t i = 0; i < ids_.size(); ++i) {
    SCOPED_TRACE("generation " + std::to_string(i + 1));
    ExpectExactRestore(ids_[i], snapshots_[i]);
    std::string stock = StockRestore(archives_, i);
    auto diffs = CompareTrees(snapshots_[i], Restored(stock, src_));
    auto more = CompareMetadata(snapshots_[i], Restored(stock, src_));
    diffs.insert(diffs.end(), more.begin(), more.end());
    EXPECT_TRUE(diffs.empty()) << "GNU tar, generation " << i + 1 << ":\n" << JoinLines(diffs);
  }

  // ls -l shows a '+' for an ACL, as ls does.
  Result r = tool_.Run({"ls", "-l", "--at", ids_[0], S("docs/report.txt")});
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_NE(r.out.find("-rw-rw-r--+"), std::string::npos) << r.out;
  r = tool_.Run({"ls", "-l", "--at", ids_[4], S("docs/report.txt")});
  EXPECT_EQ(r.out.find('+'), std::string::npos) << r.out;

  // The set is complete: it goes to the (built-in) vault and leaves the cache;
  // every generation restores exactly from the vault too.
  Result sync = tool_.Run({"sync"});
  ASSERT_EQ(sync.code, 0) << sync.Show();
  for (const std::string& a : archives_) ASSERT_FALSE(Exists(a)) << a << " is still cached";
  for (size_t i = 0; i < ids_.size(); ++i) {
    SCOPED_TRACE("from the vault, generation " + std::to_string(i + 1));
    ExpectExactRestore(ids_[i], snapshots_[i]);
  }
}

// As a user, what cannot be restored (a capability, a device, other users'
// ownership) is listed and the exit code is 3; the rest is restored.
TEST_F(MetadataTest, AsAUserWhatCannotBeRestoredIsListedAndExits3) {
  if (Exec({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true"}).code != 0)
    GTEST_SKIP() << "setpriv cannot switch to uid 65534 here";
  MakeTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  BackupGeneration();
  ASSERT_EQ(Exec({"chown", "-R", "65534:65534", tool_.dir()}).code, 0);
  std::string target = dir_ / "as-nobody";
  MakeDirs(target);
  ASSERT_EQ(::chown(target.c_str(), 65534, 65534), 0);
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  tool_.SetPrefix({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  Result r = tool_.Run({"restore", "--to", target});
  EXPECT_EQ(r.code, 3) << r.Show();
  EXPECT_NE(r.err.find(Restored(target, S("bin/ping")) + ": metadata not restored"),
            std::string::npos)
      << r.Show();
  EXPECT_NE(r.err.find("security.capability"), std::string::npos) << r.Show();
  EXPECT_NE(r.err.find(Restored(target, S("null")) + ": chardev 1,3 not restored"),
            std::string::npos)
      << r.Show();
  EXPECT_NE(r.err.find("owner not restored"), std::string::npos) << r.Show();
  // What a user may set came back.
  Result x = Bash("getfattr --only-values -n user.comment " +
                  Quote(Restored(target, S("docs/report.txt"))));
  EXPECT_EQ(x.out, "first draft") << x.Show();
  x = Bash("getfacl -p " + Quote(Restored(target, S("docs/report.txt"))) + " | grep nobody");
  EXPECT_NE(x.out.find("user:nobody:rw-"), std::string::npos) << x.Show();
  struct stat st;
  ASSERT_EQ(::lstat(Restored(target, S("pipe")).c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

// File flags (chattr) come back: an immutable file, a nodump file and an
// append-only directory, each set last so the restore itself is not blocked.
TEST_F(MetadataTest, FileFlagsAreRestored) {
  WriteFile(S("locked/frozen.txt"), "never changes\n");
  WriteFile(S("locked/scratch.bin"), Random(5000, 4));
  HardLink(S("locked/frozen.txt"), S("frozen-link"));
  MakeDirs(S("journal"));
  WriteFile(S("journal/0001.log"), "first entry\n");
  if (Bash("chattr +d " + Quote(S("locked/scratch.bin"))).code != 0)
    GTEST_SKIP() << "the test file system has no file flags";
  std::string target = dir_ / "flags";
  // Immutable and append-only entries cannot be deleted: clear them whatever happens.
  struct Unlock {
    std::string paths;
    ~Unlock() { Bash("chattr -R -i -a " + paths + " 2>/dev/null"); }
  } unlock{Quote(src_) + " " + Quote(target)};
  Must("chattr +i " + Quote(S("locked/frozen.txt")));
  Must("chattr +a " + Quote(S("journal")));
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  Result r = tool_.Run({"restore", "--to", target});
  ASSERT_EQ(r.code, 0) << r.Show();
  auto flags = [&](const std::string& rel) {
    Result l = Bash("lsattr -d " + Quote(Restored(target, S(rel))) + " | cut -d' ' -f1");
    EXPECT_EQ(l.code, 0) << l.Show();
    return l.out;
  };
  EXPECT_NE(flags("locked/frozen.txt").find('i'), std::string::npos) << flags("locked/frozen.txt");
  EXPECT_NE(flags("locked/scratch.bin").find('d'), std::string::npos);
  EXPECT_NE(flags("journal").find('a'), std::string::npos) << flags("journal");
  EXPECT_EQ(flags("journal/0001.log").find('a'), std::string::npos);
  EXPECT_EQ(ReadFile(Restored(target, S("journal/0001.log"))), "first entry\n");
  EXPECT_EQ(ReadFile(Restored(target, S("frozen-link"))), "never changes\n");
  EXPECT_EQ(r.err.find("file flags"), std::string::npos) << r.Show();
}

// --no-xattrs leaves extended attributes out (and says nothing about them);
// --numeric-owner restores the recorded ids.
TEST_F(MetadataTest, NoXattrsAndNumericOwner) {
  MakeTree();
  Must("chown 4321:4322 " + Quote(S("shared/inherited.txt")));  // ids without names
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  std::string target = dir_ / "plain";
  Result r = tool_.Run({"restore", "--no-xattrs", "--numeric-owner", "--to", target});
  ASSERT_EQ(r.code, 0) << r.Show();
  Result x = Bash("getfattr -d -m - " + Quote(Restored(target, S("docs/report.txt"))) + " " +
                  Quote(Restored(target, S("bin/ping"))));
  EXPECT_EQ(x.out.find("user.comment"), std::string::npos) << x.Show();
  EXPECT_EQ(x.out.find("security.capability"), std::string::npos) << x.Show();
  struct stat st;
  ASSERT_EQ(::lstat(Restored(target, S("shared/inherited.txt")).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4321u);
  EXPECT_EQ(st.st_gid, 4322u);
  ASSERT_EQ(::lstat(Restored(target, S("docs")).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
}

// A user name the restoring host does not know: restored by the recorded id,
// said so, exit 3.
TEST_F(MetadataTest, UnknownUserIsRestoredByIdAndReported) {
  WriteFile(S("f.txt"), "owned by someone\n");
  Must("chown 4321 " + Quote(S("f.txt")));
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  // As if the backed-up host had called uid 4321 "gb-departed".
  Must("sqlite3 " + Quote(tool_.state() + "/catalog.db") +
       " \"UPDATE entries SET uname='gb-departed' WHERE uid=4321\"");
  std::string target = dir_ / "r";
  Result r = tool_.Run({"restore", "--to", target});
  EXPECT_EQ(r.code, 3) << r.Show();
  EXPECT_NE(r.err.find("user gb-departed is unknown here: restored as uid 4321"), std::string::npos)
      << r.Show();
  struct stat st;
  ASSERT_EQ(::lstat(Restored(target, S("f.txt")).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4321u);
}

// ------------------------------------------------------------------ changing files

class ChangingFileTest : public E2eTest {
 protected:
  // Appends to `path` until stopped: a busy log.
  void StartAppending(const std::string& path) {
    appender_ = std::thread([this, path] {
      std::string line(4096, 'x');
      int n = 0;
      while (!stop_) {
        AppendFile(path, line.substr(0, 4000) + std::to_string(n++) + "\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  void StopAppending() {
    stop_ = true;
    if (appender_.joinable()) appender_.join();
  }
  void TearDown() override { StopAppending(); }

  // Every file member of an archive with its size (GNU tar's verbose listing).
  std::map<std::string, uint64_t> Members(const std::string& archive) {
    Result r = Bash("age -d -i " + Quote(tool_.identity()) + " " + Quote(archive) +
                    " | zstd -d -q | tar -tv --quoting-style=literal");
    EXPECT_EQ(r.code, 0) << r.Show();
    std::map<std::string, uint64_t> out;
    for (const auto& l : Lines(r.out)) {
      if (l.empty() || l[0] != '-') continue;
      std::istringstream in(l);
      std::string perms, owner, date, time, path;
      uint64_t size = 0;
      in >> perms >> owner >> size >> date >> time;
      std::getline(in >> std::ws, path);
      out[path] += size;
    }
    return out;
  }

  std::thread appender_;
  std::atomic<bool> stop_{false};
};

// A log appended to throughout the backup: stored (a consistent prefix),
// marked, warned about, exit 3; every byte in the archive belongs to an entry.
TEST_F(ChangingFileTest, AppendedLogIsStoredAsReadMarkedAndLeavesNoStrayBytes) {
  WriteFile(S("quiet.txt"), "does not change\n");
  WriteRandomFile(S("app.log"), 12 << 20, 4);  // larger than a file read whole
  std::string start = ReadFile(S("app.log"));
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  StartAppending(S("app.log"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  nlohmann::json b = tool_.Json({"backup"}, 3);
  StopAppending();
  ASSERT_TRUE(b.is_object());
  EXPECT_EQ(b["changed_while_read"], 1) << b.dump();
  EXPECT_EQ(b["skipped"], 0) << b.dump();

  nlohmann::json ls = tool_.Json({"ls", "-l", S("app.log")});
  ASSERT_EQ(ls.size(), 1u) << ls.dump();
  EXPECT_EQ(ls[0]["changed_while_read"], true) << ls.dump();
  uint64_t stored = ls[0]["size"];
  EXPECT_GE(stored, start.size());

  std::string target = dir_ / "restored";
  Result r = tool_.Run({"restore", "--to", target});
  ASSERT_EQ(r.code, 0) << r.Show();
  std::string got = ReadFile(Restored(target, S("app.log")));
  EXPECT_EQ(got.size(), stored);
  EXPECT_EQ(got, ReadFile(S("app.log")).substr(0, got.size()))
      << "the stored version is not a prefix of the file";

  // The archive holds the manifest, the checksums and exactly the recorded data.
  std::map<std::string, uint64_t> members = Members(b["archive"]);
  members.erase(".glacier-backup/manifest.json");
  members.erase(".glacier-backup/checksums.json");
  EXPECT_EQ(members, (std::map<std::string, uint64_t>{{InArchive("app.log"), stored},
                                                      {InArchive("quiet.txt"), 16}}));

  // The manifest and the checksums say so too, for stock tools.
  Result m = Bash("age -d -i " + Quote(tool_.identity()) + " " + Quote(b["archive"]) +
                  " | zstd -d -q | tar -xO .glacier-backup/checksums.json");
  EXPECT_NE(m.out.find("\"changed_while_read\":true"), std::string::npos) << m.Show();
}

// on_change = "skip": the file is left out, and not one of its bytes is in
// the archive.
TEST_F(ChangingFileTest, SkipLeavesNoBytesInTheArchive) {
  WriteFile(S("quiet.txt"), "does not change\n");
  WriteRandomFile(S("app.log"), 12 << 20, 4);
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}, "on_change = \"skip\"\n"));
  StartAppending(S("app.log"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  nlohmann::json b = tool_.Json({"backup"}, 3);
  StopAppending();
  ASSERT_TRUE(b.is_object());
  EXPECT_EQ(b["skipped"], 1) << b.dump();
  std::map<std::string, uint64_t> members = Members(b["archive"]);
  members.erase(".glacier-backup/manifest.json");
  members.erase(".glacier-backup/checksums.json");
  EXPECT_EQ(members, (std::map<std::string, uint64_t>{{InArchive("quiet.txt"), 16}}));
  // The next run, with the file still, stores it.
  nlohmann::json again = Backup();
  EXPECT_EQ(again["skipped"], 0);
  ExpectRestoresTo(again["id"], src_);
}

}  // namespace
}  // namespace gbe2e
