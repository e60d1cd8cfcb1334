#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>

#include "common/db.h"
#include "common/db_uri.h"

namespace facetrail {

namespace {

// SQLite creates a new database file with mode 0644 (SQLITE_DEFAULT_FILE_PERMISSIONS, applied with
// fchmod, so the umask does not narrow it) and gives its -wal, -shm and -journal files the mode of
// the database file. Creating the empty file first, 0600, makes the database and every file SQLite
// derives from it owner-only. An existing file is left as it is (OwnerOnlyWarnings reports it).
Status CreateOwnerOnly(const std::string& path) {
  if (path.empty() || path == ":memory:") return Status::Ok();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  // It exists already (EEXIST), or cannot be created (a missing folder…): sqlite3_open_v2 opens
  // it or says why not in its usual words.
  if (fd < 0) return Status::Ok();
  // The umask may have removed bits from 0600 (never added any): make the mode exact.
  const bool ok = ::fchmod(fd, 0600) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return IoError(path + ": cannot make the new database owner-only: " + ErrnoMessage(err));
  return Status::Ok();
}

// ---- the SQLite statement ----

Status BindCheck(int rc, sqlite3* db, int index) {
  if (rc == SQLITE_OK) return Status::Ok();
  return Internal("binding SQL parameter " + std::to_string(index) + ": " + sqlite3_errmsg(db));
}

class SqliteDbBackend;

class SqliteStmtBackend final : public db_internal::StmtBackend {
 public:
  SqliteStmtBackend(sqlite3_stmt* stmt, SqliteDbBackend* db) : stmt_(stmt), db_(db) {}
  SqliteStmtBackend(const SqliteStmtBackend&) = delete;
  SqliteStmtBackend& operator=(const SqliteStmtBackend&) = delete;
  ~SqliteStmtBackend() override { sqlite3_finalize(stmt_); }

  Status BindInt(int index, int64_t value) override {
    return BindCheck(sqlite3_bind_int64(stmt_, index, value), handle(), index);
  }
  Status BindDouble(int index, double value) override {
    return BindCheck(sqlite3_bind_double(stmt_, index, value), handle(), index);
  }
  Status BindText(int index, std::string_view text) override {
    return BindCheck(
        sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        handle(), index);
  }
  Status BindBlob(int index, std::span<const uint8_t> blob) override {
    return BindCheck(
        sqlite3_bind_blob64(stmt_, index, blob.empty() ? "" : static_cast<const void*>(blob.data()),
                            blob.size(), SQLITE_TRANSIENT),
        handle(), index);
  }
  Status BindNull(int index) override {
    return BindCheck(sqlite3_bind_null(stmt_, index), handle(), index);
  }
  Expected<bool> Step() override;
  void Reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const override { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const override {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n))
             : std::string();
  }
  std::span<const uint8_t> BlobView(int col) const override {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    if (!p || n <= 0) return {};
    return {static_cast<const uint8_t*>(p), static_cast<size_t>(n)};
  }

 private:
  sqlite3* handle();
  sqlite3_stmt* stmt_ = nullptr;
  SqliteDbBackend* db_ = nullptr;
};

// ---- the SQLite connection ----

class SqliteDbBackend final : public db_internal::DbBackend {
 public:
  SqliteDbBackend(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  SqliteDbBackend(const SqliteDbBackend&) = delete;
  SqliteDbBackend& operator=(const SqliteDbBackend&) = delete;
  ~SqliteDbBackend() override {
    if (db_) sqlite3_close_v2(db_);
  }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  const std::string& name() const override { return path_; }

  Status LastError(std::string_view what) const override {
    std::string m =
        path_ + ": " + std::string(what) + ": " + (db_ ? sqlite3_errmsg(db_) : "closed");
    return IoError(std::move(m));
  }

  Expected<std::unique_ptr<db_internal::StmtBackend>> Prepare(std::string_view sql) override {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) {
      Status s = LastError("preparing SQL");
      if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLoss(s.message());
      return Internal(s.message());
    }
    return std::unique_ptr<db_internal::StmtBackend>(
        std::make_unique<SqliteStmtBackend>(stmt, this));
  }

  Status Exec(std::string_view sql) override {
    std::string copy(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string m = path_ + ": " + (err ? err : sqlite3_errstr(rc));
      sqlite3_free(err);
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return Unavailable(m);
      if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLoss(m);
      return IoError(m);
    }
    return Status::Ok();
  }

  int Changes() const override { return sqlite3_changes(db_); }
  // BEGIN IMMEDIATE takes the write lock at once: two writers never both read and then fail to
  // upgrade (SQLITE_BUSY mid-transaction); the busy timeout makes the second one wait.
  Status Begin() override { return Exec("BEGIN IMMEDIATE"); }
  Status Commit() override { return Exec("COMMIT"); }
  void Rollback() override { (void)Exec("ROLLBACK"); }
  bool EngineInTransaction() const override { return sqlite3_get_autocommit(db_) == 0; }

  Expected<bool> SchemaObjectExists(std::string_view type, std::string_view name) override {
    FT_ASSIGN_OR_RETURN(auto stmt,
                        Prepare("SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?"));
    FT_RETURN_IF_ERROR(stmt->BindText(1, type));
    FT_RETURN_IF_ERROR(stmt->BindText(2, name));
    return stmt->Step();
  }

  sqlite3* sqlite_handle() override { return db_; }
  Status CheckpointWal() override { return Exec("PRAGMA wal_checkpoint(TRUNCATE)"); }
  Status SecureDelete() override { return Exec("PRAGMA secure_delete = ON"); }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

sqlite3* SqliteStmtBackend::handle() {
  return db_->sqlite_handle();
}

Expected<bool> SqliteStmtBackend::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = db_->LastError("executing SQL");
  if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT) {
    return AlreadyExists(s.message());
  }
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return Unavailable(s.message());
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLoss(s.message());
  return s;
}

}  // namespace

Expected<Db> OpenSqliteDb(const std::string& uri, bool create) {
  // Every spelling of a database (sqlite:PATH, file:PATH, …) is resolved here, once, so that what
  // a caller checks and what it then opens are the same file (common/db_uri.h).
  std::string path = uri;
  if (!uri.empty()) {
    FT_ASSIGN_OR_RETURN(path, DatabaseFilePath(uri));
  }
  if (create) FT_RETURN_IF_ERROR(CreateOwnerOnly(path));
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(std::make_unique<SqliteDbBackend>(raw, path));
  if (rc != SQLITE_OK) {
    std::string m =
        path + ": cannot open database: " + (raw ? sqlite3_errmsg(raw) : "out of memory");
    if (rc == SQLITE_CANTOPEN && !create) return NotFound(m);
    return IoError(m);
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 10000);
  // Reading the schema first turns "file is not a database" into a clear error here.
  Status s = db.Exec(
      "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
      " SELECT count(*) FROM sqlite_master;");
  if (!s.ok()) return DataLoss(s.message());
  return db;
}

}  // namespace facetrail
