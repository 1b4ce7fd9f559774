#include "core/read_ahead_source.h"

#include <algorithm>
#include <cstring>

namespace gb {

ReadAheadSource::ReadAheadSource(ByteSource& in, size_t chunk_bytes, size_t chunks)
    : in_(in),
      chunk_bytes_(std::max<size_t>(chunk_bytes, 1)),
      max_chunks_(std::max<size_t>(chunks, 1)) {}

ReadAheadSource::~ReadAheadSource() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  taken_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReadAheadSource::Fill() {
  for (;;) {
    Bytes chunk;
    {
      std::unique_lock<std::mutex> lock(mu_);
      taken_.wait(lock, [&] { return stop_ || full_.size() < max_chunks_; });
      if (stop_) return;
      if (!spare_.empty()) {
        chunk = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    chunk.resize(chunk_bytes_);
    size_t n = 0;
    std::exception_ptr failure;
    try {
      while (n < chunk.size()) {  // not ReadFull: bytes before an error are kept
        size_t got = in_.Read({chunk.data() + n, chunk.size() - n});
        if (got == 0) break;
        n += got;
      }
    } catch (...) {
      failure = std::current_exception();
    }
    chunk.resize(n);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (n > 0) full_.push_back(std::move(chunk));
      if (failure || n < chunk_bytes_) {
        failure_ = failure;
        end_ = true;
      }
    }
    filled_.notify_one();
    if (failure || n < chunk_bytes_) return;
  }
}

bool ReadAheadSource::NextChunk() {
  if (at_ < current_.size()) return true;
  std::unique_lock<std::mutex> lock(mu_);
  if (!thread_.joinable() && !end_) thread_ = std::thread([this] { Fill(); });
  filled_.wait(lock, [&] { return !full_.empty() || end_; });
  if (full_.empty()) {
    if (failure_) std::rethrow_exception(failure_);
    return false;
  }
  if (current_.capacity() > 0) spare_.push_back(std::move(current_));
  current_ = std::move(full_.front());
  full_.pop_front();
  at_ = 0;
  lock.unlock();
  taken_.notify_one();
  return true;
}

size_t ReadAheadSource::Read(std::span<uint8_t> buf) {
  if (buf.empty() || !NextChunk()) return 0;
  size_t n = std::min(buf.size(), current_.size() - at_);
  std::memcpy(buf.data(), current_.data() + at_, n);
  at_ += n;
  return n;
}

std::span<const uint8_t> ReadAheadSource::ReadView(Bytes&) {
  if (!NextChunk()) return {};
  std::span<const uint8_t> out(current_.data() + at_, current_.size() - at_);
  at_ = current_.size();  // current_ stays as it is until the next call
  return out;
}

}  // namespace gb
