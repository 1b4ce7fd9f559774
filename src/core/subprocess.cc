#include "core/subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "core/error.h"
#include "core/file.h"

extern char** environ;

namespace gb {
namespace {

constexpr size_t kTailBytes = 4096;
constexpr size_t kTailLines = 10;
constexpr auto kKillGrace = std::chrono::seconds(2);
// After the program exits, how long output from what it left running is still read.
constexpr auto kAfterExitGrace = std::chrono::seconds(1);

struct Identity {
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;
  std::string name, home;
};

Identity LookUpUser(const std::string& user) {
  std::vector<char> buf(16384);
  struct passwd pw, *found = nullptr;
  int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0 || found == nullptr)
    throw Error(Code::kInvalidArgument,
                "user " + user + " does not exist on this host: check the user = setting");
  Identity id{pw.pw_uid, pw.pw_gid, {}, pw.pw_name, pw.pw_dir ? pw.pw_dir : "/"};
  if (id.uid != ::geteuid() && ::geteuid() != 0)
    throw Error(Code::kInvalidArgument, "running a command as user " + user +
                                            " needs glacier-backup to run as root: remove user = "
                                            "or run as root");
  int n = 64;
  id.groups.resize(static_cast<size_t>(n));
  while (::getgrouplist(pw.pw_name, pw.pw_gid, id.groups.data(), &n) < 0) {
    id.groups.resize(static_cast<size_t>(n) + 64);
    n = static_cast<int>(id.groups.size());
  }
  id.groups.resize(static_cast<size_t>(n));
  return id;
}

// The program's path: argv[0] itself when it names a path, else the first
// executable of that name in PATH; nullopt when there is none.
std::optional<std::string> FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

std::vector<std::string> ChildEnvironment(const SubprocessOptions& o, const Identity* id) {
  std::vector<std::string> extra = o.env;
  if (id) {
    extra.push_back("HOME=" + id->home);
    extra.push_back("USER=" + id->name);
    extra.push_back("LOGNAME=" + id->name);
  }
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    std::string name = kv.substr(0, kv.find('=') + 1);
    bool replaced = std::any_of(extra.begin(), extra.end(),
                                [&](const std::string& x) { return x.starts_with(name); });
    if (!replaced) env.push_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

void MakePipe(Fd* read_end, Fd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) ThrowErrno("create a pipe");
  *read_end = Fd(fds[0]);
  *write_end = Fd(fds[1]);
}

// Only async-signal-safe calls: the parent may have other threads.
[[noreturn]] void ExecChild(const char* program, char* const* argv, char* const* envp,
                            const Identity* id, int out_fd, int err_fd, int status_fd) {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD})
    ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setpgid(0, 0);
  int in = ::open("/dev/null", O_RDONLY);
  int err = 0;
  if (in < 0 || ::dup2(in, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) err = errno;
  if (!err && id) {
    if (::setgroups(id->groups.size(), id->groups.data()) != 0 || ::setgid(id->gid) != 0 ||
        ::setuid(id->uid) != 0 || ::chdir("/") != 0)
      err = errno;
  }
  if (!err) {
    ::execve(program, argv, envp);
    err = errno;
  }
  ssize_t ignored = ::write(status_fd, &err, sizeof err);
  (void)ignored;
  ::_exit(127);
}

class Tail {
 public:
  void Add(std::span<const uint8_t> d) {
    text_.append(reinterpret_cast<const char*>(d.data()), d.size());
    if (text_.size() > 2 * kTailBytes) text_.erase(0, text_.size() - kTailBytes);
  }
  std::string Lines() const {
    std::string t = text_.size() > kTailBytes ? text_.substr(text_.size() - kTailBytes) : text_;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
    size_t cut = 0, lines = 0;
    for (size_t i = t.size(); i-- > 0;) {
      if (t[i] == '\n' && ++lines == kTailLines) {
        cut = i + 1;
        break;
      }
    }
    return t.substr(cut);
  }

 private:
  std::string text_;
};

}  // namespace

std::string DescribeArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-_./=:,@%+", c);
    });
    if (!out.empty()) out += ' ';
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

std::string SubprocessResult::Describe(int64_t timeout_ms) const {
  if (!started) return start_error;
  if (timed_out) return "timed out after " + std::to_string((timeout_ms + 999) / 1000) + " s";
  if (signal) return "was killed by signal " + std::to_string(signal);
  return "exited with status " + std::to_string(exit_status);
}

