// Schema of sessions and API tokens (SQLite component "sessions", table auth_credentials) and
// the revocation shared by service/sessions.cpp and SetLocked in service/user_admin.cpp.
#pragma once

#include <string_view>

#include "common/db.h"
#include "common/status.h"
#include "service/sessions.h"

namespace facetrail::service::internal {

Status MigrateSessions(Db& db);

// Revokes every credential of `user_id` that is neither revoked nor expired now, recording who
// and why; returns their ids. requires: inside a transaction that also appends the audit entry.
Expected<RevokedCredentials> RevokeAllCredentials(Context& ctx, int64_t user_id,
                                                  std::string_view revoked_by,
                                                  std::string_view reason);

}  // namespace facetrail::service::internal
