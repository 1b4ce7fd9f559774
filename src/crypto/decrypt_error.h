// How decryption fails: one error type that says which layer of the file was
// bad, so callers (and the test vectors) can tell the failures apart.
#pragma once

#include <string>

#include "core/error.h"

namespace gb::age {

enum class DecryptStage {
  kArmor,    // the ASCII armor around the file is malformed
  kHeader,   // the header does not parse, or a stanza for our key type is invalid
  kNoMatch,  // the header is fine but no identity unwraps any stanza
  kHmac,     // a file key was unwrapped but the header MAC does not verify
  kPayload,  // the encrypted payload is corrupted, truncated or has trailing data
};

const char* DecryptStageName(DecryptStage stage);

// Thrown by the Decryptor (and the layers under it) for bad input.
// code() is kNoKey for kNoMatch and kCorruption for every other stage. Errors
// of the upstream source itself (I/O) pass through unchanged.
class DecryptError : public Error {
 public:
  DecryptError(DecryptStage stage, const std::string& message)
      : Error(stage == DecryptStage::kNoMatch ? Code::kNoKey : Code::kCorruption, message),
        stage_(stage) {}
  DecryptStage stage() const { return stage_; }

 private:
  DecryptStage stage_;
};

// Throws DecryptError(kHeader) with the message "age header: <what>".
[[noreturn]] void ThrowHeaderError(const std::string& what);

}  // namespace gb::age
