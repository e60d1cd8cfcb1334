// Moving over (issue 15): a SQLite database, everything in it, copied into an empty PostgreSQL
// database (`facetrail admin migrate-db`, docs/DATABASE.md "Moving over").
//
// WHAT IS COPIED
//   Every table of every component (gallery: bookings, photos with their bytes, templates, the
//   change counter, gallery_meta; policy: users, roles, certificates, configuration, sign-in
//   throttles; requests: probes, search requests, candidates, reviews, decisions, holds;
//   sessions: sessions and API tokens; audit: the entries with their hashes and the signed
//   checkpoints), row for row with the same ids and values. The table list is not written here:
//   it is what the components' own migrations create, read from the catalogues, so a table a
//   later migration adds is copied without a change here.
//
// HOW
//   1. The target's schema is created by each component's own migrations (Db::Migrate), so it is
//      exactly what the program itself would create. The source is brought to the same versions
//      (its own migrations, what any facetrail command does when it opens it); a source whose
//      schema is newer than this program, or holds a component it does not know, is refused
//      (kFailedPrecondition) before anything changes.
//   2. A target table that already holds a row is refused (kFailedPrecondition naming it).
//   3. Every table is copied (foreign keys checked at the end of the copy, so the order does
//      not matter and cycles are fine); each value must have the type its column declares (a
//      SQLite column may hold anything: a mismatch is kFailedPrecondition naming the row), and
//      the target's identity sequences are set past the copied ids (and past SQLite's
//      AUTOINCREMENT high-water mark, so an id is never reused).
//   4. One audit entry `admin.migrate_db` is appended to the copied chain (actor "cli", the
//      operator as the operating system names them, the row counts and the source's chain head).
//   All of it is ONE transaction on the target (a failure leaves the target as it was: no table,
//   no row) inside one on the source (its write lock: nobody changes it during the copy).
//   5. After the commit, the target's audit log is verified (audit::Verify) with the caller's
//      trust (pinned keys, external checkpoints); the report is returned whatever it says.
//
// WHO
//   An administrator's operation on the command line with file access to the SQLite database
//   (like a break-glass unlock): no account is needed, the entry names the operator.
//
// THREAD SAFETY
//   Uses both connections from the calling thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "common/db.h"
#include "common/status.h"

namespace facetrail::service {

struct MigrateDbOptions {
  std::string operator_identity;  // who ran it ("uid 0 (root) on host"), audited
  audit::VerifyOptions verify;    // the trust the copy is verified with
  audit::Clock clock = audit::SystemClock();
};

struct CopiedTable {
  std::string table;
  int64_t rows = 0;
};

struct MigrateDbResult {
  std::string from;                            // the source file
  std::string to;                              // the target, password-free
  std::map<std::string, int> schema_versions;  // component -> version, both databases
  std::vector<CopiedTable> tables;             // in name order
  int64_t rows = 0;                            // all tables
  int64_t source_audit_seq = 0;                // the source chain's head
  std::string source_audit_hash;
  int64_t migrate_entry_seq = 0;  // the admin.migrate_db entry on the target
  audit::VerifyReport verify;     // of the target, after the commit
};

// Copies everything in `source` (SQLite) into `target` (PostgreSQL), as described above.
//   kInvalidArgument     the source is not SQLite or the target not PostgreSQL
//   kFailedPrecondition  target not empty (names the table), schema newer or unknown, a value
//                        that does not fit its column, the two schemas differ
//   kAlreadyExists       a row breaks a constraint of the target (a foreign key, a check)
//   other codes          the engines' errors; nothing is left on the target in every case
Expected<MigrateDbResult> MigrateDatabase(Db& source, Db& target, const MigrateDbOptions& options);

// The result as JSON (the CLI's --json): from, to, schema_versions, tables [{table, rows}],
// rows, source_audit {seq, hash}, migrate_entry_seq, verify (audit::VerifyReportJson).
nlohmann::json MigrateDbResultJson(const MigrateDbResult& result);

}  // namespace facetrail::service
