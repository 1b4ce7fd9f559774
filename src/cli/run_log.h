// The log of unattended commands (backup, run, sync): every line they show
// people (results on stdout, warnings and errors on stderr, hook output) is
// appended with its UTC time to state_dir/glacier-backup.log, whatever -q or
// --json hide. The file (mode 0600) is moved to glacier-backup.log.1 when it
// passes 1 MiB. The lines of the current run are kept too (the last 100) for
// the monitoring ping.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "core/file.h"

namespace gb {

class RunLog {
 public:
  static constexpr const char* kFileName = "glacier-backup.log";

  // Opens (creating) the log in state_dir. A log that cannot be opened is not
  // an error: lines are then only kept in memory (see problem()).
  explicit RunLog(const std::string& state_dir);
  void Line(const std::string& line);
  // This run's last lines, newline-terminated.
  std::string Tail() const;
  const std::string& path() const { return path_; }
  // Why the file could not be opened or written; "" when it was.
  const std::string& problem() const { return problem_; }

 private:
  std::string path_;
  Fd fd_;
  std::string problem_;
  std::deque<std::string> tail_;
};

}  // namespace gb
