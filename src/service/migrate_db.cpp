// MigrateDatabase: a SQLite database copied into an empty PostgreSQL one (service/migrate_db.h).
#include "service/migrate_db.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <set>
#include <variant>

#include "common/sql_dialect.h"
#include "gallery/internal/schema.h"
#include "policy/policy.h"
#include "service/internal/requests_schema.h"
#include "service/internal/sessions_schema.h"

namespace facetrail::service {

namespace {

// Every component's schema, in the order their migrations run (the later ones refer to the
// earlier ones' tables); the components a database may hold are the ones this creates.
Status MigrateAllComponents(Db& db) {
  FT_RETURN_IF_ERROR(audit::Migrate(db));
  FT_RETURN_IF_ERROR(policy::PolicyStore::Open(db).status());
  FT_RETURN_IF_ERROR(internal::MigrateRequests(db));
  FT_RETURN_IF_ERROR(internal::MigrateSessions(db));
  return db.Migrate(gallery::internal::kSchemaComponent, gallery::internal::GalleryMigrations());
}

constexpr const char* kVersionsTable = "schema_versions";

// A name from a catalogue as an SQL identifier (both engines quote with "…").
std::string Quote(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

Expected<std::map<std::string, int>> SchemaVersions(Db& db) {
  std::map<std::string, int> versions;
  FT_ASSIGN_OR_RETURN(bool exists, db.TableExists(kVersionsTable));
  if (!exists) return versions;
  FT_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT component, version FROM schema_versions"));
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    versions[stmt.Text(0)] = static_cast<int>(stmt.Int(1));
  }
  return versions;
}

// What a column holds on the target, and so what a source value must be.
enum class ColumnKind { kInteger, kDouble, kText, kBytes };

struct Column {
  std::string name;
  ColumnKind kind = ColumnKind::kText;
  bool identity = false;
};

Expected<ColumnKind> KindOf(const std::string& table, const std::string& column,
                            const std::string& pg_type) {
  if (pg_type == "bigint" || pg_type == "integer" || pg_type == "smallint") {
    return ColumnKind::kInteger;
  }
  if (pg_type == "double precision" || pg_type == "real") return ColumnKind::kDouble;
  if (pg_type == "text" || pg_type == "character varying") return ColumnKind::kText;
  if (pg_type == "bytea") return ColumnKind::kBytes;
  return Internal(table + "." + column + ": the target column's type '" + pg_type +
                  "' is not one migrate-db copies");
}

// The first column of every row `stmt` gives, as text.
Expected<std::vector<std::string>> TextColumn(Stmt& stmt) {
  std::vector<std::string> values;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return values;
    values.push_back(stmt.Text(0));
  }
}

// The tables of the SQLite source, sorted (SQLite's own sqlite_* tables left out).
Expected<std::vector<std::string>> SourceTables(Db& db) {
  FT_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND substr(name, 1, 7) <> 'sqlite_'"));
  FT_ASSIGN_OR_RETURN(std::vector<std::string> names, TextColumn(stmt));
  std::sort(names.begin(), names.end());
  return names;
}

Expected<std::vector<std::string>> SourceColumns(Db& db, const std::string& table) {
  FT_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid"));
  stmt.Bind(1, table);
  return TextColumn(stmt);
}

Expected<std::vector<std::string>> TargetTables(Db& db) {
  FT_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = current_schema() AND "
                                            "table_type = 'BASE TABLE'"));
  FT_ASSIGN_OR_RETURN(std::vector<std::string> names, TextColumn(stmt));
  std::sort(names.begin(), names.end());
  return names;
}

Expected<std::vector<Column>> TargetColumns(Db& db, const std::string& table) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      db.Prepare("SELECT column_name, data_type, is_identity FROM "
                                 "information_schema.columns WHERE table_schema = "
                                 "current_schema() AND table_name = ? ORDER BY ordinal_position"));
  stmt.Bind(1, table);
  std::vector<Column> columns;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    Column c;
    c.name = stmt.Text(0);
    FT_ASSIGN_OR_RETURN(c.kind, KindOf(table, c.name, stmt.Text(1)));
    c.identity = stmt.Text(2) == "YES";
    columns.push_back(std::move(c));
  }
  return columns;
}

