#include "core/tree_hash.h"

#include <algorithm>
#include <bit>

#include "core/error.h"
#include "core/file.h"

namespace gb {
namespace {

Digest HashPair(const Digest& left, const Digest& right) {
  Sha256 h;
  h.Update(left.data(), left.size());
  h.Update(right.data(), right.size());
  return h.Final();
}

}  // namespace

void TreeHasher::Update(std::span<const uint8_t> data) {
  bytes_ += data.size();
  while (!data.empty()) {
    size_t take =
        static_cast<size_t>(std::min<uint64_t>(data.size(), kTreeHashChunkSize - chunk_fill_));
    chunk_hash_.Update(data.first(take));
    chunk_fill_ += take;
    data = data.subspan(take);
    if (chunk_fill_ == kTreeHashChunkSize) FinishChunk();
  }
}

void TreeHasher::FinishChunk() {
  AddLeaf(chunk_hash_.Final());
  chunk_fill_ = 0;
}

// Like incrementing a binary counter: a new leaf merges with every pending
// left sibling below the first free level.
void TreeHasher::AddLeaf(const Digest& leaf) {
  Digest node = leaf;
  size_t level = 0;
  while (leaves_ & (uint64_t{1} << level)) {
    node = HashPair(pending_[level], node);
    ++level;
  }
  if (pending_.size() <= level) pending_.resize(level + 1);
  pending_[level] = node;
  ++leaves_;
}

Digest TreeHasher::Final() {
  // A partial chunk is a leaf; so is the empty input's single empty chunk.
  if (chunk_fill_ > 0 || leaves_ == 0) FinishChunk();
  // Pending nodes are the roots of complete subtrees, largest on the left. The
  // rightmost one moves up unchanged until it meets its left sibling.
  Digest root{};
  bool have_root = false;
  for (size_t level = 0; level < pending_.size(); ++level) {
    if (!(leaves_ & (uint64_t{1} << level))) continue;
    root = have_root ? HashPair(pending_[level], root) : pending_[level];
    have_root = true;
  }
  pending_.clear();
  leaves_ = 0;
  bytes_ = 0;
  return root;
}

Digest TreeHashOf(std::span<const uint8_t> data) {
  TreeHasher h;
  h.Update(data);
  return h.Final();
}

// Parts of 2^k MiB are exactly the level-k nodes of the whole tree (the last,
// shorter part is the node its chunks carry up to level k), so the whole hash
// is the same pairwise reduction applied to the part hashes.
Digest CombineTreeHashes(std::span<const Digest> part_hashes) {
  if (part_hashes.empty()) throw Error(Code::kInvalidArgument, "tree hash of zero parts");
  std::vector<Digest> level(part_hashes.begin(), part_hashes.end());
  while (level.size() > 1) {
    size_t out = 0;
    for (size_t i = 0; i + 1 < level.size(); i += 2)
      level[out++] = HashPair(level[i], level[i + 1]);
    if (level.size() % 2 == 1) level[out++] = level.back();
    level.resize(out);
  }
  return level.front();
}

// The range must start on a chunk boundary and cover n chunks that form one
// node: n <= 2^k where k = ceil(log2 n), the start chunk a multiple of 2^k, and
// either exactly 2^k full chunks or everything up to the end of the blob.
bool IsTreeHashAligned(uint64_t offset, uint64_t length, uint64_t total_size) {
  if (length == 0 || offset > total_size || length > total_size - offset) return false;
  if (offset % kTreeHashChunkSize != 0) return false;
  uint64_t end = offset + length;
  bool to_end = end == total_size;
  if (!to_end && length % kTreeHashChunkSize != 0) return false;
  uint64_t first_chunk = offset / kTreeHashChunkSize;
  uint64_t chunks = (length + kTreeHashChunkSize - 1) / kTreeHashChunkSize;
  uint64_t span = std::bit_ceil(chunks);
  if (first_chunk % span != 0) return false;
  return chunks == span || to_end;
}

Digest TreeHashOfSource(ByteSource& source) {
  TreeHasher th;
  std::vector<uint8_t> buf(1 << 20);
  while (size_t n = source.Read(buf)) th.Update(buf.data(), n);
  return th.Final();
}

Digest TreeHashOfFile(const std::string& path) {
  FileSource source(path);
  return TreeHashOfSource(source);
}

}  // namespace gb
