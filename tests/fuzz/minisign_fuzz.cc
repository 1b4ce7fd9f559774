// minisign signatures and keys as they come from a vault (a signature member
// or NAME.minisig), a config (trusted_signers) or a key file.
//
// Input: SIGNATURE \0 PUBLIC_KEY \0 DATA (missing parts are empty). The
// signature and the key are parsed, and when both parse the signature is
// checked over DATA. The whole input is also parsed as a secret key file; one
// that parses must sign DATA so that its own public key verifies it.
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "crypto/minisign.h"
#include "fuzz_input.h"

namespace {

using namespace gb;

minisign::Prehash PrehashOf(std::string_view data) {
  minisign::Prehasher h;
  h.Update({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  return h.Final();
}

// The next part of `rest` up to a NUL (or its end).
std::string_view NextPart(std::string_view& rest) {
  size_t at = rest.find('\0');
  std::string_view part = rest.substr(0, at);
  rest = at == std::string_view::npos ? std::string_view() : rest.substr(at + 1);
  return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = fuzz::AsText(data, size);
  std::string_view rest = input;
  const std::string_view signature_text = NextPart(rest);
  const std::string_view key_text = NextPart(rest);
  const std::string_view signed_data = rest;

  std::optional<minisign::Signature> signature;
  try {
    signature = minisign::Signature::Parse(signature_text);
  } catch (const Error&) {
  }
  std::optional<minisign::PublicKey> key;
  try {
    key = minisign::PublicKey::Parse(key_text);
    // A parsed key prints back as a key that parses to the same bytes.
    minisign::PublicKey again = minisign::PublicKey::Parse(key->ToString());
    if (again.key != key->key || again.key_id != key->key_id) __builtin_trap();
    (void)key->Describe();
  } catch (const Error&) {
  }
  if (signature && key) (void)signature->Verify(*key, PrehashOf(signed_data));

  try {
    minisign::SecretKey secret = minisign::SecretKey::Parse(input, "fuzz input");
    const minisign::Prehash hash = PrehashOf(signed_data);
    const std::string made = minisign::Sign(secret, hash, "fuzz");
    if (!minisign::Signature::Parse(made).Verify(secret.Public(), hash)) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
