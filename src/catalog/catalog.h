// The catalog: what was backed up, when, into which archive. SQLite in WAL
// mode. A backup is committed in one transaction after its archive is durable,
// so the catalog never references a half-written archive.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/sqlite.h"
#include "core/entry.h"

namespace gb {

struct SetRecord {
  int64_t id = 0;
  int64_t created = 0;
  std::optional<int64_t> completed;  // set once its last archive is durable
  int backups = 0;
  std::optional<int64_t> uploaded;  // every archive safely in the vault
  std::optional<int64_t> pruned;    // deleted from the vault
};

struct BackupRecord {
  int64_t id = 0;
  int64_t set_id = 0;
  int seq = 0;  // 0 = full
  int64_t time = 0;
  std::string name;  // archive file name
  uint64_t archive_size = 0;
  std::string archive_sha256;  // hex, of the encrypted file
  uint64_t files = 0;          // entries stored in this archive (deletions excluded)
  uint64_t bytes = 0;          // logical bytes of file data stored
  uint64_t deleted = 0;        // deletions recorded
  uint64_t skipped = 0;        // entries that could not be read (retried next run)
  std::string host;
  bool full() const { return seq == 0; }
};

// Iterates entries in key order (see PathKey).
class EntryCursor {
 public:
  virtual ~EntryCursor() = default;
  virtual bool Next() = 0;
  virtual const Entry& entry() const = 0;
  virtual int seq() const = 0;  // the backup (within the set) that recorded it
  // The backup whose archive holds the entry's data: seq(), or for a
  // metadata-only entry (content_unchanged) the one that stored the content.
  virtual int data_seq() const { return seq(); }
};

class Catalog {
 public:
  static constexpr int kSchemaVersion = 4;
  static constexpr const char* kFileName = "catalog.db";

  // Opens or creates the catalog, migrating an older schema.
  explicit Catalog(const std::string& path);

  std::optional<SetRecord> OpenSet();  // the newest set not yet complete
  std::optional<SetRecord> GetSet(int64_t id);
  std::vector<SetRecord> Sets();
  std::vector<BackupRecord> Backups();  // oldest first
  std::vector<BackupRecord> BackupsOfSet(int64_t set_id);
  std::optional<BackupRecord> FindBackupByName(const std::string& name);

  // The tree as of backup (set_id, max_seq): for every path, its latest entry
  // recorded at seq <= max_seq. Deleted paths are skipped unless asked for.
  // With `path` non-empty only that path and what lies below it.
  std::unique_ptr<EntryCursor> State(int64_t set_id, int max_seq, bool include_deleted = false,
                                     const std::string& path = "");
  // Exactly the entries one backup recorded.
  std::unique_ptr<EntryCursor> EntriesOf(int64_t set_id, int seq);

  // One backup's writes. Nothing is visible until Commit(); destroyed
  // uncommitted it rolls back.
  class Writer {
   public:
    explicit Writer(Catalog& c);
    int64_t CreateSet(int64_t created);
    void CompleteSet(int64_t set_id, int64_t when);
    void AddEntry(int64_t set_id, int seq, const Entry& e);
    int64_t AddBackup(const BackupRecord& b);
    void Commit();

   private:
    Catalog& c_;
    Transaction txn_;
    Statement insert_entry_;
  };

  Db& db() { return db_; }
  const std::string& path() const { return db_.path(); }

 private:
  void Migrate();
  Db db_;
};

}  // namespace gb
