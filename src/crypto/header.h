// The age header: the version line, recipient stanzas and the MAC line.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "crypto/buffered_source.h"
#include "crypto/recipient.h"

namespace gb::age {

using HeaderMac = std::array<uint8_t, 32>;

struct Header {
  std::vector<Stanza> stanzas;
  HeaderMac mac{};
  // The exact bytes the MAC covers: from the version line through "---".
  std::string mac_input;
};

// Upper bounds that keep a hostile header from exhausting memory.
inline constexpr size_t kMaxHeaderLine = 64 * 1024;
inline constexpr size_t kMaxHeaderSize = 16 * 1024 * 1024;

// Reads a header from `in`, leaving it positioned at the payload nonce.
// Throws DecryptError(kHeader) if the header is not in canonical form.
Header ReadHeader(BufferedSource& in);

// The serialised header up to and including "---" (the MAC input).
// REQUIRES: stanza types and arguments are non-empty printable ASCII without spaces.
std::string EncodeHeaderWithoutMac(const std::vector<Stanza>& stanzas);

// The complete serialised header: mac_input + " " + base64(mac) + "\n".
std::string EncodeHeader(const std::string& mac_input, const HeaderMac& mac);

// HMAC-SHA-256 under HKDF(file key, info "header").
HeaderMac ComputeHeaderMac(const FileKey& file_key, const std::string& mac_input);

// Constant-time comparison of two MACs.
bool MacEquals(const HeaderMac& a, const HeaderMac& b);

}  // namespace gb::age
