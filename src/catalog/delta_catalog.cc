#include "catalog/delta_catalog.h"

#include <algorithm>

#include "core/entry.h"
#include "core/error.h"

namespace gb {
namespace {

Digest ToDigest(const std::string& blob) {
  Digest d{};
  if (blob.size() != d.size()) throw Error(Code::kCorruption, "catalog: bad hash in deltas table");
  std::copy(blob.begin(), blob.end(), d.begin());
  return d;
}

DeltaRecord ReadDelta(Statement& s) {
  DeltaRecord d;
  d.set_id = s.Int(0);
  d.seq = static_cast<int>(s.Int(1));
  d.path = KeyPath(s.Blob(2));
  d.basis_seq = static_cast<int>(s.Int(3));
  d.basis_hash = ToDigest(s.Blob(4));
  d.hash = ToDigest(s.Blob(5));
  if (!s.IsNull(6)) d.basis_path = KeyPath(s.Blob(6));
  if (d.basis_path == d.path) d.basis_path.clear();
  return d;
}

constexpr const char* kColumns =
    "SELECT set_id, seq, key, basis_seq, basis_hash, hash, basis_key FROM deltas ";

}  // namespace

void EnsureDeltaTable(Db& db) {
  db.Exec(R"sql(
CREATE TABLE IF NOT EXISTS deltas(
  set_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  key BLOB NOT NULL,
  basis_seq INTEGER NOT NULL,
  basis_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  basis_key BLOB,  -- NULL: the same path
  PRIMARY KEY(set_id, seq, key)
) WITHOUT ROWID;
)sql");
  bool has_basis_key = false;
  Statement cols(db, "PRAGMA table_info(deltas)");
  while (cols.Step()) has_basis_key |= cols.Text(1) == "basis_key";
  if (!has_basis_key) db.Exec("ALTER TABLE deltas ADD COLUMN basis_key BLOB");
}

bool BasisPrecedes(const DeltaRecord& d) {
  return d.basis_seq < d.seq || (d.basis_seq == d.seq && PathKey(d.BasisPath()) < PathKey(d.path));
}

void AddDelta(Db& db, const DeltaRecord& d) {
  Statement(db,
            "INSERT OR REPLACE INTO deltas(set_id, seq, key, basis_seq, basis_hash, hash, "
            "basis_key) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .Bind(1, d.set_id)
      .Bind(2, static_cast<int64_t>(d.seq))
      .BindBlob(3, PathKey(d.path))
      .Bind(4, static_cast<int64_t>(d.basis_seq))
      .BindBlob(5, d.basis_hash)
      .BindBlob(6, d.hash)
      .BindBlob(7, PathKey(d.BasisPath()))
      .Run();
}

std::optional<DeltaRecord> FindDelta(Db& db, int64_t set_id, int seq, const std::string& path) {
  return DeltaLookup(db, set_id).Find(seq, path);
}

DeltaLookup::DeltaLookup(Db& db, int64_t set_id)
    : find_(db, (std::string(kColumns) + "WHERE set_id=?1 AND seq=?2 AND key=?3").c_str()),
      set_id_(set_id) {}

std::optional<DeltaRecord> DeltaLookup::Find(int seq, const std::string& path) {
  find_.Reset();
  find_.Bind(1, set_id_).Bind(2, static_cast<int64_t>(seq)).BindBlob(3, PathKey(path));
  std::optional<DeltaRecord> found;
  if (find_.Step()) found = ReadDelta(find_);
  find_.Reset();  // no statement left open between lookups
  return found;
}

bool SetHasDeltas(Db& db, int64_t set_id) {
  Statement s(db, "SELECT 1 FROM deltas WHERE set_id=?1 LIMIT 1");
  s.Bind(1, set_id);
  return s.Step();
}

void ForEachDelta(Db& db, int64_t set_id, const std::function<void(const DeltaRecord&)>& fn) {
  Statement s(db, (std::string(kColumns) + "WHERE set_id=?1 ORDER BY seq, key").c_str());
  s.Bind(1, set_id);
  while (s.Step()) fn(ReadDelta(s));
}

}  // namespace gb
