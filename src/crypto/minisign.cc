#include "crypto/minisign.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "core/base64.h"
#include "core/error.h"
#include "core/file.h"
#include "core/file_modes.h"
#include "crypto/sodium.h"

namespace gb::minisign {
namespace {

static_assert(sizeof(crypto_generichash_state) == 384);

constexpr uint8_t kKeyAlg[2] = {'E', 'd'};      // Ed25519 keys
constexpr uint8_t kPrehashAlg[2] = {'E', 'D'};  // signatures over BLAKE2b-512
constexpr uint8_t kLegacyAlg[2] = {'E', 'd'};   // signatures over the whole file
constexpr uint8_t kChecksumAlg[2] = {'B', '2'};
constexpr size_t kPublicKeySize = 2 + 8 + 32;
// alg, kdf alg, checksum alg, salt, opslimit, memlimit, key id, secret key, checksum
constexpr size_t kSecretKeySize = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32;
constexpr size_t kSignatureSize = 2 + 8 + 64;
constexpr const char* kUntrusted = "untrusted comment: ";
constexpr const char* kTrusted = "trusted comment: ";

// The lines of `text`, without '\r' endings.
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return out;
}

std::string B64(std::span<const uint8_t> data) {
  return Base64Encode(data, Base64Padding::kRequired);
}

std::optional<Bytes> UnB64(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return Base64Decode(text, Base64Padding::kRequired);
}

// BLAKE2b-256(alg || key id || secret key), the secret key file's checksum.
std::array<uint8_t, 32> Checksum(const KeyId& id, const std::array<uint8_t, 64>& sk) {
  std::array<uint8_t, 32> out;
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, out.size());
  crypto_generichash_update(&st, kKeyAlg, 2);
  crypto_generichash_update(&st, id.data(), id.size());
  crypto_generichash_update(&st, sk.data(), sk.size());
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

bool SingleLine(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

}  // namespace

// ------------------------------------------------------------ public keys

PublicKey PublicKey::Parse(std::string_view text) {
  std::string_view line;
  for (std::string_view l : Lines(text)) {
    if (l.empty() || l.starts_with(kUntrusted)) continue;
    if (!line.empty())
      line = "?";  // two key lines: malformed
    else
      line = l;
  }
  auto fail = [](const std::string& why) {
    return Error(Code::kInvalidArgument, "not a minisign public key (RW...): " + why);
  };
  std::optional<Bytes> raw = UnB64(line);
  if (!raw) throw fail("not base64");
  if (raw->size() != kPublicKeySize) throw fail("wrong length");
  if (std::memcmp(raw->data(), kKeyAlg, 2) != 0) throw fail("not an Ed25519 key");
  PublicKey k;
  std::copy_n(raw->begin() + 2, 8, k.key_id.begin());
  std::copy_n(raw->begin() + 10, 32, k.key.begin());
  return k;
}

std::string PublicKey::ToString() const {
  uint8_t raw[kPublicKeySize];
  std::memcpy(raw, kKeyAlg, 2);
  std::memcpy(raw + 2, key_id.data(), 8);
  std::memcpy(raw + 10, key.data(), 32);
  return B64(raw);
}

std::string PublicKey::KeyIdHex() const {
  std::string out;
  char buf[3];
  for (size_t i = key_id.size(); i-- > 0;) {
    std::snprintf(buf, sizeof buf, "%02X", key_id[i]);
    out += buf;
  }
  return out;
}

std::string PublicKey::Describe() const { return ToString() + " (key id " + KeyIdHex() + ")"; }

// ------------------------------------------------------------ secret keys

SecretKey SecretKey::Generate() {
  age::EnsureSodium();
  SecretKey k;
  std::array<uint8_t, 32> pk;
  crypto_sign_keypair(pk.data(), k.sk_.data());
  age::RandomBytes(k.key_id_);
  return k;
}

SecretKey::~SecretKey() {
  age::Wipe(sk_);
  age::Wipe(key_id_);
}

SecretKey SecretKey::Parse(std::string_view text, const std::string& name) {
  age::EnsureSodium();
  auto fail = [&](const std::string& why) {
    return Error(Code::kInvalidArgument, name + ": " + why);
  };
  std::vector<std::string_view> lines = Lines(text);
  if (lines.size() < 2 || !lines[0].starts_with(kUntrusted))
    throw fail(
        "not a minisign secret key file (expected an \"untrusted comment:\" line and a key)");
  std::optional<Bytes> raw = UnB64(lines[1]);
  if (!raw || raw->size() != kSecretKeySize) throw fail("not a minisign secret key (bad encoding)");
  const uint8_t* p = raw->data();
  if (std::memcmp(p, kKeyAlg, 2) != 0) throw fail("not an Ed25519 minisign secret key");
  if (p[2] != 0 || p[3] != 0)
    throw fail(
        "the key is protected by a password; glacier-backup runs unattended and needs a key "
        "without one (`minisign -G -W`)");
  if (std::memcmp(p + 4, kChecksumAlg, 2) != 0) throw fail("unknown checksum algorithm");
  SecretKey k;
  const uint8_t* keynum = p + 2 + 2 + 2 + 32 + 8 + 8;
  std::copy_n(keynum, 8, k.key_id_.begin());
  std::copy_n(keynum + 8, 64, k.sk_.begin());
  std::array<uint8_t, 32> stored;
  std::copy_n(keynum + 72, 32, stored.begin());
  age::Wipe(std::span(raw->data(), raw->size()));
  // minisign before 0.12 writes an all-zero checksum into unencrypted keys.
  const bool zero = std::all_of(stored.begin(), stored.end(), [](uint8_t b) { return b == 0; });
  if (!zero && sodium_memcmp(stored.data(), Checksum(k.key_id_, k.sk_).data(), 32) != 0)
    throw fail("the secret key's checksum does not match (damaged key file)");
  // The public half inside the secret key must belong to the seed.
  std::array<uint8_t, 32> pk;
  std::array<uint8_t, 64> again;
  crypto_sign_seed_keypair(pk.data(), again.data(), k.sk_.data());
  const bool consistent = sodium_memcmp(again.data(), k.sk_.data(), 64) == 0;
  age::Wipe(again);
  if (!consistent) throw fail("the secret key is inconsistent (damaged key file)");
  return k;
}

std::string SecretKey::ToFileText() const {
  std::array<uint8_t, kSecretKeySize> raw{};
  uint8_t* p = raw.data();
  std::memcpy(p, kKeyAlg, 2);
  std::memcpy(p + 4, kChecksumAlg, 2);  // kdf alg stays 0: not encrypted
  uint8_t* keynum = p + 2 + 2 + 2 + 32 + 8 + 8;
  std::memcpy(keynum, key_id_.data(), 8);
  std::memcpy(keynum + 8, sk_.data(), 64);
  std::array<uint8_t, 32> chk = Checksum(key_id_, sk_);
  std::memcpy(keynum + 72, chk.data(), 32);
  std::string text =
      std::string(kUntrusted) + "glacier-backup signing key (minisign)\n" + B64(raw) + "\n";
  age::Wipe(raw);
  return text;
}

PublicKey SecretKey::Public() const {
  PublicKey k;
  k.key_id = key_id_;
  std::copy_n(sk_.begin() + 32, 32, k.key.begin());
  return k;
}

SecretKey ReadSecretKeyFile(const std::string& path) {
  RequirePrivateFile(path, "signing key");
  std::string text = ReadFileToString(path);
  SecretKey k = SecretKey::Parse(text, path);
  age::Wipe(std::span(reinterpret_cast<uint8_t*>(text.data()), text.size()));
  return k;
}

void WriteSecretKeyFile(const std::string& path, const SecretKey& key) {
  if (PathExists(path))
    throw Error(Code::kInvalidArgument, path + ": already exists; not overwriting a signing key");
  std::string text = key.ToFileText();
  WriteFileAtomic(path, text, 0600);
  age::Wipe(std::span(reinterpret_cast<uint8_t*>(text.data()), text.size()));
}

// ------------------------------------------------------------ hashing

Prehasher::Prehasher() {
  age::EnsureSodium();
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(state_.data()), nullptr, 0,
                          crypto_generichash_BYTES_MAX);
}

