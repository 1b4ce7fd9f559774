// Restore writes small files on several threads. Whatever order the writes
// finish in, the restored tree is the backed-up one to the byte and the
// nanosecond: directories get their modes and times after everything below
// them is written (a 0500 directory still receives its files), hard links join
// the file they belong to, and a problem is reported for the file it concerns,
// in archive order, with every other file restored as before.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

class ParallelRestoreTest : public E2eTest {
 protected:
  void TearDown() override { Bash("chmod -R u+rwX " + Quote(dir_.path())); }

  static std::string Name(const char* fmt, int i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, i);
    return buf;
  }

  // 600 small files of many sizes, modes and times in 18 directories (some
  // nested, some read-only), hard links across directories, empty files, a
  // sparse file, a file too big for the writer threads among them, symlinks,
  // and user xattrs where the file system keeps them.
  void MakeTree() {
    for (int d = 0; d < 12; ++d) {
      dirs_.push_back(Name("d%02d", d));
      if (d % 4 == 0) {
        dirs_.push_back(Name("d%02d/inner", d));
        dirs_.push_back(Name("d%02d/inner/deep", d));
      }
    }
    for (const auto& d : dirs_) MakeDirs(S(d));
    const mode_t modes[] = {0644, 0600, 0755, 0444, 0640, 0700};
    for (int i = 0; i < 600; ++i) {
      std::string rel = dirs_[static_cast<size_t>(i) % dirs_.size()] + Name("/f%03d", i);
      size_t size = i % 10 == 0 ? 0 : static_cast<size_t>(i) * 37 % 9000;
      WriteFile(S(rel), Random(size, static_cast<uint64_t>(i)), modes[i % 6], 1500000000 + i * 1000,
                i * 7919 % 1000000000);
      files_.push_back(rel);
    }
    // Links in a directory that sorts last: the archive holds each file first.
    for (int i = 0; i < 600; i += 25)
      HardLink(S(files_[static_cast<size_t>(i)]), S(Name("zz-links/link%03d", i)));
    dirs_.push_back("zz-links");
    WriteRandomFile(S("d05/big.bin"), 3 << 20, 5);  // streamed, between pooled files
    HardLink(S("d05/big.bin"), S("d06/big-link"));
    WriteFile(S("d07/sparse.bin"), "");
    ::truncate(S("d07/sparse.bin").c_str(), 700000);
    WriteAt(S("d07/sparse.bin"), 0, "head");
    WriteAt(S("d07/sparse.bin"), 500000, Random(3000, 77));
    Symlink("../d01/f001", S("d02/to-f001"));
    Symlink("inner/deep", S("d04/to-deep"));
    xattrs_ = ::setxattr(S(files_[3]).c_str(), "user.tag", "three", 5, 0) == 0;
    for (int i = 13; xattrs_ && i < 600; i += 100) {
      const std::string& rel = files_[static_cast<size_t>(i)];
      ASSERT_EQ(::setxattr(S(rel).c_str(), "user.tag", rel.data(), rel.size(), 0), 0);
    }
    // Directory modes and times last, deepest first, as a user's tree would
    // have them: some no longer writable, one not even listable by others.
    for (size_t k = dirs_.size(); k-- > 0;) {
      const mode_t dir_modes[] = {0755, 0500, 0555, 0700, 0750, 0511};
      ASSERT_EQ(::chmod(S(dirs_[k]).c_str(), dir_modes[k % 6]), 0);
      SetMtime(S(dirs_[k]), 1400000000 + static_cast<int64_t>(k) * 86400,
               static_cast<long>(k) * 1000003);
    }
  }

  std::string Xattr(const std::string& path) {
    char buf[256];
    ssize_t n = ::lgetxattr(path.c_str(), "user.tag", buf, sizeof buf);
    return n < 0 ? "<none>" : std::string(buf, static_cast<size_t>(n));
  }

  void ExpectSameXattrs(const std::string& target) {
    if (!xattrs_) return;
    for (const auto& rel : files_) EXPECT_EQ(Xattr(Restored(target, S(rel))), Xattr(S(rel))) << rel;
  }

  std::vector<std::string> dirs_, files_;
  bool xattrs_ = false;
};

