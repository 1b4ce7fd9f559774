// Helpers for the end-to-end tests: they drive the built glacier-backup binary
// the way a user does, in a throw-away directory per test, and compare trees
// the way a user would notice differences (bytes and metadata).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/hex.h"
#include "core/sha256.h"
#include "gtest/gtest.h"

namespace gbe2e {

inline const char* Binary() { return GB_BINARY; }

// ---------------------------------------------------------------- processes

struct Result {
  int code = -1;         // exit status; 128 + signal number when killed by a signal
  long max_rss_kib = 0;  // the most memory the process (not its children) held
  std::string out, err;
  // For failure messages: the exit status and both streams.
  std::string Show() const {
    return "exit " + std::to_string(code) + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
  }
};

struct RunOptions {
  std::vector<std::string> prefix;  // runs prefix... argv..., e.g. setpriv
  std::vector<std::string> env;     // "NAME=VALUE" added to (or replacing in) the environment
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> MergedEnv(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    std::string name = kv.substr(0, kv.find('='));
    bool replaced = std::any_of(extra.begin(), extra.end(), [&](const std::string& x) {
      return x.compare(0, name.size() + 1, name + "=") == 0;
    });
    if (!replaced) env.push_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// A started child process whose stdout and stderr go to files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const RunOptions& opts = {}) {
    char out_tmpl[] = "/tmp/gbe2e-out-XXXXXX";
    char err_tmpl[] = "/tmp/gbe2e-err-XXXXXX";
    int out_fd = ::mkstemp(out_tmpl), err_fd = ::mkstemp(err_tmpl);
    out_path_ = out_tmpl;
    err_path_ = err_tmpl;
    std::vector<std::string> args = opts.prefix;
    args.insert(args.end(), argv.begin(), argv.end());
    std::vector<std::string> env = MergedEnv(opts.env);
    std::vector<char*> cargs, cenv;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    for (auto& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      int in = ::open("/dev/null", O_RDONLY);
      ::dup2(in, 0);
      ::dup2(out_fd, 1);
      ::dup2(err_fd, 2);
      ::execvpe(cargs[0], cargs.data(), cenv.data());
      std::fprintf(stderr, "cannot run %s: %s\n", cargs[0], std::strerror(errno));
      ::_exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
  }
  ~Child() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
    ::unlink(out_path_.c_str());
    ::unlink(err_path_.c_str());
  }
  pid_t pid() const { return pid_; }
  // Whether the child has exited (reaps it if so).
  bool Exited() {
    if (waited_) return true;
    if (::wait4(pid_, &status_, WNOHANG, &usage_) == pid_) waited_ = true;
    return waited_;
  }
  void Kill(int sig) { ::kill(pid_, sig); }
  Result Wait() {
    while (!waited_) {
      if (::wait4(pid_, &status_, 0, &usage_) == pid_)
        waited_ = true;
      else if (errno != EINTR)
        break;
    }
    Result r;
    r.code = WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
    r.max_rss_kib = usage_.ru_maxrss;
    r.out = ReadFile(out_path_);
    r.err = ReadFile(err_path_);
    return r;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  struct rusage usage_ = {};
  bool waited_ = false;
  std::string out_path_, err_path_;
};

inline Result Exec(const std::vector<std::string>& argv, const RunOptions& opts = {}) {
  return Child(argv, opts).Wait();
}

// Runs a bash script (with pipefail), e.g. a pipeline of stock tools.
inline Result Bash(const std::string& script) {
  return Exec({"bash", "-o", "pipefail", "-euc", script});
}

// Single-quotes a string for bash.
inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The non-empty lines of a text.
inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// ---------------------------------------------------------------- files

// A fresh directory, removed with everything in it at the end of the test.
// Mode 0755 so that a test may run the tool as another user below it.
class TempDir {
 public:
  explicit TempDir(std::string base = ::testing::TempDir()) {
    if (base.empty() || base.back() != '/') base += '/';
    std::string tmpl = base + "gbe2e-XXXXXX";
    if (!::mkdtemp(tmpl.data())) ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    path_ = tmpl;
    ::chmod(path_.c_str(), 0755);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec) Exec({"rm", "-rf", path_});
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline void MakeDirs(const std::string& path, mode_t mode = 0755) {
  std::filesystem::create_directories(path);
  ::chmod(path.c_str(), mode);
}

inline std::string Parent(const std::string& path) { return path.substr(0, path.rfind('/')); }
inline std::string Basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// Sets the modification (and access) time of a file, directory or symlink itself.
inline void SetMtime(const std::string& path, int64_t sec, long nsec = 0) {
  struct timespec t[2] = {{static_cast<time_t>(sec), nsec}, {static_cast<time_t>(sec), nsec}};
  if (::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW) != 0)
    ADD_FAILURE() << "utimensat " << path << ": " << std::strerror(errno);
}

// Writes a file (creating its parent directories), with the given mode, and
// the given mtime (seconds may be negative: before 1970) when one is given.
inline void WriteFile(const std::string& path, const std::string& content, mode_t mode = 0644,
                      std::optional<int64_t> mtime_sec = std::nullopt, long mtime_nsec = 0) {
  std::filesystem::create_directories(Parent(path));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
    return;
  }
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n <= 0) {
      ADD_FAILURE() << "write " << path << ": " << std::strerror(errno);
      break;
    }
    off += static_cast<size_t>(n);
  }
  ::fchmod(fd, mode);
  ::close(fd);
  if (mtime_sec) SetMtime(path, *mtime_sec, mtime_nsec);
}