void Prehasher::Update(std::span<const uint8_t> data) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_.data()), data.data(),
                            data.size());
}

Prehash Prehasher::Final() {
  Prehash out;
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(state_.data()), out.data(),
                           out.size());
  return out;
}

// ------------------------------------------------------------ signatures

std::string Sign(const SecretKey& key, const Prehash& hash, std::string_view trusted_comment,
                 std::string_view untrusted_comment) {
  if (!SingleLine(trusted_comment) || !SingleLine(untrusted_comment))
    throw Error(Code::kInternal, "signature comments must be single lines");
  uint8_t sig[kSignatureSize];
  std::memcpy(sig, kPrehashAlg, 2);
  std::memcpy(sig + 2, key.key_id_.data(), 8);
  crypto_sign_detached(sig + 10, nullptr, hash.data(), hash.size(), key.sk_.data());
  std::string global_input(reinterpret_cast<const char*>(sig + 10), 64);
  global_input += trusted_comment;
  uint8_t global[64];
  crypto_sign_detached(global, nullptr, reinterpret_cast<const uint8_t*>(global_input.data()),
                       global_input.size(), key.sk_.data());
  return std::string(kUntrusted) + std::string(untrusted_comment) + "\n" + B64(sig) + "\n" +
         kTrusted + std::string(trusted_comment) + "\n" + B64(global) + "\n";
}

