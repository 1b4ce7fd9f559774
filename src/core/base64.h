// Base64 (RFC 4648), decoded strictly: exactly one encoding of any byte string
// is accepted (age demands it, and an S3 key or header must not have two
// spellings), so a decoder rejects every other spelling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/stream.h"

namespace gb {

enum class Base64Padding { kNone, kRequired };
// kStandard: A-Z a-z 0-9 + / (section 4); kUrl: A-Z a-z 0-9 - _ (section 5,
// safe in URLs, file names and HTTP headers).
enum class Base64Alphabet { kStandard, kUrl };

// Encodes `data`; with kNone no '=' is written (the age header's form), with
// kRequired the output length is a multiple of 4 (the armor's form).
std::string Base64Encode(std::span<const uint8_t> data, Base64Padding padding,
                         Base64Alphabet alphabet = Base64Alphabet::kStandard);
// Same, appending to `out`.
void Base64EncodeAppend(std::span<const uint8_t> data, Base64Padding padding, std::string& out,
                        Base64Alphabet alphabet = Base64Alphabet::kStandard);

// Largest decoded size of an encoded string of `encoded_size` characters.
constexpr size_t Base64MaxDecodedSize(size_t encoded_size) { return encoded_size / 4 * 3 + 2; }

// Decodes `text` into `out` (which must hold Base64MaxDecodedSize(text.size())
// bytes) and returns the decoded length. nullopt unless `text` is the one
// canonical encoding: characters of `alphabet` only (no whitespace, CR or LF),
// unused trailing bits zero, and '=' padding exactly as `padding` demands.
std::optional<size_t> Base64DecodeTo(std::string_view text, Base64Padding padding, uint8_t* out,
                                     Base64Alphabet alphabet = Base64Alphabet::kStandard);

// Same, into a new buffer.
std::optional<Bytes> Base64Decode(std::string_view text, Base64Padding padding,
                                  Base64Alphabet alphabet = Base64Alphabet::kStandard);

}  // namespace gb
