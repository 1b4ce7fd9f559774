// Archive descriptions and names as a vault's inventory reports them.
#include <string>

#include "core/error.h"
#include "engine/archive_name.h"
#include "engine/bundle.h"
#include "fuzz_input.h"
#include "vault/vault.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gb;
  const std::string text(fuzz::AsText(data, size));
  (void)ParseDescription(text);
  if (auto name = ArchiveName::Parse(text)) {
    // A parsed name must print back as a name that parses to the same thing.
    auto again = ArchiveName::Parse(name->FileName());
    if (!again || again->Id() != name->Id()) __builtin_trap();
  }
  try {
    ValidateDescription(text);
  } catch (const Error&) {
  }
  return 0;
}