Signature Signature::Parse(std::string_view text) {
  auto fail = [](const std::string& why) {
    return Error(Code::kCorruption, "malformed minisign signature: " + why);
  };
  std::vector<std::string_view> lines = Lines(text);
  if (lines.size() < 4) throw fail("expected 4 lines");
  if (!lines[0].starts_with(kUntrusted)) throw fail("no untrusted comment line");
  std::optional<Bytes> sig = UnB64(lines[1]);
  if (!sig || sig->size() != kSignatureSize) throw fail("bad signature line");
  if (std::memcmp(sig->data(), kLegacyAlg, 2) == 0)
    throw fail("a legacy (non-prehashed) signature; only prehashed signatures are accepted");
  if (std::memcmp(sig->data(), kPrehashAlg, 2) != 0) throw fail("unknown signature algorithm");
  if (!lines[2].starts_with(kTrusted)) throw fail("no trusted comment line");
  std::optional<Bytes> global = UnB64(lines[3]);
  if (!global || global->size() != 64) throw fail("bad global signature line");
  for (size_t i = 4; i < lines.size(); ++i)
    if (!lines[i].empty()) throw fail("text after the global signature");
  Signature s;
  std::copy_n(sig->begin() + 2, 8, s.key_id.begin());
  std::copy_n(sig->begin() + 10, 64, s.signature.begin());
  s.trusted_comment = lines[2].substr(std::strlen(kTrusted));
  std::copy_n(global->begin(), 64, s.global_signature.begin());
  return s;
}

bool Signature::Verify(const PublicKey& key, const Prehash& hash) const {
  age::EnsureSodium();
  if (key.key_id != key_id) return false;
  if (crypto_sign_verify_detached(signature.data(), hash.data(), hash.size(), key.key.data()) != 0)
    return false;
  std::string global_input(reinterpret_cast<const char*>(signature.data()), signature.size());
  global_input += trusted_comment;
  return crypto_sign_verify_detached(global_signature.data(),
                                     reinterpret_cast<const uint8_t*>(global_input.data()),
                                     global_input.size(), key.key.data()) == 0;
}

}  // namespace gb::minisign