// Both schemas, made by the same migrations, must have the same tables and columns: anything
// else means a table the copy would lose (refused).
Status CompareSchemas(const std::vector<std::string>& source_tables,
                      const std::vector<std::string>& target_tables) {
  std::vector<std::string> only_source;
  std::vector<std::string> only_target;
  std::set_difference(source_tables.begin(), source_tables.end(), target_tables.begin(),
                      target_tables.end(), std::back_inserter(only_source));
  std::set_difference(target_tables.begin(), target_tables.end(), source_tables.begin(),
                      source_tables.end(), std::back_inserter(only_target));
  if (!only_source.empty()) {
    return FailedPrecondition("the source has a table '" + only_source.front() +
                              "' that facetrail's schema does not create; it would not be copied");
  }
  if (!only_target.empty()) {
    return FailedPrecondition("the target has a table '" + only_target.front() +
                              "' the source lacks");
  }
  return Status::Ok();
}

// A refusal when any target table (other than the schema versions) holds a row.
Status RequireEmptyTarget(Db& target, const std::vector<std::string>& tables) {
  for (const std::string& table : tables) {
    if (table == kVersionsTable) continue;
    FT_ASSIGN_OR_RETURN(auto stmt, target.Prepare("SELECT 1 FROM " + Quote(table) + " LIMIT 1"));
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) {
      return FailedPrecondition(target.path() + ": the target is not empty (table '" + table +
                                "' has rows); migrate-db copies into an empty database only");
    }
  }
  return Status::Ok();
}

// Foreign keys made deferrable for the copy (checked once, at its end) and then restored: rows
// can then be copied table by table in any order, cycles (search_requests <->
// quality_overrides) included.
struct ForeignKey {
  std::string table;  // as regclass prints it (quoted where needed)
  std::string name;
};

Expected<std::vector<ForeignKey>> TargetForeignKeys(Db& db) {
  FT_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT conrelid::regclass::text, conname FROM "
                                            "pg_constraint WHERE contype = 'f' AND connamespace "
                                            "= current_schema()::regnamespace AND NOT "
                                            "condeferrable"));
  std::vector<ForeignKey> keys;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    keys.push_back({stmt.Text(0), stmt.Text(1)});
  }
  return keys;
}

Status SetDeferrable(Db& db, const std::vector<ForeignKey>& keys, bool deferrable) {
  for (const ForeignKey& k : keys) {
    FT_RETURN_IF_ERROR(
        db.Exec("ALTER TABLE " + k.table + " ALTER CONSTRAINT " + Quote(k.name) +
                (deferrable ? " DEFERRABLE INITIALLY DEFERRED" : " NOT DEFERRABLE")));
  }
  return Status::Ok();
}

using Value = std::variant<std::monostate, int64_t, double, std::string, std::vector<uint8_t>>;

// At most this many parameters per INSERT (libpq allows 65535, NumberPlaceholders 32766), this
// many rows, and about this many bytes of values (photos are large).
constexpr int kMaxParameters = 30000;
constexpr int kMaxBatchRows = 200;
constexpr size_t kMaxBatchBytes = 16u << 20;

