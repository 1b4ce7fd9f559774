#include "catalog/catalog.h"

#include <cstring>

#include "catalog/delta_catalog.h"
#include "core/entry_extras.h"
#include "core/error.h"

namespace gb {
namespace {

const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sets(
  id INTEGER PRIMARY KEY,
  created INTEGER NOT NULL,
  completed INTEGER
);
CREATE TABLE IF NOT EXISTS backups(
  id INTEGER PRIMARY KEY,
  set_id INTEGER NOT NULL REFERENCES sets(id),
  seq INTEGER NOT NULL,
  time INTEGER NOT NULL,
  name TEXT NOT NULL UNIQUE,
  archive_size INTEGER NOT NULL,
  archive_sha256 TEXT NOT NULL,
  files INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  skipped INTEGER NOT NULL,
  host TEXT NOT NULL,
  UNIQUE(set_id, seq)
);
CREATE TABLE IF NOT EXISTS entries(
  set_id INTEGER NOT NULL,
  key BLOB NOT NULL,
  seq INTEGER NOT NULL,
  type INTEGER NOT NULL,
  mode INTEGER, uid INTEGER, gid INTEGER, uname TEXT, gname TEXT,
  size INTEGER, mtime INTEGER, mtime_nsec INTEGER, ctime INTEGER, ctime_nsec INTEGER, dev INTEGER, ino INTEGER, nlink INTEGER,
  target BLOB, hash BLOB, sparse INTEGER,
  extra TEXT,  -- JSON of what stat does not give (xattrs, ACLs, rdev...); NULL for most entries
  PRIMARY KEY(set_id, key, seq)
) WITHOUT ROWID;
)sql";

// The cloud half: what we uploaded, what the vault says it holds, our jobs.
const char* kSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS vault_archives(
  archive_id TEXT PRIMARY KEY,
  set_id INTEGER,            -- the set it holds; NULL for archives that are not ours
  backup_name TEXT,          -- upload = "each": the one backup archive it holds
  description TEXT NOT NULL,
  size INTEGER NOT NULL,
  tree_hash TEXT NOT NULL,
  created INTEGER NOT NULL,
  origin TEXT NOT NULL,      -- 'here' (we uploaded it) | 'upstream' (found in an inventory)
  catalog_offset INTEGER, catalog_length INTEGER,  -- the bundle's catalog member
  deleted_here INTEGER,      -- when we deleted it
  last_seen_upstream INTEGER -- date of the newest inventory that listed it
);
CREATE TABLE IF NOT EXISTS uploads(
  id INTEGER PRIMARY KEY,
  set_id INTEGER NOT NULL,
  backup_name TEXT,          -- upload = "each"
  token TEXT NOT NULL UNIQUE,-- also in the description, to recognise retried uploads
  state TEXT NOT NULL,       -- 'uploading' | 'done'
  description TEXT NOT NULL,
  size INTEGER NOT NULL,
  tree_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  started INTEGER NOT NULL,
  archive_id TEXT
);
CREATE TABLE IF NOT EXISTS jobs(
  job_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,        -- 'inventory' | 'retrieval'
  archive_id TEXT,
  tier TEXT,
  range_offset INTEGER, range_length INTEGER,
  purpose TEXT,              -- what asked for it (restore id, recover, ...)
  started INTEGER NOT NULL,
  status TEXT NOT NULL,      -- 'InProgress' | 'Succeeded' | 'Failed' | 'Expired' | 'Done'
  completed INTEGER,
  message TEXT
);
ALTER TABLE sets ADD COLUMN uploaded INTEGER;  -- when the whole set was safely in the vault
ALTER TABLE sets ADD COLUMN pruned INTEGER;    -- when it was deleted from the vault
)sql";

// Times as seconds and nanoseconds (64-bit nanoseconds end in 2262); for catalogs
// created before, with one nanosecond column each.
const char* kSchemaV3 = R"sql(
ALTER TABLE entries RENAME COLUMN mtime_ns TO mtime;
ALTER TABLE entries RENAME COLUMN ctime_ns TO ctime;
ALTER TABLE entries ADD COLUMN mtime_nsec INTEGER;
ALTER TABLE entries ADD COLUMN ctime_nsec INTEGER;
UPDATE entries SET mtime_nsec = ((mtime % 1000000000) + 1000000000) % 1000000000,
                   ctime_nsec = ((ctime % 1000000000) + 1000000000) % 1000000000;
