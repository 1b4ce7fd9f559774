#include "cli/exit_codes.h"

namespace gb {

int ExitCodeFor(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kNotFound:
      return kExitNotFound;
    case Code::kCorruption:
      return kExitCorrupt;
    case Code::kNoKey:
      return kExitNoKey;
    case Code::kIOError:
      return kExitFailure;
    case Code::kTransient:
    case Code::kPermanent:
      return kExitVault;
    case Code::kLocked:
      return kExitLocked;
    case Code::kNoSpace:
      return kExitNoSpace;
    case Code::kCancelled:
      return kExitInterrupted;
    case Code::kPending:
      return kExitPending;
    case Code::kInternal:
      return kExitFailure;
  }
  return kExitFailure;
}

}  // namespace gb