// The source row's value of column `c` (at result columns 2c, 2c+1: the value and its SQLite
// type), checked against the target column's kind.
Expected<Value> ReadValue(const Stmt& row, int c, const std::string& table, const Column& column,
                          const std::string& first_column, int64_t row_number) {
  const std::string type = row.Text(2 * c + 1);
  if (type == "null") return Value{};
  bool fits = false;
  Value v;
  switch (column.kind) {
    case ColumnKind::kInteger:
      fits = type == "integer";
      if (fits) v = row.Int(2 * c);
      break;
    case ColumnKind::kDouble:
      fits = type == "real" || type == "integer";
      if (fits) v = row.Double(2 * c);
      break;
    case ColumnKind::kText:
      fits = type == "text";
      if (fits) v = row.Text(2 * c);
      break;
    case ColumnKind::kBytes:
      // A BLOB column has no affinity in SQLite: bytes bound as text are the same bytes.
      fits = type == "blob" || type == "text";
      if (fits) v = row.Blob(2 * c);
      break;
  }
  if (!fits) {
    // The row by its first column (the key in every facetrail table) where that is printable.
    std::string which = "row " + std::to_string(row_number);
    const std::string first_type = row.Text(1);
    if (first_type == "integer" || first_type == "text") {
      which += " (" + first_column + " = " + row.Text(0).substr(0, 80) + ")";
    }
    return FailedPrecondition("table " + table + ", " + which + ": column " + column.name +
                              " holds a SQLite " + type +
                              " value, which does not fit the column's type; fix the row first");
  }
  return v;
}

size_t ValueBytes(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return s->size();
  if (const auto* b = std::get_if<std::vector<uint8_t>>(&v)) return b->size();
  return 8;
}

void BindValue(Stmt& stmt, int index, const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) {
    stmt.Bind(index, *i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    stmt.Bind(index, *d);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    stmt.Bind(index, std::string_view(*s));
  } else if (const auto* b = std::get_if<std::vector<uint8_t>>(&v)) {
    stmt.BindBlob(index, *b);
  } else {
    stmt.BindNull(index);
  }
}

// INSERT INTO table (columns) VALUES (?, …), … for `rows` rows.
std::string InsertSql(const std::string& table, const std::vector<Column>& columns, size_t rows) {
  std::string names;
  for (size_t i = 0; i < columns.size(); ++i) names += (i ? ", " : "") + Quote(columns[i].name);
  return "INSERT INTO " + Quote(table) + " (" + names + ") VALUES " +
         PlaceholderRows(rows, columns.size());
}

// Copies one table's rows; their number.
Expected<int64_t> CopyTable(Db& source, Db& target, const std::string& table,
                            const std::vector<Column>& columns) {
  std::string select = "SELECT ";
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string q = Quote(columns[i].name);
    if (i) select += ", ";
    select.append(q).append(", typeof(").append(q).append(")");
  }
  select += " FROM " + Quote(table);
  FT_ASSIGN_OR_RETURN(auto read, source.Prepare(select));
  const size_t width = columns.size();
  const size_t batch_rows = std::max<size_t>(
      1, std::min<size_t>(kMaxBatchRows, static_cast<size_t>(kMaxParameters) / width));
  std::vector<std::vector<Value>> batch;
  size_t batch_bytes = 0;
  std::optional<Stmt> full_insert;  // prepared once for full batches
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    std::optional<Stmt> partial;
    Stmt* insert = nullptr;
    if (batch.size() == batch_rows) {
      if (!full_insert) {
        FT_ASSIGN_OR_RETURN(auto s, target.Prepare(InsertSql(table, columns, batch_rows)));
        full_insert.emplace(std::move(s));
      }
      insert = &*full_insert;
    } else {
      FT_ASSIGN_OR_RETURN(auto s, target.Prepare(InsertSql(table, columns, batch.size())));
      partial.emplace(std::move(s));
      insert = &*partial;
    }
    insert->Reset();
    int index = 1;
    for (const std::vector<Value>& row : batch) {
      for (const Value& v : row) BindValue(*insert, index++, v);
    }
    Status s = insert->Run();
    batch.clear();
    batch_bytes = 0;
    return s.WithContext("copying table " + table);
  };
  int64_t rows = 0;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) break;
    ++rows;
    std::vector<Value> values;
    values.reserve(width);
    for (size_t c = 0; c < width; ++c) {
      FT_ASSIGN_OR_RETURN(
          Value v, ReadValue(read, static_cast<int>(c), table, columns[c], columns[0].name, rows));
      batch_bytes += ValueBytes(v);
      values.push_back(std::move(v));
    }
    batch.push_back(std::move(values));
    if (batch.size() == batch_rows || batch_bytes >= kMaxBatchBytes) FT_RETURN_IF_ERROR(flush());
  }
  FT_RETURN_IF_ERROR(flush());
  return rows;
}

