#include "engine/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/error.h"
#include "core/file_system.h"

namespace gb {

StateLock::StateLock(const std::string& state_dir, int wait_seconds)
    : path_(JoinPath(state_dir, "lock")) {
  int fd = Fs().Open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) ThrowErrno("open lock " + path_);
  fd_ = Fd(fd);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
  while (Fs().Flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) ThrowErrno("lock " + path_);
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string holder;
      char buf[128];
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      if (n > 0) holder.assign(buf, static_cast<size_t>(n));
      while (!holder.empty() && holder.back() == '\n') holder.pop_back();
      throw Error(Code::kLocked, "another glacier-backup run" +
                                     (holder.empty() ? "" : " (" + holder + ")") +
                                     " holds the lock on " + state_dir +
                                     "; try again later, or wait for it with --wait-lock SECONDS");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::string me = "pid " + std::to_string(::getpid()) + " since " +
                   FormatIsoUtc(SystemClock().NowSeconds()) + "\n";
  if (Fs().Ftruncate(fd, 0) == 0) (void)!Fs().Pwrite(fd, me.data(), me.size(), 0);
}

StateLock::~StateLock() {
  if (fd_.valid()) {
    (void)!Fs().Ftruncate(fd_.get(), 0);
    Fs().Flock(fd_.get(), LOCK_UN);
  }
}

}  // namespace gb
