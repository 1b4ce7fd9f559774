#include "archive/disk_metadata_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "archive/entry_metadata.h"
#include "core/file.h"
#include "core/test_temp_dir.h"

namespace gb {
namespace {

// What archive_read_disk itself reports for `abs`: the reference.
Entry ReadByLibarchive(const std::string& abs) {
  struct archive* a = archive_read_disk_new();
  archive_read_disk_set_symlink_physical(a);
  archive_read_disk_set_standard_lookup(a);
  archive_read_disk_set_behavior(a, ARCHIVE_READDISK_NO_SPARSE);
  archive_entry* ae = archive_entry_new();
  archive_entry_copy_sourcepath(ae, abs.c_str());
  archive_entry_copy_pathname(ae, abs.c_str());
  EXPECT_EQ(archive_read_disk_entry_from_file(a, ae, -1, nullptr), ARCHIVE_OK) << abs;
  Entry e;
  GetMetadata(ae, &e);
  archive_entry_free(ae);
  archive_read_free(a);
  return e;
}

// A POSIX ACL in the kernel's xattr form (what setfacl writes): version 2,
// then (tag, permissions, id) entries sorted by tag and id.
std::string AclXattr(const std::vector<std::tuple<uint16_t, uint16_t, uint32_t>>& entries) {
  std::string v;
  auto put = [&](uint64_t x, int bytes) {
    for (int i = 0; i < bytes; ++i) v.push_back(static_cast<char>(x >> (8 * i)));
  };
  put(2, 4);
  for (auto [tag, perm, id] : entries) {
    put(tag, 2);
    put(perm, 2);
    put(id, 4);
  }
  return v;
}
constexpr uint16_t kUserObj = 0x01, kUser = 0x02, kGroupObj = 0x04, kMask = 0x10, kOther = 0x20;
constexpr uint32_t kNoId = UINT32_MAX;

class DiskMetadataReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string probe = Make("probe");
    xattrs_ = ::setxattr(probe.c_str(), "user.probe", "1", 1, 0) == 0;
  }

  std::string Make(const std::string& name, const std::string& content = "x") {
    std::string abs = root_ + "/" + name;
    std::ofstream(abs) << content;
    return abs;
  }
  void SetXattr(const std::string& abs, const std::string& name, const std::string& value) {
    ASSERT_EQ(::lsetxattr(abs.c_str(), name.c_str(), value.data(), value.size(), 0), 0)
        << abs << " " << name;
  }

  // Reads `abs` with the reader under test and expects exactly what
  // archive_read_disk reports.
  Entry ExpectSameAsLibarchive(const std::string& abs, EntryType type) {
    Entry e;
    e.type = type;
    e.rdev = 77;  // not the reader's to change
    std::string problem;
    EXPECT_TRUE(reader_.Read(abs, &e, &problem)) << abs << ": " << problem;
    EXPECT_EQ(problem, "");
    Entry want = ReadByLibarchive(abs);
    EXPECT_EQ(e.xattrs, want.xattrs) << abs;
    EXPECT_EQ(e.acl_access, want.acl_access) << abs;
    EXPECT_EQ(e.acl_default, want.acl_default) << abs;
    EXPECT_EQ(e.fflags, want.fflags) << abs;
    EXPECT_EQ(e.rdev, 77u);
    return e;
  }

  test::TempDir dir_{"gb-disk-metadata"};
  const std::string root_ = dir_.path();
  bool xattrs_ = false;
  DiskMetadataReader reader_;
};