UPDATE entries SET mtime = (mtime - mtime_nsec) / 1000000000,
                   ctime = (ctime - ctime_nsec) / 1000000000;
)sql";

// Extended attributes, ACLs, device numbers and the metadata-only and
// changed-while-read marks, in one column that is NULL for an entry without any.
const char* kSchemaV4 = R"sql(
ALTER TABLE entries ADD COLUMN extra TEXT;
)sql";

constexpr const char* kEntryColumns =
    "key, seq, type, mode, uid, gid, uname, gname, size, mtime, mtime_nsec, ctime, ctime_nsec, "
    "dev, ino, nlink, "
    "target, hash, sparse, extra";

void ReadEntry(Statement& s, Entry* e, int* seq) {
  e->path = KeyPath(s.Blob(0));
  *seq = static_cast<int>(s.Int(1));
  e->type = static_cast<EntryType>(s.Int(2));
  e->mode = static_cast<uint32_t>(s.Int(3));
  e->uid = static_cast<uint32_t>(s.Int(4));
  e->gid = static_cast<uint32_t>(s.Int(5));
  e->uname = s.Text(6);
  e->gname = s.Text(7);
  e->size = static_cast<uint64_t>(s.Int(8));
  e->mtime = {s.Int(9), static_cast<uint32_t>(s.Int(10))};
  e->ctime = {s.Int(11), static_cast<uint32_t>(s.Int(12))};
  e->dev = static_cast<uint64_t>(s.Int(13));
  e->ino = static_cast<uint64_t>(s.Int(14));
  e->nlink = static_cast<uint32_t>(s.Int(15));
  e->target = s.Blob(16);
  std::string h = s.Blob(17);
  e->has_hash = h.size() == 32;
  if (e->has_hash) std::memcpy(e->hash.data(), h.data(), 32);
  e->sparse = s.Int(18) != 0;
  ExtrasFromText(s.IsNull(19) ? std::string() : s.Text(19), e);
}

// Emits the highest-seq row of each key: rows arrive ordered by (key, seq).
class StateCursorImpl : public EntryCursor {
 public:
  StateCursorImpl(Db& db, int64_t set_id, int max_seq, bool include_deleted,
                  const std::string& path)
      : stmt_(db, Sql(!path.empty()).c_str()), include_deleted_(include_deleted) {
    stmt_.Bind(1, set_id).Bind(2, static_cast<int64_t>(max_seq));
    if (!path.empty()) {
      std::string lo = PathKey(path), hi = lo + '\x01';
      stmt_.BindBlob(3, lo).BindBlob(4, hi);
    }
    have_row_ = stmt_.Step();
  }

  bool Next() override {
    while (have_row_) {
      int seq;
      ReadEntry(stmt_, &cur_, &seq);
      cur_seq_ = cur_data_seq_ = seq;
      std::string key = stmt_.Blob(0);
      // Skip to the last row for this key; a metadata-only row keeps the data
      // of the row before it.
      for (;;) {
        have_row_ = stmt_.Step();
        if (!have_row_ || stmt_.Blob(0) != key) break;
        ReadEntry(stmt_, &cur_, &seq);
        cur_seq_ = seq;
        if (!cur_.content_unchanged) cur_data_seq_ = seq;
      }
      if (cur_.type != EntryType::kDeleted || include_deleted_) return true;
    }
    return false;
  }
  const Entry& entry() const override { return cur_; }
  int seq() const override { return cur_seq_; }
  int data_seq() const override { return cur_data_seq_; }

 private:
  static std::string Sql(bool ranged) {
    return std::string("SELECT ") + kEntryColumns + " FROM entries WHERE set_id=?1 AND seq<=?2" +
           (ranged ? " AND key>=?3 AND key<?4" : "") + " ORDER BY key, seq";
  }
  Statement stmt_;
  bool include_deleted_;
  bool have_row_ = false;
  Entry cur_;
  int cur_seq_ = 0, cur_data_seq_ = 0;
};

