// Round trips through the Encryptor and Decryptor, and how they fail.
#include "crypto/age.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/header.h"
#include "crypto/payload.h"
#include "crypto/test_support.h"

namespace gb::age {
namespace {

using testing::ReadAll;
using testing::TestData;

Bytes Encrypt(std::span<const uint8_t> plain, const std::vector<const Recipient*>& recipients,
              EncryptOptions options = {}, size_t write_size = 1 << 20) {
  BufferSink out;
  Encryptor enc(recipients, out, options);
  for (size_t i = 0; i < plain.size(); i += write_size) {
    enc.Write(plain.subspan(i, std::min(write_size, plain.size() - i)));
  }
  enc.Finish();
  EXPECT_TRUE(out.finished) << "Finish() must finish the downstream sink";
  return out.bytes;
}

Bytes Decrypt(std::span<const uint8_t> file, const Identity& id, size_t read_size = 1 << 20) {
  SpanSource src(file);
  Decryptor dec(src, id);
  return ReadAll(dec, read_size);
}

// Runs `f` and returns the DecryptError it throws.
template <typename F>
DecryptError CatchDecryptError(F f) {
  try {
    f();
  } catch (const DecryptError& e) {
    return e;
  }
  ADD_FAILURE() << "no DecryptError thrown";
  return DecryptError(DecryptStage::kHeader, "none");
}

size_t SealedSize(size_t plain) {
  size_t chunks = plain == 0 ? 1 : (plain + kChunkSize - 1) / kChunkSize;
  return plain + chunks * kTagSize;
}

class SizesTest : public ::testing::TestWithParam<size_t> {};

TEST_P(SizesTest, RoundTripsAndHasTheExactChunkLayout) {
  const size_t size = GetParam();
  auto id = X25519Identity::Generate();
  auto r = id.Recipient();
  Bytes plain = TestData(size, static_cast<uint32_t>(size));
  // Odd write sizes exercise the partial-chunk paths, 1 MiB the direct one.
  for (size_t write_size : {size_t{1} << 20, size_t{1000}, kChunkSize}) {
    Bytes file = Encrypt(plain, {&r}, {}, write_size);
    SpanSource src(file);
    BufferedSource in(src);
    std::string header = EncodeHeader(ReadHeader(in).mac_input, {});
    EXPECT_EQ(file.size(), header.size() + kPayloadNonceSize + SealedSize(size));
    for (size_t read_size : {size_t{1} << 20, size_t{777}}) {
      EXPECT_EQ(Decrypt(file, id, read_size), plain) << write_size << " " << read_size;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Age, SizesTest,
                         ::testing::Values(0, 1, 65535, 65536, 65537, 3 * 65536, 3 * 65536 + 17,
                                           5 * 1024 * 1024 + 3));

TEST(Age, EveryRecipientCanDecrypt) {
  auto a = X25519Identity::Generate(), b = X25519Identity::Generate();
  auto c = X25519Identity::Generate();
  auto ra = a.Recipient(), rb = b.Recipient();
  Bytes plain = TestData(100000);
  Bytes file = Encrypt(plain, {&ra, &rb});
  EXPECT_EQ(Decrypt(file, a), plain);
  EXPECT_EQ(Decrypt(file, b), plain);

  // Several identities: the matching one is found whatever its position.
  SpanSource src(file);
  Decryptor dec(src, std::vector<const Identity*>{&c, &b});
  EXPECT_EQ(ReadAll(dec), plain);
}

TEST(Age, ArmorRoundTripAndAutoDetection) {
  auto id = X25519Identity::Generate();
  auto r = id.Recipient();
  for (size_t size : {size_t{0}, size_t{5}, size_t{200000}}) {
    Bytes plain = TestData(size);
    Bytes file = Encrypt(plain, {&r}, {.armor = true});
    std::string text(file.begin(), file.end());
    EXPECT_TRUE(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
    EXPECT_TRUE(text.ends_with("\n-----END AGE ENCRYPTED FILE-----\n"));
    for (size_t pos = 0, nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      EXPECT_LE(nl - pos, 64u);
    }
    SpanSource src(file);
    Decryptor dec(src, id);
    EXPECT_TRUE(dec.armored());
    EXPECT_EQ(ReadAll(dec, 4096), plain);

    // Whitespace around the armor and CRLF line ends are accepted.
    std::string crlf = "\r\n \t\n";
    for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    crlf += "\n\n";
    EXPECT_EQ(Decrypt(AsBytes(crlf), id), plain);
  }
}

TEST(Age, BinaryIsNotMistakenForArmor) {
  auto id = X25519Identity::Generate();
  auto r = id.Recipient();
  Bytes file = Encrypt(TestData(10), {&r});
  SpanSource src(file);
  Decryptor dec(src, id);
  EXPECT_FALSE(dec.armored());
}

TEST(Age, ScryptRoundTrip) {
  ScryptRecipient r("correct horse battery staple", 10);
  Bytes plain = TestData(70000);
  Bytes file = Encrypt(plain, {&r});
  EXPECT_EQ(Decrypt(file, ScryptIdentity("correct horse battery staple")), plain);

  auto e = CatchDecryptError([&] { Decrypt(file, ScryptIdentity("wrong")); });
  EXPECT_EQ(e.stage(), DecryptStage::kNoMatch);
  EXPECT_EQ(e.code(), Code::kNoKey);

  // The work factor is checked before any work is done.
  auto low = CatchDecryptError([&] { Decrypt(file, ScryptIdentity("x", 9)); });
  EXPECT_EQ(low.stage(), DecryptStage::kHeader);
}

TEST(Age, ScryptDefaultWorkFactor) {
  ScryptRecipient r("passphrase");
  Bytes file = Encrypt(AsBytes(std::string("hi")), {&r});
  std::string text(file.begin(), file.end());
  // Only the work factor is checked: decrypting costs another 2^18 scrypt.
  EXPECT_NE(text.find("\n-> scrypt "), std::string::npos);
  EXPECT_NE(text.find(" 18\n"), std::string::npos);
}

TEST(Age, ScryptMustBeAlone) {
  ScryptRecipient s("pw", 10);
  auto r = X25519Identity::Generate().Recipient();
  BufferSink out;
  try {
    Encryptor enc({&s, &r}, out);
    FAIL() << "mixing scrypt with another recipient must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kInvalidArgument);
  }
  EXPECT_THROW(ScryptRecipient("", 10), Error);
  EXPECT_THROW(ScryptRecipient("pw", 23), Error);
  EXPECT_THROW(ScryptIdentity("pw", 23), Error);
}

TEST(Age, NoRecipientsIsAnError) {
  BufferSink out;
  EXPECT_THROW(Encryptor(std::vector<const Recipient*>{}, out), Error);
}

TEST(Age, WrongIdentityIsNoKey) {
  auto id = X25519Identity::Generate();
  auto r = X25519Identity::Generate().Recipient();
  Bytes file = Encrypt(TestData(10), {&r});
  auto e = CatchDecryptError([&] { Decrypt(file, id); });
  EXPECT_EQ(e.stage(), DecryptStage::kNoMatch);
  EXPECT_EQ(e.code(), Code::kNoKey);
  EXPECT_STREQ(e.what(), "no identity matches this file (wrong identity file?)");
}

TEST(Age, FlippedPayloadByteIsPayloadCorruption) {
  auto id = X25519Identity::Generate();
  auto r = id.Recipient();
  Bytes plain = TestData(3 * kChunkSize + 5);
  Bytes file = Encrypt(plain, {&r});
  // Flip one byte in the third chunk: the first two are released intact.
  Bytes bad = file;
  size_t payload_start = file.size() - SealedSize(plain.size());
  bad[payload_start + 2 * kSealedChunkSize + 100] ^= 0x01;
  SpanSource src(bad);
  Decryptor dec(src, id);
  Bytes got, buf(kChunkSize);
  auto e = CatchDecryptError([&] {
    while (size_t n = dec.Read(buf)) got.insert(got.end(), buf.begin(), buf.begin() + n);
  });
  EXPECT_EQ(e.stage(), DecryptStage::kPayload);
  EXPECT_EQ(e.code(), Code::kCorruption);
  EXPECT_STREQ(e.what(),
               "age payload: authentication failed at chunk 3 (file corrupted or truncated)");
  EXPECT_EQ(got, Bytes(plain.begin(), plain.begin() + 2 * kChunkSize));
  // The error is sticky.
  EXPECT_THROW(dec.Read(buf), DecryptError);
}

TEST(Age, FlippedHeaderByteIsDetected) {
  auto id = X25519Identity::Generate();
  auto r = id.Recipient();
  Bytes file = Encrypt(TestData(10), {&r});
  std::string text(file.begin(), file.end());
  size_t mac_pos = text.find("\n--- ") + 5;
  Bytes bad = file;
  bad[mac_pos] = bad[mac_pos] == 'A' ? 'B' : 'A';
  auto e = CatchDecryptError([&] { Decrypt(bad, id); });
  EXPECT_TRUE(e.stage() == DecryptStage::kHmac || e.stage() == DecryptStage::kHeader);
}

TEST(Age, TruncationIsAnError) {
  auto id = X25519Identity::Generate();
  auto r = id.Recipient();
  Bytes plain = TestData(2 * kChunkSize + 10);
  Bytes file = Encrypt(plain, {&r});
  size_t payload_start = file.size() - SealedSize(plain.size());
  // Cut anywhere in the payload: never a clean EOF.
  for (size_t cut : {payload_start + 1, payload_start + kSealedChunkSize,
                     payload_start + kSealedChunkSize + 1, file.size() - 1}) {
    auto e = CatchDecryptError([&] { Decrypt(std::span(file).first(cut), id); });
    EXPECT_EQ(e.stage(), DecryptStage::kPayload) << cut;
  }
  // Cut in the header or the nonce.
  for (size_t cut : {size_t{0}, size_t{10}, payload_start - 1}) {
    auto e = CatchDecryptError([&] { Decrypt(std::span(file).first(cut), id); });
    EXPECT_EQ(e.stage(), DecryptStage::kHeader) << cut;
  }
}

TEST(Age, TrailingDataIsAnErrorAfterTheLastChunk) {
  auto id = X25519Identity::Generate();
  auto r = id.Recipient();
  Bytes plain = TestData(100);
  Bytes file = Encrypt(plain, {&r});
  file.push_back(0);
  SpanSource src(file);
  Decryptor dec(src, id);
  Bytes buf(1 << 20);
  // As in the reference reader, a short final chunk is read as one piece, so
  // the extra byte makes its tag fail.
  EXPECT_THROW(dec.Read(buf), DecryptError);

  // A full-size final chunk is released first; the extra byte fails the next read.
  Bytes full = TestData(kChunkSize);
  Bytes file2 = Encrypt(full, {&r});
  file2.push_back(0);
  SpanSource src2(file2);
  Decryptor dec2(src2, id);
  ASSERT_EQ(dec2.Read(buf), kChunkSize);
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + kChunkSize), full);
  auto e = CatchDecryptError([&] { dec2.Read(buf); });
  EXPECT_EQ(e.stage(), DecryptStage::kPayload);
  EXPECT_STREQ(e.what(), "age payload: unexpected data after the final chunk (file corrupted)");
}

TEST(Age, ArmorErrorsAreArmorStage) {
  auto id = X25519Identity::Generate();
  auto r = id.Recipient();
  Bytes file = Encrypt(TestData(1000), {&r}, {.armor = true});
  std::string text(file.begin(), file.end());
  text += "garbage\n";
  auto e = CatchDecryptError([&] { Decrypt(AsBytes(text), id); });
  EXPECT_EQ(e.stage(), DecryptStage::kArmor);
  EXPECT_EQ(e.code(), Code::kCorruption);
}

TEST(Age, WriteAfterFinishIsABug) {
  auto r = X25519Identity::Generate().Recipient();
  BufferSink out;
  Encryptor enc(r, out);
  enc.Finish();
  EXPECT_THROW(enc.Write("x", 1), Error);
  EXPECT_THROW(enc.Finish(), Error);
}

}  // namespace
}  // namespace gb::age
