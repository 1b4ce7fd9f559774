#include "crypto/scrypt.h"

#include <sodium.h>

#include <string_view>

#include "core/base64.h"
#include "core/error.h"
#include "crypto/decrypt_error.h"
#include "crypto/hkdf.h"
#include "crypto/key_wrap.h"
#include "crypto/sodium.h"

namespace gb::age {
namespace {

constexpr std::string_view kLabel = "age-encryption.org/v1/scrypt";
constexpr size_t kSaltSize = 16;

// scrypt(passphrase, label || salt, N = 2^work_factor, r = 8, p = 1).
Key32 DeriveWrapKey(const std::string& passphrase, std::span<const uint8_t> salt, int work_factor) {
  EnsureSodium();
  Bytes full_salt(kLabel.begin(), kLabel.end());
  full_salt.insert(full_salt.end(), salt.begin(), salt.end());
  Key32 key;
  if (crypto_pwhash_scryptsalsa208sha256_ll(
          reinterpret_cast<const uint8_t*>(passphrase.data()), passphrase.size(), full_salt.data(),
          full_salt.size(), uint64_t{1} << work_factor, 8, 1, key.data(), key.size()) != 0) {
    throw Error(Code::kIOError, "scrypt failed (out of memory?)");
  }
  return key;
}

void WipeString(std::string& s) { Wipe(std::span(reinterpret_cast<uint8_t*>(s.data()), s.size())); }

void CheckPassphrase(const std::string& passphrase) {
  if (passphrase.empty()) throw Error(Code::kInvalidArgument, "the passphrase cannot be empty");
}

void CheckWorkFactor(int work_factor) {
  if (work_factor < 1 || work_factor > kMaxScryptWorkFactor) {
    throw Error(Code::kInvalidArgument,
                "scrypt work factor must be between 1 and " + std::to_string(kMaxScryptWorkFactor));
  }
}

// Parses the canonical decimal form ^[1-9][0-9]*$; nullopt otherwise or if huge.
std::optional<int> ParseWorkFactor(const std::string& s) {
  if (s.empty() || s.size() > 9 || s[0] < '1' || s[0] > '9') return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

bool ScryptStanzaNotAlone(const std::vector<Stanza>& stanzas) {
  if (stanzas.size() <= 1) return false;
  for (const Stanza& s : stanzas) {
    if (s.type == kScryptStanzaType) return true;
  }
  return false;
}

ScryptRecipient::ScryptRecipient(std::string passphrase, int work_factor)
    : passphrase_(std::move(passphrase)), work_factor_(work_factor) {
  CheckPassphrase(passphrase_);
  CheckWorkFactor(work_factor_);
}

ScryptRecipient::~ScryptRecipient() { WipeString(passphrase_); }

std::vector<Stanza> ScryptRecipient::Wrap(const FileKey& file_key) const {
  uint8_t salt[kSaltSize];
  RandomBytes(salt);
  Key32 wrap_key = DeriveWrapKey(passphrase_, salt, work_factor_);
  Stanza s;
  s.type = kScryptStanzaType;
  s.args = {Base64Encode(salt, Base64Padding::kNone), std::to_string(work_factor_)};
  s.body = SealFileKey(wrap_key, file_key);
  Wipe(wrap_key);
  return {std::move(s)};
}

ScryptIdentity::ScryptIdentity(std::string passphrase, int max_work_factor)
    : passphrase_(std::move(passphrase)), max_work_factor_(max_work_factor) {
  CheckPassphrase(passphrase_);
  CheckWorkFactor(max_work_factor_);
}

ScryptIdentity::~ScryptIdentity() { WipeString(passphrase_); }

std::optional<FileKey> ScryptIdentity::Unwrap(const std::vector<Stanza>& stanzas) const {
  if (ScryptStanzaNotAlone(stanzas)) ThrowHeaderError("a scrypt stanza must be the only stanza");
  for (const Stanza& s : stanzas) {
    if (s.type != kScryptStanzaType) continue;
    if (s.args.size() != 2) ThrowHeaderError("malformed scrypt stanza (expected two arguments)");
    auto salt = Base64Decode(s.args[0], Base64Padding::kNone);
    if (!salt) ThrowHeaderError("malformed scrypt stanza (salt is not canonical base64)");
    if (salt->size() != kSaltSize)
      ThrowHeaderError("malformed scrypt stanza (salt is not 16 bytes)");
    auto work_factor = ParseWorkFactor(s.args[1]);
    if (!work_factor) ThrowHeaderError("malformed scrypt stanza (bad work factor)");
    if (*work_factor > max_work_factor_) {
      ThrowHeaderError("scrypt work factor " + s.args[1] + " is above the maximum of " +
                       std::to_string(max_work_factor_));
    }
    if (s.body.size() != kWrappedFileKeySize) {
      ThrowHeaderError("invalid scrypt stanza (wrapped file key has the wrong size)");
    }
    Key32 wrap_key = DeriveWrapKey(passphrase_, *salt, *work_factor);
    auto key = OpenFileKey(wrap_key, s.body);
    Wipe(wrap_key);
    if (key) return key;
  }
  return std::nullopt;
}

}  // namespace gb::age
