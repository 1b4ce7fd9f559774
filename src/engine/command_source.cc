#include "engine/command_source.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.h"
#include "core/file_system.h"
#include "core/subprocess.h"

namespace gb {
CommandCapture CaptureCommand(const Config::CommandSource& command, const std::string& spool_dir,
                              Clock& clock) {
  CommandCapture c;
  Fd spool = OpenAnonymousTemp(spool_dir);
  Sha256 sha;
  uint64_t size = 0;
  SubprocessOptions o;
  o.argv = command.run;
  o.user = command.user;
  o.timeout_ms = static_cast<int64_t>(command.timeout_seconds) * 1000;
  o.on_stdout = [&](std::span<const uint8_t> data) {
    sha.Update(data);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = Fs().Write(spool.get(), data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) ThrowErrno("write the output of " + command.run[0] + " to " + spool_dir);
      done += static_cast<size_t>(n);
    }
    size += data.size();
  };
  o.on_stderr = [](std::span<const uint8_t>) {};  // kept by RunSubprocess for the message
  SubprocessResult r;
  try {
    r = RunSubprocess(o);
  } catch (const Error& e) {
    if (e.code() != Code::kInvalidArgument) throw;
    c.problem = "command `" + DescribeArgv(command.run) + "`: " + e.what();
    return c;
  }
  if (!r.ok()) {
    c.problem = "command `" + DescribeArgv(command.run) + "` " + r.Describe(o.timeout_ms);
    if (!r.stderr_tail.empty()) c.problem += ": " + r.StderrOneLine();
    return c;
  }
  c.ok = true;
  c.output = std::move(spool);
  c.size = size;
  c.hash = sha.Final();
  c.finished = clock.NowSeconds();
  c.stderr_tail = r.StderrOneLine();
  return c;
}

Entry CommandEntry(const Config::CommandSource& command, const CommandCapture& capture) {
  Entry e;
  e.path = command.path.substr(1);
  e.type = EntryType::kFile;
  e.mode = 0600;
  e.uid = ::geteuid();
  e.gid = ::getegid();
  if (const passwd* pw = ::getpwuid(e.uid)) e.uname = pw->pw_name;
  if (const group* gr = ::getgrgid(e.gid)) e.gname = gr->gr_name;
  e.size = capture.size;
  e.mtime = e.ctime = FileTime{capture.finished, 0};
  e.hash = capture.hash;
  e.has_hash = true;
  return e;
}

}  // namespace gb
