#include "vault/bandwidth_limited_vault.h"

#include <algorithm>

namespace gb {

namespace {

class ThrottledSource : public RewindableSource {
 public:
  ThrottledSource(RewindableSource& inner, TokenBucket& bucket) : inner_(inner), bucket_(bucket) {}
  size_t Read(std::span<uint8_t> buf) override {
    size_t n = inner_.Read(buf.first(std::min(buf.size(), bucket_.chunk_size())));
    bucket_.Take(n);
    return n;
  }
  void Rewind() override { inner_.Rewind(); }
  uint64_t Size() const override { return inner_.Size(); }

 private:
  RewindableSource& inner_;
  TokenBucket& bucket_;
};

class ThrottledSink : public ByteSink {
 public:
  ThrottledSink(ByteSink& inner, TokenBucket& bucket) : inner_(inner), bucket_(bucket) {}
  void Write(std::span<const uint8_t> data) override {
    while (!data.empty()) {
      auto chunk = data.first(std::min(data.size(), bucket_.chunk_size()));
      bucket_.Take(chunk.size());
      inner_.Write(chunk);
      data = data.subspan(chunk.size());
    }
  }
  using ByteSink::Write;
  void Finish() override { inner_.Finish(); }

 private:
  ByteSink& inner_;
  TokenBucket& bucket_;
};

}  // namespace

TokenBucket::TokenBucket(Clock& clock, uint64_t bytes_per_second)
    : clock_(clock),
      rate_(static_cast<double>(bytes_per_second)),
      chunk_(std::clamp<uint64_t>(bytes_per_second / 8, 4096, 1 << 20)),
      last_ns_(clock.NowNanos()) {}

void TokenBucket::Take(uint64_t n) {
  double wait_seconds;
  {
    std::lock_guard lock(mu_);
    int64_t now = clock_.NowNanos();
    tokens_ = std::min(rate_, tokens_ + static_cast<double>(now - last_ns_) * 1e-9 * rate_);
    last_ns_ = now;
    tokens_ -= static_cast<double>(n);
    wait_seconds = tokens_ < 0 ? -tokens_ / rate_ : 0;
  }
  if (wait_seconds > 0) clock_.SleepNanos(static_cast<int64_t>(wait_seconds * 1e9));
}

BandwidthLimitedVault::BandwidthLimitedVault(std::unique_ptr<Vault> target, Clock& clock,
                                             uint64_t upload_bytes_per_second,
                                             uint64_t download_bytes_per_second)
    : VaultWrapper(std::move(target)) {
  if (upload_bytes_per_second) {
    upload_ = std::make_unique<TokenBucket>(clock, upload_bytes_per_second);
  }
  if (download_bytes_per_second) {
    download_ = std::make_unique<TokenBucket>(clock, download_bytes_per_second);
  }
}

UploadResult BandwidthLimitedVault::Upload(RewindableSource& body, const std::string& description) {
  if (!upload_) return VaultWrapper::Upload(body, description);
  ThrottledSource throttled(body, *upload_);
  return VaultWrapper::Upload(throttled, description);
}

void BandwidthLimitedVault::ReadJobOutput(const std::string& job_id, std::optional<ByteRange> range,
                                          ByteSink& out) {
  if (!download_) return VaultWrapper::ReadJobOutput(job_id, range, out);
  ThrottledSink throttled(out, *download_);
  VaultWrapper::ReadJobOutput(job_id, range, throttled);
}

}  // namespace gb
