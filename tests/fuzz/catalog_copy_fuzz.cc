// The catalog copy carried in every bundle, as `recover` reads it on a new
// machine. The input is the plaintext (JSON lines); the target compresses and
// encrypts it to its own key, so mutations reach the parser rather than
// failing at the age layer (age_decrypt_fuzz covers that).
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "archive/zstd_stream.h"
#include "catalog/catalog.h"
#include "core/error.h"
#include "core/stream.h"
#include "core/test_temp_dir.h"
#include "crypto/x25519.h"
#include "engine/catalog_copy.h"
#include "engine/config.h"
#include "engine/encryption.h"
#include "fuzz_input.h"

namespace {

struct Fixture {
  gb::test::TempDir dir{"gb-catalog-copy-fuzz"};
  gb::Config config;
  std::unique_ptr<gb::Catalog> catalog;

  Fixture() {
    auto id = gb::age::X25519Identity::Generate();
    config.recipients = {id.Recipient().ToString()};
    config.identity_file = dir / "identity.txt";
    const std::string secret = id.ToString() + "\n";
    int fd = open(config.identity_file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, secret.data(), secret.size()) != static_cast<ssize_t>(secret.size()))
      __builtin_trap();
    close(fd);
    catalog = std::make_unique<gb::Catalog>(dir / "catalog.db");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gb;
  static Fixture fx_;  // its folder is removed at exit
  Fixture* fx = &fx_;
  BufferSink sealed;
  {
    std::unique_ptr<ByteSink> enc = NewArchiveEncryptor(fx->config, sealed);
    ZstdSink z(*enc, 1, 0);
    z.Write(fuzz::AsSpan(data, size));
    z.Finish();
  }
  SpanSource in(sealed.bytes);
  try {
    (void)ReadCatalogCopy(fx->config, *fx->catalog, in);
  } catch (const Error&) {
  }
  return 0;
}
