// What a backup stores: only what changed, what it could not read (and that
// it retries), and what survives a backup killed half way.
#include <sys/file.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

// The entries an archive stores (its members but the .glacier-backup ones),
// read with the stock tools; directories without their trailing '/'.
std::vector<std::string> Stored(const Tool& tool, const std::string& archive) {
  Result r =
      Bash("age -d -i " + Quote(tool.identity()) + " " + Quote(archive) + " | zstd -d -q | tar -t");
  EXPECT_EQ(r.code, 0) << r.Show();
  std::vector<std::string> out;
  for (std::string m : Lines(r.out)) {
    if (m.rfind(".glacier-backup/", 0) == 0) continue;
    if (m.size() > 1 && m.back() == '/') m.pop_back();
    out.push_back(m);
  }
  return out;
}

class IncrementalTest : public E2eTest {
 protected:
  // The stored entries at or below the include (not its ancestors).
  std::vector<std::string> StoredBelowSource(const std::string& archive) {
    std::vector<std::string> out;
    std::string root = InArchive("");
    for (const std::string& m : Stored(tool_, archive))
      if (m == root || m.rfind(root + "/", 0) == 0) out.push_back(m);
    return out;
  }
};

TEST_F(IncrementalTest, OneEditStoresOnlyThatFile) {
  MakeSmallTree();
  for (int i = 0; i < 20; ++i)
    WriteFile(S("many/f" + std::to_string(i)), "file " + std::to_string(i));
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  nlohmann::json full = Backup();
  EXPECT_EQ(full["kind"], "full");
  EXPECT_EQ(full["files"], full["scanned_files"]);

  WriteFile(S("docs/a.txt"), "edited a, longer than before\n");  // in place: docs/ keeps its mtime
  nlohmann::json inc = Backup();
  EXPECT_EQ(inc["kind"], "incremental");
  EXPECT_EQ(inc["set"], full["set"]);
  EXPECT_EQ(inc["bytes"], std::string("edited a, longer than before\n").size());
  EXPECT_EQ(inc["deleted"], 0);
  EXPECT_LT(inc["archive_size"].get<uint64_t>(), full["archive_size"].get<uint64_t>());
  EXPECT_EQ(StoredBelowSource(inc["archive"]), std::vector<std::string>{InArchive("docs/a.txt")});
  // Directories above the include may be recorded again (see NothingChanged...), nothing more.
  EXPECT_EQ(inc["files"], Stored(tool_, inc["archive"]).size());
  EXPECT_LE(inc["changed"].get<int>(), 3);
}

// Nothing below the include changed; a directory above it did, as $HOME or
// /tmp do all the time. The backup must store nothing.
TEST_F(IncrementalTest, NothingChangedInIncludesStoresNothing) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  nlohmann::json full = Backup();
  WriteFile(dir_ / "unrelated.txt", "next to the source, not in it\n");
  nlohmann::json same = Backup();
  EXPECT_EQ(same["kind"], "incremental");
  EXPECT_EQ(same["deleted"], 0);
  EXPECT_EQ(same["bytes"], 0);
  EXPECT_EQ(same["scanned_files"], full["scanned_files"]);
  EXPECT_TRUE(StoredBelowSource(same["archive"]).empty());
  EXPECT_EQ(same["changed"], 0);
  EXPECT_EQ(same["files"], 0) << "stored: " << JoinLines(Stored(tool_, same["archive"]));
}

TEST_F(IncrementalTest, DeletionIsRecordedAndRestoresAsAbsent) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  nlohmann::json full = Backup();
  std::string before = Snapshot("before");
  ASSERT_EQ(::unlink(S("docs/b.txt").c_str()), 0);
  Exec({"rm", "-rf", S("notes")});
  nlohmann::json inc = Backup();
  EXPECT_EQ(inc["kind"], "incremental");
  EXPECT_EQ(inc["deleted"], 4);  // docs/b.txt, notes/link, notes/n.txt and notes/ itself
  EXPECT_EQ(StoredBelowSource(inc["archive"]),
            (std::vector<std::string>{InArchive(""), InArchive("docs")}));  // new mtimes
  nlohmann::json snaps = tool_.Snapshots();
  ASSERT_EQ(snaps.size(), 2u);
  EXPECT_EQ(snaps[1]["deleted"], inc["deleted"]);
  ExpectRestoresTo(inc["id"], src_);
  ExpectRestoresTo(full["id"], before);
}

// ------------------------------------------------------------------ partial

