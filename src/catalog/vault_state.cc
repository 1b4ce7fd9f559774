#include "catalog/vault_state.h"

#include "core/error.h"

namespace gb {
namespace {

constexpr const char* kArchiveColumns =
    "SELECT archive_id, set_id, backup_name, description, size, tree_hash, created, origin, "
    "catalog_offset, catalog_length, deleted_here, last_seen_upstream FROM vault_archives ";

std::optional<int64_t> OptInt(Statement& s, int col) {
  if (s.IsNull(col)) return std::nullopt;
  return s.Int(col);
}

VaultArchive ReadArchive(Statement& s) {
  VaultArchive a;
  a.archive_id = s.Text(0);
  a.set_id = OptInt(s, 1);
  a.backup_name = s.Text(2);
  a.description = s.Text(3);
  a.size = static_cast<uint64_t>(s.Int(4));
  a.tree_hash = s.Text(5);
  a.created = s.Int(6);
  a.origin = s.Text(7);
  if (auto v = OptInt(s, 8)) a.catalog_offset = static_cast<uint64_t>(*v);
  if (auto v = OptInt(s, 9)) a.catalog_length = static_cast<uint64_t>(*v);
  a.deleted_here = OptInt(s, 10);
  a.last_seen_upstream = OptInt(s, 11);
  return a;
}

template <typename T>
void BindOpt(Statement& s, int i, const std::optional<T>& v) {
  if (v)
    s.Bind(i, static_cast<int64_t>(*v));
  else
    s.BindNull(i);
}

constexpr const char* kUploadColumns =
    "SELECT id, set_id, backup_name, token, state, description, size, tree_hash, attempts, "
    "started, archive_id FROM uploads ";

UploadRecord ReadUpload(Statement& s) {
  UploadRecord u;
  u.id = s.Int(0);
  u.set_id = s.Int(1);
  u.backup_name = s.Text(2);
  u.token = s.Text(3);
  u.state = s.Text(4);
  u.description = s.Text(5);
  u.size = static_cast<uint64_t>(s.Int(6));
  u.tree_hash = s.Text(7);
  u.attempts = static_cast<int>(s.Int(8));
  u.started = s.Int(9);
  u.archive_id = s.Text(10);
  return u;
}

constexpr const char* kJobColumns =
    "SELECT job_id, kind, archive_id, tier, range_offset, range_length, purpose, started, "
    "status, completed, message FROM jobs ";

JobRecord ReadJob(Statement& s) {
  JobRecord j;
  j.job_id = s.Text(0);
  const std::string kind = s.Text(1);
  if (auto k = ParseJobKindText(kind)) {
    j.kind = *k;
  } else {
    throw Error(Code::kCorruption, "catalog: job " + j.job_id + " has the unknown kind '" + kind +
                                       "' (written by a newer glacier-backup?)");
  }
  j.archive_id = s.Text(2);
  j.tier = s.Text(3);
  if (auto v = OptInt(s, 4)) j.range_offset = static_cast<uint64_t>(*v);
  if (auto v = OptInt(s, 5)) j.range_length = static_cast<uint64_t>(*v);
  j.purpose = s.Text(6);
  j.started = s.Int(7);
  const std::string status = s.Text(8);
  if (auto st = ParseJobRecordStatusText(status)) {
    j.status = *st;
  } else {
    throw Error(Code::kCorruption, "catalog: job " + j.job_id + " has the unknown status '" +
                                       status + "' (written by a newer glacier-backup?)");
  }
  j.completed = OptInt(s, 9);
  j.message = s.Text(10);
  return j;
}

}  // namespace

std::vector<VaultArchive> VaultState::Archives(bool include_deleted) {
  Statement s(db_, (std::string(kArchiveColumns) +
                    (include_deleted ? "" : "WHERE deleted_here IS NULL ") + "ORDER BY created")
                       .c_str());
  std::vector<VaultArchive> out;
  while (s.Step()) out.push_back(ReadArchive(s));
  return out;
}

std::optional<VaultArchive> VaultState::FindArchive(const std::string& id) {
  Statement s(db_, (std::string(kArchiveColumns) + "WHERE archive_id=?1").c_str());
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadArchive(s);
}

void VaultState::PutArchive(const VaultArchive& a) {
  Statement s(db_,
              "INSERT OR REPLACE INTO vault_archives(archive_id, set_id, backup_name, description, "
              "size, tree_hash, created, origin, catalog_offset, catalog_length, deleted_here, "
              "last_seen_upstream) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
  s.Bind(1, a.archive_id);
  BindOpt(s, 2, a.set_id);
  s.Bind(3, a.backup_name).Bind(4, a.description).Bind(5, static_cast<int64_t>(a.size));
  s.Bind(6, a.tree_hash).Bind(7, a.created).Bind(8, a.origin);
  BindOpt(s, 9, a.catalog_offset);
  BindOpt(s, 10, a.catalog_length);
  BindOpt(s, 11, a.deleted_here);
  BindOpt(s, 12, a.last_seen_upstream);
  s.Run();
}

void VaultState::MarkDeleted(const std::string& id, int64_t when) {
  Statement(db_, "UPDATE vault_archives SET deleted_here=?2 WHERE archive_id=?1")
      .Bind(1, id)
      .Bind(2, when)
      .Run();
}

void VaultState::MarkSeen(const std::string& id, int64_t date) {
  Statement(db_,
            "UPDATE vault_archives SET last_seen_upstream=?2 WHERE archive_id=?1 AND "
            "(last_seen_upstream IS NULL OR last_seen_upstream < ?2)")
      .Bind(1, id)
      .Bind(2, date)
      .Run();
}

std::vector<UploadRecord> VaultState::Uploads(const std::string& state) {
  Statement s(
      db_, (std::string(kUploadColumns) + (state.empty() ? "" : "WHERE state=?1 ") + "ORDER BY id")
               .c_str());
  if (!state.empty()) s.Bind(1, state);
  std::vector<UploadRecord> out;
  while (s.Step()) out.push_back(ReadUpload(s));
  return out;
}

std::optional<UploadRecord> VaultState::FindUpload(int64_t set_id, const std::string& name) {
  Statement s(db_, (std::string(kUploadColumns) +
                    "WHERE set_id=?1 AND backup_name=?2 ORDER BY id DESC LIMIT 1")
                       .c_str());
  s.Bind(1, set_id).Bind(2, name);
  if (!s.Step()) return std::nullopt;
  return ReadUpload(s);
}

int64_t VaultState::AddUpload(const UploadRecord& u) {
  Statement(db_,
            "INSERT INTO uploads(set_id, backup_name, token, state, description, size, tree_hash, "
            "attempts, started, archive_id) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)")
      .Bind(1, u.set_id)
      .Bind(2, u.backup_name)
      .Bind(3, u.token)
      .Bind(4, u.state)
      .Bind(5, u.description)
      .Bind(6, static_cast<int64_t>(u.size))
      .Bind(7, u.tree_hash)
      .Bind(8, u.attempts)
      .Bind(9, u.started)
      .Bind(10, u.archive_id)
      .Run();
  return db_.LastInsertId();
}

void VaultState::UpdateUpload(const UploadRecord& u) {
  Statement(db_,
            "UPDATE uploads SET state=?2, attempts=?3, archive_id=?4, description=?5, size=?6, "
            "tree_hash=?7 WHERE id=?1")
      .Bind(1, u.id)
      .Bind(2, u.state)
      .Bind(3, u.attempts)
      .Bind(4, u.archive_id)
      .Bind(5, u.description)
      .Bind(6, static_cast<int64_t>(u.size))
      .Bind(7, u.tree_hash)
      .Run();
}

std::vector<JobRecord> VaultState::Jobs(std::optional<JobRecordStatus> status) {
  Statement s(
      db_,
      (std::string(kJobColumns) + (status ? "WHERE status=?1 " : "") + "ORDER BY started").c_str());
  if (status) s.Bind(1, std::string(JobRecordStatusText(*status)));
  std::vector<JobRecord> out;
  while (s.Step()) out.push_back(ReadJob(s));
  return out;
}

std::optional<JobRecord> VaultState::FindJob(const std::string& id) {
  Statement s(db_, (std::string(kJobColumns) + "WHERE job_id=?1").c_str());
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadJob(s);
}

void VaultState::PutJob(const JobRecord& j) {
  Statement s(db_,
              "INSERT OR REPLACE INTO jobs(job_id, kind, archive_id, tier, range_offset, "
              "range_length, purpose, started, status, completed, message) "
              "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
  s.Bind(1, j.job_id)
      .Bind(2, std::string(JobKindText(j.kind)))
      .Bind(3, j.archive_id)
      .Bind(4, j.tier);
  BindOpt(s, 5, j.range_offset);
  BindOpt(s, 6, j.range_length);
  s.Bind(7, j.purpose).Bind(8, j.started).Bind(9, std::string(JobRecordStatusText(j.status)));
  BindOpt(s, 10, j.completed);
  s.Bind(11, j.message);
  s.Run();
}

void VaultState::DeleteJob(const std::string& job_id) {
  Statement(db_, "DELETE FROM jobs WHERE job_id=?1").Bind(1, job_id).Run();
}

void VaultState::MarkSetUploaded(int64_t set_id, int64_t when) {
  Statement(db_, "UPDATE sets SET uploaded=?2 WHERE id=?1 AND uploaded IS NULL")
      .Bind(1, set_id)
      .Bind(2, when)
      .Run();
}

std::string SetFateKey(int64_t set_id) { return "set_fate." + std::to_string(set_id); }

void VaultState::MarkSetPruned(int64_t set_id, int64_t when) {
  Statement(db_, "UPDATE sets SET pruned=?2 WHERE id=?1").Bind(1, set_id).Bind(2, when).Run();
  Statement(db_, "DELETE FROM entries WHERE set_id=?1").Bind(1, set_id).Run();
  Statement(db_, "DELETE FROM deltas WHERE set_id=?1").Bind(1, set_id).Run();
  Statement(db_, "DELETE FROM backups WHERE set_id=?1").Bind(1, set_id).Run();
}

std::optional<std::string> VaultState::GetMeta(const std::string& key) {
  Statement s(db_, "SELECT value FROM meta WHERE key=?1");
  s.Bind(1, key);
  if (!s.Step()) return std::nullopt;
  return s.Text(0);
}

void VaultState::SetMeta(const std::string& key, const std::string& value) {
  Statement(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)")
      .Bind(1, key)
      .Bind(2, value)
      .Run();
}

}  // namespace gb
