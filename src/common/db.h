// The data-access seam (issue 15): one connection to the database that keeps facetrail's state,
// whatever the engine behind it. Every component (gallery, policy, audit, service, server, CLI)
// talks to a `Db` and its `Stmt`s; the engine is chosen once, by the URI given to Db::Open
// (common/db_uri.h). docs/DATABASE.md explains the design and the portable SQL rules.
//
//   - SQL is parameterised: `?` placeholders, bound by 1-based index (never string-built SQL).
//     Back-ends whose engine numbers its parameters ($1, $2 … for PostgreSQL) translate.
//   - Transactions: InTransaction runs a function in one transaction; nested calls join the outer
//     one. SQLite takes the write lock at BEGIN (BEGIN IMMEDIATE).
//   - Schemas: Migrate brings one component's schema to its last version, each step in its own
//     transaction, recording versions in schema_versions(component, version). A step's SQL is
//     dialect-neutral, or has a per-dialect variant (Migration).
//   - Engine-only features (SQLite pragmas, the sqlite3 handle) sit behind the few members marked
//     ENGINE-SPECIFIC below, which do nothing (or return nullptr) on other engines.
//
// THREAD SAFETY
//   A Db is one connection: use it from one thread at a time (guard it, or open one per thread;
//   SQLite's WAL mode lets several connections read while one writes). A Stmt belongs to the Db
//   that prepared it and must not outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct sqlite3;

namespace facetrail {

// The SQL dialect of a connection: where portable SQL is not enough (docs/DATABASE.md), the
// few differences are chosen by this (see common/sql_dialect.h).
enum class SqlDialect { kSqlite, kPostgres };

namespace db_internal {

// What an engine implements. Only common/ knows these; components use Db and Stmt.
class StmtBackend {
 public:
  virtual ~StmtBackend() = default;
  virtual Status BindInt(int index, int64_t value) = 0;
  virtual Status BindDouble(int index, double value) = 0;
  virtual Status BindText(int index, std::string_view text) = 0;
  virtual Status BindBlob(int index, std::span<const uint8_t> blob) = 0;
  virtual Status BindNull(int index) = 0;
  virtual Expected<bool> Step() = 0;
  virtual void Reset() = 0;
  virtual bool IsNull(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  virtual std::span<const uint8_t> BlobView(int col) const = 0;
};

class DbBackend {
 public:
  virtual ~DbBackend() = default;
  virtual SqlDialect dialect() const = 0;
  // The file (SQLite) or a password-free description of the server (PostgreSQL), for messages.
  virtual const std::string& name() const = 0;
  virtual Expected<std::unique_ptr<StmtBackend>> Prepare(std::string_view sql) = 0;
  virtual Status Exec(std::string_view sql) = 0;
  virtual int Changes() const = 0;
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
  // True while the engine has a transaction open (however it was begun).
  virtual bool EngineInTransaction() const = 0;
  virtual Status LastError(std::string_view what) const = 0;
  virtual Expected<bool> SchemaObjectExists(std::string_view type, std::string_view name) = 0;
  virtual sqlite3* sqlite_handle() { return nullptr; }
  virtual Status CheckpointWal() { return Status::Ok(); }
  virtual Status SecureDelete() { return Status::Ok(); }
};

}  // namespace db_internal

class Db;

// A prepared statement. Bind* take 1-based parameter indices; a bind error is reported by the next
// Step(). Step() returns true while a row is available, false when done, or an error status:
// kAlreadyExists for a constraint violation, kUnavailable when the database is busy or the
// connection is lost, kDataLoss for a damaged database.
class Stmt {
 public:
  Stmt(Stmt&& other) noexcept = default;
  Stmt& operator=(Stmt&& other) noexcept = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() = default;

  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, double value);
  Stmt& Bind(int index, std::string_view text);
  Stmt& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  // Without this, a std::string argument is ambiguous between string_view and optional<string>.
  Stmt& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Stmt& BindBlob(int index, std::span<const uint8_t> blob);
  Stmt& BindNull(int index);
  Stmt& Bind(int index, const std::optional<std::string>& text);

  Expected<bool> Step();
  // Steps until done; an error if a step fails.
  Status Run();
  // Ready to bind and step again; the bindings are cleared.
  void Reset();
  // Runs an `INSERT … RETURNING id` and returns the new row's id, then resets the statement.
  // The portable way to learn a new row's id (PostgreSQL has no "last insert rowid" of a
  // connection, only lastval(): the last sequence value, whichever table drew it). An error if
  // the statement gives no row or several.
  Expected<int64_t> InsertedId();

