#include "catalog/sqlite.h"

#include <sqlite3.h>

#include "core/error.h"

namespace gb {

Db::Db(const std::string& path) : path_(path) {
  int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) Fail("open");
  sqlite3_busy_timeout(db_, 60000);
}

Db::~Db() { sqlite3_close_v2(db_); }

void Db::Fail(const std::string& what) {
  int rc = db_ ? sqlite3_errcode(db_) : SQLITE_CANTOPEN;
  std::string msg =
      "catalog " + path_ + ": " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "cannot open");
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
    throw Error(Code::kCorruption, msg + " (restore the catalog with `glacier-backup recover`)");
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) throw Error(Code::kLocked, msg);
  throw Error(Code::kIOError, msg);
}

void Db::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "?";
    sqlite3_free(err);
    Fail(m);
  }
}

int64_t Db::LastInsertId() { return sqlite3_last_insert_rowid(db_); }

Statement::Statement(Db& db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v2(db.handle(), sql, -1, &stmt_, nullptr) != SQLITE_OK)
    db.Fail(std::string("prepare ") + sql);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

Statement& Statement::Bind(int i, const std::string& text) {
  sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindBlob(int i, std::span<const uint8_t> blob) {
  sqlite3_bind_blob(stmt_, i, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindBlob(int i, const std::string& blob) {
  sqlite3_bind_blob(stmt_, i, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.Fail("step");
}

void Statement::Run() {
  while (Step()) {
  }
  Reset();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::Int(int col) { return sqlite3_column_int64(stmt_, col); }

std::string Statement::Text(int col) {
  auto p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : "";
}

std::string Statement::Blob(int col) {
  auto p = sqlite3_column_blob(stmt_, col);
  return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : "";
}

bool Statement::IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Transaction::Transaction(Db& db) : db_(db) { db_.Exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::Commit() {
  db_.Exec("COMMIT");
  done_ = true;
}

}  // namespace gb
