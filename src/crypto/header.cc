#include "crypto/header.h"

#include <sodium.h>

#include <algorithm>
#include <string_view>

#include "core/base64.h"
#include "core/sha256.h"
#include "crypto/decrypt_error.h"
#include "crypto/hkdf.h"
#include "crypto/sodium.h"

namespace gb::age {
namespace {

constexpr std::string_view kVersionLine = "age-encryption.org/v1\n";
constexpr std::string_view kVersionPrefix = "age-encryption.org/";
constexpr std::string_view kStanzaPrefix = "->";
constexpr std::string_view kMacPrefix = "---";
constexpr size_t kColumns = 64;
constexpr size_t kBytesPerLine = kColumns / 4 * 3;

std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t sp = s.find(' ');
    parts.push_back(s.substr(0, sp));
    if (sp == std::string_view::npos) return parts;
    s.remove_prefix(sp + 1);
  }
}

// An argument is one or more printable ASCII characters other than space.
bool IsValidArgument(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= 33 && c <= 126; });
}

class HeaderReader {
 public:
  explicit HeaderReader(BufferedSource& in) : in_(in) {}

  Header Read() {
    Header h;
    std::string line;
    if (!ReadLine(line) || line != kVersionLine) {
      if (line == "age-encryption.org/v1\r\n") {
        ThrowHeaderError("CRLF line ends (was the file converted as text?)");
      }
      if (line.starts_with(kVersionPrefix)) ThrowHeaderError("unsupported format version");
      ThrowHeaderError("not an age file (bad version line)");
    }
    for (;;) {
      auto peek = in_.Peek(kMacPrefix.size());
      if (peek.size() < kMacPrefix.size()) ThrowHeaderError("unexpected end of header");
      if (std::string_view(reinterpret_cast<const char*>(peek.data()), peek.size()) == kMacPrefix) {
        ReadMacLine(h);
        return h;
      }
      h.stanzas.push_back(ReadStanza());
    }
  }

 private:
  // Reads one LF-terminated line into `line`, appending it to the MAC input.
  bool ReadLine(std::string& line) {
    auto end = in_.ReadLine(line, kMaxHeaderLine);
    if (end == BufferedSource::LineEnd::kTooLong) ThrowHeaderError("header line too long");
    raw_ += line;
    if (raw_.size() > kMaxHeaderSize) ThrowHeaderError("header too large");
    return end == BufferedSource::LineEnd::kNewline;
  }

  Stanza ReadStanza() {
    std::string line;
    if (!ReadLine(line)) ThrowHeaderError("unexpected end of header");
    line.pop_back();
    auto parts = SplitSpaces(line);
    if (parts[0] != kStanzaPrefix || parts.size() < 2) ThrowHeaderError("malformed stanza");
    for (size_t i = 1; i < parts.size(); ++i) {
      if (!IsValidArgument(parts[i])) ThrowHeaderError("malformed stanza");
    }
    Stanza s;
    s.type = parts[1];
    s.args.assign(parts.begin() + 2, parts.end());
    // The body: full 64-column lines, ended by exactly one shorter (maybe empty) line.
    uint8_t decoded[Base64MaxDecodedSize(kColumns)];
    for (;;) {
      if (!ReadLine(line)) ThrowHeaderError("unexpected end of header in stanza body");
      line.pop_back();
      if (line.size() > kColumns) ThrowHeaderError("stanza body line longer than 64 columns");
      auto n = Base64DecodeTo(line, Base64Padding::kNone, decoded);
      if (!n) ThrowHeaderError("malformed stanza body (not canonical base64)");
      s.body.insert(s.body.end(), decoded, decoded + *n);
      if (*n < kBytesPerLine) return s;
    }
  }

  void ReadMacLine(Header& h) {
    size_t start = raw_.size();
    std::string line;
    if (!ReadLine(line)) ThrowHeaderError("unexpected end of header in MAC line");
    line.pop_back();
    auto parts = SplitSpaces(line);
    if (parts.size() != 2 || parts[0] != kMacPrefix) ThrowHeaderError("malformed MAC line");
    auto mac = Base64Decode(parts[1], Base64Padding::kNone);
    if (!mac || mac->size() != h.mac.size()) ThrowHeaderError("malformed MAC line");
    std::copy(mac->begin(), mac->end(), h.mac.begin());
    h.mac_input = raw_.substr(0, start + kMacPrefix.size());
  }

  BufferedSource& in_;
  std::string raw_;  // every header byte read so far
};

void AppendWrapped(std::span<const uint8_t> body, std::string& out) {
  // Full lines of 64 columns, then a final shorter line (empty if need be).
  while (body.size() >= kBytesPerLine) {
    Base64EncodeAppend(body.first(kBytesPerLine), Base64Padding::kNone, out);
    out += '\n';
    body = body.subspan(kBytesPerLine);
  }
  Base64EncodeAppend(body, Base64Padding::kNone, out);
  out += '\n';
}

}  // namespace

Header ReadHeader(BufferedSource& in) { return HeaderReader(in).Read(); }

std::string EncodeHeaderWithoutMac(const std::vector<Stanza>& stanzas) {
  std::string out(kVersionLine);
  for (const Stanza& s : stanzas) {
    out += kStanzaPrefix;
    out += ' ';
    out += s.type;
    for (const auto& a : s.args) {
      out += ' ';
      out += a;
    }
    out += '\n';
    AppendWrapped(s.body, out);
  }
  out += kMacPrefix;
  return out;
}

std::string EncodeHeader(const std::string& mac_input, const HeaderMac& mac) {
  return mac_input + " " + Base64Encode(mac, Base64Padding::kNone) + "\n";
}

HeaderMac ComputeHeaderMac(const FileKey& file_key, const std::string& mac_input) {
  Key32 key = HkdfSha256(file_key.bytes, {}, "header");
  HeaderMac mac = HmacSha256(key, AsBytes(mac_input));
  Wipe(key);
  return mac;
}

bool MacEquals(const HeaderMac& a, const HeaderMac& b) {
  EnsureSodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace gb::age
