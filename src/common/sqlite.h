// A thin, safe wrapper over SQLite: one connection, prepared statements with bound parameters
// (never string-built SQL), RAII transactions, and per-component schema migrations.
//
// THREAD SAFETY
//   A SqliteDb is one connection: use it from one thread at a time (guard it, or open one per
//   thread; WAL mode lets several connections read while one writes).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace facetrail {

class SqliteDb;

// A prepared statement. Bind* take 1-based parameter indices. Step() returns true while a row is
// available, false when done, or an error status.
class SqliteStmt {
 public:
  SqliteStmt(SqliteStmt&& other) noexcept;
  SqliteStmt& operator=(SqliteStmt&& other) noexcept;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;
  ~SqliteStmt();

  SqliteStmt& Bind(int index, int64_t value);
  SqliteStmt& Bind(int index, double value);
  SqliteStmt& Bind(int index, std::string_view text);
  SqliteStmt& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  // Without this, a std::string argument is ambiguous between string_view and optional<string>.
  SqliteStmt& Bind(int index, const std::string& text) {
    return Bind(index, std::string_view(text));
  }
  SqliteStmt& BindBlob(int index, std::span<const uint8_t> blob);
  SqliteStmt& BindNull(int index);
  SqliteStmt& Bind(int index, const std::optional<std::string>& text);

  Expected<bool> Step();
  // Steps until done; an error if a step fails.
  Status Run();
  void Reset();

  bool IsNull(int col) const;
  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::vector<uint8_t> Blob(int col) const;
  std::span<const uint8_t> BlobView(int col) const;  // valid until the next Step/Reset

 private:
  friend class SqliteDb;
  SqliteStmt(sqlite3_stmt* stmt, SqliteDb* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_ = nullptr;
  SqliteDb* db_ = nullptr;
  Status bind_error_;
};

struct SqliteMigration {
  int version;      // 1, 2, 3, ... in order
  std::string sql;  // one or more statements
};

class SqliteDb {
 public:
  // Opens (creating if `create`) the database with WAL, foreign keys on, a busy timeout, and
  // synchronous=FULL. ":memory:" works for tests. A database file this creates is mode 0600
  // whatever the umask, and so are its -wal and -shm (SQLite gives them the database's mode).
  static Expected<SqliteDb> Open(const std::string& path, bool create = true);
  SqliteDb(SqliteDb&& other) noexcept;
  SqliteDb& operator=(SqliteDb&& other) noexcept;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  Expected<SqliteStmt> Prepare(std::string_view sql);
  // Runs SQL without parameters (DDL, PRAGMA). Never pass user input here.
  Status Exec(std::string_view sql);
  int64_t LastInsertRowId() const;
  int Changes() const;

  // Brings `component`'s schema to the last migration, each step in its own transaction,
  // recording versions in table schema_versions(component, version). A database whose version
  // is newer than the program knows is refused (kFailedPrecondition).
  Status Migrate(std::string_view component, const std::vector<SqliteMigration>& migrations);
  Expected<int> SchemaVersion(std::string_view component);

  // Runs `fn` inside BEGIN IMMEDIATE … COMMIT; rolls back if fn returns an error (or throws).
  // Nested calls join the outer transaction.
  Status InTransaction(const std::function<Status()>& fn);
  // True inside InTransaction (at any depth).
  bool in_transaction() const { return tx_depth_ > 0; }

  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }
  // "<path>: <sqlite message>" for the last error.
  Status LastError(std::string_view what) const;

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::string path_;
  int tx_depth_ = 0;
};

}  // namespace facetrail
