// One error type for the whole program. Lower layers throw gb::Error with a
// Code; only main() turns a Code into a process exit status.
#pragma once

#include <stdexcept>
#include <string>

namespace gb {

enum class Code {
  kInvalidArgument,  // bad input from the user: config, flags, paths
  kNotFound,         // a named thing (snapshot, archive, key, object) does not exist
  kCorruption,       // data failed a hash, MAC or format check
  kNoKey,            // no identity could decrypt the data
  kIOError,          // the local OS refused (read, write, fsync, ...)
  kTransient,        // a remote failure worth retrying (timeouts, 5xx, throttling)
  kPermanent,        // a remote failure that retrying cannot fix (auth, missing vault)
  kLocked,           // another run holds the state lock
  kNoSpace,          // the vault size cap cannot be honoured
  kCancelled,        // interrupted by a signal or the user
  kPending,          // waiting on the vault (a job has not finished): run again later
  kInternal,         // a bug
};

const char* CodeName(Code code);

class Error : public std::runtime_error {
 public:
  Error(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Code code() const { return code_; }

 private:
  Code code_;
};

// Throws kIOError naming `what` (usually a path) and the current errno.
[[noreturn]] void ThrowErrno(const std::string& what);
// Same with an explicit errno value.
[[noreturn]] void ThrowErrno(const std::string& what, int err);

}  // namespace gb
