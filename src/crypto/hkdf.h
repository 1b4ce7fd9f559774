// HKDF-SHA-256 (RFC 5869), the key derivation every age key schedule uses.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace gb::age {

using Key32 = std::array<uint8_t, 32>;

// Derives 32 bytes from input keying material `ikm`, `salt` (may be empty,
// meaning the RFC's all-zero salt) and the context label `info`.
Key32 HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                 std::string_view info);

}  // namespace gb::age
