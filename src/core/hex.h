// Lower-case hexadecimal encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/stream.h"

namespace gb {

std::string Hex(std::span<const uint8_t> data);
// nullopt on odd length or a non-hex character.
std::optional<Bytes> Unhex(std::string_view hex);

}  // namespace gb
