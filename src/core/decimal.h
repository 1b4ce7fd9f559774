// Strict parsing of unsigned decimal numbers from untrusted text.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace gb {

// A plain decimal number of 1 to 19 digits: no sign, no spaces, no other
// characters, so it always fits in 64 bits. nullopt otherwise.
std::optional<uint64_t> ParseDecimalU64(std::string_view text);

}  // namespace gb
