// JSON read from outside the process: a vault, an archive, a server, a file
// another program may have written.
#pragma once
#include <nlohmann/json.hpp>
#include <string_view>

namespace gb {

// json::parse, refusing numbers with a fraction or an exponent: none of the
// formats glacier-backup reads has one, and converting one to an integer field
// is undefined behaviour when it does not fit. Throws nlohmann::json::exception
// (a parse_error) on malformed text or such a number, as json::parse does.
nlohmann::json ParseUntrustedJson(std::string_view text);

}  // namespace gb
