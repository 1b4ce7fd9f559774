// Which catalog entries are stored as rsync deltas: a table of its own beside
// `entries`. A row (set, seq, path) says the data of that entry is the delta
// member of backup seq, to be applied to the version basis_path had at
// basis_seq (same set): usually the same path's previous version; for a file
// renamed, moved or copied, another path's (a reference by content: the
// delta of an unchanged copy is a few bytes). A basis precedes its delta: an
// earlier backup, or the same one and a path earlier in key order. Catalogs
// without the table (or its basis_key column) get it on open.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "catalog/sqlite.h"
#include "core/sha256.h"

namespace gb {

struct DeltaRecord {
  // The path whose version the delta applies to.
  const std::string& BasisPath() const { return basis_path.empty() ? path : basis_path; }
  int64_t set_id = 0;
  int seq = 0;  // the backup whose archive holds the delta
  std::string path;
  int basis_seq = 0;       // the backup that recorded the version the delta applies to
  std::string basis_path;  // the path of that version; empty = `path`
  Digest basis_hash{};     // SHA-256 of that version
  Digest hash{};           // SHA-256 of the result
};

// Whether (basis_seq, basis path) precedes (seq, path) as a basis must.
bool BasisPrecedes(const DeltaRecord& d);

// Creates the table if missing (idempotent; part of opening a catalog).
void EnsureDeltaTable(Db& db);
// Inside the caller's transaction (a Catalog::Writer's).
void AddDelta(Db& db, const DeltaRecord& d);
std::optional<DeltaRecord> FindDelta(Db& db, int64_t set_id, int seq, const std::string& path);
// The same for many entries of one set, one after another (a restore or a
// verify asks for every file): the query is prepared once. Not thread-safe.
class DeltaLookup {
 public:
  DeltaLookup(Db& db, int64_t set_id);
  std::optional<DeltaRecord> Find(int seq, const std::string& path);

 private:
  Statement find_;
  int64_t set_id_;
};
// Whether any entry of the set is stored as a delta (one cheap query).
bool SetHasDeltas(Db& db, int64_t set_id);
// Every delta row of a set, in (seq, path key) order.
void ForEachDelta(Db& db, int64_t set_id, const std::function<void(const DeltaRecord&)>& fn);

}  // namespace gb
