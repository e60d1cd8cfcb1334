#include "common/sqlite.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

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

}  // namespace

// ---- SqliteStmt ----

SqliteStmt::SqliteStmt(SqliteStmt&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      db_(other.db_),
      bind_error_(std::move(other.bind_error_)) {}

SqliteStmt& SqliteStmt::operator=(SqliteStmt&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = other.db_;
    bind_error_ = std::move(other.bind_error_);
  }
  return *this;
}

SqliteStmt::~SqliteStmt() {
  if (stmt_) sqlite3_finalize(stmt_);
}

namespace {
Status BindCheck(int rc, sqlite3* db, int index) {
  if (rc == SQLITE_OK) return Status::Ok();
  return Internal("binding SQL parameter " + std::to_string(index) + ": " + sqlite3_errmsg(db));
}
}  // namespace

SqliteStmt& SqliteStmt::Bind(int index, int64_t value) {
  if (bind_error_.ok())
    bind_error_ = BindCheck(sqlite3_bind_int64(stmt_, index, value), db_->handle(), index);
  return *this;
}
SqliteStmt& SqliteStmt::Bind(int index, double value) {
  if (bind_error_.ok())
    bind_error_ = BindCheck(sqlite3_bind_double(stmt_, index, value), db_->handle(), index);
  return *this;
}
SqliteStmt& SqliteStmt::Bind(int index, std::string_view text) {
  if (bind_error_.ok()) {
    bind_error_ = BindCheck(
        sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        db_->handle(), index);
  }
  return *this;
}
SqliteStmt& SqliteStmt::BindBlob(int index, std::span<const uint8_t> blob) {
  if (bind_error_.ok()) {
    bind_error_ = BindCheck(
        sqlite3_bind_blob64(stmt_, index, blob.empty() ? "" : static_cast<const void*>(blob.data()),
                            blob.size(), SQLITE_TRANSIENT),
        db_->handle(), index);
  }
  return *this;
}
SqliteStmt& SqliteStmt::BindNull(int index) {
  if (bind_error_.ok())
    bind_error_ = BindCheck(sqlite3_bind_null(stmt_, index), db_->handle(), index);
  return *this;
}
SqliteStmt& SqliteStmt::Bind(int index, const std::optional<std::string>& text) {
  return text ? Bind(index, std::string_view(*text)) : BindNull(index);
}

Expected<bool> SqliteStmt::Step() {
  if (!bind_error_.ok()) return bind_error_;
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

Status SqliteStmt::Run() {
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void SqliteStmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = Status::Ok();
}

bool SqliteStmt::IsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}
int64_t SqliteStmt::Int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}
double SqliteStmt::Double(int col) const {
  return sqlite3_column_double(stmt_, col);
}
std::string SqliteStmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}
std::optional<std::string> SqliteStmt::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}
std::span<const uint8_t> SqliteStmt::BlobView(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (!p || n <= 0) return {};
  return {static_cast<const uint8_t*>(p), static_cast<size_t>(n)};
}
std::vector<uint8_t> SqliteStmt::Blob(int col) const {
  auto v = BlobView(col);
  return {v.begin(), v.end()};
}

// ---- SqliteDb ----

Expected<SqliteDb> SqliteDb::Open(const std::string& uri, bool create) {
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
  SqliteDb db(raw, path);
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

SqliteDb::SqliteDb(SqliteDb&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)),
      tx_depth_(other.tx_depth_) {}

SqliteDb& SqliteDb::operator=(SqliteDb&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
    tx_depth_ = other.tx_depth_;
  }
  return *this;
}

SqliteDb::~SqliteDb() {
  if (db_) sqlite3_close_v2(db_);
}

Status SqliteDb::LastError(std::string_view what) const {
  std::string m = path_ + ": " + std::string(what) + ": " + (db_ ? sqlite3_errmsg(db_) : "closed");
  return IoError(std::move(m));
}

Expected<SqliteStmt> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    Status s = LastError("preparing SQL");
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLoss(s.message());
    return Internal(s.message());
  }
  return SqliteStmt(stmt, this);
}

Status SqliteDb::Exec(std::string_view sql) {
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

int64_t SqliteDb::LastInsertRowId() const {
  return sqlite3_last_insert_rowid(db_);
}
int SqliteDb::Changes() const {
  return sqlite3_changes(db_);
}

Status SqliteDb::InTransaction(const std::function<Status()>& fn) {
  if (tx_depth_ > 0) {
    ++tx_depth_;
    Status s;
    try {
      s = fn();
    } catch (...) {
      --tx_depth_;
      throw;
    }
    --tx_depth_;
    return s;
  }
  FT_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  tx_depth_ = 1;
  Status s;
  try {
    s = fn();
  } catch (...) {
    tx_depth_ = 0;
    (void)Exec("ROLLBACK");
    throw;
  }
  tx_depth_ = 0;
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  Status c = Exec("COMMIT");
  if (!c.ok()) (void)Exec("ROLLBACK");
  return c;
}

Expected<int> SqliteDb::SchemaVersion(std::string_view component) {
  FT_RETURN_IF_ERROR(
      Exec("CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version "
           "INTEGER NOT NULL)"));
  FT_ASSIGN_OR_RETURN(auto stmt,
                      Prepare("SELECT version FROM schema_versions WHERE component = ?"));
  stmt.Bind(1, component);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? static_cast<int>(stmt.Int(0)) : 0;
}

Status SqliteDb::Migrate(std::string_view component,
                         const std::vector<SqliteMigration>& migrations) {
  FT_ASSIGN_OR_RETURN(int current, SchemaVersion(component));
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (current > latest) {
    return FailedPrecondition(path_ + ": the " + std::string(component) + " schema is version " +
                              std::to_string(current) + ", newer than this program knows (" +
                              std::to_string(latest) + "); upgrade facetrail");
  }
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    Status s = InTransaction([&]() -> Status {
      FT_RETURN_IF_ERROR(Exec(m.sql));
      FT_ASSIGN_OR_RETURN(
          auto stmt, Prepare("INSERT INTO schema_versions(component, version) VALUES (?, ?) "
                             "ON CONFLICT(component) DO UPDATE SET version = excluded.version"));
      stmt.Bind(1, component).Bind(2, static_cast<int64_t>(m.version));
      return stmt.Run();
    });
    if (!s.ok()) {
      return s.WithContext("migrating " + std::string(component) + " schema to version " +
                           std::to_string(m.version));
    }
  }
  return Status::Ok();
}

}  // namespace facetrail
