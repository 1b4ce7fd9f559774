#include "core/host_name.h"

#include <unistd.h>

namespace gb {
namespace {

constexpr size_t kMaxHostName = 63;

bool IsSafeHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

bool IsSafeHostName(std::string_view name) {
  if (name.empty() || name.size() > kMaxHostName || name[0] == '.' || name[0] == '-') return false;
  for (char c : name)
    if (!IsSafeHostChar(c)) return false;
  return true;
}

std::string SystemHostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "unknown";
  std::string name(buf);
  if (name.size() > kMaxHostName) name.resize(kMaxHostName);
  for (char& c : name)
    if (!IsSafeHostChar(c)) c = '-';
  if (name[0] == '.' || name[0] == '-') name[0] = '_';
  return name;
}

}  // namespace gb
