// The Glacier SHA-256 tree hash: the checksum Glacier vaults use for archives,
// multipart parts and job output ranges.
//
// The input is cut into 1 MiB chunks (the last may be shorter); each chunk is
// hashed with SHA-256; adjacent pairs of raw 32-byte digests are hashed
// together, an odd last digest moving up a level unchanged, until one digest
// remains. An empty input hashes to SHA-256 of nothing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/sha256.h"
#include "core/stream.h"

namespace gb {

inline constexpr uint64_t kTreeHashChunkSize = 1024 * 1024;

// Streaming tree hash. Memory use is O(log n) digests; bytes are never copied.
// Not thread-safe.
class TreeHasher {
 public:
  void Update(std::span<const uint8_t> data);
  void Update(const void* data, size_t n) {
    Update(std::span<const uint8_t>(static_cast<const uint8_t*>(data), n));
  }
  // Returns the tree hash of everything passed to Update() and resets for reuse.
  Digest Final();
  // Bytes passed to Update() since construction or the last Final().
  uint64_t bytes() const { return bytes_; }

 private:
  void FinishChunk();
  void AddLeaf(const Digest& leaf);

  Sha256 chunk_hash_;
  uint64_t chunk_fill_ = 0;
  uint64_t bytes_ = 0;
  uint64_t leaves_ = 0;
  // pending_[k] holds a finished level-k node still waiting for its right
  // sibling (bit k of leaves_ is set exactly when pending_[k] is in use).
  std::vector<Digest> pending_;
};

Digest TreeHashOf(std::span<const uint8_t> data);
// The tree hash of what `source` yields from where it stands to its end.
Digest TreeHashOfSource(ByteSource& source);
// The tree hash of a whole file (what a vault records for an archive uploaded from it).
Digest TreeHashOfFile(const std::string& path);

// Combines the tree hashes of consecutive parts into the tree hash of their
// concatenation. REQUIRES: every part but the last has the same size, a power
// of two times 1 MiB (the Glacier multipart rule); the last part may be
// shorter. Throws kInvalidArgument when `part_hashes` is empty.
Digest CombineTreeHashes(std::span<const Digest> part_hashes);

// True when the byte range [offset, offset + length) of a blob of `total_size`
// bytes is tree-hash aligned as the Glacier API defines it: the tree hash built
// over the range alone equals a node of the tree hash of the whole blob. Only
// then does GetJobOutput return x-amz-sha256-tree-hash for a ranged download.
// The whole blob is always aligned; an empty or out-of-bounds range never is.
bool IsTreeHashAligned(uint64_t offset, uint64_t length, uint64_t total_size);

}  // namespace gb
