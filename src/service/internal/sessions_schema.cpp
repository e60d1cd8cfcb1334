#include "service/internal/sessions_schema.h"

#include <vector>

namespace facetrail::service::internal {

namespace {

// Times are audit::FormatUtc text (fixed width, so they compare as strings).
const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
CREATE TABLE auth_credentials (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('session', 'token')),
  secret_sha256 TEXT NOT NULL UNIQUE,  -- lower-case hex SHA-256 of the secret (never the secret)
  user_id INTEGER NOT NULL REFERENCES policy_users(id),
  label TEXT,                          -- tokens: what the holder named it
  created_at TEXT NOT NULL,
  last_used_at TEXT,                   -- refreshed at most once a minute; NULL: token never used
  expires_at TEXT NOT NULL,
  revoked_at TEXT,
  revoked_by TEXT,
  revoke_reason TEXT,
  CHECK (kind = 'session' OR label IS NOT NULL)
);
CREATE INDEX auth_credentials_user ON auth_credentials(user_id, kind);
)sql"},
  };
  return kMigrations;
}

}  // namespace

Status MigrateSessions(Db& db) {
  return db.Migrate("sessions", Migrations());
}

Expected<RevokedCredentials> RevokeAllCredentials(Context& ctx, int64_t user_id,
                                                  std::string_view revoked_by,
                                                  std::string_view reason) {
  const std::string now = ctx.NowText();
  RevokedCredentials out;
  FT_ASSIGN_OR_RETURN(auto select,
                      ctx.db().Prepare("SELECT id, kind FROM auth_credentials WHERE user_id = ? "
                                       "AND revoked_at IS NULL AND expires_at > ? ORDER BY id"));
  select.Bind(1, user_id).Bind(2, now);
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    (select.Text(1) == "session" ? out.session_ids : out.token_ids).push_back(select.Int(0));
  }
  FT_ASSIGN_OR_RETURN(auto update, ctx.db().Prepare("UPDATE auth_credentials SET revoked_at = ?, "
                                                    "revoked_by = ?, revoke_reason = ? WHERE "
                                                    "user_id = ? AND revoked_at IS NULL AND "
                                                    "expires_at > ?"));
  update.Bind(1, now).Bind(2, revoked_by).Bind(3, reason).Bind(4, user_id).Bind(5, now);
  FT_RETURN_IF_ERROR(update.Run());
  return out;
}

}  // namespace facetrail::service::internal
