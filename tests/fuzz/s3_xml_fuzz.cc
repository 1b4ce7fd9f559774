// S3's answers: listing pages, error documents, restore and date headers, and
// the byte ranges the client encodes in its own job ids.
#include <string>

#include "core/error.h"
#include "fuzz_input.h"
#include "net/aws_error.h"
#include "vault/s3_client.h"
#include "vault/s3_listing.h"
#include "vault/vault.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gb;
  const std::string_view text = fuzz::AsText(data, size);
  try {
    (void)ParseS3ObjectPage(text, "fuzz");
  } catch (const Error&) {
  }
  try {
    (void)ParseS3UploadPage(text, "fuzz");
  } catch (const Error&) {
  }
  (void)ParseAwsError(400, text, "application/xml");
  (void)ParseAwsError(400, text, "application/json");
  (void)ParseS3Restore(text);
  (void)ParseHttpDate(text);
  (void)ParseS3XmlDate(text);
  if (auto range = ParseRange(text)) {
    // Ranges round-trip: what the client writes it must read back unchanged.
    auto again = ParseRange(FormatRange(*range));
    if (!again || FormatRange(*again) != FormatRange(*range)) __builtin_trap();
  }
  return 0;
}