inline void AppendFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << content;
}

inline void Symlink(const std::string& target, const std::string& path) {
  std::filesystem::create_directories(Parent(path));
  if (::symlink(target.c_str(), path.c_str()) != 0)
    ADD_FAILURE() << "symlink " << path << ": " << std::strerror(errno);
}

inline void HardLink(const std::string& existing, const std::string& path) {
  std::filesystem::create_directories(Parent(path));
  if (::link(existing.c_str(), path.c_str()) != 0)
    ADD_FAILURE() << "link " << path << ": " << std::strerror(errno);
}

inline bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Deterministic pseudo-random bytes (incompressible), fast enough for hundreds of MB.
// Streams of different seeds are unrelated: a seed picks a scrambled start, so
// files made from seeds 1, 2, 3 are not one stream shifted by a word (which
// compresses to almost nothing across files).
class RandomBytes {
 public:
  explicit RandomBytes(uint64_t seed) : state_(seed) { state_ = Next(); }
  void Fill(char* p, size_t n) {
    while (n) {
      uint64_t v = Next();
      size_t k = std::min<size_t>(n, 8);
      std::memcpy(p, &v, k);
      p += k;
      n -= k;
    }
  }
  std::string Get(size_t n) {
    std::string s(n, '\0');
    Fill(s.data(), n);
    return s;
  }

 private:
  uint64_t Next() {  // splitmix64
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

inline std::string Random(size_t n, uint64_t seed) { return RandomBytes(seed).Get(n); }

// Writes `size` pseudo-random bytes in 1 MiB pieces.
inline void WriteRandomFile(const std::string& path, uint64_t size, uint64_t seed) {
  std::filesystem::create_directories(Parent(path));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  RandomBytes rng(seed);
  std::string buf(1 << 20, '\0');
  for (uint64_t left = size; left;) {
    size_t k = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    rng.Fill(buf.data(), k);
    out.write(buf.data(), static_cast<std::streamsize>(k));
    left -= k;
  }
}

// Writes data at an offset of an existing (possibly sparse) file.
inline void WriteAt(const std::string& path, uint64_t offset, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
  ASSERT_EQ(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(data.size()));
  ::close(fd);
}

// A digest of a file's logical content that reads only its data regions, so a
// sparse 4.5 GiB file hashes in the time its few MiB of data take. Equal
// digests <=> equal size and bytes, whatever the hole layout of either copy.
inline std::string ContentDigest(const std::string& path) {
  constexpr uint64_t kBlock = 1 << 20;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "unreadable: " + std::string(std::strerror(errno));
  struct stat st;
  ::fstat(fd, &st);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  gb::Sha256 outer;
  outer.Update(&size, sizeof size);
  std::vector<char> buf(kBlock);
  std::vector<char> zeros(kBlock, 0);
  uint64_t next_block = 0;  // blocks below this are done
  off_t pos = 0;
  while (static_cast<uint64_t>(pos) < size) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;  // only a hole remains
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) hole = static_cast<off_t>(size);
    for (uint64_t b = std::max<uint64_t>(static_cast<uint64_t>(data) / kBlock, next_block);
         b * kBlock < static_cast<uint64_t>(hole); ++b) {
      ssize_t n = ::pread(fd, buf.data(), kBlock, static_cast<off_t>(b * kBlock));
      if (n <= 0) break;
      if (std::memcmp(buf.data(), zeros.data(), static_cast<size_t>(n)) != 0) {
        gb::Digest d =
            gb::Sha256::Of({reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(n)});
        outer.Update(&b, sizeof b);
        outer.Update(d.data(), d.size());
      }
      next_block = b + 1;
    }
    pos = hole;
  }
  ::close(fd);
  return gb::Hex(outer.Final());
}

