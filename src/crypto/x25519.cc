#include "crypto/x25519.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "core/base64.h"
#include "core/error.h"
#include "crypto/bech32.h"
#include "crypto/decrypt_error.h"
#include "crypto/hkdf.h"
#include "crypto/key_wrap.h"
#include "crypto/sodium.h"

namespace gb::age {
namespace {

constexpr char kLabel[] = "age-encryption.org/v1/X25519";
constexpr char kRecipientHrp[] = "age";
constexpr char kIdentityHrp[] = "AGE-SECRET-KEY-";
constexpr std::string_view kPostQuantumPrefix = "AGE-SECRET-KEY-PQ-";

using Point = std::array<uint8_t, 32>;

// HKDF over the shared secret, bound to both public keys.
Key32 WrapKey(const Point& shared, const Point& ephemeral_public, const Point& recipient_public) {
  uint8_t salt[64];
  std::copy(ephemeral_public.begin(), ephemeral_public.end(), salt);
  std::copy(recipient_public.begin(), recipient_public.end(), salt + 32);
  return HkdfSha256(shared, salt, kLabel);
}

}  // namespace

X25519Recipient X25519Recipient::Parse(std::string_view text) {
  std::string upper(text.substr(0, std::string_view(kIdentityHrp).size()));
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == kIdentityHrp) {
    // Never echo what looks like a secret key.
    throw Error(Code::kInvalidArgument,
                "invalid age recipient: this is a secret key; give its public key (age1...)");
  }
  auto fail = [&](const std::string& reason) {
    std::string shown(text.substr(0, 100));
    throw Error(Code::kInvalidArgument, "invalid age recipient \"" + shown + "\": " + reason);
  };
  std::string why;
  auto decoded = Bech32Decode(text, &why);
  if (!decoded) fail(why);
  if (decoded->hrp != kRecipientHrp) fail("expected a public key starting with \"age1\"");
  if (decoded->data.size() != 32) fail("wrong key length");
  Point key;
  std::copy(decoded->data.begin(), decoded->data.end(), key.begin());
  return X25519Recipient(key);
}

std::string X25519Recipient::ToString() const { return Bech32Encode(kRecipientHrp, public_key_); }

std::vector<Stanza> X25519Recipient::Wrap(const FileKey& file_key) const {
  EnsureSodium();
  Point ephemeral_secret, ephemeral_public, shared;
  RandomBytes(ephemeral_secret);
  if (crypto_scalarmult_base(ephemeral_public.data(), ephemeral_secret.data()) != 0) {
    throw Error(Code::kInternal, "X25519 key generation failed");
  }
  int rc = crypto_scalarmult(shared.data(), ephemeral_secret.data(), public_key_.data());
  Wipe(ephemeral_secret);
  if (rc != 0) {
    throw Error(Code::kInvalidArgument,
                "age recipient " + ToString() + " is not a usable public key (low-order point)");
  }
  Key32 wrap_key = WrapKey(shared, ephemeral_public, public_key_);
  Wipe(shared);
  Stanza s;
  s.type = kX25519StanzaType;
  s.args.push_back(Base64Encode(ephemeral_public, Base64Padding::kNone));
  s.body = SealFileKey(wrap_key, file_key);
  Wipe(wrap_key);
  return {std::move(s)};
}

X25519Identity::X25519Identity(const Point& secret_key) : secret_key_(secret_key) {
  EnsureSodium();
  if (crypto_scalarmult_base(public_key_.data(), secret_key_.data()) != 0) {
    throw Error(Code::kInvalidArgument, "invalid age secret key: degenerate scalar");
  }
}

X25519Identity::~X25519Identity() { Wipe(secret_key_); }

X25519Identity X25519Identity::Generate() {
  Point secret;
  RandomBytes(secret);
  X25519Identity id(secret);
  Wipe(secret);
  return id;
}

X25519Identity X25519Identity::Parse(std::string_view text) {
  auto fail = [](const std::string& reason) {
    throw Error(Code::kInvalidArgument, "invalid age secret key: " + reason);
  };
  if (text.substr(0, kPostQuantumPrefix.size()) == kPostQuantumPrefix) {
    fail("post-quantum (AGE-SECRET-KEY-PQ-1...) keys are not supported");
  }
  std::string why;
  auto decoded = Bech32Decode(text, &why);
  if (!decoded) fail(why);
  struct WipeOnExit {
    Bytes& b;
    ~WipeOnExit() { Wipe(b); }
  } wipe{decoded->data};
  if (decoded->hrp != kIdentityHrp)
    fail("expected an upper-case key starting with AGE-SECRET-KEY-1");
  if (decoded->data.size() != 32) fail("wrong key length");
  Point secret;
  std::copy(decoded->data.begin(), decoded->data.end(), secret.begin());
  X25519Identity id(secret);
  Wipe(secret);
  return id;
}

std::string X25519Identity::ToString() const {
  std::string s = Bech32Encode(kIdentityHrp, secret_key_);
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::optional<FileKey> X25519Identity::Unwrap(const std::vector<Stanza>& stanzas) const {
  EnsureSodium();
  for (const Stanza& s : stanzas) {
    if (s.type != kX25519StanzaType) continue;
    if (s.args.size() != 1) ThrowHeaderError("malformed X25519 stanza (expected one argument)");
    auto share = Base64Decode(s.args[0], Base64Padding::kNone);
    if (!share) ThrowHeaderError("malformed X25519 stanza (share is not canonical base64)");
    if (share->size() != 32) ThrowHeaderError("malformed X25519 stanza (share is not 32 bytes)");
    Point ephemeral_public, shared;
    std::copy(share->begin(), share->end(), ephemeral_public.begin());
    if (crypto_scalarmult(shared.data(), secret_key_.data(), ephemeral_public.data()) != 0) {
      ThrowHeaderError("invalid X25519 stanza (low-order share)");
    }
    if (s.body.size() != kWrappedFileKeySize) {
      Wipe(shared);
      ThrowHeaderError("invalid X25519 stanza (wrapped file key has the wrong size)");
    }
    Key32 wrap_key = WrapKey(shared, ephemeral_public, public_key_);
    Wipe(shared);
    auto key = OpenFileKey(wrap_key, s.body);
    Wipe(wrap_key);
    if (key) return key;
  }
  return std::nullopt;
}

}  // namespace gb::age
