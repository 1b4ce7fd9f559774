#include "cli/run_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/clock.h"
#include "core/file_system.h"

namespace gb {
namespace {

constexpr off_t kRotateBytes = 1 << 20;
constexpr size_t kTailLines = 100;

}  // namespace

RunLog::RunLog(const std::string& state_dir) : path_(JoinPath(state_dir, kFileName)) {
  try {
    MakeDirs(state_dir, 0700);
  } catch (const std::exception& e) {
    problem_ = e.what();
    return;
  }
  struct stat st;
  if (::stat(path_.c_str(), &st) == 0 && st.st_size > kRotateBytes)
    Fs().Rename(path_.c_str(), (path_ + ".1").c_str());
  fd_ = Fd(Fs().Open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd_.valid()) problem_ = "cannot open " + path_ + ": " + std::strerror(errno);
}

void RunLog::Line(const std::string& line) {
  tail_.push_back(line);
  if (tail_.size() > kTailLines) tail_.pop_front();
  if (!fd_.valid()) return;
  std::string text = FormatIsoUtc(SystemClock().NowSeconds()) + " " + line + "\n";
  // One write per line, so runs that overlap interleave whole lines.
  ssize_t n = Fs().Write(fd_.get(), text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size())) {
    problem_ = "cannot write " + path_ + ": " +
               (n < 0 ? std::strerror(errno) : "short write (is the disk full?)");
    fd_.Reset();
  }
}

std::string RunLog::Tail() const {
  std::string out;
  for (const std::string& line : tail_) out += line + "\n";
  return out;
}

}  // namespace gb
