// Encryption of a byte stream into an age file.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "core/stream.h"
#include "crypto/armor.h"
#include "crypto/payload.h"
#include "crypto/recipient.h"

namespace gb::age {

struct EncryptOptions {
  bool armor = false;  // wrap the output in ASCII armor
};

// A sink that encrypts what is written to it and pushes the age file into
// `downstream`, which must outlive it. The header goes out during
// construction; Write() streams with at most one 64 KiB chunk buffered;
// Finish() writes the final chunk (and the armor END line) and then calls
// downstream.Finish(). The recipients are used only during construction.
class Encryptor : public ByteSink {
 public:
  // Throws Error(kInvalidArgument) when there are no recipients, or when a
  // scrypt (passphrase) recipient is not the only one.
  Encryptor(const std::vector<const Recipient*>& recipients, ByteSink& downstream,
            EncryptOptions options = {});
  Encryptor(const Recipient& recipient, ByteSink& downstream, EncryptOptions options = {})
      : Encryptor(std::vector<const Recipient*>{&recipient}, downstream, options) {}

  void Write(std::span<const uint8_t> data) override { payload_->Write(data); }
  using ByteSink::Write;
  void Finish() override { payload_->Finish(); }

 private:
  std::unique_ptr<ArmorWriter> armor_;
  std::unique_ptr<PayloadWriter> payload_;
};

}  // namespace gb::age
