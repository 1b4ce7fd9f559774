// Runs every age test vector of the CCTV testkit (see tests/vectors/age/README.md)
// through the Decryptor and checks the exact outcome and released plaintext.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/file.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "crypto/age.h"
#include "crypto/armor.h"
#include "crypto/buffered_source.h"
#include "crypto/header.h"
#include "crypto/payload.h"
#include "crypto/test_support.h"

namespace gb::age {
namespace {

const std::string kTestkitDir = std::string(GB_TESTDATA_DIR) + "/age/testkit";
constexpr int kVectorCount = 143;
constexpr int kPostQuantumCount = 19;

struct Vector {
  std::string name;
  std::string expect;
  std::string payload_sha256;  // for "success" and "payload failure"
  std::string file_key_hex;
  std::vector<std::pair<std::string, std::string>> keys;  // identity/passphrase, in order
  bool armored = false;
  Bytes file;  // the age file under test, inflated
};

Bytes Inflate(std::span<const uint8_t> in) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) throw std::runtime_error("inflateInit failed");
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  Bytes out;
  uint8_t buf[1 << 16];
  int rc;
  do {
    zs.next_out = buf;
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw std::runtime_error("corrupt zlib stream");
    }
    out.insert(out.end(), buf, buf + (sizeof buf - zs.avail_out));
  } while (rc != Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

Vector LoadVector(const std::string& name) {
  std::string raw = ReadFileToString(kTestkitDir + "/" + name);
  size_t split = raw.find("\n\n");
  if (split == std::string::npos) throw std::runtime_error(name + ": no header end");
  Vector v;
  v.name = name;
  bool compressed = false;
  std::string_view head(raw.data(), split + 1);
  while (!head.empty()) {
    size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl + 1);
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos) throw std::runtime_error(name + ": bad header line");
    std::string key(line.substr(0, colon)), value(line.substr(colon + 2));
    if (key == "expect") {
      v.expect = value;
    } else if (key == "payload") {
      v.payload_sha256 = value;
    } else if (key == "identity" || key == "passphrase") {
      v.keys.emplace_back(key, value);
    } else if (key == "armored") {
      v.armored = value == "yes";
    } else if (key == "compressed") {
      if (value != "zlib") throw std::runtime_error(name + ": unknown compression");
      compressed = true;
    } else if (key == "file key") {
      v.file_key_hex = value;
    } else if (key != "comment") {
      throw std::runtime_error(name + ": unknown key " + key);
    }
  }
  std::span<const uint8_t> body(reinterpret_cast<const uint8_t*>(raw.data()) + split + 2,
                                raw.size() - split - 2);
  v.file = compressed ? Inflate(body) : Bytes(body.begin(), body.end());
  return v;
}

std::vector<std::string> VectorNames() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(kTestkitDir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The skip rule: vectors that need an ML-KEM-768+X25519 hybrid identity,
// which this implementation does not support.
bool NeedsPostQuantum(const Vector& v) {
  return std::any_of(v.keys.begin(), v.keys.end(), [](const auto& k) {
    return k.first == "identity" && k.second.starts_with("AGE-SECRET-KEY-PQ-");
  });
}

std::string OutcomeName(DecryptStage stage) {
  switch (stage) {
    case DecryptStage::kArmor:
      return "armor failure";
    case DecryptStage::kHeader:
      return "header failure";
    case DecryptStage::kNoMatch:
      return "no match";
    case DecryptStage::kHmac:
      return "HMAC failure";
    case DecryptStage::kPayload:
      return "payload failure";
  }
  return "?";
}

struct Result {
  std::string outcome;
  std::string released_sha256;
  std::string message;
};

Result Decrypt(const Vector& v, ArmorMode mode, size_t read_size) {
  std::vector<std::unique_ptr<Identity>> ids;
  for (const auto& [kind, value] : v.keys) {
    if (kind == "identity") {
      ids.push_back(std::make_unique<X25519Identity>(X25519Identity::Parse(value)));
    } else {
      ids.push_back(std::make_unique<ScryptIdentity>(value));
    }
  }
  SpanSource src(v.file);
  Sha256 released;
  Result r{"success", "", ""};
  try {
    Decryptor dec(src, ids, {.armor = mode});
    Bytes buf(read_size);
    while (size_t n = dec.Read(buf)) released.Update(buf.data(), n);
  } catch (const DecryptError& e) {
    r.outcome = OutcomeName(e.stage());
    r.message = e.what();
  }
  r.released_sha256 = Hex(released.Final());
  return r;
}

// Whether the armor auto-detection can see that this input is armored.
bool DetectablyArmored(const Bytes& file) {
  auto it = std::find_if(file.begin(), file.end(), [](uint8_t c) { return !std::isspace(c); });
  return file.end() - it >= 5 && std::equal(it, it + 5, "-----");
}

class TestkitTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TestkitTest, ExactOutcome) {
  Vector v = LoadVector(GetParam());
  if (NeedsPostQuantum(v)) GTEST_SKIP() << "needs a post-quantum hybrid identity";

