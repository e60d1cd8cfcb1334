// Where a database given as `--db` (or ServerOptions::db_path, GalleryStore::Open's URI) really
// is: the one parser of database spellings, so that every check ("is this database under
// accountability?") looks at the file that is then opened (issue 14: `--db sqlite:PATH` once
// skipped the check because the check opened the literal text and the store stripped the prefix).
//
// THREAD SAFETY
//   Pure function.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace facetrail {

// The file SQLite is to open for `uri`:
//   PATH, ./PATH, /abs/PATH                      PATH as given
//   sqlite:PATH   sqlite://PATH   sqlite:///abs  PATH, /abs
//   file:PATH     file:///abs     file://localhost/abs
//   :memory:, sqlite::memory:                    ":memory:" (tests)
// The result never begins with a scheme, so resolving it again gives it back unchanged; a file
// whose name begins with "sqlite:" or "file:" is written "./sqlite:NAME".
// kInvalidArgument: empty, a URI with a query (?…), a fragment (#…), %-escapes or another host,
// or an unknown scheme (`name://…`); kFailedPrecondition: postgresql:// (no file: callers that
// accept PostgreSQL use ResolveDatabaseUri).
Expected<std::string> DatabaseFilePath(std::string_view uri);

// What Db::Open is to be given for `uri`, as every entry point (`--db`, GalleryStore::Open, the
// server) resolves it: a postgresql:// or postgres:// URI unchanged (kInvalidArgument when it
// carries a password, see PostgresUriDescription), anything else the SQLite file
// DatabaseFilePath names. Resolving the result again gives it back unchanged.
Expected<std::string> ResolveDatabaseUri(std::string_view uri);

// True for a PostgreSQL connection URI (postgresql://… or postgres://…), which Db::Open hands to
// libpq as it is (docs/DATABASE.md).
bool IsPostgresUri(std::string_view uri);

// A PostgreSQL URI as messages show it: postgresql://USER@HOST:PORT/DB, without the query.
// kInvalidArgument if the URI carries a password (user:password@ or ?password=): a password on
// the command line shows in the process list; libpq reads PGPASSWORD or ~/.pgpass instead.
Expected<std::string> PostgresUriDescription(std::string_view uri);

}  // namespace facetrail