// As root, permission bits do not stop reading a file, so the tool runs as
// `nobody` (setpriv) over a tree nobody owns, except one root-only file.
class PartialBackupTest : public E2eTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) return;  // chmod 000 works as is
    if (Exec({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true"}).code != 0)
      GTEST_SKIP() << "setpriv cannot switch to uid 65534 here";
    tool_.SetPrefix({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  }
  void GiveToNobody(const std::string& path) {
    if (::geteuid() == 0) {
      ASSERT_EQ(Exec({"chown", "-R", "65534:65534", path}).code, 0);
    }
  }
  void MakeUnreadable(const std::string& path) {
    if (::geteuid() == 0) {
      ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
    }
    ::chmod(path.c_str(), ::geteuid() == 0 ? 0600 : 0000);
  }
  void MakeReadable(const std::string& path) {
    if (::geteuid() == 0) {
      ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
    }
    ::chmod(path.c_str(), 0600);
  }
};

TEST_F(PartialBackupTest, UnreadableFileIsReportedSkippedAndStoredNextRun) {
  MakeSmallTree();
  WriteFile(S("docs/locked.txt"), "only root may read this\n");
  ASSERT_NO_FATAL_FAILURE(GiveToNobody(dir_.path()));
  ASSERT_NO_FATAL_FAILURE(MakeUnreadable(S("docs/locked.txt")));
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  ASSERT_NO_FATAL_FAILURE(GiveToNobody(tool_.dir()));

  Result r = tool_.Run({"backup"});
  EXPECT_EQ(r.code, 3) << r.Show();
  EXPECT_NE(r.err.find(S("docs/locked.txt")), std::string::npos) << r.Show();
  nlohmann::json snaps = tool_.Snapshots();
  ASSERT_EQ(snaps.size(), 1u) << "the partial backup must be committed";
  EXPECT_EQ(snaps[0]["skipped"], 1);
  nlohmann::json ls = tool_.Json({"ls"});
  std::set<std::string> listed;
  for (const auto& e : ls) listed.insert(e["path"].get<std::string>());
  EXPECT_TRUE(listed.count(S("docs/a.txt")));
  EXPECT_FALSE(listed.count(S("docs/locked.txt"))) << "ls lists a file that was not backed up";

  ASSERT_NO_FATAL_FAILURE(MakeReadable(S("docs/locked.txt")));
  nlohmann::json next = tool_.Json({"backup"});
  EXPECT_EQ(next["skipped"], 0);
  EXPECT_GE(next["files"].get<int>(), 1);
  std::string target = dir_ / "restored";
  MakeDirs(target);
  GiveToNobody(target);
  r = tool_.Run({"restore", "--to", target, S("docs/locked.txt")});
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_EQ(ReadFile(Restored(target, S("docs/locked.txt"))), "only root may read this\n");
}

// ------------------------------------------------------------------ crash

// The temporary file of the archive being written, once it holds `min_bytes`.
bool ArchiveBeingWritten(const std::string& cache, uint64_t min_bytes) {
  for (const std::string& name : ListDir(cache)) {
    if (name.rfind(".tmp-", 0) != 0 || name.find(".tar.zst.age") == std::string::npos) continue;
    struct stat st;
    if (::stat((cache + "/" + name).c_str(), &st) == 0 &&
        static_cast<uint64_t>(st.st_size) >= min_bytes)
      return true;
  }
  return false;
}

TEST_F(IncrementalTest, KilledBackupLosesNothingAndLeavesNoLitter) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  nlohmann::json first = Backup();
  std::string before = Snapshot("before");
  for (int i = 0; i < 6; ++i)
    WriteRandomFile(S("big/r" + std::to_string(i) + ".bin"), 50 << 20, 100 + i);

  {
    Child c = tool_.Start({"backup"});
    // Kill it once the archive is being written (not on a timer).
    while (!c.Exited() && !ArchiveBeingWritten(tool_.cache(), 8 << 20))
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    c.Kill(SIGKILL);
    Result killed = c.Wait();
    ASSERT_EQ(killed.code, 128 + SIGKILL)
        << "the backup ended before it could be killed mid-archive\n"
        << killed.Show();
  }

  nlohmann::json snaps = tool_.Snapshots();
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0]["id"], first["id"]);
  ExpectRestoresTo(first["id"], before);

  nlohmann::json next = Backup();
  EXPECT_EQ(next["kind"], "incremental");
  EXPECT_EQ(next["skipped"], 0);
  snaps = tool_.Snapshots();
  ASSERT_EQ(snaps.size(), 2u);
  std::set<std::string> referenced;
  for (const auto& s : snaps) referenced.insert(s["archive"].get<std::string>());
  for (const std::string& name : tool_.CacheFiles()) {
    EXPECT_NE(name.rfind(".tmp-", 0), 0u) << "leftover temporary file " << name;
    if (name.find(".tar.zst.age") != std::string::npos) {
      // An archive's signature goes with it.
      std::string archive = name.ends_with(".minisig") ? name.substr(0, name.size() - 8) : name;
      EXPECT_TRUE(referenced.count(archive)) << "unreferenced archive " << name;
    }
  }
  ExpectRestoresTo(next["id"], src_);
}

// A second run while one holds the state lock: exit 7, nothing written.
TEST_F(IncrementalTest, LockedStateDirExits7) {
  MakeSmallTree();
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  nlohmann::json first = Backup();
  int fd = ::open((tool_.state() + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  Result r = tool_.Run({"backup"});
  ::close(fd);
  EXPECT_EQ(r.code, 7) << r.Show();
  EXPECT_NE(r.err.find("lock"), std::string::npos) << r.Show();
  EXPECT_EQ(tool_.Snapshots().size(), 1u);
}

}  // namespace
}  // namespace gbe2e
