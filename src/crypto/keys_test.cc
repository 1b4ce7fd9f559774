// Key encodings (Bech32, base64) and identity files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <string>

#include "core/base64.h"
#include "core/file.h"
#include "crypto/age.h"
#include "crypto/bech32.h"
#include "crypto/test_support.h"

namespace gb::age {
namespace {

// A key from the testkit vectors and its public key (as `age-keygen -y` prints it).
constexpr char kSecret[] =
    "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";
constexpr char kPublic[] = "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef";

std::string Message(auto f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kInvalidArgument);
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

TEST(Base64, UrlAlphabetIsStrictToo) {
  const Bytes b = {0xfb, 0xff, 0xbf};  // every 6-bit group is 62 or 63
  EXPECT_EQ(Base64Encode(b, Base64Padding::kNone, Base64Alphabet::kUrl), "-_-_");
  EXPECT_EQ(*Base64Decode("-_-_", Base64Padding::kNone, Base64Alphabet::kUrl), b);
  EXPECT_FALSE(Base64Decode("+/+/", Base64Padding::kNone, Base64Alphabet::kUrl));
  EXPECT_FALSE(Base64Decode("YWJ", Base64Padding::kNone, Base64Alphabet::kUrl));  // unused bits
}

TEST(Base64, StrictCanonicalDecoding) {
  EXPECT_EQ(Base64Encode(AsBytes(std::string("ab")), Base64Padding::kNone), "YWI");
  EXPECT_EQ(Base64Encode(AsBytes(std::string("ab")), Base64Padding::kRequired), "YWI=");
  EXPECT_EQ(*Base64Decode("YWI", Base64Padding::kNone), Bytes({'a', 'b'}));
  EXPECT_EQ(*Base64Decode("YWI=", Base64Padding::kRequired), Bytes({'a', 'b'}));
  EXPECT_EQ(*Base64Decode("", Base64Padding::kNone), Bytes());
  EXPECT_FALSE(Base64Decode("YWI=", Base64Padding::kNone));     // padding in the header form
  EXPECT_FALSE(Base64Decode("YWI", Base64Padding::kRequired));  // missing padding in armor
  EXPECT_FALSE(Base64Decode("YWJ", Base64Padding::kNone));      // unused bits set
  EXPECT_FALSE(Base64Decode("YQ=", Base64Padding::kRequired));
  EXPECT_FALSE(Base64Decode("Y", Base64Padding::kNone));
  EXPECT_FALSE(Base64Decode("YW I", Base64Padding::kNone));
  EXPECT_FALSE(Base64Decode("YWI\r", Base64Padding::kNone));
  EXPECT_FALSE(Base64Decode("YW-_", Base64Padding::kNone));  // URL alphabet
  Bytes all = testing::TestData(300);
  for (size_t n = 0; n < 10; ++n) {
    auto part = std::span(all).first(n);
    EXPECT_EQ(*Base64Decode(Base64Encode(part, Base64Padding::kNone), Base64Padding::kNone),
              Bytes(part.begin(), part.end()));
    EXPECT_EQ(*Base64Decode(Base64Encode(part, Base64Padding::kRequired), Base64Padding::kRequired),
              Bytes(part.begin(), part.end()));
  }
}

TEST(Bech32, Bip173VectorsAndAgeRules) {
  EXPECT_TRUE(Bech32Decode("a12uel5l"));
  EXPECT_TRUE(Bech32Decode("A12UEL5L"));
  EXPECT_TRUE(Bech32Decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"));
  std::string why;
  EXPECT_FALSE(Bech32Decode("A12uEL5L", &why));
  EXPECT_EQ(why, "mixed case");
  EXPECT_FALSE(Bech32Decode("a12uel5m", &why));
  EXPECT_EQ(why, "invalid checksum");
  EXPECT_FALSE(Bech32Decode("pzry9x0s0muk"));  // no separator
  auto d = Bech32Decode(kPublic);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->hrp, "age");
  EXPECT_EQ(Bech32Encode("age", d->data), kPublic);
}

TEST(X25519, ParsesAndPrintsKeys) {
  auto id = X25519Identity::Parse(kSecret);
  EXPECT_EQ(id.ToString(), kSecret);
  EXPECT_EQ(id.Recipient().ToString(), kPublic);
  EXPECT_EQ(X25519Recipient::Parse(kPublic), id.Recipient());

  auto fresh = X25519Identity::Generate();
  EXPECT_TRUE(fresh.ToString().starts_with("AGE-SECRET-KEY-1"));
  EXPECT_EQ(X25519Identity::Parse(fresh.ToString()).Recipient(), fresh.Recipient());
  EXPECT_NE(fresh.ToString(), X25519Identity::Generate().ToString());
}

TEST(X25519, RejectsBadKeysWithoutQuotingSecrets) {
  std::string lower = kSecret;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  std::string bad_sum = std::string(kSecret).substr(0, std::strlen(kSecret) - 1) + "Q";
  for (const std::string& s : {lower, bad_sum, std::string(kPublic), std::string("")}) {
    std::string m = Message([&] { X25519Identity::Parse(s); });
    EXPECT_TRUE(m.starts_with("invalid age secret key: ")) << m;
    EXPECT_EQ(m.find("EGTZVFFV"), std::string::npos) << m;
    EXPECT_EQ(m.find("egtzvffv"), std::string::npos) << m;
  }
  EXPECT_NE(Message([] { X25519Identity::Parse("AGE-SECRET-KEY-PQ-1XYZ"); }).find("post-quantum"),
            std::string::npos);

  EXPECT_NE(Message([] { X25519Recipient::Parse("age1xyz"); }).find("age1xyz"), std::string::npos);
  std::string m = Message([] { X25519Recipient::Parse(kSecret); });
  EXPECT_EQ(m.find("EGTZVFFV"), std::string::npos) << m;
  std::string upper = kPublic;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_THROW(X25519Recipient::Parse(upper), Error);  // recipients are lower case
}

class FakeClock : public Clock {
 public:
  int64_t NowNanos() override { return 1795748820LL * 1000000000; }
  void SleepNanos(int64_t) override {}
};

TEST(IdentityFile, WritesWhatAgeKeygenWrites) {
  testing::TempDir dir;
  auto id = X25519Identity::Parse(kSecret);
  FakeClock clock;
  std::string path = dir / "key.txt";
  WriteIdentityFile(path, id, clock);
  EXPECT_EQ(ReadFileToString(path), std::string("# created: 2026-11-27T03:07:00Z\n") +
                                        "# public key: " + kPublic + "\n" + kSecret + "\n");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto ids = ReadIdentityFile(path);
  ASSERT_EQ(ids.size(), 1u);
  auto* x = dynamic_cast<X25519Identity*>(ids[0].get());
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->Recipient().ToString(), kPublic);

