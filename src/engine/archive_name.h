// Archive file names carry time, set and kind:
//   20261127T030700Z-s0004-full.tar.zst.age   (the set's full backup)
//   20261127T030700Z-s0004-i03.tar.zst.age    (its third incremental)
// The name without the suffix is the backup's id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gb {

inline constexpr const char* kArchiveSuffix = ".tar.zst.age";

struct ArchiveName {
  int64_t time = 0;
  int64_t set_id = 0;
  int seq = 0;
  std::string Id() const;
  std::string FileName() const { return Id() + kArchiveSuffix; }
  static std::optional<ArchiveName> Parse(const std::string& file_or_id);
  // Parses a whole archive file name, and only one written exactly as
  // FileName() writes it (no '/', "..", NUL, sign or padding can slip through):
  // the check for every name that comes from the vault or a catalog copy.
  static std::optional<ArchiveName> ParseFileName(const std::string& file_name);
};

}  // namespace gb
