// Byte counts for people: "0 B", "512 B", "1.5 MiB", "2.25 GiB".
#pragma once
#include <cstdint>
#include <string>

namespace gb {

// Binary units (KiB = 1024 B) up to PiB; `decimals` digits after the point
// above bytes.
std::string HumanBytes(uint64_t bytes, int decimals = 1);

}  // namespace gb
