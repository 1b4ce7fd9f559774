// Serialises the runs that write (backup, sync, restore staging...): one
// exclusive lock file in state_dir. The kernel drops the lock when its holder
// dies, so a stale lock from a killed run never blocks the next one.
#pragma once

#include <string>

#include "core/file.h"

namespace gb {

class StateLock {
 public:
  // Takes the lock, waiting up to wait_seconds (0 = don't wait). Throws
  // kLocked "locked by pid N since TIME" when another live run holds it.
  StateLock(const std::string& state_dir, int wait_seconds = 0);
  ~StateLock();

 private:
  std::string path_;
  Fd fd_;
};

}  // namespace gb