TEST_F(DiskMetadataReaderTest, PlainEntriesHaveNothingExtra) {
  std::string file = Make("plain");
  ASSERT_EQ(::symlink("plain", (root_ + "/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((root_ + "/fifo").c_str(), 0600), 0);
  ASSERT_EQ(::mkdir((root_ + "/dir").c_str(), 0700), 0);
  Entry e = ExpectSameAsLibarchive(file, EntryType::kFile);
  EXPECT_TRUE(e.xattrs.empty());
  ExpectSameAsLibarchive(root_ + "/link", EntryType::kSymlink);
  ExpectSameAsLibarchive(root_ + "/fifo", EntryType::kFifo);
  ExpectSameAsLibarchive(root_ + "/dir", EntryType::kDir);
}

// Many attributes (their names overflow the first listing buffer), a large
// binary value, attributes on a directory and on a FIFO, one reader going
// from entries without attributes to entries with them and back; reading
// over an entry that had attributes leaves none behind.
TEST_F(DiskMetadataReaderTest, ExtendedAttributesAsLibarchiveReadsThem) {
  if (!xattrs_) GTEST_SKIP() << "the test file system keeps no user xattrs";
  ExpectSameAsLibarchive(Make("without"), EntryType::kFile);
  std::string one = Make("one");
  SetXattr(one, "user.one", "1");
  EXPECT_EQ(ExpectSameAsLibarchive(one, EntryType::kFile).xattrs.size(), 1u);
  std::string file = Make("many");
  // Larger than the reader's first value buffer where the file system allows
  // it (ext4 keeps a file's attributes in one 4 KiB block).
  std::string big(20000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  if (::setxattr(file.c_str(), "user.big", big.data(), big.size(), 0) != 0) {
    big.resize(1000);
    SetXattr(file, "user.big", big);
  }
  for (int i = 0; i < 40; ++i)
    SetXattr(file, "user.attribute-with-a-long-name-" + std::to_string(i), std::to_string(i));
  Entry e = ExpectSameAsLibarchive(file, EntryType::kFile);
  ASSERT_EQ(e.xattrs.size(), 41u);
  EXPECT_EQ(e.xattrs.back(), (std::pair<std::string, std::string>("user.big", big)));
  EXPECT_TRUE(std::is_sorted(e.xattrs.begin(), e.xattrs.end()));

  std::string dir = root_ + "/dir";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  SetXattr(dir, "user.on-a-directory", "yes");
  EXPECT_EQ(ExpectSameAsLibarchive(dir, EntryType::kDir).xattrs.size(), 1u);
  std::string fifo = root_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  if (::setxattr(fifo.c_str(), "user.x", "1", 1, 0) == 0) {  // not every kernel allows it
    EXPECT_EQ(ExpectSameAsLibarchive(fifo, EntryType::kFifo).xattrs.size(), 1u);
  }

  Entry reused;
  reused.type = EntryType::kFile;
  reused.xattrs = {{"user.stale", "1"}};
  reused.fflags = "nodump";
  std::string problem;
  ASSERT_TRUE(reader_.Read(Make("none"), &reused, &problem)) << problem;
  EXPECT_TRUE(reused.xattrs.empty());
  EXPECT_EQ(reused.fflags, "");
}

// Access and default ACLs, named users among them, come out as the same text.
TEST_F(DiskMetadataReaderTest, AclsAsLibarchiveReadsThem) {
  std::string file = Make("acl");
  std::string access = AclXattr({{kUserObj, 6, kNoId},
                                 {kUser, 4, 65534},
                                 {kUser, 6, 4242},
                                 {kGroupObj, 4, kNoId},
                                 {kMask, 6, kNoId},
                                 {kOther, 0, kNoId}});
  if (::setxattr(file.c_str(), "system.posix_acl_access", access.data(), access.size(), 0) != 0)
    GTEST_SKIP() << "the test file system keeps no ACLs";
  if (xattrs_) SetXattr(file, "user.beside-the-acl", "1");
  Entry e = ExpectSameAsLibarchive(file, EntryType::kFile);
  EXPECT_NE(e.acl_access.find("user:4242"), std::string::npos) << e.acl_access;

  std::string dir = root_ + "/shared";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  std::string dflt = AclXattr({{kUserObj, 7, kNoId},
                               {kUser, 7, 65534},
                               {kGroupObj, 5, kNoId},
                               {kMask, 7, kNoId},
                               {kOther, 5, kNoId}});
  ASSERT_EQ(::setxattr(dir.c_str(), "system.posix_acl_default", dflt.data(), dflt.size(), 0), 0);
  e = ExpectSameAsLibarchive(dir, EntryType::kDir);
  EXPECT_FALSE(e.acl_default.empty());
  EXPECT_TRUE(e.acl_access.empty());
}

TEST_F(DiskMetadataReaderTest, FileFlagsAsLibarchiveNamesThem) {
  std::string file = Make("flagged");
  Fd fd(::open(file.c_str(), O_RDONLY));
  int bits = 0;
  if (::ioctl(fd.get(), FS_IOC_GETFLAGS, &bits) != 0) GTEST_SKIP() << "no file flags here";
  bits |= FS_NODUMP_FL | FS_NOATIME_FL;
  if (::ioctl(fd.get(), FS_IOC_SETFLAGS, &bits) != 0) GTEST_SKIP() << "cannot set file flags";
  Entry e = ExpectSameAsLibarchive(file, EntryType::kFile);
  EXPECT_NE(e.fflags.find("nodump"), std::string::npos) << e.fflags;
}

TEST_F(DiskMetadataReaderTest, VanishedEntryIsAProblemNamingWhatFailed) {
  Entry e;
  e.type = EntryType::kFile;
  std::string problem;
  EXPECT_FALSE(reader_.Read(root_ + "/gone", &e, &problem));
  EXPECT_EQ(problem, "cannot list extended attributes: No such file or directory");
}

}  // namespace
}  // namespace gb