class ExactCursor : public EntryCursor {
 public:
  ExactCursor(Db& db, int64_t set_id, int seq)
      : stmt_(db, (std::string("SELECT ") + kEntryColumns +
                   " FROM entries WHERE set_id=?1 AND seq=?2 ORDER BY key")
                      .c_str()) {
    stmt_.Bind(1, set_id).Bind(2, static_cast<int64_t>(seq));
  }
  bool Next() override {
    if (!stmt_.Step()) return false;
    ReadEntry(stmt_, &cur_, &seq_);
    return true;
  }
  const Entry& entry() const override { return cur_; }
  int seq() const override { return seq_; }

 private:
  Statement stmt_;
  Entry cur_;
  int seq_ = 0;
};

BackupRecord ReadBackup(Statement& s) {
  BackupRecord b;
  b.id = s.Int(0);
  b.set_id = s.Int(1);
  b.seq = static_cast<int>(s.Int(2));
  b.time = s.Int(3);
  b.name = s.Text(4);
  b.archive_size = static_cast<uint64_t>(s.Int(5));
  b.archive_sha256 = s.Text(6);
  b.files = static_cast<uint64_t>(s.Int(7));
  b.bytes = static_cast<uint64_t>(s.Int(8));
  b.deleted = static_cast<uint64_t>(s.Int(9));
  b.skipped = static_cast<uint64_t>(s.Int(10));
  b.host = s.Text(11);
  return b;
}

constexpr const char* kBackupColumns =
    "SELECT id, set_id, seq, time, name, archive_size, archive_sha256, files, bytes, deleted, "
    "skipped, host FROM backups ";

SetRecord ReadSet(Statement& s) {
  SetRecord r;
  r.id = s.Int(0);
  r.created = s.Int(1);
  if (!s.IsNull(2)) r.completed = s.Int(2);
  r.backups = static_cast<int>(s.Int(3));
  if (!s.IsNull(4)) r.uploaded = s.Int(4);
  if (!s.IsNull(5)) r.pruned = s.Int(5);
  return r;
}

constexpr const char* kSetColumns =
    "SELECT id, created, completed, (SELECT COUNT(*) FROM backups b WHERE b.set_id = sets.id), "
    "uploaded, pruned FROM sets ";

}  // namespace

Catalog::Catalog(const std::string& path) : db_(path) {
  db_.Exec("PRAGMA journal_mode=WAL");
  db_.Exec("PRAGMA synchronous=FULL");
  db_.Exec("PRAGMA foreign_keys=ON");
  Migrate();
}

void Catalog::Migrate() {
  Transaction t(db_);
  db_.Exec(kSchemaV1);
  int version = 0;
  {
    Statement s(db_, "SELECT value FROM meta WHERE key='schema_version'");
    if (s.Step()) version = std::stoi(s.Text(0));
  }
  if (version > kSchemaVersion)
    throw Error(Code::kInvalidArgument,
                "catalog " + db_.path() + " has schema version " + std::to_string(version) +
                    ", newer than this glacier-backup understands (" +
                    std::to_string(kSchemaVersion) + "): upgrade glacier-backup");
  if (version < 2) db_.Exec(kSchemaV2);
  // 0: just created in the new shape
  if (version == 1 || version == 2) db_.Exec(kSchemaV3);
  if (version >= 1 && version <= 3) db_.Exec(kSchemaV4);
  EnsureDeltaTable(db_);
  Statement(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?1)")
      .Bind(1, std::to_string(kSchemaVersion))
      .Run();
  t.Commit();
}

std::optional<SetRecord> Catalog::OpenSet() {
  Statement s(
      db_, (std::string(kSetColumns) + "WHERE completed IS NULL ORDER BY id DESC LIMIT 1").c_str());
  if (!s.Step()) return std::nullopt;
  return ReadSet(s);
}

std::optional<SetRecord> Catalog::GetSet(int64_t id) {
  Statement s(db_, (std::string(kSetColumns) + "WHERE id=?1").c_str());
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadSet(s);
}

std::vector<SetRecord> Catalog::Sets() {
  Statement s(db_, (std::string(kSetColumns) + "ORDER BY id").c_str());
  std::vector<SetRecord> out;
  while (s.Step()) out.push_back(ReadSet(s));
  return out;
}

std::vector<BackupRecord> Catalog::Backups() {
  Statement s(db_, (std::string(kBackupColumns) + "ORDER BY time, id").c_str());
  std::vector<BackupRecord> out;
  while (s.Step()) out.push_back(ReadBackup(s));
  return out;
}

