// age files from the vault: header parsing, stanza unwrapping, armor and the
// STREAM payload, with one X25519 identity and one passphrase (the keys of the
// age testkit, so its vectors are meaningful seeds).
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/stream.h"
#include "crypto/age.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gb;
  static const auto* identities = [] {
    auto* ids = new std::vector<std::unique_ptr<age::Identity>>;
    ids->push_back(std::make_unique<age::X25519Identity>(age::X25519Identity::Parse(
        "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0")));
    // A low work-factor cap keeps each input fast; higher ones are refused.
    ids->push_back(std::make_unique<age::ScryptIdentity>("password", 10));
    return ids;
  }();
  SpanSource in(fuzz::AsSpan(data, size));
  try {
    age::Decryptor dec(in, *identities);
    uint8_t buf[64 * 1024];
    while (dec.Read(buf) > 0) {
    }
  } catch (const age::DecryptError&) {
  } catch (const Error&) {
  }
  return 0;
}
