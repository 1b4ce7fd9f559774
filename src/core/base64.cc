#include "core/base64.h"

#include <array>

namespace gb {
namespace {

constexpr char kStandardAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> MakeReverse(const char* alphabet) {
  std::array<int8_t, 256> r{};
  for (auto& v : r) v = -1;
  for (int i = 0; i < 64; ++i) r[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return r;
}
constexpr std::array<int8_t, 256> kStandardReverse = MakeReverse(kStandardAlphabet);
constexpr std::array<int8_t, 256> kUrlReverse = MakeReverse(kUrlAlphabet);

}  // namespace

std::string Base64Encode(std::span<const uint8_t> data, Base64Padding padding,
                         Base64Alphabet alphabet) {
  std::string out;
  Base64EncodeAppend(data, padding, out, alphabet);
  return out;
}

void Base64EncodeAppend(std::span<const uint8_t> data, Base64Padding padding, std::string& out,
                        Base64Alphabet alphabet) {
  const char* const chars = alphabet == Base64Alphabet::kUrl ? kUrlAlphabet : kStandardAlphabet;
  out.reserve(out.size() + (data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += chars[v >> 18];
    out += chars[(v >> 12) & 63];
    out += chars[(v >> 6) & 63];
    out += chars[v & 63];
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{data[i]} << 16;
    if (rest == 2) v |= uint32_t{data[i + 1]} << 8;
    out += chars[v >> 18];
    out += chars[(v >> 12) & 63];
    if (rest == 2) out += chars[(v >> 6) & 63];
    if (padding == Base64Padding::kRequired) out.append(3 - rest, '=');
  }
}

std::optional<size_t> Base64DecodeTo(std::string_view text, Base64Padding padding, uint8_t* out,
                                     Base64Alphabet alphabet) {
  const std::array<int8_t, 256>& reverse =
      alphabet == Base64Alphabet::kUrl ? kUrlReverse : kStandardReverse;
  if (padding == Base64Padding::kRequired) {
    if (text.size() % 4 != 0) return std::nullopt;
    size_t pad = 0;
    while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
    text.remove_suffix(pad);
    // One '=' completes a 3-character group, two complete a 2-character group.
    if (pad != 0 && text.size() % 4 != 4 - pad) return std::nullopt;
  }
  if (text.size() % 4 == 1) return std::nullopt;
  size_t n = 0;
  size_t i = 0;
  for (; i + 4 <= text.size(); i += 4) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      int8_t d = reverse[static_cast<uint8_t>(text[i + k])];
      if (d < 0) return std::nullopt;
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    out[n++] = static_cast<uint8_t>(v >> 16);
    out[n++] = static_cast<uint8_t>(v >> 8);
    out[n++] = static_cast<uint8_t>(v);
  }
  size_t rest = text.size() - i;
  if (rest > 0) {
    uint32_t v = 0;
    for (size_t k = 0; k < rest; ++k) {
      int8_t d = reverse[static_cast<uint8_t>(text[i + k])];
      if (d < 0) return std::nullopt;
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    if (rest == 2) {
      if (v & 0xf) return std::nullopt;  // non-canonical: unused bits set
      out[n++] = static_cast<uint8_t>(v >> 4);
    } else {
      if (v & 0x3) return std::nullopt;
      out[n++] = static_cast<uint8_t>(v >> 10);
      out[n++] = static_cast<uint8_t>(v >> 2);
    }
  }
  return n;
}

std::optional<Bytes> Base64Decode(std::string_view text, Base64Padding padding,
                                  Base64Alphabet alphabet) {
  Bytes out(Base64MaxDecodedSize(text.size()));
  auto n = Base64DecodeTo(text, padding, out.data(), alphabet);
  if (!n) return std::nullopt;
  out.resize(*n);
  return out;
}

}  // namespace gb
