// The local signature store: for every file of at least delta_min_size in the
// open set, the librsync signature of the version last stored, so the next
// incremental can store a delta without ever reading an archive.
// <state_dir>/signatures/<set>/<SHA-256 of the path>, each file naming the
// version it describes (set, seq, path, content SHA-256) and carrying the
// SHA-256 of its signature bytes. A signature is used only when all of that
// matches the catalog exactly, so a missing, stale (a crash between writing it
// and the catalog commit) or damaged one means the file is stored whole,
// never that a wrong delta is written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/sha256.h"
#include "core/stream.h"

namespace gb {

class SignatureStore {
 public:
  explicit SignatureStore(const std::string& state_dir);

  // The signature of `path` as stored at (set_id, seq) with content `hash`;
  // nullopt when there is none that matches exactly.
  std::optional<Bytes> Find(int64_t set_id, int seq, const std::string& path, const Digest& hash);
  // Replaces the signature of `path` durably (temp file, fsync, rename).
  void Put(int64_t set_id, int seq, const std::string& path, const Digest& hash,
           std::span<const uint8_t> signature);
  // Removes the signatures of every set but `keep` (sets that take no more incrementals).
  void DropAllBut(std::optional<int64_t> keep);

 private:
  std::string FileFor(int64_t set_id, const std::string& path) const;
  std::string dir_;
};

}  // namespace gb
