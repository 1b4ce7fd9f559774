#include "core/file_modes.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "core/error.h"

namespace gb {
namespace {

std::string Octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Single quotes for a shell, so that the printed command can be pasted.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void RequirePrivateFile(const std::string& path, const std::string& what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    ThrowErrno(path);
  }
  if ((st.st_mode & 077) == 0) return;
  throw Error(Code::kInvalidArgument,
              what + " " + path + " has permissions " + Octal(st.st_mode) +
                  ", open to other users: a secret key must be readable only by its owner. "
                  "Refusing to use it; run `chmod 600 " +
                  ShellQuote(path) + "`");
}

void RequireNotWritableByOthers(const std::string& path, const std::string& what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    ThrowErrno(path);
  }
  if ((st.st_mode & 022) == 0) return;
  throw Error(Code::kInvalidArgument,
              what + " " + path + " has permissions " + Octal(st.st_mode) +
                  ": other users can change it (and which signers it trusts). Refusing to use "
                  "it; run `chmod go-w " +
                  ShellQuote(path) + "`");
}

std::string LooseDirectoryWarning(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return "";
  return "has permissions " + Octal(st.st_mode) +
         ": other users can see what it holds; `chmod 700 " + ShellQuote(path) +
         "` keeps it private";
}

}  // namespace gb
