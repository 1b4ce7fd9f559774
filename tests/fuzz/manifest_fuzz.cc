// The manifest and checksums members of an archive (JSON text from the vault).
#include <string>

#include "archive/manifest.h"
#include "core/error.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gb;
  const std::string text(fuzz::AsText(data, size));
  try {
    ParseManifest(text, [](Entry&&) {});
  } catch (const Error&) {
  }
  try {
    ParseChecksums(text, [](const std::string&, const Digest&, const ChecksumMark&) {});
  } catch (const Error&) {
  }
  return 0;
}
