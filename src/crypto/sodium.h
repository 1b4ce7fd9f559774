// The layer's one door to libsodium's process-wide state: initialisation,
// randomness and wiping of secrets.
#pragma once

#include <cstdint>
#include <span>

namespace gb::age {

// Initialises libsodium once per process; safe to call from any thread, any
// number of times. Every entry point of this layer that uses libsodium calls it.
void EnsureSodium();

// Fills `out` from the operating system's CSPRNG.
void RandomBytes(std::span<uint8_t> out);

// Overwrites `secret` with zeros in a way the compiler may not elide.
void Wipe(std::span<uint8_t> secret);

}  // namespace gb::age