  // Columns are 0-based.
  bool IsNull(int col) const { return impl_->IsNull(col); }
  int64_t Int(int col) const { return impl_->Int(col); }
  double Double(int col) const { return impl_->Double(col); }
  std::string Text(int col) const { return impl_->Text(col); }
  std::optional<std::string> OptText(int col) const;
  std::vector<uint8_t> Blob(int col) const;
  std::span<const uint8_t> BlobView(int col) const {  // valid until the next Step/Reset
    return impl_->BlobView(col);
  }

 private:
  friend class Db;
  explicit Stmt(std::unique_ptr<db_internal::StmtBackend> impl) : impl_(std::move(impl)) {}
  std::unique_ptr<db_internal::StmtBackend> impl_;
  Status bind_error_;
};

// One schema step of a component. `sql` is dialect-neutral unless `postgres_sql` is given, which
// then replaces it on PostgreSQL (docs/DATABASE.md: write portable SQL where it is cheap).
struct Migration {
  int version;      // 1, 2, 3, ... in order
  std::string sql;  // one or more statements
  std::string postgres_sql = {};
};

class Db {
 public:
  // Opens the database `uri` names (common/db_uri.h): a SQLite file (creating it if `create`,
  // owner-only, with WAL, foreign keys on, a busy timeout and synchronous=FULL; ":memory:" works
  // for tests) or a PostgreSQL server (postgresql://…; `create` does not apply).
  static Expected<Db> Open(const std::string& uri, bool create = true);
  // For back-ends in common/ only.
  explicit Db(std::unique_ptr<db_internal::DbBackend> backend) : impl_(std::move(backend)) {}
  Db(Db&& other) noexcept = default;
  Db& operator=(Db&& other) noexcept = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  Expected<Stmt> Prepare(std::string_view sql);
  // Runs SQL without parameters (DDL). Never pass user input here.
  Status Exec(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int Changes() const { return impl_->Changes(); }

  // Brings `component`'s schema to the last migration, each step in its own transaction,
  // recording versions in table schema_versions(component, version). A database whose version
  // is newer than the program knows is refused (kFailedPrecondition).
  Status Migrate(std::string_view component, const std::vector<Migration>& migrations);
  Expected<int> SchemaVersion(std::string_view component);

  // Runs `fn` inside one transaction (SQLite: BEGIN IMMEDIATE … COMMIT); rolls back if fn returns
  // an error (or throws). Nested calls join the outer transaction.
  Status InTransaction(const std::function<Status()>& fn);
  // True inside InTransaction (at any depth).
  bool in_transaction() const { return tx_depth_ > 0; }
  // True while the engine has a transaction open, however it was begun (InTransaction or raw
  // SQL): the audit log refuses to append outside one.
  bool EngineInTransaction() const { return impl_->EngineInTransaction(); }

  SqlDialect dialect() const { return impl_->dialect(); }
  // The SQLite file, or a password-free description of the PostgreSQL server (messages; the
  // gallery keeps its snapshot files next to a SQLite file).
  const std::string& path() const { return impl_->name(); }
  // "<path>: <what>: <engine message>" for the last error.
  Status LastError(std::string_view what) const { return impl_->LastError(what); }

  // Whether the schema has a table / trigger of that name (the engines keep their catalogues in
  // different places: sqlite_master, information_schema).
  Expected<bool> TableExists(std::string_view name) {
    return impl_->SchemaObjectExists("table", name);
  }
  Expected<bool> TriggerExists(std::string_view name) {
    return impl_->SchemaObjectExists("trigger", name);
  }

  // ENGINE-SPECIFIC. SQLite: PRAGMA wal_checkpoint(TRUNCATE) (folds the WAL into the file so that
  // deleted content leaves it); elsewhere a no-op.
  Status CheckpointWal() { return impl_->CheckpointWal(); }
  // ENGINE-SPECIFIC. SQLite: PRAGMA secure_delete = ON (deleted content is overwritten);
  // elsewhere a no-op (PostgreSQL's VACUUM is the operator's business, docs/DATABASE.md).
  Status SecureDelete() { return impl_->SecureDelete(); }
  // ENGINE-SPECIFIC. The sqlite3 connection, or nullptr on another engine.
  sqlite3* sqlite_handle() { return impl_->sqlite_handle(); }

 private:
  std::unique_ptr<db_internal::DbBackend> impl_;
  int tx_depth_ = 0;
};

// The SQLite back-end (common/sqlite.cpp). Db::Open calls it for every non-PostgreSQL URI.
Expected<Db> OpenSqliteDb(const std::string& uri, bool create);

}  // namespace facetrail
