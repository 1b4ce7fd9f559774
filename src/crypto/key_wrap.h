// Wrapping of the file key inside a stanza body, shared by the native
// recipient types: ChaCha20-Poly1305 under a one-time key with a zero nonce.
#pragma once

#include <optional>
#include <span>

#include "core/stream.h"
#include "crypto/hkdf.h"
#include "crypto/recipient.h"

namespace gb::age {

// Size of a wrapped file key: the key plus the Poly1305 tag.
inline constexpr size_t kWrappedFileKeySize = kFileKeySize + 16;

// Encrypts the file key under `wrap_key`. REQUIRES: wrap_key is used once.
Bytes SealFileKey(const Key32& wrap_key, const FileKey& file_key);

// Decrypts a stanza body; nullopt when the tag does not verify (the stanza is
// for someone else). REQUIRES: body.size() == kWrappedFileKeySize.
std::optional<FileKey> OpenFileKey(const Key32& wrap_key, std::span<const uint8_t> body);

}  // namespace gb::age
