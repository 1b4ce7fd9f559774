// How the engine reports while it works. The engine never prints: the CLI
// implements this (a refreshed line on a terminal, nothing otherwise).
#pragma once

#include <cstdint>
#include <string>

namespace gb {

class Progress {
 public:
  virtual ~Progress() = default;
  // A new phase begins ("scanning", "archiving", "restoring"...). Totals are
  // 0 when unknown.
  virtual void Phase(const std::string& name, uint64_t total_files, uint64_t total_bytes) {
    (void)name, (void)total_files, (void)total_bytes;
  }
  // Cumulative counts within the phase.
  virtual void Update(uint64_t files, uint64_t bytes) { (void)files, (void)bytes; }
  // Something the user should know about one path. `problem` = it affects the
  // result (a file not backed up / not restored); otherwise informational.
  virtual void Notice(const std::string& path, const std::string& message, bool problem) {
    (void)path, (void)message, (void)problem;
  }
};

}  // namespace gb
