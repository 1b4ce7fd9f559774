// librsync's streaming jobs as ByteSinks, in the rdiff formats: a signature
// of one version, a delta of a newer version against that signature, and the
// patch that rebuilds the newer version from the older one and the delta
// (what `rdiff signature`, `rdiff delta` and `rdiff patch` do).
// Memory stays bounded by the signature (about 40 bytes per block) and the
// job buffers, never by the file size. librsync errors throw kCorruption.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/stream.h"

namespace gb {

class RsyncJob;

// Writes the signature of everything written to it into `out`.
class RsyncSignatureSink : public ByteSink {
 public:
  // `size` is the file's size, used to pick the block length.
  RsyncSignatureSink(uint64_t size, ByteSink& out);
  ~RsyncSignatureSink() override;
  void Write(std::span<const uint8_t> data) override;
  using ByteSink::Write;
  void Finish() override;  // finishes `out`

 private:
  std::unique_ptr<RsyncJob> job_;
};

// Writes the delta that turns the version `signature` describes into
// everything written to it.
class RsyncDeltaSink : public ByteSink {
 public:
  // Throws kCorruption when `signature` is not a valid librsync signature.
  RsyncDeltaSink(std::span<const uint8_t> signature, ByteSink& out);
  ~RsyncDeltaSink() override;
  void Write(std::span<const uint8_t> data) override;
  using ByteSink::Write;
  void Finish() override;  // finishes `out`

 private:
  struct Signature;
  std::unique_ptr<Signature> sig_;
  std::unique_ptr<RsyncJob> job_;
};

// Applies the delta written to it to the basis file `basis_fd` (read with
// pread, not owned) and writes the new version into `out`.
class RsyncPatchSink : public ByteSink {
 public:
  RsyncPatchSink(int basis_fd, ByteSink& out);
  ~RsyncPatchSink() override;
  void Write(std::span<const uint8_t> data) override;
  using ByteSink::Write;
  void Finish() override;  // finishes `out`; kCorruption if the delta ended early

 private:
  int basis_fd_;
  std::unique_ptr<RsyncJob> job_;
};

}  // namespace gb