TEST_F(ParallelRestoreTest, ManySmallFilesRestoreExactly) {
  ASSERT_NO_FATAL_FAILURE(MakeTree());
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  std::string target = dir_ / "target";
  Result r = tool_.Run({"restore", "--to", target});
  ASSERT_EQ(r.code, 0) << r.Show();
  std::vector<std::string> diffs = CompareTrees(src_, Restored(target, src_));
  EXPECT_TRUE(diffs.empty()) << JoinLines(diffs);
  ExpectSameXattrs(target);

  // And from an incremental that changed some of them (the archives of a
  // point read one after the other).
  for (size_t i = 1; i < files_.size(); i += 40) {
    std::string p = S(files_[i]), dir = Parent(p);
    struct stat st {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    ::chmod(dir.c_str(), 0700);
    ::chmod(p.c_str(), 0600);
    WriteFile(p, Random(1000 + i, 1000 + i), 0604, 1700000000, static_cast<long>(i));
    ::chmod(dir.c_str(), st.st_mode & 07777);
    SetMtime(dir, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  }
  nlohmann::json inc = Backup();
  ASSERT_EQ(inc["kind"], "incremental");
  std::string target2 = dir_ / "target2";
  r = tool_.Run({"restore", "--to", target2});
  ASSERT_EQ(r.code, 0) << r.Show();
  diffs = CompareTrees(src_, Restored(target2, src_));
  EXPECT_TRUE(diffs.empty()) << JoinLines(diffs);
  ExpectSameXattrs(target2);
}

// Files already in the target (no --overwrite) are named, each once and in
// archive order; everything else is restored exactly.
TEST_F(ParallelRestoreTest, ExistingFilesAreReportedAloneAndInOrder) {
  ASSERT_NO_FATAL_FAILURE(MakeTree());
  ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  Backup();
  std::string target = dir_ / "target";
  // Two files and a hard link's path (its file is restored, the link not).
  const std::vector<std::string> existing = {files_[431], files_[123], "zz-links/link250"};
  for (const auto& rel : existing) WriteFile(Restored(target, S(rel)), "mine\n", 0600);

  Result r = tool_.Run({"restore", "--to", target});
  EXPECT_EQ(r.code, 3) << r.Show();
  for (const auto& rel : existing)
    EXPECT_EQ(ReadFile(Restored(target, S(rel))), "mine\n") << rel << " was replaced";
  // The paths the errors name, in the order they were reported: archive
  // order (a depth-first walk visiting children in byte order), a hard link
  // right after the file it links to.
  std::vector<std::string> named;
  for (const auto& line : Lines(r.err))
    for (const auto& rel : existing)
      if (line.find(S(rel) + ":") != std::string::npos) named.push_back(rel);
  auto key = [&](const std::string& rel) {
    std::string p = rel == existing[2] ? files_[250] + "/" : rel;
    std::replace(p.begin(), p.end(), '/', '\0');
    return p;
  };
  std::vector<std::string> want = existing;
  std::sort(want.begin(), want.end(),
            [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
  EXPECT_EQ(named, want) << r.Show();

  // Everything else is exactly the backed-up tree.
  std::vector<std::string> others;
  for (const auto& d : CompareTrees(src_, Restored(target, src_))) {
    bool expected = false;
    for (const auto& rel : {existing[0], existing[1], existing[2], files_[250]})
      expected |= d.rfind(rel + ": ", 0) == 0;
    if (!expected) others.push_back(d);
  }
  EXPECT_TRUE(others.empty()) << JoinLines(others);
}

}  // namespace
}  // namespace gbe2e
