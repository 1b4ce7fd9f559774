// Progress on stderr: one line refreshed a few times a second when stderr is
// a terminal, nothing otherwise. Problems are always printed; informational
// notices only when verbose.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/human_size.h"
#include "engine/progress.h"

namespace gb {

enum class Verbosity { kQuiet, kNormal, kVerbose };

class TerminalProgress : public Progress {
 public:
  explicit TerminalProgress(Verbosity v);
  ~TerminalProgress() override;
  void Phase(const std::string& name, uint64_t total_files, uint64_t total_bytes) override;
  void Update(uint64_t files, uint64_t bytes) override;
  void Notice(const std::string& path, const std::string& message, bool problem) override;
  void Done();
  uint64_t problems() const { return problems_; }
  // Also hands every notice, as the line printed for it (printed or not), to
  // `echo` (the run log); null to stop.
  void SetEcho(std::function<void(const std::string&)> echo) { echo_ = std::move(echo); }

 private:
  void Draw(bool force);
  void ClearLine();
  Verbosity verbosity_;
  bool live_;
  std::string phase_;
  uint64_t total_files_ = 0, total_bytes_ = 0, files_ = 0, bytes_ = 0, problems_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
  std::function<void(const std::string&)> echo_;
};

}  // namespace gb
