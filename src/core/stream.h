// Byte streams: the seam every layer (tar, zstd, age, files, HTTP) plugs into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gb {

using Bytes = std::vector<uint8_t>;

// A push stream. Write() may be called any number of times, then Finish()
// exactly once; Finish() flushes framing and finishes (but does not own) any
// downstream sink unless the implementation says otherwise.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void Write(std::span<const uint8_t> data) = 0;
  virtual void Finish() = 0;
  void Write(const void* data, size_t n) {
    Write(std::span<const uint8_t>(static_cast<const uint8_t*>(data), n));
  }
};

// A pull stream. Read() fills up to buf.size() bytes and returns how many it
// wrote; 0 means end of stream. Errors are thrown, never returned as 0.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual size_t Read(std::span<uint8_t> buf) = 0;
  // Reads until buf is full or the stream ends; returns bytes read.
  size_t ReadFull(std::span<uint8_t> buf);
  // The next bytes, as Read would return them (empty at the end), valid until
  // the next call on this source. A source that holds them already lends
  // them without a copy; by default they are read into `scratch`.
  virtual std::span<const uint8_t> ReadView(Bytes& scratch) {
    return {scratch.data(), Read(scratch)};
  }
};

// A source that can start over (so an upload can be retried) and knows its size.
class RewindableSource : public ByteSource {
 public:
  virtual void Rewind() = 0;
  virtual uint64_t Size() const = 0;
};

// Collects everything written into memory.
class BufferSink : public ByteSink {
 public:
  void Write(std::span<const uint8_t> data) override {
    bytes.insert(bytes.end(), data.begin(), data.end());
  }
  using ByteSink::Write;
  void Finish() override { finished = true; }
  Bytes bytes;
  bool finished = false;
};

// Reads from a memory buffer it does not own.
class SpanSource : public RewindableSource {
 public:
  explicit SpanSource(std::span<const uint8_t> data) : data_(data) {}
  size_t Read(std::span<uint8_t> buf) override;
  void Rewind() override { pos_ = 0; }
  uint64_t Size() const override { return data_.size(); }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

// Copies src to sink until EOF (does not call sink.Finish()); returns bytes copied.
uint64_t Pump(ByteSource& src, ByteSink& sink);

inline std::span<const uint8_t> AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace gb
