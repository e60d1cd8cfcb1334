// Schema of the search requests, probes, candidate lists, reviews, overrides and case holds
// (SQLite component "requests"); used only by the use cases in service/.
#pragma once

#include "common/sqlite.h"
#include "common/status.h"

namespace facetrail::service::internal {

Status MigrateRequests(SqliteDb& db);

}  // namespace facetrail::service::internal
