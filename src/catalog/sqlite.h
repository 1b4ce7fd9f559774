// A thin RAII layer over SQLite: one Db, prepared Statements, errors as gb::Error.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace gb {

class Db;

class Statement {
 public:
  Statement(Db& db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds by 1-based index; chainable.
  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, const std::string& text);
  Statement& BindBlob(int i, std::span<const uint8_t> blob);
  Statement& BindBlob(int i, const std::string& blob);
  Statement& BindNull(int i);
  // Runs one step: true when a row is available.
  bool Step();
  // Steps to completion and resets (for statements that return no rows).
  void Run();
  void Reset();

  int64_t Int(int col);
  std::string Text(int col);
  std::string Blob(int col);
  bool IsNull(int col);

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  explicit Db(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void Exec(const char* sql);
  int64_t LastInsertId();
  sqlite3* handle() { return db_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void Fail(const std::string& what);

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  void Commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace gb
