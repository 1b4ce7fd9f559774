#include "engine/archive_reader.h"

#include <algorithm>

#include "core/error.h"
#include "core/read_ahead_source.h"
#include "core/sha256.h"
#include "engine/delta_backup.h"
#include "engine/encryption.h"

namespace gb {
namespace {

std::string Named(const std::string& name, const Error& e) {
  return "archive " + name + ": " + e.what();
}

// Passes reads through; an error from below (damage, truncation) gains the archive's name.
class NamingSource : public ByteSource {
 public:
  NamingSource(ByteSource& in, const std::string& name) : in_(in), name_(name) {}
  size_t Read(std::span<uint8_t> buf) override {
    try {
      return in_.Read(buf);
    } catch (const Error& e) {
      throw Error(e.code(), Named(name_, e));
    }
  }

 private:
  ByteSource& in_;
  const std::string& name_;
};

// hashing at most `hole_budget` bytes of holes (what is left is returned in it).
Digest HashMemberData(TarReader& tar, const Entry& member, uint64_t& hole_budget) {
  Sha256 sha;
  uint64_t pos = 0;
  auto zeros = [&](uint64_t n) {
    if (n > hole_budget) {
      throw Error(Code::kCorruption,
                  "member " + member.path + " declares " + std::to_string(member.size) +
                      " bytes, mostly holes: more than an unsigned archive of this size is "
                      "read with (damaged or forged?)");
    }
    hole_budget -= n;
    sha.UpdateZeros(n);
  };
  tar.ReadData([&](uint64_t off, std::span<const uint8_t> d) {
    if (off > pos) zeros(off - pos);
    sha.Update(d);
    pos = off + d.size();
  });
  if (pos < member.size) zeros(member.size - pos);
  return sha.Final();
}

}  // namespace

ArchiveReader::ArchiveReader(const Config& config, const std::string& path)
    : name_(path.substr(path.rfind('/') + 1)), file_(path) {
  try {
    plain_ = NewArchiveDecryptor(config, file_);
  } catch (const Error& e) {
    throw Error(e.code(), Named(name_, e));
  }
  zstd_ = std::make_unique<ZstdSource>(*plain_);
  ahead_ = std::make_unique<ReadAheadSource>(*zstd_);
  named_ = std::make_unique<NamingSource>(*ahead_, name_);
  tar_ = std::make_unique<TarReader>(*named_);
}

uint64_t UnsignedHoleBudget(uint64_t archive_bytes) {
  constexpr uint64_t kFloor = uint64_t{4} << 30, kRatio = 4096;
  if (archive_bytes > UINT64_MAX / kRatio) return UINT64_MAX;
  return std::max(kFloor, archive_bytes * kRatio);
}

ArchiveContents ReadArchiveContents(const Config& config, const std::string& path,
                                    uint64_t max_hole_bytes) {
  auto bad = [&](const std::string& why) { return Error(Code::kCorruption, path + ": " + why); };
  ArchiveReader reader(config, path);
  TarReader& tar = reader.tar();
  TarMember m;
  if (!tar.Next(&m) || m.entry.path != kManifestMember)
    throw bad("the first member is not the manifest (not a glacier-backup archive?)");
  ArchiveContents c;
  c.meta = ParseManifest(tar.ReadAll(kMaxManifestBytes),
                         [&](Entry&& e) { c.manifest.push_back(std::move(e)); });
  std::map<std::string, Digest> data;  // the hash of each file member's bytes
  bool saw_checksums = false;
  while (tar.Next(&m)) {
    if (m.entry.path == kChecksumsMember) {
      saw_checksums = true;
      ParseChecksums(tar.ReadAll(kMaxChecksumsBytes),
                     [&](const std::string& p, const Digest& d, const ChecksumMark& mark) {
                       c.checksums[p] = d;
                       if (mark.changed_while_read) c.changed_while_read.insert(p);
                     });
      continue;
    }
    if (m.entry.path == kDeltasMember) {
      for (DeltaMemberRow& row : ParseDeltasMember(tar.ReadAll(kMaxDeltasBytes))) {
        c.stored[row.record.path] = row.size;  // checked when a restore rebuilds it
        data[row.record.path] = row.record.hash;
        c.deltas.push_back(std::move(row.record));
      }
      continue;
    }
    if (m.entry.type != EntryType::kFile || m.entry.path.rfind(kDeltaMemberPrefix, 0) == 0)
      continue;
    c.stored[m.entry.path] = m.entry.size;
    data[m.entry.path] = HashMemberData(tar, m.entry, max_hole_bytes);
  }
  if (!saw_checksums) throw bad("the archive ends without its checksums member (truncated?)");
  for (const auto& [p, d] : c.checksums) {
    auto it = data.find(p);
    if (it == data.end()) throw bad("no data for " + p + ", which its checksums list");
    if (it->second != d) throw bad("the content of " + p + " does not match its checksum");
  }
  return c;
}

}  // namespace gb
