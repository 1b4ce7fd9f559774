// Identity files as age and age-keygen use them: one "AGE-SECRET-KEY-1..."
// per line; empty lines and lines starting with '#' are ignored.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "crypto/recipient.h"
#include "crypto/x25519.h"

namespace gb::age {

// Parses identity-file text. `name` (usually the path) begins every error
// message, followed by the line number: "keys.txt:3: invalid age secret key:
// invalid checksum". Messages never quote key material. Throws
// Error(kInvalidArgument), also when the file holds no key.
std::vector<std::unique_ptr<Identity>> ParseIdentityFile(std::string_view text,
                                                         const std::string& name);

// Reads and parses the file at `path` (kNotFound / kIOError if unreadable).
std::vector<std::unique_ptr<Identity>> ReadIdentityFile(const std::string& path);

// The file age-keygen writes: "# created: <RFC 3339 UTC>", "# public key:
// age1...", then the secret key, each on its own line.
std::string FormatIdentityFile(const X25519Identity& identity, int64_t created_unix_seconds);

// Writes FormatIdentityFile() to a new file at `path` with mode 0600,
// atomically. Throws Error(kInvalidArgument) rather than replace an existing file.
void WriteIdentityFile(const std::string& path, const X25519Identity& identity,
                       Clock& clock = SystemClock());

}  // namespace gb::age