  // Never replaces an existing key.
  EXPECT_THROW(WriteIdentityFile(path, X25519Identity::Generate(), clock), Error);
  EXPECT_EQ(ReadIdentityFile(path).size(), 1u);
}

TEST(IdentityFile, AcceptsCommentsBlankLinesCrlfAndSeveralKeys) {
  auto other = X25519Identity::Generate();
  std::string text = "# comment\r\n\r\n" + std::string(kSecret) + "\r\n\n#x\n" + other.ToString();
  auto ids = ParseIdentityFile(text, "keys.txt");
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(dynamic_cast<X25519Identity&>(*ids[1]).Recipient(), other.Recipient());
}

TEST(IdentityFile, ErrorsNameTheFileAndLine) {
  std::string bad = std::string(kSecret);
  bad[20] = bad[20] == 'Q' ? 'P' : 'Q';
  struct Case {
    std::string text, expected_prefix;
  } cases[] = {
      {"# ok\n\n" + bad + "\n", "keys.txt:3: invalid age secret key: invalid checksum"},
      {std::string(kSecret) + "\n" + kPublic + "\n", "keys.txt:2: this is a public key"},
      {"hello\n", "keys.txt:1: not an age secret key"},
      {" " + std::string(kSecret) + "\n", "keys.txt:1: not an age secret key"},
      {"AGE-PLUGIN-YUBIKEY-1XYZ\n", "keys.txt:1: age plugin identities are not supported"},
      {"AGE-SECRET-KEY-PQ-1XYZ\n", "keys.txt:1: invalid age secret key: post-quantum"},
      {"# only comments\n\n", "keys.txt: no secret keys found"},
      {"", "keys.txt: no secret keys found"},
  };
  for (const auto& c : cases) {
    std::string m = Message([&] { ParseIdentityFile(c.text, "keys.txt"); });
    EXPECT_TRUE(m.starts_with(c.expected_prefix)) << m;
    EXPECT_EQ(m.find("EGTZVFFV"), std::string::npos) << "secret in message: " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }

  testing::TempDir dir;
  std::string path = dir / "broken.txt";
  WriteFileAtomic(path, "# x\n" + bad + "\n", 0600);
  std::string m = Message([&] { ReadIdentityFile(path); });
  EXPECT_TRUE(m.starts_with(path + ":2: ")) << m;

  try {
    ReadIdentityFile(dir / "missing.txt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kNotFound);
  }
}

}  // namespace
}  // namespace gb::age
