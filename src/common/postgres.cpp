// The PostgreSQL back-end of the data-access seam (common/db.h, docs/DATABASE.md), on libpq.
//
//   - Connection: a libpq URI (postgresql://USER@HOST:PORT/DB?…). A password in the URI is
//     refused: it would show in the process list and the shell history; libpq reads PGPASSWORD or
//     ~/.pgpass (PGPASSFILE) instead.
//   - Statements: `?`/`?NNN` placeholders are numbered $n (common/sql_dialect.h) once, at Prepare.
//     Each SQL text is prepared on the server once per connection (PQprepare, named ft_N) for
//     each list of parameter types it is bound with, and the name cached (at most
//     kMaxPreparedStatements; beyond that the unnamed statement is used). A reset connection
//     starts with an empty cache. Parameters go out of line: integers as binary int8, doubles as
//     binary float8, blobs as binary bytea, text as text of a type the server infers, as
//     PQexecParams did. No SQL is built from values.
//   - Results come in binary format, decoded by column type (int2/4/8, float4/8, bool, oid,
//     text/varchar/bpchar/name, bytea: a blob is read in place, not copied). A statement with
//     a result column of any other type (numeric: sum() of a BIGINT) gets its results as text,
//     decoded as before.
//   - A cached statement the server no longer knows (26000), or whose result columns a schema
//     change altered ("cached plan must not change result type", 0A000), is forgotten; outside
//     a transaction it is prepared again and run once more, inside one the call fails with
//     kUnavailable (the transaction is lost; the caller's retry prepares it afresh).
//   - Transactions: BEGIN, then a transaction-scoped advisory lock that every writing transaction
//     takes: writers are serialised database-wide, like SQLite's BEGIN IMMEDIATE (finer locks
//     are later work of issue 15). lock_timeout is 10 s, like SQLite's busy timeout.
//   - Errors carry the SQLSTATE and the server's message. A connection found broken is reset once
//     before the next statement outside a transaction; the failing call gets kUnavailable.
#include "common/postgres.h"

#include <endian.h>
#include <libpq-fe.h>

#include <bit>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "common/db.h"
#include "common/db_uri.h"
#include "common/sql_dialect.h"

namespace facetrail {

namespace {

// Type OIDs from PostgreSQL's catalog (pg_type.dat); stable across versions.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kNameOid = 19;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kBpcharOid = 1042;
constexpr Oid kVarcharOid = 1043;

// Statements kept prepared per connection; the SQL texts are the program's constants, so this
// is a bound against a caller building SQL with a varying shape, not a working limit.
constexpr size_t kMaxPreparedStatements = 512;

// The types whose binary form is decoded here (anything else makes a statement's results text).
bool BinaryDecodable(Oid type) {
  switch (type) {
    case kBoolOid:
    case kByteaOid:
    case kNameOid:
    case kInt8Oid:
    case kInt2Oid:
    case kInt4Oid:
    case kTextOid:
    case kOidOid:
    case kFloat4Oid:
    case kFloat8Oid:
    case kBpcharOid:
    case kVarcharOid: return true;
    default: return false;
  }
}

bool TextLike(Oid type) {
  return type == kTextOid || type == kVarcharOid || type == kBpcharOid || type == kNameOid ||
         type == kByteaOid;
}

// Network byte order (binary format) to host and back (glibc's <endian.h>).
uint16_t NetworkToHost(uint16_t v) {
  return be16toh(v);
}
uint32_t NetworkToHost(uint32_t v) {
  return be32toh(v);
}
uint64_t NetworkToHost(uint64_t v) {
  return be64toh(v);
}
template <typename T>
T FromNetwork(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return NetworkToHost(v);
}
std::string ToNetwork(uint64_t v) {
  v = htobe64(v);
  std::string out(sizeof v, '\0');
  std::memcpy(out.data(), &v, sizeof v);
  return out;
}

// The advisory lock every writing transaction takes ("FaceTrl" in ASCII).
constexpr const char* kWriterLock = "SELECT pg_advisory_xact_lock(70976587125868)";

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

class PgDbBackend;

class PgStmtBackend final : public db_internal::StmtBackend {
 public:
  PgStmtBackend(PgDbBackend* db, std::string sql, int parameters)
      : db_(db), sql_(std::move(sql)), params_(static_cast<size_t>(parameters)) {}

