// Hostile archives: a tar crafted by someone who can write to the vault or the
// cache and knows the public recipient key, encrypted to it and put in place
// of a genuine archive. Whatever it claims, restore writes nothing outside its
// target, exits 4, and stays fast and small.

#include <chrono>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
constexpr bool kAddressSanitizer = __has_feature(address_sanitizer);
#else
constexpr bool kAddressSanitizer = false;
#endif

struct Hostile {
  const char* name;
  // Python that adds members to `t` (a tarfile opened for writing). In scope:
  // add(name, data=b"evil\n", kind=REGTYPE, link="", size=None), raw(header_info,
  // data) for a header whose size lies, in_src (the source as archive paths
  // show it), outside (a folder restore must not touch).
  const char* members;
  bool gnu_sparse = false;  // append a 1 TiB sparse member made by GNU tar instead
};

// The tar goes through python's tarfile, except for the sparse member (GNU tar).
constexpr const char* kCraft = R"(
import io, os, sys, tarfile
out, in_src, outside, body = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
REGTYPE, SYMTYPE, LNKTYPE, CHRTYPE = tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE
f = open(out, "wb")
def add(name, data=b"evil\n", kind=REGTYPE, link="", size=None):
    i = tarfile.TarInfo(name)
    i.type, i.linkname, i.mode = kind, link, 0o644
    i.size = (len(data) if size is None else size) if kind == REGTYPE else 0
    if kind == CHRTYPE:
        i.devmajor, i.devminor = 1, 3
    f.write(i.tobuf(tarfile.PAX_FORMAT))
    if kind == REGTYPE:
        f.write(data)
        f.write(b"\0" * (-len(data) % 512))
exec(body)
f.write(b"\0" * 1024)
f.close()
)";

const Hostile kTable[] = {
    {"AbsoluteNames", "add(outside + '/evil-absolute')\nadd('/tmp/gb-evil-absolute')"},
    {"DotDotNames",
     "add('../evil-dotdot')\nadd(in_src + '/../../../../../../../evil-inner')\n"
     "add(in_src + '/data/../../../evil-dotdot2')"},
    {"SymlinkThenWrite",
     "add(in_src + '/data/sub', kind=SYMTYPE, link=outside)\n"
     "add(in_src + '/data/sub/evil-through-symlink')\n"
     "add(in_src + '/data', kind=SYMTYPE, link=outside)\n"
     "add(in_src + '/data/a-small.txt', b'before the big one\\n')"},
    {"HardLinkOutside",
     "add(in_src + '/data/a-small.txt', kind=LNKTYPE, link=outside + '/secret')\n"
     "add(in_src + '/data/z-small.txt', kind=LNKTYPE, link='../../../../../../etc/passwd')"},
    {"DeviceNode", "add(in_src + '/data/a-small.txt', kind=CHRTYPE)"},
    {"ManifestClaiming2To62Bytes", "add('.glacier-backup/manifest.json', b'{', size=1 << 62)"},
    {"TenGigabytesDeclaredInAFewKilobytes",
     "add(in_src + '/data/big.bin', b'x' * 10000, size=10 << 30)"},
    {"OneTebibyteSparseMember", "", /*gnu_sparse=*/true},
};

class HostileArchiveTest : public E2eTest, public ::testing::WithParamInterface<Hostile> {
 protected:
  void SetUp() override {
    WriteFile(S("docs/a.txt"), "backed up a\n");
    ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
    Backup();
    WriteFile(S("data/a-small.txt"), "before the big one\n");
    WriteRandomFile(S("data/big.bin"), 4 << 20, 42);
    WriteFile(S("data/z-small.txt"), "after the big one\n");
    nlohmann::json second = Backup();
    archive_ = second["archive"].get<std::string>();
    outside_ = dir_ / "outside";
    MakeDirs(outside_);
    WriteFile(outside_ + "/secret", "secret\n");
  }

