// Permissions of the files that hold secrets or decide what is trusted,
// checked the way ssh checks a private key: a loose mode is refused with the
// command that fixes it.
#pragma once

#include <string>

namespace gb {

// A secret key file (`what`: "identity file", "signing key") readable or
// writable by group or others: Error(kInvalidArgument) naming the path, its
// mode and the `chmod 600` that fixes it. A missing file is not checked here.
void RequirePrivateFile(const std::string& path, const std::string& what);

// A file writable by group or others (someone else could change what it says,
// e.g. which signers are trusted): Error(kInvalidArgument) with the
// `chmod go-w` that fixes it.
void RequireNotWritableByOthers(const std::string& path, const std::string& what);

// A directory readable, writable or searchable by group or others: the
// warning to give (empty when its mode is private, or it does not exist).
std::string LooseDirectoryWarning(const std::string& path);

}  // namespace gb
