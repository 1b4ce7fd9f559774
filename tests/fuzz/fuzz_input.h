// Shared by the fuzz targets: every target defines LLVMFuzzerTestOneInput and
// treats the input as bytes an attacker controls (a vault, a server, a file).
// A target may throw gb::Error (a clean refusal) but must not crash, leak,
// hang, or trip a sanitizer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace gb::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline std::span<const uint8_t> AsSpan(const uint8_t* data, size_t size) { return {data, size}; }

}  // namespace gb::fuzz
