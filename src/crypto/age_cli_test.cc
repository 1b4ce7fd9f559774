// Interoperability with the reference implementation: the `age` and
// `age-keygen` commands (Debian package "age") must read what we write and
// we must read what they write. These tests fail if the tools are missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/file.h"
#include "crypto/age.h"
#include "crypto/test_support.h"

namespace gb::age {
namespace {

constexpr char kAge[] = "/usr/bin/age";
constexpr char kAgeKeygen[] = "/usr/bin/age-keygen";

using testing::TempDir;
using testing::TestData;

std::string Quote(const std::string& s) { return "'" + s + "'"; }

class AgeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(kAge, X_OK), 0) << kAge << " is required (apt-get install age)";
    ASSERT_EQ(::access(kAgeKeygen, X_OK), 0) << kAgeKeygen << " is required";
  }

  // Runs a shell command (no secrets on it: keys travel in 0600 files) and
  // returns its exit status; its stderr is kept in err_ for failure messages.
  int Shell(const std::string& command) {
    std::string err = dir_ / "stderr.txt";
    int rc = std::system((command + " 2>" + Quote(err)).c_str());
    err_ = PathExists(err) ? ReadFileToString(err) : "";
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  // age creates its output file lazily: no output file means empty output.
  Bytes ReadFile(const std::string& path) {
    if (!PathExists(path)) return {};
    std::string s = ReadFileToString(path);
    return Bytes(s.begin(), s.end());
  }

  TempDir dir_;
  std::string err_;
};

TEST_F(AgeCliTest, AgeDecryptsOurFilesWithOurIdentityFile) {
  auto id = X25519Identity::Generate();
  auto other = X25519Identity::Generate().Recipient();
  std::string key = dir_ / "key.txt";
  WriteIdentityFile(key, id);
  auto r = id.Recipient();
  for (size_t size : {size_t{0}, size_t{65536}, size_t{300001}}) {
    for (bool armor : {false, true}) {
      SCOPED_TRACE(std::to_string(size) + (armor ? " armored" : " binary"));
      Bytes plain = TestData(size, 7);
      BufferSink sink;
      Encryptor enc({&other, &r}, sink, {.armor = armor});
      enc.Write(plain);
      enc.Finish();
      WriteFileAtomic(dir_ / "in.age", sink.bytes);
      ::unlink((dir_ / "out.bin").c_str());
      ASSERT_EQ(Shell(std::string(kAge) + " -d -i " + Quote(key) + " -o " +
                      Quote(dir_ / "out.bin") + " " + Quote(dir_ / "in.age")),
                0)
          << err_;
      EXPECT_EQ(ReadFile(dir_ / "out.bin"), plain);
    }
  }
}

TEST_F(AgeCliTest, WeDecryptAgeFiles) {
  auto id = X25519Identity::Generate();
  std::string key = dir_ / "key.txt";
  WriteIdentityFile(key, id);
  for (size_t size : {size_t{0}, size_t{65536}, size_t{300001}}) {
    for (bool armor : {false, true}) {
      SCOPED_TRACE(std::to_string(size) + (armor ? " armored" : " binary"));
      Bytes plain = TestData(size, 9);
      WriteFileAtomic(dir_ / "plain.bin", plain);
      ::unlink((dir_ / "out.age").c_str());
      ASSERT_EQ(Shell(std::string(kAge) + " -e " + (armor ? "-a " : "") + "-r " +
                      id.Recipient().ToString() + " -o " + Quote(dir_ / "out.age") + " " +
                      Quote(dir_ / "plain.bin")),
                0)
          << err_;
      FileSource src(dir_ / "out.age");
      Decryptor dec(src, ReadIdentityFile(key));
      EXPECT_EQ(dec.armored(), armor);
      EXPECT_EQ(testing::ReadAll(dec), plain);
    }
  }
}

TEST_F(AgeCliTest, WeReadAgeKeygenIdentityFiles) {
  std::string key = dir_ / "keygen.txt";
  ASSERT_EQ(Shell(std::string(kAgeKeygen) + " -o " + Quote(key)), 0) << err_;
  ASSERT_EQ(Shell(std::string(kAgeKeygen) + " -y -o " + Quote(dir_ / "pub.txt") + " " + Quote(key)),
            0)
      << err_;
  std::string recipient = ReadFileToString(dir_ / "pub.txt");
  ASSERT_TRUE(recipient.ends_with("\n"));
  recipient.pop_back();

  auto ids = ReadIdentityFile(key);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(dynamic_cast<X25519Identity&>(*ids[0]).Recipient().ToString(), recipient);

  // And a file we encrypt to that public key decrypts with age.
  Bytes plain = TestData(1000, 3);
  BufferSink sink;
  Encryptor enc(X25519Recipient::Parse(recipient), sink);
  enc.Write(plain);
  enc.Finish();
  WriteFileAtomic(dir_ / "in.age", sink.bytes);
  ASSERT_EQ(Shell(std::string(kAge) + " -d -i " + Quote(key) + " -o " + Quote(dir_ / "out.bin") +
                  " " + Quote(dir_ / "in.age")),
            0)
      << err_;
  EXPECT_EQ(ReadFile(dir_ / "out.bin"), plain);
}

TEST_F(AgeCliTest, AgeRejectsTamperedFilesWeWrote) {
  // A control: the check above is meaningful only if age can fail here.
  auto id = X25519Identity::Generate();
  std::string key = dir_ / "key.txt";
  WriteIdentityFile(key, id);
  BufferSink sink;
  Encryptor enc(id.Recipient(), sink);
  enc.Write(TestData(100));
  enc.Finish();
  sink.bytes[sink.bytes.size() - 5] ^= 1;
  WriteFileAtomic(dir_ / "in.age", sink.bytes);
  EXPECT_NE(Shell(std::string(kAge) + " -d -i " + Quote(key) + " -o " + Quote(dir_ / "out.bin") +
                  " " + Quote(dir_ / "in.age")),
            0);
}

}  // namespace
}  // namespace gb::age
