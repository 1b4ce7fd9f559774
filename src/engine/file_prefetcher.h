// Reads and hashes the small files of a backup on a few threads of their own,
// ahead of the thread that writes the archive, so that several reads are in
// flight while the archive is written. Entries still come out in spool order,
// each exactly as a single reader would have produced it, so the archive does
// not depend on the number of readers.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
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
  // How one small file is read (ReadSmallFile; tests observe the calls).
  // Called from several threads at once, each time with an entry of its own
  // and a buffer with room for the size the walk saw.
  using ReadFn =
      std::function<SmallFileRead(const std::string& abs, Entry* e, std::vector<uint8_t> buffer)>;

  // Takes entries from `spool` (already rewound) until it is exhausted, with
  // `readers` threads reading (at least 1). At most `max_bytes` of file content
  // is held at a time, counted from the sizes the walk saw (plus, per reader,
  // one file that grew since). Reads waiting for a reader are started in inode
  // order (the order of the data on most file systems, so a cold disk seeks
  // less); the first bytes of a large file are announced to the kernel
  // (readahead) shortly before the consumer reaches it.
  FilePrefetcher(EntrySpool& spool, uint64_t max_bytes, int readers, ReadFn read = ReadSmallFile);
  ~FilePrefetcher();  // stops the threads, dropping what was not consumed
  FilePrefetcher(const FilePrefetcher&) = delete;
  FilePrefetcher& operator=(const FilePrefetcher&) = delete;

  // The next entry in spool order; false at the end. Rethrows an error of a
  // reading thread (a spool read failure; unreadable files are not errors).
  bool Next(PrefetchedEntry* out);

 private:
  struct Slot {
    PrefetchedEntry p;
    uint64_t reserved = 0;  // bytes of max_bytes held for it
    bool ready = false;     // p is final; only then may the consumer take it
  };
  // Work for a reader: read `slot` (in the window), or only hint the
  // readahead of `path` when slot is null.
  struct Task {
    Slot* slot = nullptr;
    std::string path;
    uint64_t ino = 0;
    std::vector<uint8_t> buffer;  // for the content: allocated by the feeder
  };

  void Feed();
  void Read();
  void Submit(std::vector<Task>* batch);  // REQUIRES: mu_ held

  EntrySpool& spool_;
  const uint64_t max_bytes_;
  const ReadFn read_;
  std::mutex mu_;
  std::condition_variable ready_, room_, work_;
  std::deque<Slot> window_;  // spool order; push_back/pop_front keep Slot addresses
  std::deque<Task> tasks_;   // waiting for a reader, each batch in inode order
  uint64_t reserved_ = 0;
  bool done_ = false, stop_ = false;
  std::exception_ptr failure_;
  std::thread feeder_;
  std::vector<std::thread> readers_;
};

}  // namespace gb
