// The configuration file: TOML from the user, possibly hand-edited badly.
// Every outcome is a Config or a one-line gb::Error.
#include <stdio.h>

#include <string>

#include "core/error.h"
#include "core/test_temp_dir.h"
#include "engine/config.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gb;
  static const test::TempDir dir("gb-config-fuzz");  // removed at exit
  static const std::string path = dir / "config.toml";
  FILE* f = fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  fwrite(data, 1, size, f);
  fclose(f);
  try {
    (void)LoadConfig(path);
  } catch (const Error&) {
  }
  return 0;
}
