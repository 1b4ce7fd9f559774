// Glacier's JSON answers: an inventory (job output) and the fields the client
// reads from job descriptions.
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "fuzz_input.h"
#include "net/http_client.h"
#include "vault/glacier_client.h"
#include "vault/vault.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gb;
  const std::string_view text = fuzz::AsText(data, size);
  try {
    (void)ParseInventory(text);
  } catch (const Error&) {
  }
  HttpResponse response;
  response.status = 200;
  response.body = std::string(text);
  try {
    nlohmann::json j = ParseGlacierJson(response, "fuzz");
    for (const char* name : {"JobId", "Action", "StatusCode", "CreationDate", "ArchiveId",
                             "RetrievalByteRange", "SHA256TreeHash", "JobDescription"}) {
      (void)ParseGlacierDate(GlacierString(j, name));
    }
    (void)GlacierSize(j, "ArchiveSizeInBytes");
    (void)GlacierSize(j, "InventorySizeInBytes");
  } catch (const Error&) {
  }
  return 0;
}
