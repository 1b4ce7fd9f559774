// The writing side of a restore: the thread reading the archive hands small
// files (their data held whole) and symlinks to a few writer threads, a batch
// at a time, and learns what became of each in the order it handed them over.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "archive/disk_writer.h"
#include "core/entry.h"
#include "core/sha256.h"
#include "engine/ordered_pool.h"

namespace gb {

// A small regular file to restore, its data held whole, with its hard links:
// written on a writer thread; what happened is reported on the thread that
// handed it over.
struct RestoredFile {
  std::vector<Entry> dests;                       // the file itself, then the hard links to it
  std::optional<Digest> expected;                 // the recorded hash of the whole file
  std::vector<uint8_t> bytes;                     // its data, run after run
  std::vector<std::pair<uint64_t, size_t>> runs;  // (offset, length); gaps are holes
  void Hold(uint64_t offset, std::span<const uint8_t> data);

  // The outcome, set by Write.
  DiskWriter::FileHandle file;
  bool written = false;        // the file, with its metadata (its links may have failed)
  bool hash_mismatch = false;  // so the file was removed again
  EntryError err;              // when neither
  std::vector<std::optional<EntryError>> link_errors;  // of dests[1...]

  // Creates the file (as DiskWriter::BeginFile ... EndFile would; its folder
  // through `parent`), removes it again when its hash is wrong, then makes
  // the hard links. Throws what WriteBlock throws, the file removed.
  void Write(const DiskWriter& disk, DiskWriter::ParentCache* parent);
};

// Hands files and symlinks to the writer threads of `pool` and what happened
// to each back, in the order they were added.
class RestoreWriters {
 public:
  using FileDone = std::function<void(RestoredFile&)>;
  using EntryDone = std::function<void(const Entry&, const EntryError*)>;  // nullptr: made
  RestoreWriters(OrderedPool& pool, const DiskWriter& disk) : pool_(pool), disk_(disk) {}

  // A small file, its data held: written with others, a batch at a time.
  void AddFile(std::shared_ptr<RestoredFile> file, FileDone done);
  // A symlink, made with others a batch at a time.
  void AddSymlink(const Entry& e, EntryDone done);
  // Waits for everything added and reports it. What a writer threw is
  // rethrown, here or by an Add, after what was written before it is reported.
  void Drain();

  // A batch is handed over at this many files or bytes.
  static constexpr size_t kBatchFiles = 32;
  static constexpr uint64_t kBatchBytes = 1 << 20;

 private:
  struct Batch {
    std::vector<std::pair<std::shared_ptr<RestoredFile>, FileDone>> files;
    std::vector<std::pair<Entry, EntryDone>> symlinks;  // a batch holds one kind
    uint64_t bytes = 0;
    size_t done = 0;                                // items finished on the writer thread
    std::vector<std::optional<EntryError>> errors;  // of the symlinks
    std::exception_ptr failure;                     // what the next one threw
  };
  void Flush();

  OrderedPool& pool_;
  const DiskWriter& disk_;
  std::shared_ptr<Batch> batch_ = std::make_shared<Batch>();
};

}  // namespace gb
