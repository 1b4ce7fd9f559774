// Percent-encoding as AWS wants it (RFC 3986: only A-Z a-z 0-9 - . _ ~ stay
// as they are; everything else becomes %XX with upper-case hex, byte by byte).
#pragma once

#include <string>
#include <string_view>

namespace gb {

// Encodes every byte but the unreserved ones. With keep_slash, '/' also stays
// (for paths; object keys keep their slashes).
std::string UriEncode(std::string_view text, bool keep_slash = false);

// Decodes %XX escapes; a '%' not followed by two hex digits is kept as it is.
// '+' is not a space (AWS never uses form encoding in URLs).
std::string UriDecode(std::string_view text);

// The host (and port, if any) of an absolute URL "scheme://host[:port]/...",
// without user info; the whole text when it does not look like a URL. For
// error messages.
std::string HostOfUrl(std::string_view url);

}  // namespace gb
