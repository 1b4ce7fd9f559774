// The configuration file: TOML from the user, possibly hand-edited badly.
// Every outcome is a Config or a one-line gb::Error.
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "core/error.h"
#include "engine/config.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gb;
  static const std::string path = [] {
    char dir[] = "/tmp/gb-config-fuzz.XXXXXX";
    if (!mkdtemp(dir)) __builtin_trap();
    return std::string(dir) + "/config.toml";
  }();
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
