#include "core/sha256.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "core/error.h"

namespace gb {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
    throw Error(Code::kInternal, "SHA-256 initialisation failed");
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(std::span<const uint8_t> data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_, data.data(), data.size());
}

void Sha256::UpdateZeros(uint64_t n) {
  static const uint8_t kZeros[1 << 16] = {};
  while (n) {
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, sizeof kZeros));
    Update(kZeros, k);
    n -= k;
  }
}

Digest Sha256::Final() {
  Digest d;
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_, d.data(), &n);
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  return d;
}

Digest Sha256::Of(std::span<const uint8_t> data) {
  Digest d;
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &n, EVP_sha256(), nullptr);
  return d;
}

void HashingSink::Write(std::span<const uint8_t> data) {
  sha_.Update(data);
  bytes_ += data.size();
  if (next_) next_->Write(data);
}

void HashingSink::Finish() {
  digest_ = sha_.Final();
  if (next_) next_->Finish();
}

Digest HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Digest d;
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), d.data(),
       &n);
  return d;
}

}  // namespace gb
