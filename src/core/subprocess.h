// Runs another program (hooks, database dumps): argv as given, no shell, stdin
// from /dev/null, in a process group of its own, optionally as another user,
// with a timeout after which the whole group is killed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace gb {

struct SubprocessOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  // "NAME=VALUE" set in the child's environment on top of ours.
  std::vector<std::string> env;
  int64_t timeout_ms = 0;  // 0 = no limit; else SIGTERM to the group, SIGKILL 2 s later
  // Runs as this user (its uid, gid, groups, HOME, USER, LOGNAME; working
  // directory "/"). Empty = as we run. Another user needs root.
  std::string user;
  // Receive the child's output as it arrives. A null on_stdout sends stdout
  // where stderr goes. An exception thrown by either kills the child and
  // passes through RunSubprocess.
  std::function<void(std::span<const uint8_t>)> on_stdout;
  std::function<void(std::span<const uint8_t>)> on_stderr;
};

struct SubprocessResult {
  bool started = false;     // false: it could not be run at all (see start_error)
  std::string start_error;  // "cannot run pg_dump: No such file or directory"
  int exit_status = -1;     // when it exited by itself
  int signal = 0;           // when a signal ended it
  bool timed_out = false;   // the timeout ended it
  // The last lines of its stderr (at most 10 lines and 4 KiB), for messages.
  std::string stderr_tail;

  bool ok() const { return started && !timed_out && signal == 0 && exit_status == 0; }
  // "exited with status 1", "was killed by signal 9", "timed out after 30 s",
  // or start_error.
  std::string Describe(int64_t timeout_ms) const;
  // stderr_tail on one line, its lines joined with " | ".
  std::string StderrOneLine() const;
};

// Starts, feeds the callbacks, waits. Throws kInvalidArgument for an unknown
// user or another user without root, kIOError when pipes or fork fail;
// whatever the program itself does is in the result.
SubprocessResult RunSubprocess(const SubprocessOptions& options);

// "pg_dump --format=plain app": argv for messages, each word quoted when needed.
std::string DescribeArgv(const std::vector<std::string>& argv);

}  // namespace gb
