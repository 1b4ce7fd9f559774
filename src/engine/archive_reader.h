// Reading an archive file: opened as file -> age -> zstd -> tar, or read
// through and checked against its own checksums (ReadArchiveContents).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "archive/manifest.h"
#include "archive/tar_reader.h"
#include "archive/zstd_stream.h"
#include "catalog/delta_catalog.h"
#include "core/file.h"
#include "engine/config.h"

namespace gb {

class ArchiveReader {
 public:
  // Throws kNotFound when the file is missing, kNoKey when the identity does
  // not match it. Every error, here or while reading, names the archive.
  ArchiveReader(const Config& config, const std::string& path);
  TarReader& tar() { return *tar_; }

 private:
  std::string name_;
  FileSource file_;
  std::unique_ptr<ByteSource> plain_;
  std::unique_ptr<ZstdSource> zstd_;
  std::unique_ptr<ByteSource> ahead_;  // decrypts and decompresses beside the reader
  std::unique_ptr<ByteSource> named_;
  std::unique_ptr<TarReader> tar_;
};

// One archive file read through: decrypted, decompressed, every member read
// and every stored file's bytes checked against the archive's own checksums
// member. Throws kCorruption naming the first problem, kNoKey when the
// identity does not match.
struct ArchiveContents {
  BackupMeta meta;
  std::vector<Entry> manifest;               // every entry, deletions included
  std::map<std::string, uint64_t> stored;    // file members: path -> size
  std::map<std::string, Digest> checksums;   // path -> content hash
  std::set<std::string> changed_while_read;  // stored as read while they kept changing
  std::vector<DeltaRecord> deltas;           // files stored as deltas (set and seq 0)
};
// Holes of sparse members are hashed as zeros, which takes time in
// proportion to the size they declare. `max_hole_bytes` bounds that for an
// archive whose author is unknown (accepted unsigned): past it, kCorruption,
// so a few KiB claiming a "1 TiB file" cannot keep recover busy for minutes.
// An archive verified by its signature or by the catalog's SHA-256 needs none.
ArchiveContents ReadArchiveContents(const Config& config, const std::string& path,
                                    uint64_t max_hole_bytes = UINT64_MAX);
// The hole budget of an unsigned archive of `archive_bytes` bytes: 4096 times
// its size, at least 4 GiB (a few seconds of hashing).
uint64_t UnsignedHoleBudget(uint64_t archive_bytes);

}  // namespace gb
