// AuditLog: schema, canonical encoding, chain hashing and appends. Format: docs/AUDIT.md.

#include <chrono>
#include <ctime>

#include "audit/audit.h"
#include "audit/internal/hex.h"
#include "common/sha256.h"
#include "common/sql_dialect.h"

namespace facetrail::audit {

namespace {

constexpr std::string_view kEncodingTag = "FTAUDIT1";

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutField(std::string& out, std::string_view field) {
  PutU32(out, static_cast<uint32_t>(field.size()));
  out.append(field);
}

// Version 1: the tables (dialect-neutral; common/sql_dialect.h maps the types for PostgreSQL) and
// the triggers that make them append-only (one spelling per engine).
constexpr const char* kTablesV1 = R"sql(
CREATE TABLE audit_entries (
  seq INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_entries_action ON audit_entries(action, time);
CREATE TABLE audit_checkpoints (
  id INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  time TEXT NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL
);
)sql";

constexpr const char* kSqliteTriggersV1 = R"sql(
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused'); END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: UPDATE refused'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: DELETE refused'); END;
)sql";

// PostgreSQL: one refusing function; row triggers with the SQLite triggers' names (audit verify
// looks for them), and statement triggers against TRUNCATE, which row triggers do not see.
constexpr const char* kPostgresTriggersV1 = R"sql(
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit % are append-only: % refused', TG_ARGV[0], TG_OP;
END $$;
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change('entries');
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change('entries');
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change('entries');
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change('checkpoints');
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change('checkpoints');
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change('checkpoints');
)sql";

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, std::string(kTablesV1) + kSqliteTriggersV1,
       SqliteDdlToPostgres(kTablesV1) + kPostgresTriggersV1},
      // Version 2 checkpoints (docs/AUDIT.md): the entries they list. Version 1 rows keep the
      // defaults (version 1, nothing listed).
      {2, R"sql(
ALTER TABLE audit_checkpoints ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_checkpoints ADD COLUMN from_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_checkpoints ADD COLUMN entry_hashes TEXT NOT NULL DEFAULT '';
)sql"},
  };
  return kMigrations;
}

}  // namespace

Clock SystemClock() {
  return [] {
    return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  };
}

std::string FormatUtc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Expected<int64_t> ParseUtc(std::string_view text) {
  std::tm tm{};
  std::string copy(text);
  const char* end = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0' || copy.size() != 20) {
    return InvalidArgument("'" + copy + "' is not a UTC time like 2026-11-22T00:42:03Z");
  }
  return static_cast<int64_t>(timegm(&tm));
}

std::string CanonicalEncoding(const Entry& e) {
  std::string out;
  out.reserve(64 + e.time.size() + e.actor.size() + e.action.size() + e.subject.size() +
              e.details.size());
  out.append(kEncodingTag);
  PutU64(out, static_cast<uint64_t>(e.seq));
  PutField(out, e.time);
  PutField(out, e.actor);
  PutField(out, e.action);
  PutField(out, e.subject);
  PutField(out, e.details);
  return out;
}

Expected<std::string> ChainHash(std::string_view prev_hash_hex, const Entry& e) {
  auto prev = internal::FromHex(prev_hash_hex);
  if (!prev || prev->size() != 32) {
    return InvalidArgument("previous hash '" + std::string(prev_hash_hex) +
                           "' is not 64 hex characters");
  }
  std::string input(prev->begin(), prev->end());
  input += CanonicalEncoding(e);
  return Sha256Hex(input);
}

Status Migrate(Db& db) {
  return db.Migrate("audit", Migrations());
}

AuditLog::AuditLog(Db& db, Clock clock) : db_(db), clock_(std::move(clock)) {}

Expected<std::pair<int64_t, std::string>> AuditLog::Head() {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      db_.Prepare("SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1"));
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::pair<int64_t, std::string>{0, std::string(kGenesisHash)};
  return std::pair<int64_t, std::string>{stmt.Int(0), stmt.Text(1)};
}

Expected<Entry> AuditLog::Append(const NewEntry& in) {
  if (!db_.EngineInTransaction()) {
    return FailedPrecondition("audit entry '" + in.action +
                              "' appended outside a transaction; wrap the action and its entry "
                              "in Db::InTransaction");
  }
  if (!in.details.is_object() && !in.details.is_null()) {
    return Internal("audit entry '" + in.action + "': details must be a JSON object");
  }
  FT_ASSIGN_OR_RETURN(auto head, Head());
  Entry e;
  e.seq = head.first + 1;
  e.time = FormatUtc(clock_());
  e.actor = in.actor;
  e.action = in.action;
  e.subject = in.subject;
  // nlohmann::json objects are std::map-backed: dump() sorts keys and is deterministic.
  e.details = in.details.is_null()
                  ? "{}"
                  : in.details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  e.prev_hash = head.second;
  FT_ASSIGN_OR_RETURN(e.hash, ChainHash(e.prev_hash, e));
  FT_ASSIGN_OR_RETURN(auto stmt,
                      db_.Prepare("INSERT INTO audit_entries(seq, time, actor, action, subject, "
                                  "details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  stmt.Bind(1, e.seq)
      .Bind(2, e.time)
      .Bind(3, e.actor)
      .Bind(4, e.action)
      .Bind(5, e.subject)
      .Bind(6, e.details)
      .Bind(7, e.prev_hash)
      .Bind(8, e.hash);
  Status s = stmt.Run();
  if (!s.ok()) return s.WithContext("appending audit entry " + std::to_string(e.seq));
  return e;
}

Status AuditLog::AppendInOwnTransaction(const NewEntry& entry) {
  return db_.InTransaction([&]() -> Status { return Append(entry).status(); });
}

namespace {

Expected<std::vector<Entry>> ReadEntries(Stmt& stmt) {
  std::vector<Entry> out;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    Entry e;
    e.seq = stmt.Int(0);
    e.time = stmt.Text(1);
    e.actor = stmt.Text(2);
    e.action = stmt.Text(3);
    e.subject = stmt.Text(4);
    e.details = stmt.Text(5);
    e.prev_hash = stmt.Text(6);
    e.hash = stmt.Text(7);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

Expected<std::vector<Entry>> AuditLog::Read(int64_t from_seq, int64_t to_seq) {
  FT_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT seq, time, actor, action, subject, details, "
                                             "prev_hash, hash FROM audit_entries WHERE seq >= ? "
                                             "AND (? = 0 OR seq <= ?) ORDER BY seq"));
  stmt.Bind(1, from_seq).Bind(2, to_seq).Bind(3, to_seq);
  return ReadEntries(stmt);
}

Expected<std::vector<Entry>> AuditLog::ReadSubject(std::string_view subject) {
  FT_ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT seq, time, actor, action, subject, details, "
                                             "prev_hash, hash FROM audit_entries WHERE subject = "
                                             "? ORDER BY seq"));
  stmt.Bind(1, subject);
  return ReadEntries(stmt);
}

}  // namespace facetrail::audit
