#include "crypto/payload.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.h"
#include "crypto/decrypt_error.h"
#include "crypto/sodium.h"

namespace gb::age {
namespace {

using ChunkNonce = std::array<uint8_t, crypto_aead_chacha20poly1305_IETF_NPUBBYTES>;

ChunkNonce MakeNonce(uint64_t counter, bool last) {
  ChunkNonce n{};
  for (int i = 0; i < 8; ++i) n[10 - i] = static_cast<uint8_t>(counter >> (8 * i));
  n[11] = last ? 1 : 0;
  return n;
}

[[noreturn]] void ThrowPayloadError(const std::string& what) {
  throw DecryptError(DecryptStage::kPayload, "age payload: " + what);
}

}  // namespace

Key32 PayloadKey(const FileKey& file_key, const PayloadNonce& nonce) {
  return HkdfSha256(file_key.bytes, nonce, "payload");
}

PayloadWriter::PayloadWriter(const Key32& key, ByteSink& out)
    : key_(key), out_(out), buf_(kSealedChunkSize) {
  EnsureSodium();
}

PayloadWriter::~PayloadWriter() {
  Wipe(key_);
  Wipe(buf_);
}

void PayloadWriter::SealChunk(const uint8_t* plain, size_t size, bool last) {
  ChunkNonce nonce = MakeNonce(counter_, last);
  unsigned long long sealed = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(buf_.data(), &sealed, plain, size, nullptr, 0, nullptr,
                                            nonce.data(), key_.data());
  out_.Write(std::span<const uint8_t>(buf_.data(), static_cast<size_t>(sealed)));
  ++counter_;
  buffered_ = 0;
}

void PayloadWriter::Write(std::span<const uint8_t> data) {
  if (finished_) throw Error(Code::kInternal, "age Encryptor: Write after Finish");
  while (!data.empty()) {
    if (buffered_ == kChunkSize) SealChunk(buf_.data(), kChunkSize, false);  // more data follows
    if (buffered_ == 0 && data.size() > kChunkSize) {
      // A whole chunk with more behind it: seal straight from the caller's bytes.
      SealChunk(data.data(), kChunkSize, false);
      data = data.subspan(kChunkSize);
      continue;
    }
    size_t n = std::min(data.size(), kChunkSize - buffered_);
    std::memcpy(buf_.data() + buffered_, data.data(), n);
    buffered_ += n;
    data = data.subspan(n);
  }
}

void PayloadWriter::Finish() {
  if (finished_) throw Error(Code::kInternal, "age Encryptor: Finish called twice");
  finished_ = true;
  SealChunk(buf_.data(), buffered_, true);
  out_.Finish();
}

PayloadReader::PayloadReader(const Key32& key, ByteSource& in)
    : key_(key), in_(in), sealed_(kSealedChunkSize), plain_(kChunkSize) {
  EnsureSodium();
}

PayloadReader::~PayloadReader() {
  Wipe(key_);
  Wipe(plain_);
}

size_t PayloadReader::OpenNextChunk(uint8_t* out) {
  size_t n = in_.ReadFull(sealed_);
  const std::string where = "chunk " + std::to_string(counter_ + 1);
  if (n == 0) {
    ThrowPayloadError(counter_ == 0 ? "no data (file truncated)"
                                    : "missing final chunk after " + std::to_string(counter_) +
                                          " chunks (file truncated)");
  }
  bool last = n < kSealedChunkSize;  // only the final chunk can be short
  if (last && counter_ > 0 && n == kTagSize) {
    ThrowPayloadError("empty final " + where + " (file corrupted)");
  }
  if (n < kTagSize) ThrowPayloadError(where + " is too short (file truncated)");
  auto open = [&](bool final_flag) {
    ChunkNonce nonce = MakeNonce(counter_, final_flag);
    unsigned long long size = 0;
    // Out of place: a failed attempt must leave the ciphertext for the retry.
    int rc = crypto_aead_chacha20poly1305_ietf_decrypt(out, &size, nullptr, sealed_.data(), n,
                                                       nullptr, 0, nonce.data(), key_.data());
    return rc == 0;
  };
  bool ok = open(last);
  if (!ok && !last) ok = open(last = true);  // a full-size final chunk
  if (!ok)
    ThrowPayloadError("authentication failed at " + where + " (file corrupted or truncated)");
  ++counter_;
  if (last) {
    done_ = true;
    // The final chunk must end the stream. Its plaintext is released even if
    // it does not; the error comes on the next read.
    try {
      uint8_t probe;
      if (in_.Read(std::span(&probe, 1)) != 0) {
        ThrowPayloadError("unexpected data after the final chunk (file corrupted)");
      }
    } catch (const Error&) {
      deferred_ = std::current_exception();
    }
  }
  return n - kTagSize;
}

size_t PayloadReader::Read(std::span<uint8_t> buf) {
  if (buf.empty()) return 0;
  while (plain_pos_ == plain_size_) {
    if (deferred_) std::rethrow_exception(deferred_);
    if (done_) return 0;
    try {
      if (buf.size() >= kChunkSize) {
        // Straight into the caller's buffer.
        if (size_t n = OpenNextChunk(buf.data())) return n;
      } else {
        plain_pos_ = plain_size_ = 0;
        plain_size_ = OpenNextChunk(plain_.data());
      }
    } catch (...) {
      // Errors are sticky: later reads repeat them.
      done_ = true;
      deferred_ = std::current_exception();
      throw;
    }
  }
  size_t n = std::min(buf.size(), plain_size_ - plain_pos_);
  std::memcpy(buf.data(), plain_.data() + plain_pos_, n);
  plain_pos_ += n;
  return n;
}

}  // namespace gb::age