  Status BindInt(int index, int64_t value) override {
    FT_ASSIGN_OR_RETURN(Param * p, At(index));
    *p = Param{ToNetwork(static_cast<uint64_t>(value)), kInt8Oid, 1, false};
    return Status::Ok();
  }
  Status BindDouble(int index, double value) override {
    FT_ASSIGN_OR_RETURN(Param * p, At(index));
    *p = Param{ToNetwork(std::bit_cast<uint64_t>(value)), kFloat8Oid, 1, false};
    return Status::Ok();
  }
  Status BindText(int index, std::string_view text) override {
    FT_ASSIGN_OR_RETURN(Param * p, At(index));
    // The type is left to the server (what the placeholder stands for: text, or a number).
    *p = Param{std::string(text), 0, 0, false};
    return Status::Ok();
  }
  Status BindBlob(int index, std::span<const uint8_t> blob) override {
    FT_ASSIGN_OR_RETURN(Param * p, At(index));
    *p = Param{std::string(blob.begin(), blob.end()), kByteaOid, 1, false};
    return Status::Ok();
  }
  Status BindNull(int index) override {
    FT_ASSIGN_OR_RETURN(Param * p, At(index));
    *p = Param{};
    return Status::Ok();
  }

  Expected<bool> Step() override;

  void Reset() override {
    result_.reset();
    row_ = -1;
    blobs_.clear();
    for (Param& p : params_) p = Param{};
  }

  bool IsNull(int col) const override {
    return !Valid(col) || PQgetisnull(result_.get(), row_, col) != 0;
  }
  int64_t Int(int col) const override;
  double Double(int col) const override;
  std::string Text(int col) const override;
  std::span<const uint8_t> BlobView(int col) const override;

 private:
  struct Param {
    std::string value;
    Oid type = 0;
    int format = 0;  // 0 text, 1 binary
    bool null = true;
  };
  Expected<Param*> At(int index) {
    if (index < 1 || static_cast<size_t>(index) > params_.size()) {
      return Internal("binding SQL parameter " + std::to_string(index) + ": the statement has " +
                      std::to_string(params_.size()));
    }
    return &params_[static_cast<size_t>(index - 1)];
  }
  bool Binary(int col) const { return PQfformat(result_.get(), col) == 1; }
  const char* Value(int col) const { return PQgetvalue(result_.get(), row_, col); }
  size_t Length(int col) const {
    return static_cast<size_t>(PQgetlength(result_.get(), row_, col));
  }
  bool Valid(int col) const {
    return result_ && row_ >= 0 && row_ < PQntuples(result_.get()) && col >= 0 &&
           col < PQnfields(result_.get());
  }

  PgDbBackend* db_;
  std::string sql_;
  std::vector<Param> params_;
  Result result_;
  int row_ = -1;
  // Blobs of the current row that are not read in place (text results carry bytea as \x
  // hex; a number read as a blob is its text).
  mutable std::vector<std::pair<int, std::vector<uint8_t>>> blobs_;
};

class PgDbBackend final : public db_internal::DbBackend {
 public:
  PgDbBackend(PGconn* conn, std::string name) : conn_(conn), name_(std::move(name)) {}
  PgDbBackend(const PgDbBackend&) = delete;
  PgDbBackend& operator=(const PgDbBackend&) = delete;
  ~PgDbBackend() override { PQfinish(conn_); }

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  const std::string& name() const override { return name_; }

  Status LastError(std::string_view what) const override {
    return IoError(name_ + ": " + std::string(what) + ": " + Trimmed(PQerrorMessage(conn_)));
  }

