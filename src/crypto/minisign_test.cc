// The minisign signature format, checked against itself and against the
// reference tool (Debian package "minisign"): our signatures verify with
// `minisign -V`, its signatures and its `-G -W` keys work with our code.
#include "crypto/minisign.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/base64.h"
#include "core/error.h"
#include "core/file.h"
#include "crypto/test_support.h"

namespace gb::minisign {
namespace {

constexpr char kMinisign[] = "/usr/bin/minisign";
using age::testing::TempDir;
using age::testing::TestData;

Prehash HashOf(std::span<const uint8_t> data) {
  Prehasher h;
  h.Update(data);
  return h.Final();
}

Prehash HashOf(const std::string& s) { return HashOf(AsBytes(s)); }

TEST(MinisignTest, SignThenVerifyRoundTrip) {
  SecretKey key = SecretKey::Generate();
  Bytes data = TestData(100000);
  std::string text = Sign(key, HashOf(data), "backup=x set=1");
  Signature sig = Signature::Parse(text);
  EXPECT_EQ(sig.trusted_comment, "backup=x set=1");
  EXPECT_TRUE(sig.Verify(key.Public(), HashOf(data)));
  // The key round-trips through its public and secret text forms.
  PublicKey pub = PublicKey::Parse(key.Public().ToString());
  EXPECT_TRUE(sig.Verify(pub, HashOf(data)));
  SecretKey again = SecretKey::Parse(key.ToFileText(), "key");
  EXPECT_EQ(again.Public().ToString(), key.Public().ToString());
  EXPECT_EQ(key.Public().ToString().substr(0, 2), "RW");
}

TEST(MinisignTest, OneFlippedByteOfTheFileFails) {
  SecretKey key = SecretKey::Generate();
  Bytes data = TestData(5000);
  Signature sig = Signature::Parse(Sign(key, HashOf(data), "c"));
  data[4321] ^= 1;
  EXPECT_FALSE(sig.Verify(key.Public(), HashOf(data)));
}

TEST(MinisignTest, AlteredTrustedCommentFails) {
  SecretKey key = SecretKey::Generate();
  std::string text = Sign(key, HashOf("data"), "backup=a set=1");
  text.replace(text.find("set=1"), 5, "set=2");
  EXPECT_FALSE(Signature::Parse(text).Verify(key.Public(), HashOf("data")));
}

TEST(MinisignTest, WrongKeyFails) {
  SecretKey key = SecretKey::Generate(), other = SecretKey::Generate();
  Signature sig = Signature::Parse(Sign(key, HashOf("data"), "c"));
  EXPECT_FALSE(sig.Verify(other.Public(), HashOf("data")));
  // Same key id, another key: still refused.
  PublicKey forged = other.Public();
  forged.key_id = key.key_id();
  EXPECT_FALSE(sig.Verify(forged, HashOf("data")));
}

TEST(MinisignTest, MalformedSignaturesAreCorruption) {
  SecretKey key = SecretKey::Generate();
  std::string good = Sign(key, HashOf("x"), "c");
  for (std::string bad : {std::string(""), std::string("untrusted comment: x\n"),
                          good.substr(0, good.size() / 2), "garbage\n" + good}) {
    try {
      Signature::Parse(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Code::kCorruption) << e.what();
    }
  }
}

TEST(MinisignTest, PasswordProtectedKeysAreRefusedWithTheFix) {
  SecretKey key = SecretKey::Generate();
  std::string text = key.ToFileText();
  size_t nl = text.find('\n') + 1;
  std::optional<Bytes> raw =
      Base64Decode(text.substr(nl, text.size() - nl - 1), Base64Padding::kRequired);
  ASSERT_TRUE(raw);
  (*raw)[2] = 'S';  // kdf "Sc": scrypt-encrypted
  (*raw)[3] = 'c';
  std::string enc = text.substr(0, nl) + Base64Encode(*raw, Base64Padding::kRequired) + "\n";
  try {
    SecretKey::Parse(enc, "k.key");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("minisign -G -W"), std::string::npos) << e.what();
  }
}

TEST(MinisignTest, LooseKeyFileIsRefusedWithTheChmod) {
  TempDir dir;
  std::string path = dir / "signing.key";
  WriteSecretKeyFile(path, SecretKey::Generate());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_NO_THROW(ReadSecretKeyFile(path));
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  try {
    ReadSecretKeyFile(path);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("chmod 600 '" + path + "'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(WriteSecretKeyFile(path, SecretKey::Generate()), Error);  // never overwrites
}

class MinisignCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(kMinisign, X_OK), 0)
        << kMinisign << " is required (apt-get install minisign)";
  }
  int Shell(const std::string& command) {
    int rc = std::system((command + " >" + dir_ / "out.txt" + " 2>&1 </dev/null").c_str());
    out_ = ReadFileToString(dir_ / "out.txt");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  TempDir dir_;
  std::string out_;
};

TEST_F(MinisignCliTest, MinisignVerifiesOurSignatures) {
  SecretKey key = SecretKey::Generate();
  std::string file = dir_ / "archive.bin";
  Bytes data = TestData(300001);
  WriteFileAtomic(file, data);
  WriteFileAtomic(file + ".minisig", Sign(key, HashOf(data), "backup=b set=3 sha256=ab"));
  ASSERT_EQ(Shell(std::string(kMinisign) + " -Vm " + file + " -P " + key.Public().ToString()), 0)
      << out_;
  EXPECT_NE(out_.find("backup=b set=3 sha256=ab"), std::string::npos) << out_;
  // And rejects them after one flipped byte.
  data[7] ^= 0x80;
  WriteFileAtomic(file, data);
  EXPECT_NE(Shell(std::string(kMinisign) + " -Vm " + file + " -P " + key.Public().ToString()), 0);
}

TEST_F(MinisignCliTest, MinisignSignsWithOurKeyFile) {
  SecretKey key = SecretKey::Generate();
  std::string sk = dir_ / "signing.key", file = dir_ / "f.txt";
  WriteSecretKeyFile(sk, key);
  WriteFileAtomic(file, std::string("hello"));
  ASSERT_EQ(Shell(std::string(kMinisign) + " -S -s " + sk + " -m " + file + " -t ours"), 0) << out_;
  Signature sig = Signature::Parse(ReadFileToString(file + ".minisig"));
  EXPECT_TRUE(sig.Verify(key.Public(), HashOf("hello")));
}

TEST_F(MinisignCliTest, KeyAndSignatureFromMinisignWorkHere) {
  std::string pk = dir_ / "mini.pub", sk = dir_ / "mini.key", file = dir_ / "f.bin";
  ASSERT_EQ(Shell(std::string(kMinisign) + " -G -W -p " + pk + " -s " + sk), 0) << out_;
  Bytes data = TestData(70000, 9);
  WriteFileAtomic(file, data);
  ASSERT_EQ(Shell(std::string(kMinisign) + " -S -s " + sk + " -m " + file + " -t 'from minisign'"),
            0)
      << out_;
  PublicKey pub = PublicKey::Parse(ReadFileToString(pk));
  Signature sig = Signature::Parse(ReadFileToString(file + ".minisig"));
  EXPECT_EQ(sig.trusted_comment, "from minisign");
  EXPECT_TRUE(sig.Verify(pub, HashOf(data)));
  data[0] ^= 1;
  EXPECT_FALSE(sig.Verify(pub, HashOf(data)));
  // Its secret key signs here, and minisign accepts the result.
  ASSERT_EQ(::chmod(sk.c_str(), 0600), 0);
  SecretKey key = ReadSecretKeyFile(sk);
  EXPECT_EQ(key.Public().ToString(), pub.ToString());
  data[0] ^= 1;
  WriteFileAtomic(file + ".minisig", Sign(key, HashOf(data), "ours with theirs"));
  EXPECT_EQ(Shell(std::string(kMinisign) + " -Vm " + file + " -p " + pk), 0) << out_;
}

}  // namespace
}  // namespace gb::minisign
