// The PostgreSQL back-end of the data-access seam (common/db.h; common/postgres.cpp,
// docs/DATABASE.md). Components do not call this: Db::Open does, for postgresql:// and
// postgres:// URIs.
//
// THREAD SAFETY
//   Like Db: one connection, one thread at a time.
#pragma once

#include <string>

#include "common/db.h"

namespace facetrail {

// Connects with libpq to the server `uri` names. kInvalidArgument for a password in the URI
// (PGPASSWORD or ~/.pgpass give it instead), kUnavailable when the server cannot be reached.
// Migrations without a postgres_sql variant run with their SQLite types mapped
// (SqliteDdlToPostgres, common/sql_dialect.h).
Expected<Db> OpenPostgresDb(const std::string& uri);

}  // namespace facetrail
