#include "crypto/armor.h"

#include <algorithm>
#include <cstring>

#include "core/base64.h"
#include "core/error.h"
#include "crypto/decrypt_error.h"

namespace gb::age {
namespace {

constexpr size_t kColumns = 64;
constexpr size_t kBytesPerLine = kColumns / 4 * 3;
// Whitespace allowed before the BEGIN line and after the END line.
constexpr size_t kMaxWhitespace = 1024;

bool IsSpace(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool AllSpace(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return IsSpace(static_cast<uint8_t>(c)); });
}

[[noreturn]] void ThrowArmorError(const std::string& what) {
  throw DecryptError(DecryptStage::kArmor, "age armor: " + what);
}

}  // namespace

void ArmorWriter::Start() {
  if (started_) return;
  started_ = true;
  text_.assign(kArmorBegin);
  text_ += '\n';
  out_.Write(AsBytes(text_));
}

void ArmorWriter::Write(std::span<const uint8_t> data) {
  if (finished_) throw Error(Code::kInternal, "ArmorWriter: Write after Finish");
  Start();
  if (data.empty()) return;
  text_.clear();
  auto emit_line = [&](std::span<const uint8_t> line) {
    Base64EncodeAppend(line, Base64Padding::kRequired, text_);
    text_ += '\n';
  };
  if (partial_size_ > 0) {
    size_t n = std::min(data.size(), kBytesPerLine - partial_size_);
    std::memcpy(partial_ + partial_size_, data.data(), n);
    partial_size_ += n;
    data = data.subspan(n);
    if (partial_size_ < kBytesPerLine) return;
    emit_line(std::span(partial_, kBytesPerLine));
    partial_size_ = 0;
  }
  while (data.size() >= kBytesPerLine) {
    emit_line(data.first(kBytesPerLine));
    data = data.subspan(kBytesPerLine);
  }
  if (!data.empty()) std::memcpy(partial_, data.data(), data.size());
  partial_size_ = data.size();
  if (!text_.empty()) out_.Write(AsBytes(text_));
}

void ArmorWriter::Finish() {
  if (finished_) throw Error(Code::kInternal, "ArmorWriter: Finish called twice");
  Start();
  finished_ = true;
  text_.clear();
  if (partial_size_ > 0) {
    Base64EncodeAppend(std::span(partial_, partial_size_), Base64Padding::kRequired, text_);
    text_ += '\n';
  }
  text_ += kArmorEnd;
  text_ += '\n';
  out_.Write(AsBytes(text_));
  out_.Finish();
}

void ArmorReader::GetLine() {
  // Long enough for any whitespace line the reader accepts; a longer line
  // is an error whatever it holds.
  auto end = raw_.ReadLine(text_, kMaxWhitespace + 2);
  if (end == BufferedSource::LineEnd::kTooLong) ThrowArmorError("line too long");
  if (end == BufferedSource::LineEnd::kEof && text_.empty()) {
    ThrowArmorError("unexpected end of file (missing END line)");
  }
  if (!text_.empty() && text_.back() == '\n') text_.pop_back();
  if (!text_.empty() && text_.back() == '\r') text_.pop_back();
}

void ArmorReader::CheckTrailing() {
  uint8_t buf[kMaxWhitespace];
  size_t n = raw_.ReadFull(buf);
  if (!std::all_of(buf, buf + n, IsSpace)) ThrowArmorError("unexpected data after the END line");
  if (n == kMaxWhitespace) ThrowArmorError("too much whitespace after the END line");
}

bool ArmorReader::NextLine() {
  if (!started_) {
    size_t skipped = 0;
    for (;;) {
      GetLine();
      if (!AllSpace(text_)) break;
      skipped += text_.size() + 1;
      if (skipped > kMaxWhitespace) ThrowArmorError("too much whitespace before the BEGIN line");
    }
    if (text_ != kArmorBegin) ThrowArmorError("invalid BEGIN line");
    started_ = true;
  }
  GetLine();
  if (text_ == kArmorEnd) {
    CheckTrailing();
    return false;
  }
  // An empty line is never canonical: data that fills its last line is
  // followed directly by the END line.
  if (text_.empty()) ThrowArmorError("unexpected empty line");
  if (text_.size() > kColumns) ThrowArmorError("line longer than 64 columns");
  auto n = Base64DecodeTo(text_, Base64Padding::kRequired, line_);
  if (!n) ThrowArmorError("invalid base64 (stray characters or non-canonical encoding)");
  line_pos_ = 0;
  line_size_ = *n;
  if (line_size_ < kBytesPerLine) {
    // Only the last line may be short, and it must be followed by END.
    GetLine();
    if (text_ != kArmorEnd) ThrowArmorError("short line before the end of the data");
    done_ = true;
    try {
      CheckTrailing();
    } catch (const DecryptError&) {
      deferred_ = std::current_exception();  // after this line's bytes are read
    }
  }
  return true;
}

size_t ArmorReader::Read(std::span<uint8_t> buf) {
  size_t got = 0;
  while (got < buf.size()) {
    if (line_pos_ < line_size_) {
      size_t n = std::min(buf.size() - got, line_size_ - line_pos_);
      std::memcpy(buf.data() + got, line_ + line_pos_, n);
      line_pos_ += n;
      got += n;
      continue;
    }
    if (deferred_) {
      if (got > 0) return got;
      std::rethrow_exception(deferred_);
    }
    if (done_) break;
    try {
      if (!NextLine()) done_ = true;
    } catch (const DecryptError&) {
      done_ = true;
      line_pos_ = line_size_ = 0;  // a line followed by a bad line is not released
      deferred_ = std::current_exception();
    }
  }
  return got;
}

bool LooksArmored(BufferedSource& raw) {
  auto head = raw.Peek(kMaxWhitespace + 5);
  size_t i = 0;
  while (i < head.size() && IsSpace(head[i])) ++i;
  constexpr std::string_view kDashes = "-----";
  return head.size() - i >= kDashes.size() &&
         std::memcmp(head.data() + i, kDashes.data(), kDashes.size()) == 0;
}

}  // namespace gb::age
