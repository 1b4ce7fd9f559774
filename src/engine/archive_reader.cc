#include "engine/archive_reader.h"

#include "core/error.h"
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

}  // namespace

ArchiveReader::ArchiveReader(const Config& config, const std::string& path)
    : name_(path.substr(path.rfind('/') + 1)), file_(path) {
  try {
    plain_ = NewArchiveDecryptor(config, file_);
  } catch (const Error& e) {
    throw Error(e.code(), Named(name_, e));
  }
  zstd_ = std::make_unique<ZstdSource>(*plain_);
  named_ = std::make_unique<NamingSource>(*zstd_, name_);
  tar_ = std::make_unique<TarReader>(*named_);
}

}  // namespace gb
