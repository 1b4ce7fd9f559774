// The archive encryption layer as the engine sees it: age to the configured
// recipients (public keys only) or passphrase, and back with the identity.
#pragma once

#include <memory>

#include "core/stream.h"
#include "engine/config.h"

namespace gb {

// Writing needs only public keys (or the passphrase file).
std::unique_ptr<ByteSink> NewArchiveEncryptor(const Config& config, ByteSink& out);
// Reading needs identity_file (or the passphrase file); kNoKey when it does
// not match, kCorruption when the data was damaged.
std::unique_ptr<ByteSource> NewArchiveDecryptor(const Config& config, ByteSource& in);

}  // namespace gb
