// Reads and hashes the small files of a backup on a thread of its own, ahead
// of the thread that writes the archive, so reading overlaps archiving.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/entry_spool.h"
#include "engine/file_reader.h"

namespace gb {

// One entry of the spool, in spool order. For a small regular file, `read`
// holds its content (or why it could not be read); anything else is passed
// through with read.outcome == kLarge, for the consumer to handle itself.
struct PrefetchedEntry {
  Entry entry;
  SmallFileRead read;
};

class FilePrefetcher {
 public:
  // Takes entries from `spool` (already rewound) until it is exhausted. At most
  // `max_bytes` of file content is held at a time (plus one file).
  FilePrefetcher(EntrySpool& spool, uint64_t max_bytes);
  ~FilePrefetcher();  // stops the thread, dropping what was not consumed
  FilePrefetcher(const FilePrefetcher&) = delete;
  FilePrefetcher& operator=(const FilePrefetcher&) = delete;

  // The next entry in spool order; false at the end. Rethrows an error of the
  // reading thread (a spool read failure; unreadable files are not errors).
  bool Next(PrefetchedEntry* out);

 private:
  void Run();

  EntrySpool& spool_;
  const uint64_t max_bytes_;
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<PrefetchedEntry> queue_;
  uint64_t queued_bytes_ = 0;
  bool done_ = false, stop_ = false;
  std::exception_ptr failure_;
  std::thread thread_;
};

}  // namespace gb
