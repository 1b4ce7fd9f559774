#include "engine/archive_reader.h"

#include "engine/encryption.h"

namespace gb {

ArchiveReader::ArchiveReader(const Config& config, const std::string& path)
    : file_(path), plain_(NewArchiveDecryptor(config, file_)), zstd_(*plain_),
      tar_(std::make_unique<TarReader>(zstd_)) {}

}  // namespace gb
