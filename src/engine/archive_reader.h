// Opens a cached archive for reading: file -> age -> zstd -> tar.
#pragma once

#include <memory>
#include <string>

#include "archive/tar_reader.h"
#include "archive/zstd_stream.h"
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
  std::unique_ptr<ByteSource> named_;
  std::unique_ptr<TarReader> tar_;
};

}  // namespace gb
