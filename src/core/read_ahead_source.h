// A source read on a thread of its own, ahead of its reader, so that what
// produces the bytes (decryption, decompression) runs beside what consumes them.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/stream.h"

namespace gb {

class ReadAheadSource : public ByteSource {
 public:
  // Holds at most `chunks` chunks of `chunk_bytes` read ahead. `in` is read
  // only by the thread, which starts at the first Read (a source never read
  // costs no thread). What `in` throws is rethrown by Read once the bytes
  // before it have been read.
  explicit ReadAheadSource(ByteSource& in, size_t chunk_bytes = 1 << 20, size_t chunks = 4);
  // Stops the thread, waiting for a Read of `in` under way to return.
  ~ReadAheadSource() override;
  ReadAheadSource(const ReadAheadSource&) = delete;
  ReadAheadSource& operator=(const ReadAheadSource&) = delete;

  size_t Read(std::span<uint8_t> buf) override;
  // Lends the rest of the chunk read ahead, without a copy.
  std::span<const uint8_t> ReadView(Bytes& scratch) override;

 private:
  void Fill();
  // Makes the next chunk current when the current one is used up; false at
  // the end of `in`. Rethrows what `in` threw.
  bool NextChunk();

  ByteSource& in_;
  const size_t chunk_bytes_;
  const size_t max_chunks_;
  std::mutex mu_;
  std::condition_variable filled_, taken_;
  std::deque<Bytes> full_;    // read ahead, in order; each non-empty
  std::vector<Bytes> spare_;  // emptied chunks, for the thread to reuse
  bool end_ = false;          // the thread reached the end of `in`, or failed
  bool stop_ = false;
  std::exception_ptr failure_;
  std::thread thread_;
  // The reader's own: the chunk being read out and how far.
  Bytes current_;
  size_t at_ = 0;
};

}  // namespace gb