std::vector<BackupRecord> Catalog::BackupsOfSet(int64_t set_id) {
  Statement s(db_, (std::string(kBackupColumns) + "WHERE set_id=?1 ORDER BY seq").c_str());
  s.Bind(1, set_id);
  std::vector<BackupRecord> out;
  while (s.Step()) out.push_back(ReadBackup(s));
  return out;
}

std::optional<BackupRecord> Catalog::FindBackupByName(const std::string& name) {
  Statement s(db_, (std::string(kBackupColumns) + "WHERE name=?1").c_str());
  s.Bind(1, name);
  if (!s.Step()) return std::nullopt;
  return ReadBackup(s);
}

std::unique_ptr<EntryCursor> Catalog::State(int64_t set_id, int max_seq, bool include_deleted,
                                            const std::string& path) {
  return std::make_unique<StateCursorImpl>(db_, set_id, max_seq, include_deleted, path);
}

std::unique_ptr<EntryCursor> Catalog::EntriesOf(int64_t set_id, int seq) {
  return std::make_unique<ExactCursor>(db_, set_id, seq);
}

Catalog::Writer::Writer(Catalog& c)
    : c_(c),
      txn_(c.db_),
      insert_entry_(
          c.db_,
          "INSERT INTO entries(set_id, key, seq, type, mode, uid, gid, uname, gname, "
          "size, mtime, mtime_nsec, ctime, ctime_nsec, dev, ino, nlink, target, hash, sparse, "
          "extra) "
          "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)") {}

int64_t Catalog::Writer::CreateSet(int64_t created) {
  Statement(c_.db_, "INSERT INTO sets(created) VALUES(?1)").Bind(1, created).Run();
  return c_.db_.LastInsertId();
}

void Catalog::Writer::CompleteSet(int64_t set_id, int64_t when) {
  Statement(c_.db_, "UPDATE sets SET completed=?2 WHERE id=?1 AND completed IS NULL")
      .Bind(1, set_id)
      .Bind(2, when)
      .Run();
}

void Catalog::Writer::AddEntry(int64_t set_id, int seq, const Entry& e) {
  auto& s = insert_entry_;
  s.Bind(1, set_id).BindBlob(2, PathKey(e.path)).Bind(3, static_cast<int64_t>(seq));
  s.Bind(4, static_cast<int64_t>(e.type));
  if (e.type != EntryType::kDeleted) {
    s.Bind(5, e.mode).Bind(6, e.uid).Bind(7, e.gid).Bind(8, e.uname).Bind(9, e.gname);
    s.Bind(10, static_cast<int64_t>(e.size)).Bind(11, e.mtime.sec).Bind(12, e.mtime.nsec);
    s.Bind(13, e.ctime.sec).Bind(14, e.ctime.nsec);
    s.Bind(15, static_cast<int64_t>(e.dev)).Bind(16, static_cast<int64_t>(e.ino));
    s.Bind(17, e.nlink);
    if (!e.target.empty()) s.BindBlob(18, e.target);
    if (e.has_hash) s.BindBlob(19, e.hash);
    s.Bind(20, e.sparse ? 1 : 0);
    if (HasExtras(e)) s.Bind(21, ExtrasText(e));
  }
  s.Run();
}

int64_t Catalog::Writer::AddBackup(const BackupRecord& b) {
  Statement(c_.db_,
            "INSERT INTO backups(set_id, seq, time, name, archive_size, archive_sha256, files, "
            "bytes, deleted, skipped, host) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)")
      .Bind(1, b.set_id)
      .Bind(2, static_cast<int64_t>(b.seq))
      .Bind(3, b.time)
      .Bind(4, b.name)
      .Bind(5, static_cast<int64_t>(b.archive_size))
      .Bind(6, b.archive_sha256)
      .Bind(7, static_cast<int64_t>(b.files))
      .Bind(8, static_cast<int64_t>(b.bytes))
      .Bind(9, static_cast<int64_t>(b.deleted))
      .Bind(10, static_cast<int64_t>(b.skipped))
      .Bind(11, b.host)
      .Run();
  return c_.db_.LastInsertId();
}

void Catalog::Writer::Commit() { txn_.Commit(); }

}  // namespace gb
