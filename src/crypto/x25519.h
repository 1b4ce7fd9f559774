// The native age key type: X25519 public keys ("age1...") and secret keys
// ("AGE-SECRET-KEY-1...").
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/recipient.h"

namespace gb::age {

inline constexpr char kX25519StanzaType[] = "X25519";

class X25519Recipient : public Recipient {
 public:
  explicit X25519Recipient(const std::array<uint8_t, 32>& public_key) : public_key_(public_key) {}

  // Parses "age1..." (lower case Bech32). Throws Error(kInvalidArgument).
  static X25519Recipient Parse(std::string_view text);
  // The "age1..." form.
  std::string ToString() const;
  const std::array<uint8_t, 32>& public_key() const { return public_key_; }
  bool operator==(const X25519Recipient& other) const { return public_key_ == other.public_key_; }

  // Throws Error(kInvalidArgument) if the public key is a low-order point.
  std::vector<Stanza> Wrap(const FileKey& file_key) const override;

 private:
  std::array<uint8_t, 32> public_key_;
};

// Holds a secret key; the copy in memory is wiped on destruction. Nothing in
// this class logs or prints the key; only ToString() reveals it.
class X25519Identity : public Identity {
 public:
  // A fresh key from the system CSPRNG.
  static X25519Identity Generate();
  // Parses "AGE-SECRET-KEY-1..." (upper case Bech32). Throws
  // Error(kInvalidArgument) with a message that never quotes the key.
  static X25519Identity Parse(std::string_view text);

  X25519Identity(const X25519Identity& other) = default;
  X25519Identity& operator=(const X25519Identity& other) = default;
  ~X25519Identity() override;

  // The secret "AGE-SECRET-KEY-1..." form. Handle with care.
  std::string ToString() const;
  X25519Recipient Recipient() const { return X25519Recipient(public_key_); }

  std::optional<FileKey> Unwrap(const std::vector<Stanza>& stanzas) const override;

 private:
  explicit X25519Identity(const std::array<uint8_t, 32>& secret_key);
  std::array<uint8_t, 32> secret_key_;
  std::array<uint8_t, 32> public_key_;
};

}  // namespace gb::age
