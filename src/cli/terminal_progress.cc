#include "cli/terminal_progress.h"

#include <unistd.h>

#include <cstdio>

namespace gb {

TerminalProgress::TerminalProgress(Verbosity v)
    : verbosity_(v), live_(v != Verbosity::kQuiet && ::isatty(STDERR_FILENO)) {}

TerminalProgress::~TerminalProgress() { Done(); }

void TerminalProgress::Phase(const std::string& name, uint64_t total_files, uint64_t total_bytes) {
  if (drawn_) Draw(true);
  if (drawn_) std::fputc('\n', stderr);
  drawn_ = false;
  phase_ = name;
  total_files_ = total_files;
  total_bytes_ = total_bytes;
  files_ = bytes_ = 0;
  start_ = std::chrono::steady_clock::now();
  if (verbosity_ == Verbosity::kVerbose && !live_) std::fprintf(stderr, "%s...\n", name.c_str());
}

void TerminalProgress::Update(uint64_t files, uint64_t bytes) {
  files_ = files;
  bytes_ = bytes;
  Draw(false);
}

void TerminalProgress::ClearLine() {
  if (drawn_) std::fputs("\r\033[K", stderr);
}

void TerminalProgress::Draw(bool force) {
  if (!live_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && drawn_ && now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0.2 ? static_cast<double>(bytes_) / secs : 0;
  std::string line = phase_ + ": " + std::to_string(files_);
  if (total_files_) line += "/" + std::to_string(total_files_);
  line += " files, " + HumanBytes(bytes_);
  if (total_bytes_) line += "/" + HumanBytes(total_bytes_);
  if (rate > 0) line += ", " + HumanBytes(static_cast<uint64_t>(rate)) + "/s";
  if (rate > 0 && total_bytes_ > bytes_) {
    auto eta = static_cast<long>(static_cast<double>(total_bytes_ - bytes_) / rate);
    char buf[32];
    std::snprintf(buf, sizeof buf, ", ETA %ld:%02ld:%02ld", eta / 3600, eta / 60 % 60, eta % 60);
    line += buf;
  }
  ClearLine();
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void TerminalProgress::Notice(const std::string& path, const std::string& message, bool problem) {
  if (problem) ++problems_;
  std::string line = std::string(problem ? "warning" : "note") + ": " + path + ": " + message;
  if (echo_) echo_(line);
  if (!problem && verbosity_ != Verbosity::kVerbose) return;
  ClearLine();
  drawn_ = false;
  std::fprintf(stderr, "%s\n", line.c_str());
}

void TerminalProgress::Done() {
  if (drawn_) {
    ClearLine();
    drawn_ = false;
    std::fflush(stderr);
  }
}

}  // namespace gb