// ---------------------------------------------------------------- trees

struct Node {
  char type = '?';  // 'f' file, 'd' directory, 'l' symlink, 'o' other
  uint32_t mode = 0, uid = 0, gid = 0;
  struct timespec mtime = {};
  uint64_t size = 0;
  std::string target;  // symlink
  std::string digest;  // file content (ContentDigest)
  uint64_t dev = 0, ino = 0;
  uint64_t nlink = 0;
};

// Every entry below root (root itself as ""), lstat'ed, files hashed.
inline std::map<std::string, Node> ScanTree(const std::string& root) {
  std::map<std::string, Node> out;
  std::vector<std::string> todo = {""};
  while (!todo.empty()) {
    std::string rel = todo.back();
    todo.pop_back();
    std::string abs = rel.empty() ? root : root + "/" + rel;
    struct stat st;
    if (::lstat(abs.c_str(), &st) != 0) continue;
    Node n;
    n.mode = st.st_mode & 07777;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    n.mtime = st.st_mtim;
    n.dev = st.st_dev;
    n.ino = st.st_ino;
    n.nlink = st.st_nlink;
    if (S_ISREG(st.st_mode)) {
      n.type = 'f';
      n.size = static_cast<uint64_t>(st.st_size);
      n.digest = ContentDigest(abs);
    } else if (S_ISLNK(st.st_mode)) {
      n.type = 'l';
      std::vector<char> buf(4096);
      ssize_t k = ::readlink(abs.c_str(), buf.data(), buf.size());
      if (k >= 0) n.target.assign(buf.data(), static_cast<size_t>(k));
    } else if (S_ISDIR(st.st_mode)) {
      n.type = 'd';
      if (DIR* d = ::opendir(abs.c_str())) {
        while (dirent* e = ::readdir(d)) {
          std::string name = e->d_name;
          if (name == "." || name == "..") continue;
          todo.push_back(rel.empty() ? name : rel + "/" + name);
        }
        ::closedir(d);
      }
    } else {
      n.type = 'o';
    }
    out[rel] = std::move(n);
  }
  return out;
}

inline std::string Octal(uint32_t m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", m);
  return buf;
}

// Differences between an expected tree and an actual one (empty = the same):
// the set of paths, type, permission bits, owner, mtime to the nanosecond,
// file bytes, symlink targets, and which files are hard links of each other.
inline std::vector<std::string> CompareTrees(const std::string& expected_root,
                                             const std::string& actual_root) {
  std::vector<std::string> diffs;
  auto expected = ScanTree(expected_root), actual = ScanTree(actual_root);
  if (expected.empty()) diffs.push_back("expected tree " + expected_root + " does not exist");
  if (actual.empty()) diffs.push_back("restored tree " + actual_root + " does not exist");
  // Hard-link groups: for each file, the other paths sharing its inode.
  auto groups = [](const std::map<std::string, Node>& tree) {
    std::map<std::pair<uint64_t, uint64_t>, std::set<std::string>> by_inode;
    for (const auto& [p, n] : tree)
      if (n.type == 'f') by_inode[{n.dev, n.ino}].insert(p);
    std::map<std::string, std::set<std::string>> out;
    for (const auto& [p, n] : tree)
      if (n.type == 'f') {
        out[p] = by_inode[{n.dev, n.ino}];
        out[p].erase(p);
      }
    return out;
  };
  auto eg = groups(expected), ag = groups(actual);
  auto show = [](const std::string& p) { return p.empty() ? std::string("<root>") : p; };
  for (const auto& [p, e] : expected) {
    auto it = actual.find(p);
    if (it == actual.end()) {
      diffs.push_back(show(p) + ": missing");
      continue;
    }
    const Node& a = it->second;
    std::string what = show(p) + ": ";
    if (e.type != a.type) {
      diffs.push_back(what + "type " + e.type + " became " + a.type);
      continue;
    }
    if (e.mode != a.mode)
      diffs.push_back(what + "mode " + Octal(e.mode) + " became " + Octal(a.mode));
    if (e.uid != a.uid || e.gid != a.gid)
      diffs.push_back(what + "owner " + std::to_string(e.uid) + ":" + std::to_string(e.gid) +
                      " became " + std::to_string(a.uid) + ":" + std::to_string(a.gid));
    if (e.mtime.tv_sec != a.mtime.tv_sec || e.mtime.tv_nsec != a.mtime.tv_nsec)
      diffs.push_back(what + "mtime " + std::to_string(e.mtime.tv_sec) + "." +
                      std::to_string(e.mtime.tv_nsec) + " became " +
                      std::to_string(a.mtime.tv_sec) + "." + std::to_string(a.mtime.tv_nsec));
    if (e.type == 'f' && (e.size != a.size || e.digest != a.digest))
      diffs.push_back(what + "content differs (size " + std::to_string(e.size) + " vs " +
                      std::to_string(a.size) + ")");
    if (e.type == 'l' && e.target != a.target)
      diffs.push_back(what + "symlink target " + e.target + " became " + a.target);
    if (e.type == 'f' && eg[p] != ag[p]) {
      std::string ex, ac;
      for (const auto& x : eg[p]) ex += " " + x;
      for (const auto& x : ag[p]) ac += " " + x;
      diffs.push_back(what + "hard links {" + ex + " } became {" + ac + " }");
    }
  }
  for (const auto& [p, a] : actual)
    if (!expected.count(p)) diffs.push_back(show(p) + ": unexpected (" + a.type + ")");
  return diffs;
}