  Expected<std::unique_ptr<db_internal::StmtBackend>> Prepare(std::string_view sql) override {
    auto numbered = NumberPlaceholders(sql);
    if (!numbered.ok()) return Internal(name_ + ": preparing SQL: " + numbered.status().message());
    return std::unique_ptr<db_internal::StmtBackend>(
        std::make_unique<PgStmtBackend>(this, std::move(numbered->sql), numbered->parameters));
  }

  Status Exec(std::string_view sql) override {
    FT_RETURN_IF_ERROR(Ready());
    Result r(PQexec(conn_, std::string(sql).c_str()));
    FT_RETURN_IF_ERROR(Check(r.get(), "executing SQL").status());
    NoteChanges(r.get());
    return Status::Ok();
  }

  // Runs `sql` (placeholders numbered) with its parameters as a statement prepared on this
  // connection; the result, or an error with SQLSTATE and context.
  Expected<Result> Execute(const std::string& sql, int n, const Oid* types,
                           const char* const* values, const int* lengths, const int* formats) {
    FT_RETURN_IF_ERROR(Ready());
    std::string key = sql;
    key.push_back('\0');
    key.append(reinterpret_cast<const char*>(types), static_cast<size_t>(n) * sizeof(Oid));
    for (int attempt = 0;; ++attempt) {
      FT_ASSIGN_OR_RETURN(const Prepared* p, Lookup(key, sql, n, types));
      // The unnamed statement's name and format are copied: the next Lookup may replace it.
      const std::string name = p->name;
      Result r(PQexecPrepared(conn_, name.c_str(), n, values, lengths, formats,
                              p->binary_results ? 1 : 0));
      auto checked = Check(r.get(), "executing SQL");
      if (checked.ok()) {
        NoteChanges(r.get());
        return r;
      }
      if (!Stale(r.get())) return checked.status();
      prepared_.erase(key);
      if (attempt > 0 || EngineInTransaction()) {
        return Unavailable(checked.status().message() +
                           " (the statement was prepared before a schema change; try again)");
      }
    }
  }

  int Changes() const override { return changes_; }

  Status Begin() override {
    FT_RETURN_IF_ERROR(Exec("BEGIN"));
    Status s = Exec(kWriterLock);
    if (!s.ok()) Rollback();
    return s;
  }
  Status Commit() override { return Exec("COMMIT"); }
  void Rollback() override {
    if (PQstatus(conn_) == CONNECTION_OK) {
      Result r(PQexec(conn_, "ROLLBACK"));
    }
  }
  bool EngineInTransaction() const override {
    const PGTransactionStatusType t = PQtransactionStatus(conn_);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
  }

  Expected<bool> SchemaObjectExists(std::string_view type, std::string_view name) override {
    const char* sql =
        type == "trigger"
            ? "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
              "WHERE NOT t.tgisinternal AND t.tgname = $1 AND pg_table_is_visible(c.oid)"
            : "SELECT 1 FROM pg_class c WHERE c.relname = $1 AND c.relkind IN ('r', 'p') "
              "AND pg_table_is_visible(c.oid)";
    const std::string n(name);
    const char* values[] = {n.c_str()};
    const Oid types[] = {0};
    FT_ASSIGN_OR_RETURN(Result r, Execute(sql, 1, types, values, nullptr, nullptr));
    return PQntuples(r.get()) > 0;
  }

