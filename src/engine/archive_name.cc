#include "engine/archive_name.h"

#include <cstdio>

#include "core/clock.h"

namespace gb {

std::string ArchiveName::Id() const {
  char tail[32];
  if (seq == 0)
    std::snprintf(tail, sizeof tail, "-s%04lld-full", static_cast<long long>(set_id));
  else
    std::snprintf(tail, sizeof tail, "-s%04lld-i%02d", static_cast<long long>(set_id), seq);
  return FormatCompactUtc(time) + tail;
}

std::optional<ArchiveName> ArchiveName::Parse(const std::string& s) {
  std::string id = s;
  std::string suffix = kArchiveSuffix;
  if (id.size() > suffix.size() &&
      id.compare(id.size() - suffix.size(), suffix.size(), suffix) == 0)
    id.resize(id.size() - suffix.size());
  if (id.size() < 16 + 7) return std::nullopt;
  // Only the time as names spell it: a year like 0226 would not print back.
  auto t = ParseUtc(id.substr(0, 16));
  if (!t || FormatCompactUtc(*t) != id.substr(0, 16)) return std::nullopt;
  long long set = 0;
  int seq = 0, consumed = 0;
  std::string rest = id.substr(16);
  ArchiveName n;
  if (std::sscanf(rest.c_str(), "-s%lld-full%n", &set, &consumed) == 1 &&
      consumed == static_cast<int>(rest.size())) {
    seq = 0;
  } else if (std::sscanf(rest.c_str(), "-s%lld-i%d%n", &set, &seq, &consumed) == 2 &&
             consumed == static_cast<int>(rest.size()) && seq > 0) {
  } else {
    return std::nullopt;
  }
  n.time = *t;
  n.set_id = set;
  n.seq = seq;
  return n;
}

std::optional<ArchiveName> ArchiveName::ParseFileName(const std::string& s) {
  std::optional<ArchiveName> n = Parse(s);
  if (!n || n->set_id < 0 || n->FileName() != s) return std::nullopt;
  return n;
}

}  // namespace gb