  // Builds the hostile tar and puts it, encrypted, in place of the second archive.
  void Plant(const Hostile& h) {
    std::string tar = dir_ / "hostile.tar";
    WriteFile(dir_ / "craft.py", kCraft);
    Result r = Exec({"python3", dir_ / "craft.py", tar, InArchive(""), outside_, h.members});
    ASSERT_EQ(r.code, 0) << r.Show();
    if (h.gnu_sparse) {
      // A 1 TiB file with 4 KiB of data at its end, named like the backed-up big.bin.
      std::string staging = dir_ / "sparse";
      std::string file = staging + "/" + InArchive("data/big.bin");
      MakeDirs(Parent(file));
      r = Bash("truncate -s 1T " + Quote(file) + " && printf 'tail' | dd of=" + Quote(file) +
               " bs=1 seek=$((1024**4 - 4096)) conv=notrunc status=none && tar -C " +
               Quote(staging) + " --sparse --format=posix -cf " + Quote(tar) + " " +
               Quote(InArchive("data/big.bin")));
      ASSERT_EQ(r.code, 0) << r.Show();
    }
    r = Bash("zstd -q -c " + Quote(tar) + " | age -r " + tool_.recipient() + " -o " +
             Quote(archive_) + ".new && mv " + Quote(archive_) + ".new " + Quote(archive_));
    ASSERT_EQ(r.code, 0) << r.Show();
  }

  std::string archive_, outside_;
};

TEST_P(HostileArchiveTest, RestoreExits4WritesNothingOutsideAndStaysSmallAndFast) {
  ASSERT_NO_FATAL_FAILURE(Plant(GetParam()));
  std::string target = dir_ / "target";
  auto start = std::chrono::steady_clock::now();
  Result r = tool_.Run({"restore", "--to", target});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.code, 4) << r.Show();
  EXPECT_LT(seconds, 10.0) << r.Show();
  EXPECT_LT(r.max_rss_kib, 200 * 1024) << "KiB of memory at most";
  EXPECT_EQ(ListDir(outside_), std::vector<std::string>{"secret"}) << "restore wrote outside";
  EXPECT_EQ(ReadFile(outside_ + "/secret"), "secret\n");
  for (const std::string& p : {dir_ / "evil-dotdot", dir_ / "evil-dotdot2", dir_ / "evil-inner",
                               std::string("/tmp/gb-evil-absolute"), std::string("/evil-inner"),
                               std::string("/evil-dotdot2")})
    EXPECT_FALSE(Exists(p)) << "restore wrote " << p;
  std::string big = Restored(target, S("data/big.bin"));
  if (Exists(big)) {
    EXPECT_EQ(ContentDigest(big), ContentDigest(S("data/big.bin")));
  }
}

// verify --read-data and recover --from-archives read every member of an
// archive through: a genuine archive with its big.bin swapped for a member that
// declares 1 TiB, nearly all of it one hole, must not keep them hashing zeros
// for minutes.
class HostileReadThroughTest : public HostileArchiveTest {
 protected:
  // Rebuilds the second archive (manifest, members and checksums in their
  // order) with big.bin a 1 TiB sparse file holding 4 KiB of data.
  void PlantSparseBigFile() {
    std::string x = dir_ / "x";
    MakeDirs(x);
    Result r = Bash("age -d -i " + Quote(tool_.identity()) + " " + Quote(archive_) +
                    " | zstd -q -d | tar -C " + Quote(x) + " -xf - && age -d -i " +
                    Quote(tool_.identity()) + " " + Quote(archive_) +
                    " | zstd -q -d | tar -tf - > " + Quote(dir_ / "members"));
    ASSERT_EQ(r.code, 0) << r.Show();
    std::string big = x + "/" + InArchive("data/big.bin");
    r = Bash("rm " + Quote(big) + " && truncate -s 1T " + Quote(big) +
             " && printf 'tail' | dd of=" + Quote(big) +
             " bs=1 seek=$((1024**4 - 4096)) conv=notrunc status=none && tar -C " + Quote(x) +
             " --sparse --format=posix --no-recursion -cf - -T " + Quote(dir_ / "members") +
             " | zstd -q -c | age -r " + tool_.recipient() + " -o " + Quote(archive_) +
             ".new && mv " + Quote(archive_) + ".new " + Quote(archive_) + " && rm -rf " +
             Quote(x));
    ASSERT_EQ(r.code, 0) << r.Show();
  }

  // Runs the tool, expecting exit 4 within seconds.
  Result RunQuickly(const std::vector<std::string>& args) {
    auto start = std::chrono::steady_clock::now();
    Result r = tool_.Run(args);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.code, 4) << r.Show();
    EXPECT_LT(seconds, 15.0) << r.Show();
    return r;
  }
};

