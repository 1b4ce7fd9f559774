#include "engine/encryption.h"

#include "core/error.h"
#include "core/file.h"
#include "core/file_modes.h"
#include "crypto/decryptor.h"
#include "crypto/encryptor.h"
#include "crypto/identity_file.h"
#include "crypto/scrypt.h"
#include "crypto/x25519.h"

namespace gb {
namespace {

// The passphrase opens every archive: refused, like the identity file, when
// group or others may read it.
std::string ReadPassphrase(const std::string& path) {
  RequirePrivateFile(path, "passphrase file");
  std::string p;
  try {
    p = ReadFileToString(path);
  } catch (const Error& e) {
    throw Error(Code::kNoKey, std::string("passphrase file: ") + e.what());
  }
  while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
  if (p.empty()) throw Error(Code::kInvalidArgument, "passphrase file " + path + " is empty");
  return p;
}

// Owns the recipients for the lifetime of the encryptor.
class ArchiveEncryptor : public ByteSink {
 public:
  ArchiveEncryptor(const Config& c, ByteSink& out) {
    if (!c.passphrase_file.empty()) {
      recipients_.push_back(
          std::make_unique<age::ScryptRecipient>(ReadPassphrase(c.passphrase_file)));
    } else {
      for (const auto& r : c.recipients)
        recipients_.push_back(
            std::make_unique<age::X25519Recipient>(age::X25519Recipient::Parse(r)));
    }
    std::vector<const age::Recipient*> ptrs;
    for (auto& r : recipients_) ptrs.push_back(r.get());
    enc_ = std::make_unique<age::Encryptor>(ptrs, out);
  }
  void Write(std::span<const uint8_t> data) override { enc_->Write(data); }
  using ByteSink::Write;
  void Finish() override { enc_->Finish(); }

 private:
  std::vector<std::unique_ptr<age::Recipient>> recipients_;
  std::unique_ptr<age::Encryptor> enc_;
};

class ArchiveDecryptor : public ByteSource {
 public:
  ArchiveDecryptor(const Config& c, ByteSource& in) {
    if (!c.passphrase_file.empty()) {
      ids_.push_back(std::make_unique<age::ScryptIdentity>(ReadPassphrase(c.passphrase_file)));
    } else {
      if (!PathExists(c.identity_file))
        throw Error(Code::kNoKey, "identity file " + c.identity_file +
                                      " does not exist: reading archives needs the secret key "
                                      "(set [encryption] identity_file)");
      RequirePrivateFile(c.identity_file, "identity file");
      ids_ = age::ReadIdentityFile(c.identity_file);
    }
    try {
      dec_ = std::make_unique<age::Decryptor>(in, ids_);
    } catch (const Error& e) {
      if (e.code() != Code::kNoKey) throw;
      std::string key = c.passphrase_file.empty() ? "identity file " + c.identity_file
                                                  : "passphrase file " + c.passphrase_file;
      throw Error(Code::kNoKey, "the " + key +
                                    " does not open it (was it encrypted to another key? set "
                                    "[encryption] identity_file to the matching secret key)");
    }
  }
  size_t Read(std::span<uint8_t> buf) override { return dec_->Read(buf); }

 private:
  std::vector<std::unique_ptr<age::Identity>> ids_;
  std::unique_ptr<age::Decryptor> dec_;
};

}  // namespace

std::unique_ptr<ByteSink> NewArchiveEncryptor(const Config& config, ByteSink& out) {
  return std::make_unique<ArchiveEncryptor>(config, out);
}

std::unique_ptr<ByteSource> NewArchiveDecryptor(const Config& config, ByteSource& in) {
  return std::make_unique<ArchiveDecryptor>(config, in);
}

}  // namespace gb
