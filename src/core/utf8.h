// File names are bytes; JSON and terminals want UTF-8.
#pragma once

#include <string_view>

namespace gb {

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace gb
