// Schema of the search requests, probes, candidate lists, reviews, overrides and case holds
// (SQLite component "requests"); used only by the use cases in service/.
#pragma once

#include <vector>

#include "common/db.h"
#include "common/status.h"

namespace facetrail::service::internal {

// Every version of the schema, oldest first (tests upgrade old files with a prefix of it).
const std::vector<Migration>& RequestsMigrations();
Status MigrateRequests(Db& db);

}  // namespace facetrail::service::internal