// The target's identity sequence of `column` continues after the copied ids, and after SQLite's
// AUTOINCREMENT high-water mark (ids of deleted rows are never handed out again).
Status AdvanceIdentity(Db& source, Db& target, const std::string& table,
                       const std::string& column) {
  FT_ASSIGN_OR_RETURN(auto max_stmt, target.Prepare("SELECT coalesce(max(" + Quote(column) +
                                                    "), 0) FROM " + Quote(table)));
  FT_RETURN_IF_ERROR(max_stmt.Step().status());
  int64_t last = max_stmt.Int(0);
  FT_ASSIGN_OR_RETURN(bool has_sequence_table, source.TableExists("sqlite_sequence"));
  if (has_sequence_table) {
    FT_ASSIGN_OR_RETURN(auto seq, source.Prepare("SELECT seq FROM sqlite_sequence WHERE name = ?"));
    seq.Bind(1, table);
    FT_ASSIGN_OR_RETURN(bool row, seq.Step());
    if (row) last = std::max(last, seq.Int(0));
  }
  const bool empty = last <= 0;
  FT_ASSIGN_OR_RETURN(auto set,
                      target.Prepare(empty ? "SELECT setval(pg_get_serial_sequence(?, ?), 1, false)"
                                           : "SELECT setval(pg_get_serial_sequence(?, ?), ?)"));
  set.Bind(1, Quote(table)).Bind(2, column);
  if (!empty) set.Bind(3, last);
  return set.Run().WithContext("setting the identity of " + table + "." + column);
}

nlohmann::json VersionsJson(const std::map<std::string, int>& versions) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [component, version] : versions) j[component] = version;
  return j;
}

