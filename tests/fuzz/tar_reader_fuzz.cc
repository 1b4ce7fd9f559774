// The tar stream inside an archive: every member header libarchive accepts,
// read to the end (data blocks included) the way restore and verify read it.
#include "archive/tar_reader.h"
#include "core/error.h"
#include "core/stream.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gb;
  SpanSource in(fuzz::AsSpan(data, size));
  try {
    TarReader reader(in);
    TarMember m;
    for (int members = 0; members < 10000 && reader.Next(&m); ++members) {
      uint64_t seen = 0;
      reader.ReadData([&](uint64_t, std::span<const uint8_t> block) { seen += block.size(); });
    }
  } catch (const Error&) {
  }
  return 0;
}
