#include "core/tree_hash.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file.h"
#include "core/hex.h"

namespace gb {
namespace {

constexpr uint64_t kMiB = kTreeHashChunkSize;

struct Vector {
  std::string description;
  uint64_t length;
  char byte;
  std::string expected;
};

std::vector<Vector> LoadVectors() {
  std::ifstream in(std::string(GB_TESTDATA_DIR) + "/treehash/vectors.txt");
  std::vector<Vector> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, '\t')) fields.push_back(f);
    if (fields.size() != 4 || fields[2].size() != 1) {
      ADD_FAILURE() << "bad vector line: " << line;
      continue;
    }
    out.push_back({fields[0], std::stoull(fields[1]), fields[2][0], fields[3]});
  }
  return out;
}

Bytes RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& c : b) c = static_cast<uint8_t>(rng());
  return b;
}

TEST(TreeHash, EveryVectorWholeAndStreamed) {
  auto vectors = LoadVectors();
  ASSERT_EQ(vectors.size(), 7u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.description);
    Bytes data(v.length, static_cast<uint8_t>(v.byte));
    EXPECT_EQ(Hex(TreeHashOf(data)), v.expected);
    // Odd-sized pieces straddle chunk boundaries.
    TreeHasher h;
    for (size_t pos = 0; pos < data.size();) {
      size_t n = std::min<size_t>(data.size() - pos, 333331);
      h.Update(std::span<const uint8_t>(data).subspan(pos, n));
      pos += n;
    }
    EXPECT_EQ(h.bytes(), v.length);
    EXPECT_EQ(Hex(h.Final()), v.expected);
  }
}

TEST(TreeHash, FinalResetsForReuse) {
  TreeHasher h;
  Bytes a(3 * kMiB + 5, 'a');
  h.Update(a);
  Digest first = h.Final();
  EXPECT_EQ(h.bytes(), 0u);
  h.Update(a);
  EXPECT_EQ(h.Final(), first);
  EXPECT_EQ(Hex(h.Final()), Hex(Sha256::Of(std::string())));
}

TEST(TreeHash, UpToOneChunkIsPlainSha256) {
  Bytes b = RandomBytes(kMiB, 1);
  EXPECT_EQ(TreeHashOf(b), Sha256::Of(b));
  Bytes c = RandomBytes(kMiB + 1, 1);
  EXPECT_NE(TreeHashOf(c), Sha256::Of(c));
}

TEST(TreeHash, OfAFileAndOfWhatASourceHasLeft) {
  Bytes b = RandomBytes(3 * kMiB + 12345, 7);
  std::string path = ::testing::TempDir() + "tree_hash_of_file";
  WriteFileAtomic(path, std::string(b.begin(), b.end()));
  EXPECT_EQ(TreeHashOfFile(path), TreeHashOf(b));
  FileSource rest(path, kMiB);
  EXPECT_EQ(TreeHashOfSource(rest), TreeHashOf(std::span<const uint8_t>(b).subspan(kMiB)));
  std::remove(path.c_str());
}

TEST(TreeHash, CombineFromPartsEqualsDirect) {
  // 13 MiB + 123 bytes: an odd number of chunks and a short last chunk.
  Bytes data = RandomBytes(13 * kMiB + 123, 7);
  Digest direct = TreeHashOf(data);
  for (uint64_t part_mib : {1, 2, 4, 8, 16}) {
    SCOPED_TRACE(part_mib);
    uint64_t part = part_mib * kMiB;
    std::vector<Digest> parts;
    for (uint64_t pos = 0; pos < data.size(); pos += part) {
      uint64_t n = std::min<uint64_t>(part, data.size() - pos);
      parts.push_back(TreeHashOf(std::span<const uint8_t>(data).subspan(pos, n)));
    }
    EXPECT_EQ(CombineTreeHashes(parts), direct);
  }
  // Exactly 8 MiB in 2 MiB parts: a balanced tree of parts.
  Bytes even(8 * kMiB);
  std::vector<Digest> parts;
  for (int i = 0; i < 4; ++i)
    parts.push_back(TreeHashOf(std::span<const uint8_t>(even).subspan(i * 2 * kMiB, 2 * kMiB)));
  EXPECT_EQ(CombineTreeHashes(parts), TreeHashOf(even));
  EXPECT_THROW(CombineTreeHashes({}), Error);
}

// Every node of the whole-blob tree, carried copies included.
std::set<Digest> AllNodes(std::span<const uint8_t> data) {
  std::vector<Digest> level;
  for (uint64_t pos = 0; pos < data.size() || level.empty(); pos += kMiB)
    level.push_back(Sha256::Of(data.subspan(pos, std::min<uint64_t>(kMiB, data.size() - pos))));
  std::set<Digest> nodes(level.begin(), level.end());
  while (level.size() > 1) {
    std::vector<Digest> up;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      Sha256 h;
      h.Update(level[i].data(), 32);
      h.Update(level[i + 1].data(), 32);
      up.push_back(h.Final());
    }
    if (level.size() % 2) up.push_back(level.back());
    nodes.insert(up.begin(), up.end());
    level = up;
  }
  return nodes;
}

TEST(TreeHash, AlignmentMatchesTheDefinition) {
  // The developer guide's example: a 6.5 MiB archive.
  uint64_t size = 6 * kMiB + kMiB / 2;
  EXPECT_TRUE(IsTreeHashAligned(0, size, size));
  EXPECT_TRUE(IsTreeHashAligned(2 * kMiB, 2 * kMiB, size));
  EXPECT_FALSE(IsTreeHashAligned(1 * kMiB, 2 * kMiB, size));
  EXPECT_TRUE(IsTreeHashAligned(4 * kMiB, size - 4 * kMiB, size));
  EXPECT_TRUE(IsTreeHashAligned(6 * kMiB, size - 6 * kMiB, size));
  EXPECT_FALSE(IsTreeHashAligned(0, 0, size));
  EXPECT_FALSE(IsTreeHashAligned(0, size + 1, size));
  EXPECT_FALSE(IsTreeHashAligned(512, kMiB, size));

  // Brute force against the definition on random data (distinct chunks).
  for (uint64_t total : {6 * kMiB + kMiB / 2, 8 * kMiB, 5 * kMiB + 1}) {
    Bytes data = RandomBytes(total, static_cast<uint32_t>(total));
    std::set<Digest> nodes = AllNodes(data);
    std::vector<uint64_t> cuts;
    for (uint64_t c = 0; c < total; c += kMiB) cuts.push_back(c);
    cuts.push_back(total);
    cuts.push_back(kMiB / 2);  // an unaligned start or end
    for (uint64_t a : cuts) {
      for (uint64_t b : cuts) {
        if (b <= a) continue;
        bool expected =
            nodes.count(TreeHashOf(std::span<const uint8_t>(data).subspan(a, b - a))) > 0;
        EXPECT_EQ(IsTreeHashAligned(a, b - a, total), expected)
            << "total " << total << " range " << a << "-" << b;
      }
    }
  }
}

}  // namespace
}  // namespace gb
