// Helpers for the audit tests: a scratch folder, a database on either back-end (a SQLite file, or
// a fresh database on the throw-away PostgreSQL cluster, tests/common/pg_cluster.h), and the
// insider who edits it behind facetrail's back (the sqlite3 program; a superuser connection).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "audit/audit.h"
#include "common/pg_cluster.h"

namespace facetrail::audit::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "ft-audit-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A clock that advances one minute per call, starting 2026-03-02T09:00:00Z.
inline Clock StepClock(int64_t start = 1772442000, int64_t step = 60) {
  auto t = std::make_shared<int64_t>(start);
  return [t, step] {
    int64_t now = *t;
    *t += step;
    return now;
  };
}

// Runs `sql` on the database file with the sqlite3 command-line program, as someone with the
// file would. Returns the program's exit status.
inline int RunSqlite3(const std::string& db_path, const std::string& sql) {
  std::string script = db_path + ".sql";
  FILE* f = std::fopen(script.c_str(), "w");
  if (f == nullptr) return -1;
  std::fputs(sql.c_str(), f);
  std::fclose(f);
  std::string cmd = "sqlite3 -bail '" + db_path + "' < '" + script + "' 2>&1";
  return std::system(cmd.c_str());
}

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& p) {
  return p.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

// The database name in a PostgreSQL URI (what follows the last '/', without a query).
inline std::string PgDatabaseName(const std::string& uri) {
  const std::string tail = uri.substr(uri.rfind('/') + 1);
  return tail.substr(0, tail.find('?'));
}

// The SQL that removes the append-only guards, as an insider with the rights over the tables
// does first: SQLite's triggers dropped; PostgreSQL's switched off (ALTER TABLE … DISABLE TRIGGER
// USER, which the tables' owner may do, as may a superuser; they stay, disabled).
inline std::string DropGuardsSql(Backend backend) {
  if (backend == Backend::kPostgres) {
    return "ALTER TABLE audit_entries DISABLE TRIGGER USER; "
           "ALTER TABLE audit_checkpoints DISABLE TRIGGER USER;";
  }
  return "DROP TRIGGER IF EXISTS audit_entries_no_update; DROP TRIGGER IF EXISTS "
         "audit_entries_no_delete; DROP TRIGGER IF EXISTS audit_checkpoints_no_update; "
         "DROP TRIGGER IF EXISTS audit_checkpoints_no_delete;";
}

// Runs `sql` behind facetrail's back, without removing any guard: on SQLite with the sqlite3
// program on the file; on PostgreSQL over a connection of its own as the URI's role (the test
// cluster's superuser, unless the URI names another), the statements in one implicit
// transaction (one PQexec). "" when it ran, else the error.
inline std::string RunAsInsider(Backend backend, const std::string& uri, const std::string& sql) {
  if (backend == Backend::kSqlite) {
    const int rc = RunSqlite3(uri, sql);
    return rc == 0 ? "" : "sqlite3 exited with " + std::to_string(rc);
  }
  auto db = Db::Open(uri, /*create=*/false);
  if (!db.ok()) return db.status().ToString();
  Status s = db->Exec(sql);
  return s.ok() ? "" : s.ToString();
}

// The insider's edit: the guards removed, then `sql`.
inline std::string Tamper(Backend backend, const std::string& uri, const std::string& sql) {
  return RunAsInsider(backend, uri, DropGuardsSql(backend) + sql);
}

// A database for one test on `backend`: the SQLite file `sqlite_path`, or a fresh database on the
// test cluster (skips, or fails when PostgreSQL is required, without one). Use in SetUp.
#define FT_AUDIT_TEST_DB(backend, sqlite_path, uri)                   \
  do {                                                                \
    if ((backend) == ::facetrail::audit::testing::Backend::kSqlite) { \
      (uri) = (sqlite_path);                                          \
    } else {                                                          \
      FT_PG_DATABASE_OR_SKIP(uri);                                    \
    }                                                                 \
  } while (0)

}  // namespace facetrail::audit::testing
