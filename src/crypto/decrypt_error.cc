#include "crypto/decrypt_error.h"

namespace gb::age {

const char* DecryptStageName(DecryptStage stage) {
  switch (stage) {
    case DecryptStage::kArmor:
      return "armor";
    case DecryptStage::kHeader:
      return "header";
    case DecryptStage::kNoMatch:
      return "no match";
    case DecryptStage::kHmac:
      return "HMAC";
    case DecryptStage::kPayload:
      return "payload";
  }
  return "unknown";
}

void ThrowHeaderError(const std::string& what) {
  throw DecryptError(DecryptStage::kHeader, "age header: " + what);
}

}  // namespace gb::age