TEST_F(HostileReadThroughTest, VerifyReadDataDoesNotHashATebibyteOfHoles) {
  ASSERT_NO_FATAL_FAILURE(PlantSparseBigFile());
  Result r = RunQuickly({"verify", "--read-data"});
  EXPECT_NE((r.out + r.err).find("content of " + InArchive("data/big.bin") + " does not match"),
            std::string::npos)
      << r.Show();
}

TEST_F(HostileReadThroughTest, RecoverFromUnsignedArchivesDoesNotHashATebibyteOfHoles) {
  ASSERT_NO_FATAL_FAILURE(PlantSparseBigFile());
  // Unsigned, as an archive from before signatures: accepted with --allow-unsigned.
  std::string archives = dir_ / "archives";
  MakeDirs(archives);
  Result r = Bash("cp " + Quote(tool_.cache()) + "/*.tar.zst.age* " + Quote(archives) + " && rm " +
                  Quote(archives + "/" + Basename(archive_)) + ".minisig && rm -rf " +
                  Quote(tool_.cache()) + " " + Quote(tool_.state()));
  ASSERT_EQ(r.code, 0) << r.Show();
  r = RunQuickly({"recover", "--from-archives", archives, "--allow-unsigned"});
  EXPECT_NE((r.out + r.err).find(InArchive("data/big.bin")), std::string::npos) << r.Show();
  EXPECT_NE((r.out + r.err).find("holes"), std::string::npos) << r.Show();
  // The first backup, genuine, is recovered all the same.
  EXPECT_EQ(tool_.Snapshots().size(), 1u);
}

// An archive whose manifest inflates to 500 MiB (a few KiB stored), read
// with less memory than that: recover reports that archive, exits 4, and
// recovers the other sets all the same.
TEST_F(HostileReadThroughTest, RecoverGoesOnAfterAnArchiveAskingForMoreMemoryThanThereIs) {
  // AddressSanitizer cannot start under an address-space limit (it reserves
  // terabytes), and its operator new aborts rather than throw std::bad_alloc.
  if (kAddressSanitizer) GTEST_SKIP() << "AddressSanitizer cannot run under an address-space limit";
  // A third backup, in a set of its own.
  WriteFile(tool_.config(), tool_.ConfigText({src_}, "max_incrementals = 0"), 0600);
  WriteFile(S("docs/c.txt"), "third\n");
  Backup();
  std::string first;
  for (const std::string& f : tool_.CacheFiles())
    if (f.ends_with("-s0001-full.tar.zst.age")) first = f;
  ASSERT_FALSE(first.empty()) << JoinLines(tool_.CacheFiles());
  std::string archives = dir_ / "archives";
  MakeDirs(archives);
  WriteFile(dir_ / "craft.py", kCraft);
  Result r =
      Bash("cp " + Quote(tool_.cache()) + "/*.tar.zst.age* " + Quote(archives) + " && rm " +
           Quote(archives + "/" + first) + ".minisig && python3 " + Quote(dir_ / "craft.py") +
           " /dev/stdout x x " + Quote("add('.glacier-backup/manifest.json', b' ' * (500 << 20))") +
           " | zstd -q -c | age -r " + tool_.recipient() + " -o " + Quote(archives + "/" + first) +
           " && rm -rf " + Quote(tool_.cache()) + " " + Quote(tool_.state()));
  ASSERT_EQ(r.code, 0) << r.Show();
  tool_.SetPrefix({"prlimit", "--as=" + std::to_string(700 << 20)});
  r = tool_.Run({"recover", "--from-archives", archives, "--allow-unsigned"});
  EXPECT_EQ(r.code, 4) << r.Show();
  EXPECT_NE((r.out + r.err).find(first + ": asks for more memory"), std::string::npos) << r.Show();
  tool_.SetPrefix({});
  nlohmann::json snaps = tool_.Snapshots();
  ASSERT_EQ(snaps.size(), 1u) << snaps.dump(2);
  EXPECT_EQ(snaps[0]["set"], 2) << snaps.dump(2);
}

INSTANTIATE_TEST_SUITE_P(Table, HostileArchiveTest, ::testing::ValuesIn(kTable),
                         [](const ::testing::TestParamInfo<Hostile>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace gbe2e
