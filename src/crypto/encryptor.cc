#include "crypto/encryptor.h"

#include "core/error.h"
#include "crypto/header.h"
#include "crypto/scrypt.h"
#include "crypto/sodium.h"

namespace gb::age {

Encryptor::Encryptor(const std::vector<const Recipient*>& recipients, ByteSink& downstream,
                     EncryptOptions options) {
  if (recipients.empty()) throw Error(Code::kInvalidArgument, "age: no recipients given");
  const char* const kScryptNotAlone =
      "age: a passphrase (scrypt) recipient cannot be combined with other recipients";
  for (const Recipient* r : recipients) {
    // Fail before the expensive key derivation; the stanza check below also
    // catches other Recipient types that produce scrypt stanzas.
    if (recipients.size() > 1 && dynamic_cast<const ScryptRecipient*>(r)) {
      throw Error(Code::kInvalidArgument, kScryptNotAlone);
    }
  }
  FileKey file_key;
  RandomBytes(file_key.bytes);
  std::vector<Stanza> stanzas;
  for (const Recipient* r : recipients) {
    for (Stanza& s : r->Wrap(file_key)) stanzas.push_back(std::move(s));
  }
  if (ScryptStanzaNotAlone(stanzas)) throw Error(Code::kInvalidArgument, kScryptNotAlone);
  std::string mac_input = EncodeHeaderWithoutMac(stanzas);
  std::string header = EncodeHeader(mac_input, ComputeHeaderMac(file_key, mac_input));

  ByteSink* out = &downstream;
  if (options.armor) {
    armor_ = std::make_unique<ArmorWriter>(downstream);
    out = armor_.get();
  }
  PayloadNonce nonce;
  RandomBytes(nonce);
  out->Write(AsBytes(header));
  out->Write(nonce.data(), nonce.size());
  Key32 key = PayloadKey(file_key, nonce);
  payload_ = std::make_unique<PayloadWriter>(key, *out);
  Wipe(key);
}

}  // namespace gb::age
