// Helpers shared by this layer's tests (test-only; not part of the library).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "core/sha256.h"
#include "core/stream.h"
#include "core/test_temp_dir.h"

namespace gb::age::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
struct TempDir : gb::test::TempDir {
  TempDir() : gb::test::TempDir("gb-age") {}
};

// Deterministic pseudo-random test data.
inline Bytes TestData(size_t size, uint32_t seed = 1) {
  Bytes b(size);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : b) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<uint8_t>(x);
  }
  return b;
}

// Reads `src` to the end with reads of `chunk` bytes.
inline Bytes ReadAll(ByteSource& src, size_t chunk = 1 << 20) {
  Bytes out, buf(chunk);
  while (size_t n = src.Read(buf)) out.insert(out.end(), buf.begin(), buf.begin() + n);
  return out;
}

}  // namespace gb::age::testing