 private:
  static std::string Trimmed(const char* m) {
    std::string s = m ? m : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  // Like sqlite3_changes: only INSERT, UPDATE and DELETE (and MERGE) set the count.
  void NoteChanges(PGresult* r) {
    const std::string_view command = PQcmdStatus(r);
    if (command.starts_with("INSERT") || command.starts_with("UPDATE") ||
        command.starts_with("DELETE") || command.starts_with("MERGE")) {
      changes_ = std::atoi(PQcmdTuples(r));
    }
  }

  // A connection found broken is reset once, outside a transaction (inside one, the transaction
  // is lost with the connection and the caller must start again).
  Status Ready() {
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    prepared_.clear();  // a new session knows none of them
    PQreset(conn_);
    if (PQstatus(conn_) == CONNECTION_OK) {
      (void)Configure();
      return Unavailable(name_ +
                         ": the connection to PostgreSQL was lost and is restored; "
                         "try again");
    }
    return Unavailable(name_ + ": PostgreSQL is unavailable: " + Trimmed(PQerrorMessage(conn_)));
  }

 public:
  Status Configure() {
    Result r(PQexec(conn_,
                    "SET client_min_messages = warning; SET lock_timeout = '10s'; "
                    "SET standard_conforming_strings = on"));
    return Check(r.get(), "configuring the session").status();
  }

  // The result if it is a success; else the error with its SQLSTATE mapped onto a status code.
  Expected<PGresult*> Check(PGresult* r, std::string_view what) const {
    const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return r;
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state ? state : "";
    std::string m = name_ + ": " + std::string(what) + ": " +
                    (sqlstate.empty() ? "" : "SQLSTATE " + sqlstate + ": ") +
                    Trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    if (PQstatus(conn_) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 ||
        sqlstate.rfind("57P", 0) == 0) {
      return Unavailable(std::move(m));
    }
    if (sqlstate.rfind("23", 0) == 0) return AlreadyExists(std::move(m));  // constraint
    // Serialisation failure, deadlock, lock timeout: try again.
    if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
      return Unavailable(std::move(m));
    }
    if (sqlstate == "XX001" || sqlstate == "XX002") return DataLoss(std::move(m));
    return IoError(std::move(m));
  }

 private:
  struct Prepared {
    std::string name;  // "" for the unnamed statement
    bool binary_results = true;
  };

  // The statement prepared for `key` (SQL and parameter types), preparing it on first use.
  Expected<const Prepared*> Lookup(const std::string& key, const std::string& sql, int n,
                                   const Oid* types) {
    if (auto it = prepared_.find(key); it != prepared_.end()) return &it->second;
    Prepared p;
    if (prepared_.size() < kMaxPreparedStatements) p.name = "ft_" + std::to_string(++named_);
    Result made(PQprepare(conn_, p.name.c_str(), sql.c_str(), n, types));
    FT_RETURN_IF_ERROR(Check(made.get(), "executing SQL").status());
    Result described(PQdescribePrepared(conn_, p.name.c_str()));
    FT_RETURN_IF_ERROR(Check(described.get(), "executing SQL").status());
    for (int c = 0; c < PQnfields(described.get()); ++c) {
      if (!BinaryDecodable(PQftype(described.get(), c))) p.binary_results = false;
    }
    if (p.name.empty()) {
      unnamed_ = std::move(p);
      return &unnamed_;
    }
    return &prepared_.emplace(key, std::move(p)).first->second;
  }

  // Whether the error says the cached statement is gone or no longer matches the schema.
  static bool Stale(const PGresult* r) {
    if (r == nullptr) return false;
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state == nullptr) return false;
    const std::string_view sqlstate = state;
    if (sqlstate == "26000") return true;  // invalid_sql_statement_name
    const char* function = PQresultErrorField(r, PG_DIAG_SOURCE_FUNCTION);
    return sqlstate == "0A000" && function != nullptr &&
           std::string_view(function) == "RevalidateCachedQuery";
  }

