#include "engine/point.h"

#include "core/clock.h"
#include "core/error.h"
#include "engine/archive_name.h"

namespace gb {

std::string BackupId(const BackupRecord& b) {
  std::string id = b.name;
  std::string suffix = kArchiveSuffix;
  if (id.size() > suffix.size() &&
      id.compare(id.size() - suffix.size(), suffix.size(), suffix) == 0)
    id.resize(id.size() - suffix.size());
  return id;
}

BackupRecord ResolvePoint(Catalog& catalog, const std::string& when) {
  std::vector<BackupRecord> all = catalog.Backups();
  if (all.empty()) throw Error(Code::kNotFound, kNoBackupsYet);
  if (when.empty() || when == "latest") return all.back();
  std::vector<const BackupRecord*> matches;
  for (const auto& b : all) {
    std::string id = BackupId(b);
    if (id == when || b.name == when) return b;
    if (id.compare(0, when.size(), when) == 0) matches.push_back(&b);
  }
  if (matches.size() == 1) return *matches[0];
  if (auto t = ParseUtc(when)) {
    // A bare date ("2026-11-27") means the whole day: up to its last second.
    const bool whole_day = when.find_first_of("T :@") == std::string::npos;
    if (whole_day) *t += 86400 - 1;
    const BackupRecord* best = nullptr;
    for (const auto& b : all)
      if (b.time <= *t) best = &b;
    if (!best)
      throw Error(Code::kNotFound, (whole_day ? "no backup on or before " + when + " (UTC)"
                                              : "no backup at or before " + FormatIsoUtc(*t)) +
                                       "; the oldest is " + BackupId(all.front()));
    return *best;
  }
  if (ArchiveName::Parse(when))
    throw Error(Code::kNotFound, "no backup \"" + when +
                                     "\" in this catalog (see `glacier-backup snapshots`; after "
                                     "a move to a new machine, run `glacier-backup recover`)");
  if (matches.size() > 1)
    throw Error(Code::kInvalidArgument,
                "\"" + when + "\" matches " + std::to_string(matches.size()) +
                    " backups; give more of the id (see `glacier-backup snapshots`)");
  throw Error(Code::kInvalidArgument, "\"" + when +
                                          "\" is neither a backup id nor a time (try \"latest\", "
                                          "an id from `glacier-backup snapshots`, or 2026-11-27)");
}

std::string NormaliseFilterPath(const std::string& path) {
  std::string p = path;
  while (!p.empty() && p.front() == '/') p.erase(p.begin());
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (p.empty()) return p;
  if (!IsSafeRelativePath(p))
    throw Error(Code::kInvalidArgument,
                "path \"" + path + "\" is not a plain path (no \".\", \"..\" or empty segments)");
  return p;
}

}  // namespace gb
