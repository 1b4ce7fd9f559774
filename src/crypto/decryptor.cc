#include "crypto/decryptor.h"

#include "crypto/header.h"
#include "crypto/scrypt.h"
#include "crypto/sodium.h"

namespace gb::age {
namespace {

std::vector<const Identity*> Pointers(const std::vector<std::unique_ptr<Identity>>& ids) {
  std::vector<const Identity*> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(id.get());
  return out;
}

bool HasScryptStanza(const std::vector<Stanza>& stanzas) {
  for (const Stanza& s : stanzas) {
    if (s.type == kScryptStanzaType) return true;
  }
  return false;
}

}  // namespace

Decryptor::Decryptor(ByteSource& upstream, const std::vector<std::unique_ptr<Identity>>& identities,
                     DecryptOptions options)
    : Decryptor(upstream, Pointers(identities), options) {}

Decryptor::Decryptor(ByteSource& upstream, const std::vector<const Identity*>& identities,
                     DecryptOptions options)
    : raw_(upstream) {
  EnsureSodium();
  BufferedSource* text = &raw_;
  if (options.armor == ArmorMode::kArmored ||
      (options.armor == ArmorMode::kAuto && LooksArmored(raw_))) {
    armor_ = std::make_unique<ArmorReader>(raw_);
    dearmored_ = std::make_unique<BufferedSource>(*armor_);
    text = dearmored_.get();
  }

  Header header = ReadHeader(*text);
  if (ScryptStanzaNotAlone(header.stanzas)) {
    ThrowHeaderError("a scrypt (passphrase) stanza must be the only stanza");
  }
  std::optional<FileKey> file_key;
  for (const Identity* id : identities) {
    if ((file_key = id->Unwrap(header.stanzas))) break;
  }
  if (!file_key) {
    throw DecryptError(DecryptStage::kNoMatch,
                       HasScryptStanza(header.stanzas)
                           ? "wrong passphrase (no identity matches this file)"
                           : "no identity matches this file (wrong identity file?)");
  }
  if (!MacEquals(ComputeHeaderMac(*file_key, header.mac_input), header.mac)) {
    throw DecryptError(DecryptStage::kHmac,
                       "age header: MAC mismatch (header corrupted or tampered with)");
  }
  PayloadNonce nonce;
  if (text->ReadFull(nonce) != nonce.size()) {
    ThrowHeaderError("missing payload nonce (file truncated)");
  }
  Key32 key = PayloadKey(*file_key, nonce);
  payload_ = std::make_unique<PayloadReader>(key, *text);
  Wipe(key);
}

}  // namespace gb::age
