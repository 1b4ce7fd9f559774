// The encrypted payload: STREAM with ChaCha20-Poly1305 over 64 KiB chunks.
// Chunk i is sealed with the 12-byte nonce (i as 11 big-endian bytes || flag),
// where flag is 1 on the final chunk only. Only an empty payload may end with
// an empty chunk.
#pragma once

#include <array>
#include <cstdint>
#include <exception>
#include <span>

#include "core/stream.h"
#include "crypto/hkdf.h"
#include "crypto/recipient.h"

namespace gb::age {

inline constexpr size_t kChunkSize = 64 * 1024;
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kSealedChunkSize = kChunkSize + kTagSize;
inline constexpr size_t kPayloadNonceSize = 16;

using PayloadNonce = std::array<uint8_t, kPayloadNonceSize>;

// HKDF(file key, salt = the payload nonce, info "payload").
Key32 PayloadKey(const FileKey& file_key, const PayloadNonce& nonce);

// Encrypts what is written to it into `out`. Holds at most one chunk; a full
// chunk is sealed only when more data arrives, so the final chunk is never
// empty unless the whole payload is. Finish() seals the final chunk and then
// finishes `out`, which must outlive this object.
class PayloadWriter : public ByteSink {
 public:
  PayloadWriter(const Key32& key, ByteSink& out);
  ~PayloadWriter() override;
  void Write(std::span<const uint8_t> data) override;
  using ByteSink::Write;
  void Finish() override;

 private:
  // Seals `plain` (which may alias buf_) into buf_ and writes it out.
  void SealChunk(const uint8_t* plain, size_t size, bool last);

  Key32 key_;
  ByteSink& out_;
  Bytes buf_;  // kSealedChunkSize: plaintext of the open chunk, then its seal
  size_t buffered_ = 0;
  uint64_t counter_ = 0;
  bool finished_ = false;
};

// Decrypts the payload read from `in` (which must outlive this object),
// releasing each chunk as soon as its tag verifies, as the reference reader
// does: ciphertext is read in kSealedChunkSize pieces; a full piece is tried as
// a middle chunk, then as the final one; a short piece must be the final one.
// Throws DecryptError(kPayload) on a bad tag, a missing final chunk, an empty
// final chunk after others, or data after the final chunk (whose plaintext
// has been released by then).
class PayloadReader : public ByteSource {
 public:
  PayloadReader(const Key32& key, ByteSource& in);
  ~PayloadReader() override;
  size_t Read(std::span<uint8_t> buf) override;

 private:
  // Reads and opens the next chunk into `out` (room for kChunkSize); returns
  // its plaintext size.
  size_t OpenNextChunk(uint8_t* out);

  Key32 key_;
  ByteSource& in_;
  Bytes sealed_;  // kSealedChunkSize
  Bytes plain_;   // kChunkSize, for callers with small buffers
  size_t plain_pos_ = 0, plain_size_ = 0;
  uint64_t counter_ = 0;
  bool done_ = false;
  std::exception_ptr deferred_;  // raised once the final chunk has been read
};

}  // namespace gb::age