std::string SubprocessResult::StderrOneLine() const {
  std::string out;
  for (char c : stderr_tail) out += c == '\n' ? std::string(" | ") : std::string(1, c);
  return out;
}

SubprocessResult RunSubprocess(const SubprocessOptions& o) {
  using Clock = std::chrono::steady_clock;
  SubprocessResult result;
  if (o.argv.empty()) throw Error(Code::kInvalidArgument, "no command to run");
  std::optional<Identity> id;
  if (!o.user.empty()) id = LookUpUser(o.user);
  std::optional<std::string> program = FindProgram(o.argv[0]);
  if (!program) {
    result.start_error = "cannot run " + o.argv[0] + ": not found in PATH";
    return result;
  }
  std::vector<std::string> args = o.argv, env = ChildEnvironment(o, id ? &*id : nullptr);
  std::vector<char*> cargs, cenv;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  Fd out_r, out_w, err_r, err_w, status_r, status_w;
  MakePipe(&err_r, &err_w);
  if (o.on_stdout) MakePipe(&out_r, &out_w);
  MakePipe(&status_r, &status_w);
  pid_t pid = ::fork();
  if (pid < 0) ThrowErrno("fork to run " + o.argv[0]);
  if (pid == 0) {
    ExecChild(program->c_str(), cargs.data(), cenv.data(), id ? &*id : nullptr,
              o.on_stdout ? out_w.get() : err_w.get(), err_w.get(), status_w.get());
  }
  ::setpgid(pid, pid);  // also here, so a kill right away reaches the group
  out_w.Reset();
  err_w.Reset();
  status_w.Reset();
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(status_r.get(), &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.start_error = "cannot run " + o.argv[0] + ": " + std::strerror(exec_errno);
    return result;
  }
  result.started = true;

  Tail tail;
  const auto start = Clock::now();
  std::optional<Clock::time_point> term_sent, exited_at;
  bool reaped = false;
  int status = 0;
  auto reap = [&](bool block) {
    if (reaped) return;
    pid_t r;
    do {
      r = ::waitpid(pid, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid) {
      reaped = true;
      exited_at = Clock::now();
    }
  };
  auto kill_group = [&](int sig) { ::kill(-pid, sig); };
  // Past the timeout: SIGTERM to the group, then SIGKILL after kKillGrace.
  auto enforce_timeout = [&](Clock::time_point now) {
    if (o.timeout_ms > 0 && !term_sent && now - start >= std::chrono::milliseconds(o.timeout_ms)) {
      result.timed_out = true;
      kill_group(SIGTERM);
      term_sent = now;
    }
    if (term_sent && now - *term_sent >= kKillGrace) kill_group(SIGKILL);
  };
  try {
    std::vector<uint8_t> buf(1 << 16);
    while (out_r.valid() || err_r.valid()) {
      auto now = Clock::now();
      enforce_timeout(now);
      if (exited_at && now - *exited_at >= kAfterExitGrace) break;  // left running: stop reading
      pollfd fds[2];
      nfds_t n = 0;
      for (Fd* fd : {&out_r, &err_r})
        if (fd->valid()) fds[n++] = {fd->get(), POLLIN, 0};
      int ready = ::poll(fds, n, 100);
      if (ready < 0 && errno != EINTR) ThrowErrno("wait for " + o.argv[0]);
      for (nfds_t i = 0; ready > 0 && i < n; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Fd& fd = fds[i].fd == out_r.get() ? out_r : err_r;
        ssize_t k = ::read(fd.get(), buf.data(), buf.size());
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
          fd.Reset();
          continue;
        }
        std::span<const uint8_t> data(buf.data(), static_cast<size_t>(k));
        if (&fd == &out_r) {
          o.on_stdout(data);
        } else {
          tail.Add(data);
          if (o.on_stderr) o.on_stderr(data);
        }
      }
      reap(false);
    }
    // Output closed; the program may still be running until the timeout.
    while (!reaped) {
      auto now = Clock::now();
      enforce_timeout(now);
      reap(false);
      if (!reaped) ::usleep(20000);
    }
  } catch (...) {
    kill_group(SIGKILL);
    reap(true);
    throw;
  }
  if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.stderr_tail = tail.Lines();
  return result;
}

}  // namespace gb
