// The extension seam of the age format: a Recipient wraps the file key into
// header stanzas, an Identity unwraps it from them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/stream.h"
#include "crypto/sodium.h"

namespace gb::age {

inline constexpr size_t kFileKeySize = 16;

// The random per-file symmetric key. Wiped when destroyed.
struct FileKey {
  std::array<uint8_t, kFileKeySize> bytes{};
  FileKey() = default;
  FileKey(const FileKey&) = default;
  FileKey& operator=(const FileKey&) = default;
  ~FileKey() { Wipe(bytes); }
};

// One recipient stanza of the header: "-> type args..." and a binary body.
struct Stanza {
  std::string type;
  std::vector<std::string> args;
  Bytes body;
};

class Recipient {
 public:
  virtual ~Recipient() = default;
  // Returns the stanza(s) that let this recipient recover `file_key`.
  virtual std::vector<Stanza> Wrap(const FileKey& file_key) const = 0;
};

class Identity {
 public:
  virtual ~Identity() = default;
  // Returns the file key if a stanza in `stanzas` is addressed to this
  // identity, nullopt if none is. Throws DecryptError(kHeader) when a stanza
  // of this identity's type is malformed: such a file is invalid whoever it
  // was meant for.
  virtual std::optional<FileKey> Unwrap(const std::vector<Stanza>& stanzas) const = 0;
};

}  // namespace gb::age