inline std::string JoinLines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

// `cp -a` (sparse files stay sparse): a snapshot of a tree as it is now.
inline void CopyTree(const std::string& from, const std::string& to) {
  Result r = Exec({"cp", "-a", "--sparse=always", from, to});
  ASSERT_EQ(r.code, 0) << r.Show();
}

// Names of the files in a directory.
inline std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(name);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------- the tool

// One glacier-backup setup in a test directory: its config, identity, cache
// and state all live in `dir`, and HOME / XDG_* point there too, so nothing
// outside the test directory is read or written.
class Tool {
 public:
  explicit Tool(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string config() const { return dir_ + "/config.toml"; }
  std::string identity() const { return dir_ + "/identity.txt"; }
  std::string cache() const { return dir_ + "/cache"; }
  std::string state() const { return dir_ + "/state"; }
  const std::string& recipient() const { return recipient_; }
  // This setup's signing key (beside the config) and its public key "RW...".
  std::string signing_key() const { return dir_ + "/signing.key"; }
  const std::string& signer() const { return signer_; }

  RunOptions Options() const {
    RunOptions o = options_;
    for (const char* v : {"HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"})
      o.env.push_back(std::string(v) + "=" + dir_ + "/home");
    return o;
  }
  // Runs the binary under a prefix (e.g. setpriv) from now on.
  void SetPrefix(std::vector<std::string> prefix) { options_.prefix = std::move(prefix); }
  // Sets NAME=VALUE in the environment of every later run (replacing an earlier
  // value). The way to hand the tool secrets: never on a command line.
  void SetEnv(const std::string& name, const std::string& value) {
    auto& env = options_.env;
    env.erase(std::remove_if(env.begin(), env.end(),
                             [&](const std::string& kv) { return kv.rfind(name + "=", 0) == 0; }),
              env.end());
    env.push_back(name + "=" + value);
  }

  // glacier-backup --config CONFIG args...
  Result Run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {Binary(), "--config", config()};
    argv.insert(argv.end(), args.begin(), args.end());
    return Exec(argv, Options());
  }
  Child Start(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {Binary(), "--config", config()};
    argv.insert(argv.end(), args.begin(), args.end());
    return Child(argv, Options());
  }

  // Runs with --json; the parsed stdout (null, with a test failure, if the
  // exit status is not `want` or stdout is not JSON).
  nlohmann::json Json(const std::vector<std::string>& args, int want = 0) const {
    std::vector<std::string> a = {"--json"};
    a.insert(a.end(), args.begin(), args.end());
    Result r = Run(a);
    EXPECT_EQ(r.code, want) << "glacier-backup --json " << JoinArgs(args) << "\n" << r.Show();
    try {
      return nlohmann::json::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "stdout of --json " << JoinArgs(args) << " is not JSON: " << e.what() << "\n"
                    << r.Show();
      return nullptr;
    }
  }

