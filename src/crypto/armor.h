// ASCII armor: the age file as strict PEM ("AGE ENCRYPTED FILE", padded
// base64 in 64-column lines, no headers). Writing is canonical; reading
// accepts only that form, plus CRLF line ends and whitespace around the armor.
#pragma once

#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <string_view>

#include "core/stream.h"
#include "crypto/buffered_source.h"

namespace gb::age {

inline constexpr std::string_view kArmorBegin = "-----BEGIN AGE ENCRYPTED FILE-----";
inline constexpr std::string_view kArmorEnd = "-----END AGE ENCRYPTED FILE-----";

// Encodes everything written to it into `downstream`. Finish() writes the END
// line and then finishes `downstream`, which must outlive this object.
class ArmorWriter : public ByteSink {
 public:
  explicit ArmorWriter(ByteSink& downstream) : out_(downstream) {}
  void Write(std::span<const uint8_t> data) override;
  using ByteSink::Write;
  void Finish() override;

 private:
  void Start();

  ByteSink& out_;
  bool started_ = false, finished_ = false;
  uint8_t partial_[48];  // input not yet making up a whole line
  size_t partial_size_ = 0;
  std::string text_;
};

// Decodes an armored stream read from `raw`, which must outlive this object.
// Bytes are released line by line as they decode; a malformed line, or
// non-whitespace after the END line, throws DecryptError(kArmor) once the
// reader gets that far.
class ArmorReader : public ByteSource {
 public:
  explicit ArmorReader(BufferedSource& raw) : raw_(raw) {}
  size_t Read(std::span<uint8_t> buf) override;

 private:
  // Decodes the next data line into line_; false once the END line is reached.
  bool NextLine();
  // Reads one line without its "\n" or "\r\n"; throws at end of stream.
  void GetLine();
  // Checks that only a little whitespace follows the END line.
  void CheckTrailing();

  BufferedSource& raw_;
  bool started_ = false, done_ = false;
  std::exception_ptr deferred_;  // an error found after the bytes still in line_
  uint8_t line_[48];
  size_t line_pos_ = 0, line_size_ = 0;
  std::string text_;
};

// Whether `raw` starts, after optional whitespace, like an armored file
// ("-----"). Consumes nothing.
bool LooksArmored(BufferedSource& raw);

}  // namespace gb::age
