#include "core/error.h"

#include <cerrno>
#include <cstring>

namespace gb {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kNotFound:
      return "not found";
    case Code::kCorruption:
      return "corruption";
    case Code::kNoKey:
      return "no matching key";
    case Code::kIOError:
      return "I/O error";
    case Code::kTransient:
      return "transient failure";
    case Code::kPermanent:
      return "permanent failure";
    case Code::kLocked:
      return "locked";
    case Code::kNoSpace:
      return "no space";
    case Code::kCancelled:
      return "cancelled";
    case Code::kPending:
      return "pending";
    case Code::kInternal:
      return "internal error";
  }
  return "error";
}

void ThrowErrno(const std::string& what, int err) {
  Code code = (err == ENOENT || err == ENOTDIR) ? Code::kNotFound : Code::kIOError;
  throw Error(code, what + ": " + std::strerror(err));
}

void ThrowErrno(const std::string& what) { ThrowErrno(what, errno); }

}  // namespace gb