  // `init` (generates the identity and a config), then writes the config the
  // tests use: the includes, cache and state in the test directory, and
  // `extra` TOML lines appended to [backup].
  void Init(const std::vector<std::string>& includes, const std::string& backup_extra = "") {
    std::vector<std::string> args = {"init"};
    for (const auto& i : includes) args.insert(args.end(), {"--include", i});
    Result r = Run(args);
    ASSERT_EQ(r.code, 0) << r.Show();
    std::string text = ReadFile(config());
    size_t at = text.find("\"age1");
    ASSERT_NE(at, std::string::npos) << text;
    recipient_ = text.substr(at + 1, text.find('"', at + 1) - at - 1);
    at = text.find("trusted_signers = [\"");
    ASSERT_NE(at, std::string::npos) << text;
    at = text.find('"', at) + 1;
    signer_ = text.substr(at, text.find('"', at) - at);
    includes_ = includes;
    backup_extra_ = backup_extra;
    WriteConfig();
  }

  // The config text Init wrote, with changes for a test.
  std::string ConfigText(const std::vector<std::string>& includes, const std::string& backup_extra,
                         const std::string& encryption_extra = "") const {
    std::string t = "# written by the e2e tests\n[source]\nincludes = [";
    for (size_t i = 0; i < includes.size(); ++i) t += (i ? ", \"" : "\"") + includes[i] + "\"";
    t += "]\n\n[backup]\ncache_dir = \"" + cache() + "\"\nstate_dir = \"" + state() + "\"\n";
    t += backup_extra;
    if (!backup_extra.empty() && backup_extra.back() != '\n') t += "\n";
    t += "\n[encryption]\nrecipients = [\"" + recipient_ + "\"]\n";
    if (!signer_.empty()) t += "trusted_signers = [\"" + signer_ + "\"]\n";
    t += encryption_extra;
    return t;
  }
  void WriteConfig() { WriteFile(config(), ConfigText(includes_, backup_extra_), 0600); }

  // The backups, oldest first, as `--json snapshots` lists them.
  nlohmann::json Snapshots() const { return Json({"snapshots"}); }

  // Files in the cache directory.
  std::vector<std::string> CacheFiles() const { return ListDir(cache()); }

 private:
  static std::string JoinArgs(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    return s;
  }

  std::string dir_;
  std::string recipient_, signer_;
  std::vector<std::string> includes_;
  std::string backup_extra_;
  RunOptions options_;
};

// Where restore puts an absolute source path below a target directory.
inline std::string Restored(const std::string& target, const std::string& source_path) {
  return target + source_path;  // source_path starts with '/'
}

// A test with its own directory, a source tree at dir/src and a configured tool.
class E2eTest : public ::testing::Test {
 protected:
  E2eTest() : E2eTest(::testing::TempDir()) {}
  // The test directory below `base` (e.g. a tmpfs, where fsync costs nothing).
  explicit E2eTest(const std::string& base) : dir_(base), src_(dir_ / "src"), tool_(dir_ / "gb") {
    MakeDirs(src_);
    MakeDirs(tool_.dir());
  }

  std::string S(const std::string& rel = "") const { return rel.empty() ? src_ : src_ + "/" + rel; }
  // A path as it appears inside an archive: the absolute path without its '/'.
  std::string InArchive(const std::string& rel) const { return S(rel).substr(1); }

  // A few small files, a symlink and an empty directory.
  void MakeSmallTree() {
    WriteFile(S("docs/a.txt"), "backed up a\n", 0644, 1500000000, 111);
    WriteFile(S("docs/b.txt"), "backed up b\n", 0600);
    WriteFile(S("photos/p.bin"), Random(100000, 7));
    WriteFile(S("notes/n.txt"), "notes\n");
    Symlink("../docs/a.txt", S("notes/link"));
    MakeDirs(S("empty"));
  }

  // `backup --json` that must succeed; its JSON.
  nlohmann::json Backup(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"backup"};
    args.insert(args.end(), extra.begin(), extra.end());
    return tool_.Json(args);
  }

  // Copies the source as it is now to dir/<name> (a snapshot to compare with).
  std::string Snapshot(const std::string& name) {
    std::string to = dir_ / name;
    CopyTree(src_, to);
    return to;
  }

  // Restores backup `id` into a fresh directory and compares it with `snapshot`.
  void ExpectRestoresTo(const std::string& id, const std::string& snapshot) {
    std::string target = dir_ / ("check-" + std::to_string(++checks_));
    Result r = tool_.Run({"restore", "--at", id, "--to", target});
    ASSERT_EQ(r.code, 0) << r.Show();
    std::vector<std::string> diffs = CompareTrees(snapshot, Restored(target, src_));
    EXPECT_TRUE(diffs.empty()) << "backup " << id << ":\n" << JoinLines(diffs);
  }

  TempDir dir_;
  std::string src_;
  Tool tool_;
  int checks_ = 0;
};

}  // namespace gbe2e
