// Bech32 (BIP 173) as age uses it for keys: no length limit, one case only.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/stream.h"

namespace gb::age {

// Encodes `data` under the human-readable part `hrp`, in lower case.
// REQUIRES: hrp is non-empty printable ASCII.
std::string Bech32Encode(std::string_view hrp, std::span<const uint8_t> data);

struct Bech32String {
  std::string hrp;  // as written: upper case if the input was upper case
  Bytes data;
};

// Decodes an all-lower-case or all-upper-case Bech32 string. On failure
// returns nullopt and, if `why` is given, sets it to a short reason that does
// not quote the input (which may be a secret key).
std::optional<Bech32String> Bech32Decode(std::string_view text, std::string* why = nullptr);

}  // namespace gb::age
