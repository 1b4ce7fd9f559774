// Passphrase encryption: the "scrypt" recipient type.
#pragma once

#include <string>
#include <vector>

#include "crypto/recipient.h"

namespace gb::age {

inline constexpr char kScryptStanzaType[] = "scrypt";
// log2 of the scrypt cost N used for new files (about a second, 256 MiB).
inline constexpr int kDefaultScryptWorkFactor = 18;
// The largest log2 N accepted when decrypting, as in the reference
// implementation: higher values would let a file demand minutes and GiBs.
inline constexpr int kMaxScryptWorkFactor = 22;

// True if `stanzas` has a scrypt stanza that is not alone, which the format forbids.
bool ScryptStanzaNotAlone(const std::vector<Stanza>& stanzas);

// Must be the only recipient of a file (the Encryptor enforces it).
class ScryptRecipient : public Recipient {
 public:
  // Throws Error(kInvalidArgument) for an empty passphrase or a work factor
  // outside [1, kMaxScryptWorkFactor].
  explicit ScryptRecipient(std::string passphrase, int work_factor = kDefaultScryptWorkFactor);
  ~ScryptRecipient() override;
  std::vector<Stanza> Wrap(const FileKey& file_key) const override;

 private:
  std::string passphrase_;
  int work_factor_;
};

class ScryptIdentity : public Identity {
 public:
  // Throws Error(kInvalidArgument) for an empty passphrase or a maximum work
  // factor outside [1, kMaxScryptWorkFactor].
  explicit ScryptIdentity(std::string passphrase, int max_work_factor = kMaxScryptWorkFactor);
  ~ScryptIdentity() override;
  // A scrypt stanza with a work factor above the maximum is a header error.
  std::optional<FileKey> Unwrap(const std::vector<Stanza>& stanzas) const override;

 private:
  std::string passphrase_;
  int max_work_factor_;
};

}  // namespace gb::age
