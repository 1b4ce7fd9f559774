#include "crypto/key_wrap.h"

#include <sodium.h>

#include "core/error.h"

namespace gb::age {

Bytes SealFileKey(const Key32& wrap_key, const FileKey& file_key) {
  EnsureSodium();
  const uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = {};
  Bytes body(kWrappedFileKeySize);
  unsigned long long len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(body.data(), &len, file_key.bytes.data(),
                                            file_key.bytes.size(), nullptr, 0, nullptr, nonce,
                                            wrap_key.data());
  return body;
}

std::optional<FileKey> OpenFileKey(const Key32& wrap_key, std::span<const uint8_t> body) {
  EnsureSodium();
  if (body.size() != kWrappedFileKeySize) {
    throw Error(Code::kInternal, "OpenFileKey: wrapped key has the wrong size");
  }
  const uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = {};
  FileKey key;
  unsigned long long len = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(key.bytes.data(), &len, nullptr, body.data(),
                                                body.size(), nullptr, 0, nonce,
                                                wrap_key.data()) != 0) {
    return std::nullopt;
  }
  return key;
}

}  // namespace gb::age