  PGconn* conn_;
  std::string name_;
  int changes_ = 0;
  std::unordered_map<std::string, Prepared> prepared_;
  Prepared unnamed_;
  uint64_t named_ = 0;
};

Expected<bool> PgStmtBackend::Step() {
  if (!result_) {
    std::vector<const char*> values(params_.size());
    std::vector<int> lengths(params_.size());
    std::vector<int> formats(params_.size());
    std::vector<Oid> types(params_.size());
    for (size_t i = 0; i < params_.size(); ++i) {
      const Param& p = params_[i];
      values[i] = p.null ? nullptr : p.value.data();
      lengths[i] = static_cast<int>(p.value.size());
      formats[i] = p.format;
      types[i] = p.type;
    }
    FT_ASSIGN_OR_RETURN(result_, db_->Execute(sql_, static_cast<int>(params_.size()), types.data(),
                                              values.data(), lengths.data(), formats.data()));
    row_ = -1;
  }
  blobs_.clear();
  ++row_;
  return row_ < PQntuples(result_.get());
}

int64_t PgStmtBackend::Int(int col) const {
  if (IsNull(col)) return 0;
  const char* v = Value(col);
  if (!Binary(col)) {
    if (std::strcmp(v, "t") == 0) return 1;  // boolean
    if (std::strcmp(v, "f") == 0) return 0;
    return std::strtoll(v, nullptr, 10);
  }
  switch (PQftype(result_.get(), col)) {
    case kBoolOid: return *v != 0 ? 1 : 0;
    case kInt2Oid: return static_cast<int16_t>(FromNetwork<uint16_t>(v));
    case kInt4Oid: return static_cast<int32_t>(FromNetwork<uint32_t>(v));
    case kOidOid: return FromNetwork<uint32_t>(v);
    case kInt8Oid: return static_cast<int64_t>(FromNetwork<uint64_t>(v));
    case kFloat4Oid:
    case kFloat8Oid: return static_cast<int64_t>(Double(col));
    default:  // text
      return std::strtoll(Text(col).c_str(), nullptr, 10);
  }
}

double PgStmtBackend::Double(int col) const {
  if (IsNull(col)) return 0;
  if (!Binary(col)) return std::strtod(Value(col), nullptr);
  switch (PQftype(result_.get(), col)) {
    case kFloat4Oid: return std::bit_cast<float>(FromNetwork<uint32_t>(Value(col)));
    case kFloat8Oid: return std::bit_cast<double>(FromNetwork<uint64_t>(Value(col)));
    case kBoolOid:
    case kInt2Oid:
    case kInt4Oid:
    case kOidOid:
    case kInt8Oid: return static_cast<double>(Int(col));
    default:  // text
      return std::strtod(Text(col).c_str(), nullptr);
  }
}

std::string PgStmtBackend::Text(int col) const {
  if (IsNull(col)) return {};
  const Oid type = PQftype(result_.get(), col);
  if (!Binary(col) || TextLike(type)) return {Value(col), Length(col)};
  switch (type) {
    case kBoolOid: return Int(col) != 0 ? "t" : "f";  // as the text format writes it
    case kFloat4Oid:
    case kFloat8Oid: {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, Double(col));
      return {buf, r.ptr};
    }
    default: return std::to_string(Int(col));
  }
}

std::span<const uint8_t> PgStmtBackend::BlobView(int col) const {
  if (IsNull(col)) return {};
  const Oid type = PQftype(result_.get(), col);
  if (Binary(col) && TextLike(type)) {  // in place: no copy, no decoding
    return {reinterpret_cast<const uint8_t*>(Value(col)), Length(col)};
  }
  for (const auto& [c, bytes] : blobs_) {
    if (c == col) return bytes;
  }
  std::vector<uint8_t> bytes;
  if (!Binary(col) && type == kByteaOid) {
    size_t n = 0;
    unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(Value(col)), &n);
    if (raw != nullptr) {
      bytes.assign(raw, raw + n);
      PQfreemem(raw);
    }
  } else {
    const std::string text = Text(col);
    bytes.assign(text.begin(), text.end());
  }
  blobs_.emplace_back(col, std::move(bytes));
  return blobs_.back().second;
}

}  // namespace

Expected<Db> OpenPostgresDb(const std::string& uri) {
  FT_ASSIGN_OR_RETURN(std::string description, PostgresUriDescription(uri));
  PGconn* conn = PQconnectdb(uri.c_str());
  auto backend = std::make_unique<PgDbBackend>(conn, description);
  if (conn == nullptr) return Unavailable(description + ": cannot connect: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    return Unavailable(backend->LastError("cannot connect to PostgreSQL").message());
  }
  FT_RETURN_IF_ERROR(backend->Configure());
  return Db(std::move(backend));
}

}  // namespace facetrail
