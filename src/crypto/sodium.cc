#include "crypto/sodium.h"

#include <sodium.h>

#include "core/error.h"

namespace gb::age {

void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw Error(Code::kInternal, "libsodium initialisation failed");
}

void RandomBytes(std::span<uint8_t> out) {
  EnsureSodium();
  randombytes_buf(out.data(), out.size());
}

void Wipe(std::span<uint8_t> secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
}

}  // namespace gb::age
