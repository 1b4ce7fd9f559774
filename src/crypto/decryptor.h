// Decryption of an age file, binary or ASCII-armored, as a byte stream.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "core/stream.h"
#include "crypto/armor.h"
#include "crypto/buffered_source.h"
#include "crypto/decrypt_error.h"
#include "crypto/payload.h"
#include "crypto/recipient.h"

namespace gb::age {

enum class ArmorMode {
  kAuto,     // armored if the input starts, after optional whitespace, with "-----"
  kArmored,  // always de-armor
  kBinary,   // never de-armor
};

struct DecryptOptions {
  ArmorMode armor = ArmorMode::kAuto;
};

// A source of the plaintext of the age file read from `upstream`, which must
// outlive it. The constructor reads and checks the header and unwraps the
// file key with the first identity that matches; the identities are not used
// after that. Read() releases each 64 KiB chunk once its tag verifies, so
// plaintext read before an error is authentic but may be incomplete: only a
// Read() that returns 0 proves the whole file was intact.
//
// Failures of the file throw DecryptError (see DecryptStage); the constructor
// throws every stage but kPayload, Read() throws kPayload and kArmor. Errors
// of `upstream` pass through unchanged.
class Decryptor : public ByteSource {
 public:
  Decryptor(ByteSource& upstream, const std::vector<const Identity*>& identities,
            DecryptOptions options = {});
  Decryptor(ByteSource& upstream, const std::vector<std::unique_ptr<Identity>>& identities,
            DecryptOptions options = {});
  Decryptor(ByteSource& upstream, const Identity& identity, DecryptOptions options = {})
      : Decryptor(upstream, std::vector<const Identity*>{&identity}, options) {}

  size_t Read(std::span<uint8_t> buf) override { return payload_->Read(buf); }
  // Whether the input was ASCII-armored.
  bool armored() const { return armor_ != nullptr; }

 private:
  BufferedSource raw_;
  std::unique_ptr<ArmorReader> armor_;
  std::unique_ptr<BufferedSource> dearmored_;
  std::unique_ptr<PayloadReader> payload_;
};

}  // namespace gb::age
