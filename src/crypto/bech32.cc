#include "crypto/bech32.h"

#include <cctype>
#include <vector>

namespace gb::age {
namespace {

constexpr char kCharset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

uint32_t Polymod(const std::vector<uint8_t>& values) {
  static constexpr uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  uint32_t chk = 1;
  for (uint8_t v : values) {
    uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk ^= kGen[i];
    }
  }
  return chk;
}

// The checksum input: the expanded (lower-case) hrp followed by the data.
std::vector<uint8_t> ChecksumInput(std::string_view hrp, std::span<const uint8_t> data5) {
  std::vector<uint8_t> v;
  v.reserve(hrp.size() * 2 + 1 + data5.size() + 6);
  for (char c : hrp)
    v.push_back(static_cast<uint8_t>(std::tolower(static_cast<unsigned char>(c))) >> 5);
  v.push_back(0);
  for (char c : hrp)
    v.push_back(static_cast<uint8_t>(std::tolower(static_cast<unsigned char>(c))) & 31);
  v.insert(v.end(), data5.begin(), data5.end());
  return v;
}

// Regroups bits; with !pad, rejects leftover bits that are too many or non-zero.
std::optional<Bytes> ConvertBits(std::span<const uint8_t> in, int from, int to, bool pad) {
  uint32_t acc = 0;
  int bits = 0;
  const uint32_t maxv = (1u << to) - 1;
  Bytes out;
  out.reserve(in.size() * from / to + 1);
  for (uint8_t v : in) {
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push_back(static_cast<uint8_t>((acc >> bits) & maxv));
    }
  }
  if (pad) {
    if (bits > 0) out.push_back(static_cast<uint8_t>((acc << (to - bits)) & maxv));
  } else if (bits >= from || ((acc << (to - bits)) & maxv) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::string Bech32Encode(std::string_view hrp, std::span<const uint8_t> data) {
  Bytes data5 = *ConvertBits(data, 8, 5, true);
  std::vector<uint8_t> input = ChecksumInput(hrp, data5);
  input.insert(input.end(), 6, 0);
  uint32_t mod = Polymod(input) ^ 1;
  std::string out;
  out.reserve(hrp.size() + 1 + data5.size() + 6);
  for (char c : hrp) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out += '1';
  for (uint8_t v : data5) out += kCharset[v];
  for (int i = 0; i < 6; ++i) out += kCharset[(mod >> (5 * (5 - i))) & 31];
  return out;
}

std::optional<Bech32String> Bech32Decode(std::string_view text, std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<Bech32String> {
    if (why) *why = reason;
    return std::nullopt;
  };
  bool lower = false, upper = false;
  for (char c : text) {
    if (c < 33 || c > 126) return fail("invalid character");
    if (std::islower(static_cast<unsigned char>(c))) lower = true;
    if (std::isupper(static_cast<unsigned char>(c))) upper = true;
  }
  if (lower && upper) return fail("mixed case");
  size_t sep = text.rfind('1');
  if (sep == std::string_view::npos || sep < 1 || sep + 7 > text.size()) {
    return fail("separator '1' at invalid position");
  }
  Bytes data5;
  data5.reserve(text.size() - sep - 1);
  for (char c : text.substr(sep + 1)) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const char* p = nullptr;
    for (const char* q = kCharset; *q; ++q) {
      if (*q == l) p = q;
    }
    if (!p) return fail("invalid character in data part");
    data5.push_back(static_cast<uint8_t>(p - kCharset));
  }
  std::string_view hrp = text.substr(0, sep);
  if (Polymod(ChecksumInput(hrp, data5)) != 1) return fail("invalid checksum");
  auto data = ConvertBits(std::span(data5).first(data5.size() - 6), 5, 8, false);
  if (!data) return fail("invalid padding");
  return Bech32String{std::string(hrp), std::move(*data)};
}

}  // namespace gb::age
