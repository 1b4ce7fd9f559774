// BandwidthLimitedVault caps upload and download bytes per second across all
// threads using this vault, with one token bucket per direction that sleeps
// through the Clock seam. It throttles the body source of Upload and the sink
// of ReadJobOutput, so it works the same over every backend (HTTP ones pull the
// body as they send it) and needs nothing from the HTTP layer. Placed below
// RetryingVault, a retried upload is throttled again, as its bytes are sent again.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "core/clock.h"
#include "vault/vault_wrapper.h"

namespace gb {

// Allows `bytes_per_second` on average, bursts of up to one second's worth.
// Thread-safe.
class TokenBucket {
 public:
  TokenBucket(Clock& clock, uint64_t bytes_per_second);
  // Blocks until `n` bytes may pass; a large `n` goes into debt that later
  // callers wait out, so the long-run rate holds whatever the chunk sizes.
  void Take(uint64_t n);
  // A chunk size that keeps the flow smooth at this rate (about 1/8 s of it).
  size_t chunk_size() const { return chunk_; }

 private:
  Clock& clock_;
  const double rate_;
  const size_t chunk_;
  std::mutex mu_;
  double tokens_ = 0;
  int64_t last_ns_;
};

class BandwidthLimitedVault : public VaultWrapper {
 public:
  // A rate of 0 leaves that direction unlimited.
  BandwidthLimitedVault(std::unique_ptr<Vault> target, Clock& clock,
                        uint64_t upload_bytes_per_second, uint64_t download_bytes_per_second);

  UploadResult Upload(RewindableSource& body, const std::string& description) override;
  void ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                     ByteSink& out) override;

 private:
  std::unique_ptr<TokenBucket> upload_, download_;
};

}  // namespace gb