// The whole copy, inside the source's and the target's transactions.
Status CopyEverything(Db& source, Db& target, const MigrateDbOptions& options,
                      MigrateDbResult& result) {
  // 1. Schemas: the target by the components' own migrations, then the source checked against
  // what they created and brought to the same versions.
  FT_ASSIGN_OR_RETURN(auto source_versions, SchemaVersions(source));
  FT_RETURN_IF_ERROR(MigrateAllComponents(target).WithContext("creating the target's schema"));
  FT_ASSIGN_OR_RETURN(auto latest, SchemaVersions(target));
  for (const auto& [component, version] : source_versions) {
    auto known = latest.find(component);
    if (known == latest.end()) {
      return FailedPrecondition(source.path() + ": the source has a '" + component +
                                "' schema (version " + std::to_string(version) +
                                ") this program does not know; migrate it with the facetrail "
                                "version that made it");
    }
    if (version > known->second) {
      return FailedPrecondition(source.path() + ": the source's " + component +
                                " schema is version " + std::to_string(version) +
                                ", newer than this program knows (" +
                                std::to_string(known->second) + "); upgrade facetrail");
    }
  }
  FT_RETURN_IF_ERROR(MigrateAllComponents(source).WithContext("bringing the source up to date"));
  FT_ASSIGN_OR_RETURN(source_versions, SchemaVersions(source));
  if (source_versions != latest) {
    return Internal("the source's and the target's schema versions differ after migrating");
  }
  result.schema_versions = latest;

  // 2. Tables: the same on both sides, none with rows on the target.
  FT_ASSIGN_OR_RETURN(auto source_tables, SourceTables(source));
  FT_ASSIGN_OR_RETURN(auto target_tables, TargetTables(target));
  FT_RETURN_IF_ERROR(CompareSchemas(source_tables, target_tables));
  FT_RETURN_IF_ERROR(RequireEmptyTarget(target, target_tables));

  // 3. Rows, with the foreign keys checked once at the end; identities advanced.
  FT_ASSIGN_OR_RETURN(auto foreign_keys, TargetForeignKeys(target));
  FT_RETURN_IF_ERROR(SetDeferrable(target, foreign_keys, true));
  nlohmann::json row_counts = nlohmann::json::object();
  for (const std::string& table : target_tables) {
    if (table == kVersionsTable) continue;
    FT_ASSIGN_OR_RETURN(auto columns, TargetColumns(target, table));
    FT_ASSIGN_OR_RETURN(auto source_columns, SourceColumns(source, table));
    std::vector<std::string> a = source_columns;
    std::vector<std::string> b;
    b.reserve(columns.size());
    for (const Column& c : columns) b.push_back(c.name);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b) {
      return FailedPrecondition("table " + table +
                                ": the source's and the target's columns differ");
    }
    FT_ASSIGN_OR_RETURN(int64_t rows, CopyTable(source, target, table, columns));
    for (const Column& c : columns) {
      if (c.identity) FT_RETURN_IF_ERROR(AdvanceIdentity(source, target, table, c.name));
    }
    result.tables.push_back({table, rows});
    result.rows += rows;
    row_counts[table] = rows;
  }
  FT_RETURN_IF_ERROR(
      target.Exec("SET CONSTRAINTS ALL IMMEDIATE").WithContext("checking the foreign keys"));
  FT_RETURN_IF_ERROR(SetDeferrable(target, foreign_keys, false));

  // 4. The copy, audited at the end of the copied chain.
  audit::AuditLog source_log(source, options.clock);
  FT_ASSIGN_OR_RETURN(auto head, source_log.Head());
  result.source_audit_seq = head.first;
  result.source_audit_hash = head.second;
  audit::AuditLog log(target, options.clock);
  FT_ASSIGN_OR_RETURN(
      audit::Entry entry,
      log.Append({"cli",
                  "admin.migrate_db",
                  "database:" + target.path(),
                  {{"from", source.path()},
                   {"to", target.path()},
                   {"operator", options.operator_identity},
                   {"rows", row_counts},
                   {"schema_versions", VersionsJson(latest)},
                   {"source_audit_head", {{"seq", head.first}, {"hash", head.second}}}}}));
  result.migrate_entry_seq = entry.seq;
  return Status::Ok();
}

}  // namespace

Expected<MigrateDbResult> MigrateDatabase(Db& source, Db& target, const MigrateDbOptions& options) {
  if (source.dialect() != SqlDialect::kSqlite) {
    return InvalidArgument("migrate-db copies from a SQLite database; " + source.path() +
                           " is not one");
  }
  if (target.dialect() != SqlDialect::kPostgres) {
    return InvalidArgument("migrate-db copies into a PostgreSQL database; " + target.path() +
                           " is not one");
  }
  MigrateDbResult result;
  result.from = source.path();
  result.to = target.path();
  // The source's write lock for the whole copy (nobody changes it meanwhile), the target's one
  // transaction inside it: a failure anywhere leaves the target as it was.
  Status s = source.InTransaction([&]() -> Status {
    return target.InTransaction([&]() { return CopyEverything(source, target, options, result); });
  });
  FT_RETURN_IF_ERROR(s.WithContext("migrate-db " + result.from + " -> " + result.to));
  FT_ASSIGN_OR_RETURN(result.verify, audit::Verify(target, options.verify));
  return result;
}

nlohmann::json MigrateDbResultJson(const MigrateDbResult& r) {
  nlohmann::json tables = nlohmann::json::array();
  for (const CopiedTable& t : r.tables) tables.push_back({{"table", t.table}, {"rows", t.rows}});
  return {{"from", r.from},
          {"to", r.to},
          {"schema_versions", VersionsJson(r.schema_versions)},
          {"tables", tables},
          {"rows", r.rows},
          {"source_audit", {{"seq", r.source_audit_seq}, {"hash", r.source_audit_hash}}},
          {"migrate_entry_seq", r.migrate_entry_seq},
          {"verify", audit::VerifyReportJson(r.verify)}};
}

}  // namespace facetrail::service
