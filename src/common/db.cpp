#include "common/db.h"

#include <utility>

#include "common/db_uri.h"
#include "common/postgres.h"
#include "common/sql_dialect.h"

namespace facetrail {

// ---- Stmt ----

Stmt& Stmt::Bind(int index, int64_t value) {
  if (bind_error_.ok()) bind_error_ = impl_->BindInt(index, value);
  return *this;
}
Stmt& Stmt::Bind(int index, double value) {
  if (bind_error_.ok()) bind_error_ = impl_->BindDouble(index, value);
  return *this;
}
Stmt& Stmt::Bind(int index, std::string_view text) {
  if (bind_error_.ok()) bind_error_ = impl_->BindText(index, text);
  return *this;
}
Stmt& Stmt::BindBlob(int index, std::span<const uint8_t> blob) {
  if (bind_error_.ok()) bind_error_ = impl_->BindBlob(index, blob);
  return *this;
}
Stmt& Stmt::BindNull(int index) {
  if (bind_error_.ok()) bind_error_ = impl_->BindNull(index);
  return *this;
}
Stmt& Stmt::Bind(int index, const std::optional<std::string>& text) {
  return text ? Bind(index, std::string_view(*text)) : BindNull(index);
}

Expected<bool> Stmt::Step() {
  if (!bind_error_.ok()) return bind_error_;
  return impl_->Step();
}

Status Stmt::Run() {
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

Expected<int64_t> Stmt::InsertedId() {
  FT_ASSIGN_OR_RETURN(bool row, Step());
  if (!row) return Internal("INSERT … RETURNING id returned no row");
  const int64_t id = Int(0);
  FT_ASSIGN_OR_RETURN(bool more, Step());
  Reset();
  if (more) return Internal("INSERT … RETURNING id returned several rows");
  return id;
}

void Stmt::Reset() {
  impl_->Reset();
  bind_error_ = Status::Ok();
}

std::optional<std::string> Stmt::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

std::vector<uint8_t> Stmt::Blob(int col) const {
  auto v = BlobView(col);
  return {v.begin(), v.end()};
}

// ---- Db ----

Expected<Db> Db::Open(const std::string& uri, bool create) {
  if (IsPostgresUri(uri)) return OpenPostgresDb(uri);
  return OpenSqliteDb(uri, create);
}

Db::~Db() = default;

Expected<Stmt> Db::Prepare(std::string_view sql) {
  FT_ASSIGN_OR_RETURN(auto stmt, impl_->Prepare(sql));
  return Stmt(std::move(stmt));
}

Status Db::Exec(std::string_view sql) {
  return impl_->Exec(sql);
}

Status Db::InTransaction(const std::function<Status()>& fn) {
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
  FT_RETURN_IF_ERROR(impl_->Begin());
  tx_depth_ = 1;
  Status s;
  try {
    s = fn();
  } catch (...) {
    tx_depth_ = 0;
    impl_->Rollback();
    throw;
  }
  tx_depth_ = 0;
  if (!s.ok()) {
    impl_->Rollback();
    return s;
  }
  Status c = impl_->Commit();
  if (!c.ok()) impl_->Rollback();
  return c;
}

Expected<int> Db::SchemaVersion(std::string_view component) {
  // Created only when missing: PostgreSQL checks the right to create in the schema even for
  // CREATE TABLE IF NOT EXISTS, and a least-privilege application role (docs/DEPLOYMENT.md)
  // has none, yet must be able to open an up-to-date database.
  FT_ASSIGN_OR_RETURN(bool exists, TableExists("schema_versions"));
  if (!exists) {
    Status created = Exec(
        "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version "
        "INTEGER NOT NULL)");
    // Two processes creating it at once: PostgreSQL's IF NOT EXISTS can still fail for the
    // second (a unique violation in its catalogue); the table is there then. Outside a
    // transaction only: inside one, the failed statement has aborted it.
    if (!created.ok()) {
      if (in_transaction()) return created;
      FT_ASSIGN_OR_RETURN(bool there_now, TableExists("schema_versions"));
      if (!there_now) return created;
    }
  }
  FT_ASSIGN_OR_RETURN(auto stmt,
                      Prepare("SELECT version FROM schema_versions WHERE component = ?"));
  stmt.Bind(1, component);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? static_cast<int>(stmt.Int(0)) : 0;
}

Status Db::Migrate(std::string_view component, const std::vector<Migration>& migrations) {
  FT_ASSIGN_OR_RETURN(int current, SchemaVersion(component));
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (current > latest) {
    return FailedPrecondition(path() + ": the " + std::string(component) + " schema is version " +
                              std::to_string(current) + ", newer than this program knows (" +
                              std::to_string(latest) + "); upgrade facetrail");
  }
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    // PostgreSQL: the step's own variant, else its SQLite DDL with the types mapped.
    std::string sql = m.sql;
    if (dialect() == SqlDialect::kPostgres) {
      sql = m.postgres_sql.empty() ? SqliteDdlToPostgres(m.sql) : m.postgres_sql;
    }
    Status s = InTransaction([&]() -> Status {
      // The writer lock is held now: a second process that started on the same database at the
      // same time (two servers on one PostgreSQL) may have taken this step while this one
      // waited for it, and the step must not run twice.
      FT_ASSIGN_OR_RETURN(int now, SchemaVersion(component));
      if (now >= m.version) return Status::Ok();
      FT_RETURN_IF_ERROR(Exec(sql));
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
