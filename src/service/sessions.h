// Sessions (the web application's sign-in) and API tokens (scripts): persistent, revocable,
// audited credentials kept in the database (SQLite component "sessions", table
// auth_credentials, migrated by Context::Open).
//
// WHAT THIS REPRESENTS
//   A credential is a 256-bit random secret (OpenSSL RAND_bytes, 64 lower-case hex characters)
//   handed to its holder once — a session secret as the browser's cookie, a token secret to a
//   script — and kept here only as its SHA-256, with its kind, owner, times and revocation. A
//   presented secret is turned back into an Actor by Authenticate. Every state change (session
//   created, logout, token created or revoked, an admin's revocation, a lock) is audited in the
//   same transaction; secrets and their hashes never appear in the audit log, only row ids.
//
// LIFETIMES
//   Session: absolute lifetime (SessionLimits::session_lifetime_s, default 8 h) and an idle
//   timeout (session_idle_s, default 30 min) measured from last_used_at, which Authenticate
//   refreshes at most once per touch_interval_s (60 s) to avoid a write per request — so a session
//   may end up to touch_interval_s before its idle timeout.
//   Token: a label and an expiry in days (default 90, at most 365); no idle timeout.
//
// CSRF
//   A session's CSRF token is derived from its secret, HMAC-SHA256(secret, "facetrail-csrf-v1"):
//   nothing more is stored, it survives a restart, it differs per session, and it does not reveal
//   the secret (the cookie stays HttpOnly while page script holds the CSRF token).
//
// AUTHORISATION
//   As everywhere in service/: the Actor returned by Authenticate is an identity only; each use
//   case reloads the user and checks lock and role in its own transaction.
//
// THREAD SAFETY
//   Like every use case: one Context, one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "service/context.h"

namespace facetrail::service {

enum class CredentialKind { kSession, kToken };
std::string_view CredentialKindName(CredentialKind kind);  // "session", "token"

struct SessionLimits {
  int64_t session_lifetime_s = int64_t{8} * 3600;
  int64_t session_idle_s = int64_t{30} * 60;
  int token_default_days = 90;
  int token_max_days = 365;
  int64_t touch_interval_s = 60;  // last_used_at is written at most this often per credential
};

// A credential just created. The secret exists only in this value: give it to the holder and
// drop it.
struct IssuedCredential {
  int64_t id = 0;
  std::string secret;      // 64 lower-case hex characters
  std::string csrf_token;  // sessions only: CsrfTokenFor(secret)
  std::string expires_at;  // UTC, audit::FormatUtc
};

// Who presented which credential (Authenticate's result).
struct SignedIn {
  Actor actor;
  CredentialKind kind = CredentialKind::kSession;
  int64_t credential_id = 0;
  std::string csrf_token;  // sessions only
};

// The CSRF token of the session whose secret is `session_secret` (64 lower-case hex).
std::string CsrfTokenFor(std::string_view session_secret);

// Creates a session for an actor established by Login. Audited "session.create" (session id and
// expiry). kUnauthenticated when the user is gone or locked.
Expected<IssuedCredential> CreateSession(Context& ctx, const Actor& actor,
                                         const SessionLimits& limits = {});

// The owner of a presented secret of `kind`. kUnauthenticated (not audited: nothing is done and
// anyone may present garbage) for a malformed, unknown, other-kind, expired, idle or revoked
// credential; the message says which of the last three, in words for the holder. Refreshes
// last_used_at when it is older than limits.touch_interval_s.
Expected<SignedIn> Authenticate(Context& ctx, CredentialKind kind, std::string_view secret,
                                const SessionLimits& limits = {});

// Ends the caller's session (revoked, reason "logout"); audited "logout". kFailedPrecondition
// when `who` signed in with a token (revoke it with RevokeMyToken) or the session is already
// ended.
Status Logout(Context& ctx, const SignedIn& who);

struct NewToken {
  std::string label;         // required: 1..80 printable characters, what the token is for
  int64_t expires_days = 0;  // 0: SessionLimits::token_default_days; else 1..token_max_days
};

// An API token for the caller. Only from a signed-in session (a token cannot mint tokens:
// refusal "session_required") of an unlocked account ("account_locked"); refusals audited
// "token.refused", the token "token.create" (id, label, expiry). kInvalidArgument for a missing
// or unprintable label or an expiry outside 1..token_max_days.
Expected<IssuedCredential> CreateToken(Context& ctx, const SignedIn& who, const NewToken& token,
                                       const SessionLimits& limits = {});

struct TokenInfo {
  int64_t id = 0;
  std::string label;
  std::string created_at;
  std::optional<std::string> last_used_at;  // unset: never used
  std::string expires_at;
  std::optional<std::string> revoked_at, revoked_by, revoke_reason;
  bool active = false;  // neither revoked nor expired now
};

// The actor's own tokens, newest first, revoked and expired ones included; never a secret.
// kUnauthenticated when the user is gone or locked.
Expected<std::vector<TokenInfo>> ListMyTokens(Context& ctx, const Actor& actor);

// Revokes one of the actor's own tokens; audited "token.revoke". kNotFound for an unknown id,
// refusal "not_owner" (audited "token.refused") for another user's token, "account_locked" for
// a locked account, kFailedPrecondition when it is already revoked.
Status RevokeMyToken(Context& ctx, const Actor& actor, int64_t token_id);

struct RevokedCredentials {
  std::vector<int64_t> session_ids, token_ids;
};

// An admin ends every live session and token of `user_name` (signs the user out everywhere);
// audited "session.revoke" with the reason and the ids. kInvalidArgument without a reason,
// kNotFound for an unknown user, refusals (not an unlocked admin) audited "admin.refused".
// SetLocked (user_admin.h) does the same when it locks an account.
Expected<RevokedCredentials> RevokeUserCredentials(Context& ctx, const Actor& admin,
                                                   std::string_view user_name,
                                                   std::string_view reason);

// Sessions neither revoked, expired nor idle now (the server's facetrail_sessions gauge).
Expected<int64_t> CountActiveSessions(Context& ctx, const SessionLimits& limits = {});

}  // namespace facetrail::service
