// TRANSITIONAL (issue 15): the names components used before the data-access seam. New code uses
// Db, Stmt and Migration from common/db.h; these aliases only keep branches written against the
// old names compiling until they are merged, and then go.
#pragma once

#include "common/db.h"

namespace facetrail {

using SqliteDb = Db;
using SqliteStmt = Stmt;
using SqliteMigration = Migration;

}  // namespace facetrail
