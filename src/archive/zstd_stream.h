// zstd compression as byte streams; multi-threaded on the write side.
#pragma once

#include <cstdint>

#include "core/stream.h"

typedef struct ZSTD_CCtx_s ZSTD_CCtx;
typedef struct ZSTD_DCtx_s ZSTD_DCtx;

namespace gb {

// Compresses into `next`. threads = 0 compresses on the calling thread;
// threads >= 1 hands blocks to that many zstd worker threads so compression
// overlaps with whoever feeds Write(). Finish() ends the frame and finishes next.
class ZstdSink : public ByteSink {
 public:
  ZstdSink(ByteSink& next, int level, int threads);
  ~ZstdSink() override;
  void Write(std::span<const uint8_t> data) override;
  using ByteSink::Write;
  void Finish() override;

 private:
  void Drain(std::span<const uint8_t> data, int mode);
  ByteSink& next_;
  ZSTD_CCtx* cctx_;
  Bytes out_;
};

// Decompresses what `upstream` yields. A stream that ends mid-frame is
// kCorruption ("truncated"), as is any zstd error.
class ZstdSource : public ByteSource {
 public:
  explicit ZstdSource(ByteSource& upstream);
  ~ZstdSource() override;
  size_t Read(std::span<uint8_t> buf) override;

 private:
  ByteSource& up_;
  ZSTD_DCtx* dctx_;
  Bytes in_;
  size_t in_pos_ = 0, in_len_ = 0;
  bool up_eof_ = false;
  size_t last_hint_ = 1;
};

}  // namespace gb
