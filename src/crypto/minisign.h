// Detached signatures in minisign's format (https://jedisct1.github.io/minisign/),
// so that `minisign -Vm FILE -P RW...` checks what glacier-backup signs and a
// key pair made by `minisign -G -W` can sign for glacier-backup.
//
// Only the prehashed algorithm is written and accepted: signature = Ed25519
// over BLAKE2b-512(file); global signature = Ed25519 over signature ||
// trusted comment. Secret keys are accepted only unencrypted (`-W`).
//
// Every parser throws Error(kCorruption) for malformed signatures and
// Error(kInvalidArgument) for malformed keys; messages never quote key material.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace gb::minisign {

using KeyId = std::array<uint8_t, 8>;
using Prehash = std::array<uint8_t, 64>;  // BLAKE2b-512 of the signed file

struct PublicKey {
  KeyId key_id{};
  std::array<uint8_t, 32> key{};

  // Accepts the base64 line alone ("RW...") or a whole public key file
  // (an "untrusted comment:" line and the base64 line).
  static PublicKey Parse(std::string_view text);
  std::string ToString() const;  // "RW..." as minisign prints it
  // The key id as minisign prints it ("753DDDC7EB5CFBBE").
  std::string KeyIdHex() const;
  // "RW...(key id XXXX)": how messages name a signer.
  std::string Describe() const;
};

class SecretKey {
 public:
  static SecretKey Generate();
  // A minisign secret key file. `name` (the path) begins every message.
  static SecretKey Parse(std::string_view text, const std::string& name);
  ~SecretKey();
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;

  // The file `minisign -G -W` writes: unencrypted, with its checksum.
  std::string ToFileText() const;
  PublicKey Public() const;
  const KeyId& key_id() const { return key_id_; }

 private:
  SecretKey() = default;
  KeyId key_id_{};
  std::array<uint8_t, 64> sk_{};  // libsodium's Ed25519 secret key: seed || public key
  friend std::string Sign(const SecretKey&, const Prehash&, std::string_view, std::string_view);
};

// Incremental BLAKE2b-512, the hash the prehashed algorithm signs.
class Prehasher {
 public:
  Prehasher();
  void Update(std::span<const uint8_t> data);
  Prehash Final();

 private:
  alignas(64) std::array<uint8_t, 384> state_;  // crypto_generichash_state
};

// Reads a secret key file (kNotFound / kIOError if unreadable). A file that
// group or others can read is refused (kInvalidArgument) with the chmod that fixes it.
SecretKey ReadSecretKeyFile(const std::string& path);
// Writes a new secret key file with mode 0600, atomically; kInvalidArgument
// rather than replace an existing file.
void WriteSecretKeyFile(const std::string& path, const SecretKey& key);

// A signature file's text (4 lines). Comments must be single lines.
std::string Sign(const SecretKey& key, const Prehash& hash, std::string_view trusted_comment,
                 std::string_view untrusted_comment = "signature from glacier-backup secret key");

struct Signature {
  KeyId key_id{};
  std::array<uint8_t, 64> signature{};
  std::string trusted_comment;
  std::array<uint8_t, 64> global_signature{};
  // Parses a signature file; throws kCorruption naming the problem.
  static Signature Parse(std::string_view text);
  // True when both signatures are valid under `key` (key ids must match).
  bool Verify(const PublicKey& key, const Prehash& hash) const;
};

}  // namespace gb::minisign