  ArmorMode declared = v.armored ? ArmorMode::kArmored : ArmorMode::kBinary;
  for (size_t read_size : {size_t{1} << 20, size_t{4097}}) {
    SCOPED_TRACE("read size " + std::to_string(read_size));
    Result r = Decrypt(v, declared, read_size);
    EXPECT_EQ(r.outcome, v.expect) << r.message;
    if (v.expect == "success" || v.expect == "payload failure") {
      EXPECT_EQ(r.released_sha256, v.payload_sha256) << r.message;
    }
    if (r.outcome != "success") {
      EXPECT_EQ(r.message.find('\n'), std::string::npos) << "messages are one line";
    }
  }

  // What the program does by default: detect armor by itself.
  SCOPED_TRACE("armor auto-detection");
  Result r = Decrypt(v, ArmorMode::kAuto, 1 << 20);
  if (v.armored && !DetectablyArmored(v.file)) {
    EXPECT_EQ(r.outcome, "header failure");  // garbage before the BEGIN line
  } else {
    EXPECT_EQ(r.outcome, v.expect) << r.message;
  }
}

// The vectors also check the encoding direction. These run as loops rather
// than per-vector tests so that the only skips reported are the hybrid ones.

// Header re-encoding: every vector with a valid binary header.
void CheckHeaderReencodes(const Vector& v) {
  SpanSource src(v.file);
  BufferedSource in(src);
  Header h = ReadHeader(in);
  std::string encoded = EncodeHeader(EncodeHeaderWithoutMac(h.stanzas), h.mac);
  ASSERT_LE(encoded.size(), v.file.size());
  EXPECT_EQ(encoded, std::string(v.file.begin(), v.file.begin() + encoded.size()));
}

// STREAM decrypt-then-encrypt under the vector's file key.
void CheckPayloadReencrypts(const Vector& v) {
  SpanSource src(v.file);
  BufferedSource in(src);
  ReadHeader(in);
  PayloadNonce nonce;
  ASSERT_EQ(in.ReadFull(nonce), nonce.size());
  Bytes sealed = testing::ReadAll(in);

  FileKey file_key;
  auto key_bytes = Unhex(v.file_key_hex);
  ASSERT_TRUE(key_bytes && key_bytes->size() == kFileKeySize);
  std::copy(key_bytes->begin(), key_bytes->end(), file_key.bytes.begin());
  SpanSource sealed_src(sealed);
  PayloadReader reader(PayloadKey(file_key, nonce), sealed_src);
  Bytes plain = testing::ReadAll(reader);

  BufferSink out;
  PayloadWriter writer(PayloadKey(file_key, nonce), out);
  writer.Write(plain);
  writer.Finish();
  EXPECT_TRUE(out.finished);
  EXPECT_EQ(out.bytes, sealed);
}

// Armor decode-then-encode gives the input, normalised to what the encoder
// writes: LF line ends, no surrounding whitespace, a final LF.
void CheckArmorReencodes(const Vector& v) {
  SpanSource src(v.file);
  BufferedSource raw(src);
  ArmorReader reader(raw);
  Bytes binary = testing::ReadAll(reader, 1000);

  BufferSink out;
  ArmorWriter writer(out);
  writer.Write(binary);
  writer.Finish();
  std::string expected;
  for (uint8_t c : v.file) {
    if (c != '\r') expected += static_cast<char>(c);
  }
  expected.erase(0, expected.find_first_not_of(" \t\n"));
  expected.erase(expected.find_last_not_of(" \t\n") + 1);
  expected += '\n';
  EXPECT_EQ(std::string(out.bytes.begin(), out.bytes.end()), expected);
}

TEST(Testkit, EncodersReproduceTheVectors) {
  int headers = 0, payloads = 0, armors = 0;
  for (const auto& name : VectorNames()) {
    SCOPED_TRACE(name);
    Vector v = LoadVector(name);
    if (!v.armored && v.expect != "header failure") {
      CheckHeaderReencodes(v);
      ++headers;
    }
    if (!v.armored && v.expect == "success" && !NeedsPostQuantum(v)) {
      CheckPayloadReencrypts(v);
      ++payloads;
    }
    if (v.armored && v.expect != "armor failure") {
      CheckArmorReencodes(v);
      ++armors;
    }
  }
  // Counts of applicable vectors, so that none is silently left out.
  EXPECT_EQ(headers, 50);
  EXPECT_EQ(payloads, 15);
  EXPECT_EQ(armors, 11);
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(Age, TestkitTest, ::testing::ValuesIn(VectorNames()), TestName);

TEST(Testkit, AllVectorsPresentAndOnlyHybridOnesSkipped) {
  auto names = VectorNames();
  ASSERT_EQ(static_cast<int>(names.size()), kVectorCount) << "testkit directory changed";
  int skipped = 0;
  for (const auto& name : names) {
    Vector v = LoadVector(name);
    ASSERT_FALSE(v.expect.empty()) << name;
    if (NeedsPostQuantum(v)) {
      ++skipped;
      EXPECT_TRUE(name.starts_with("hybrid") || name == "armor_hybrid") << name;
    }
  }
  EXPECT_EQ(skipped, kPostQuantumCount);
}

}  // namespace
}  // namespace gb::age
