// SHA-256, the one content hash of the project (OpenSSL; uses SHA-NI when present).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "core/stream.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace gb {

using Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::span<const uint8_t> data);
  void Update(const void* data, size_t n) {
    Update(std::span<const uint8_t>(static_cast<const uint8_t*>(data), n));
  }
  // Returns the digest and resets for reuse.
  Digest Final();

  // Hashes n zero bytes: the holes of a sparse file.
  void UpdateZeros(uint64_t n);

  static Digest Of(std::span<const uint8_t> data);
  static Digest Of(const std::string& s) { return Of(AsBytes(s)); }

 private:
  EVP_MD_CTX* ctx_;
};

// A sink that hashes what passes through and forwards it to `next` (may be null).
class HashingSink : public ByteSink {
 public:
  explicit HashingSink(ByteSink* next) : next_(next) {}
  void Write(std::span<const uint8_t> data) override;
  using ByteSink::Write;
  void Finish() override;
  Digest digest() const { return digest_; }
  uint64_t bytes() const { return bytes_; }

 private:
  ByteSink* next_;
  Sha256 sha_;
  Digest digest_{};
  uint64_t bytes_ = 0;
};

// HMAC-SHA-256.
Digest HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data);

}  // namespace gb
