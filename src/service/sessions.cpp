// Sessions and API tokens (service/sessions.h).
#include "service/sessions.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>

#include "common/sha256.h"
#include "common/text.h"
#include "service/internal/guard.h"
#include "service/internal/sessions_schema.h"

namespace facetrail::service {

namespace {

using internal::AuditRefusal;
using internal::RunRefusable;

constexpr std::string_view kCsrfLabel = "facetrail-csrf-v1";
constexpr size_t kMaxLabel = 80;

Expected<std::string> RandomSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return Internal("RAND_bytes failed: no random bytes for a new credential");
  }
  return ToHex(std::span<const uint8_t>(bytes, sizeof bytes));
}

bool IsSecretShaped(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string Subject(const std::string& user_name) {
  return "user:" + user_name;
}

// The actor's account, reloaded: kUnauthenticated when gone; a refusal when locked.
Expected<internal::CheckedActor> CheckSelf(Context& ctx, const Actor& actor) {
  auto user = ctx.store().GetUser(actor.user_id);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kNotFound) {
      return Unauthenticated("unauthenticated: user '" + actor.name + "' no longer exists");
    }
    return user.status();
  }
  internal::CheckedActor out{std::move(*user), std::nullopt};
  if (out.user.locked) {
    out.refusal = policy::Refusal{policy::RefusalCode::kAccountLocked,
                                  "the account of " + out.user.name + " is locked"};
  }
  return out;
}

// Inserts a credential row for `user_id` and returns it with its secret.
Expected<IssuedCredential> Insert(Context& ctx, CredentialKind kind, int64_t user_id,
                                  const std::optional<std::string>& label, int64_t now,
                                  int64_t expires) {
  IssuedCredential out;
  FT_ASSIGN_OR_RETURN(out.secret, RandomSecret());
  out.expires_at = audit::FormatUtc(expires);
  std::string now_text = audit::FormatUtc(now);
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("INSERT INTO auth_credentials(kind, secret_sha256, user_id, "
                                       "label, created_at, last_used_at, expires_at) VALUES (?, ?, "
                                       "?, ?, ?, ?, ?) RETURNING id"));
  stmt.Bind(1, CredentialKindName(kind))
      .Bind(2, Sha256Hex(out.secret))
      .Bind(3, user_id)
      .Bind(4, label)
      .Bind(5, now_text);
  // A session counts as used when created (its idle timeout starts); a token when first used.
  if (kind == CredentialKind::kSession) {
    stmt.Bind(6, now_text);
  } else {
    stmt.BindNull(6);
  }
  stmt.Bind(7, out.expires_at);
  FT_ASSIGN_OR_RETURN(out.id, stmt.InsertedId());
  if (kind == CredentialKind::kSession) out.csrf_token = CsrfTokenFor(out.secret);
  return out;
}

Status CheckLabel(const std::string& label) {
  if (label.empty()) return InvalidArgument("an API token needs a label (what it is for)");
  if (label.size() > kMaxLabel) {
    return InvalidArgument("the token label is longer than " + std::to_string(kMaxLabel) +
                           " characters");
  }
  for (unsigned char c : label) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("the token label has a control character");
  }
  return Status::Ok();
}

}  // namespace

std::string_view CredentialKindName(CredentialKind kind) {
  return kind == CredentialKind::kSession ? "session" : "token";
}

std::string CsrfTokenFor(std::string_view session_secret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), session_secret.data(), static_cast<int>(session_secret.size()),
       reinterpret_cast<const unsigned char*>(kCsrfLabel.data()), kCsrfLabel.size(), mac, &len);
  return ToHex(std::span<const uint8_t>(mac, len));
}

Expected<IssuedCredential> CreateSession(Context& ctx, const Actor& actor,
                                         const SessionLimits& limits) {
  if (limits.session_lifetime_s <= 0) return InvalidArgument("the session lifetime must be > 0");
  IssuedCredential out;
  Status s = ctx.db().InTransaction([&]() -> Status {
    FT_ASSIGN_OR_RETURN(auto self, CheckSelf(ctx, actor));
    if (self.refusal) return Unauthenticated("account_locked: " + self.refusal->reason);
    int64_t now = ctx.Now();
    FT_ASSIGN_OR_RETURN(out, Insert(ctx, CredentialKind::kSession, actor.user_id, std::nullopt, now,
                                    now + limits.session_lifetime_s));
    return ctx.log()
        .Append({actor.name,
                 "session.create",
                 Subject(actor.name),
                 {{"session_id", out.id}, {"expires_at", out.expires_at}}})
        .status();
  });
  FT_RETURN_IF_ERROR(s.WithContext("create session"));
  return out;
}

Expected<SignedIn> Authenticate(Context& ctx, CredentialKind kind, std::string_view secret,
                                const SessionLimits& limits) {
  const bool session = kind == CredentialKind::kSession;
  const Status unknown =
      Unauthenticated(session ? "unauthenticated: sign in first (no valid session)"
                              : "unauthenticated: unknown or revoked API token");
  if (!IsSecretShaped(secret)) return unknown;
  FT_ASSIGN_OR_RETURN(auto stmt, ctx.db().Prepare("SELECT c.id, c.user_id, u.name, c.last_used_at,"
                                                  " c.expires_at, c.revoked_at FROM "
                                                  "auth_credentials c JOIN policy_users u ON u.id "
                                                  "= c.user_id WHERE c.secret_sha256 = ? AND "
                                                  "c.kind = ?"));
  stmt.Bind(1, Sha256Hex(secret)).Bind(2, CredentialKindName(kind));
  FT_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return unknown;
  SignedIn out;
  out.kind = kind;
  out.credential_id = stmt.Int(0);
  out.actor = {stmt.Int(1), stmt.Text(2)};
  std::optional<std::string> last_used = stmt.OptText(3);
  std::string expires_at = stmt.Text(4);
  bool revoked = !stmt.IsNull(5);
  stmt.Reset();

  const int64_t now = ctx.Now();
  const std::string what = session ? "the session" : "the API token";
  if (revoked) return Unauthenticated("unauthenticated: " + what + " was revoked; sign in again");
  FT_ASSIGN_OR_RETURN(int64_t expires, audit::ParseUtc(expires_at));
  if (now >= expires) {
    return Unauthenticated("unauthenticated: " + what + " expired at " + expires_at +
                           (session ? "; sign in again" : ""));
  }
  std::optional<int64_t> last;
  if (last_used) {
    FT_ASSIGN_OR_RETURN(last, audit::ParseUtc(*last_used));
  }
  if (session && last && now - *last > limits.session_idle_s) {
    return Unauthenticated("unauthenticated: the session ended after " +
                           std::to_string(limits.session_idle_s / 60) +
                           " minutes without activity; sign in again");
  }
  if (!last || now - *last >= limits.touch_interval_s) {
    FT_ASSIGN_OR_RETURN(auto touch, ctx.db().Prepare("UPDATE auth_credentials SET last_used_at = "
                                                     "? WHERE id = ? AND (last_used_at IS NULL OR "
                                                     "last_used_at < ?)"));
    std::string now_text = audit::FormatUtc(now);
    touch.Bind(1, now_text).Bind(2, out.credential_id).Bind(3, now_text);
    FT_RETURN_IF_ERROR(touch.Run().WithContext("recording the use of a credential"));
  }
  if (session) out.csrf_token = CsrfTokenFor(secret);
  return out;
}

Status Logout(Context& ctx, const SignedIn& who) {
  if (who.kind != CredentialKind::kSession) {
    return FailedPrecondition(
        "signing out ends a browser session; revoke an API token with DELETE /api/v1/tokens/{id}");
  }
  return ctx.db().InTransaction([&]() -> Status {
    FT_ASSIGN_OR_RETURN(auto stmt, ctx.db().Prepare("UPDATE auth_credentials SET revoked_at = ?, "
                                                    "revoked_by = ?, revoke_reason = 'logout' "
                                                    "WHERE id = ? AND kind = 'session' AND "
                                                    "revoked_at IS NULL"));
    stmt.Bind(1, ctx.NowText()).Bind(2, who.actor.name).Bind(3, who.credential_id);
    FT_RETURN_IF_ERROR(stmt.Run());
    if (ctx.db().Changes() == 0) return FailedPrecondition("the session has already ended");
    return ctx.log()
        .Append({who.actor.name,
                 "logout",
                 Subject(who.actor.name),
                 {{"session_id", who.credential_id}}})
        .status();
  });
}

Expected<IssuedCredential> CreateToken(Context& ctx, const SignedIn& who, const NewToken& token,
                                       const SessionLimits& limits) {
  FT_RETURN_IF_ERROR(CheckLabel(token.label));
  int64_t days = token.expires_days == 0 ? limits.token_default_days : token.expires_days;
  if (days < 1 || days > limits.token_max_days) {
    return InvalidArgument("a token expires in 1 to " + std::to_string(limits.token_max_days) +
                           " days, not " + std::to_string(days));
  }
  const std::string subject = Subject(who.actor.name);
  IssuedCredential out;
  Status s = RunRefusable(ctx, [&](std::optional<policy::Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto self, CheckSelf(ctx, who.actor));
    refusal = self.refusal;
    if (!refusal && who.kind != CredentialKind::kSession) {
      refusal = policy::Refusal{policy::RefusalCode::kSessionRequired,
                                "API tokens are created from a signed-in session, not with "
                                "another token"};
    }
    if (refusal) {
      return AuditRefusal(ctx, who.actor.name, "token.refused", subject, *refusal,
                          {{"attempted", "token.create"}, {"label", token.label}});
    }
    int64_t now = ctx.Now();
    FT_ASSIGN_OR_RETURN(out, Insert(ctx, CredentialKind::kToken, who.actor.user_id, token.label,
                                    now, now + days * 86400));
    return ctx.log()
        .Append({who.actor.name,
                 "token.create",
                 subject,
                 {{"token_id", out.id},
                  {"label", token.label},
                  {"expires_at", out.expires_at},
                  {"created_from_session", who.credential_id}}})
        .status();
  });
  FT_RETURN_IF_ERROR(s);
  return out;
}

Expected<std::vector<TokenInfo>> ListMyTokens(Context& ctx, const Actor& actor) {
  FT_ASSIGN_OR_RETURN(auto self, CheckSelf(ctx, actor));
  if (self.refusal) return Unauthenticated("unauthenticated: " + self.refusal->reason);
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("SELECT id, label, created_at, last_used_at, expires_at, "
                                       "revoked_at, revoked_by, revoke_reason FROM "
                                       "auth_credentials WHERE user_id = ? AND kind = 'token' "
                                       "ORDER BY id DESC"));
  stmt.Bind(1, actor.user_id);
  const std::string now = ctx.NowText();
  std::vector<TokenInfo> out;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    TokenInfo t;
    t.id = stmt.Int(0);
    t.label = stmt.Text(1);
    t.created_at = stmt.Text(2);
    t.last_used_at = stmt.OptText(3);
    t.expires_at = stmt.Text(4);
    t.revoked_at = stmt.OptText(5);
    t.revoked_by = stmt.OptText(6);
    t.revoke_reason = stmt.OptText(7);
    t.active = !t.revoked_at && t.expires_at > now;
    out.push_back(std::move(t));
  }
  return out;
}

Status RevokeMyToken(Context& ctx, const Actor& actor, int64_t token_id) {
  const std::string subject = Subject(actor.name);
  return RunRefusable(ctx, [&](std::optional<policy::Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto self, CheckSelf(ctx, actor));
    FT_ASSIGN_OR_RETURN(auto stmt, ctx.db().Prepare("SELECT user_id, label, revoked_at FROM "
                                                    "auth_credentials WHERE id = ? AND kind = "
                                                    "'token'"));
    stmt.Bind(1, token_id);
    FT_ASSIGN_OR_RETURN(bool found, stmt.Step());
    if (!found) return NotFound("no API token " + std::to_string(token_id));
    const int64_t owner = stmt.Int(0);
    const std::string label = stmt.Text(1);
    const bool revoked = !stmt.IsNull(2);
    stmt.Reset();
    refusal = self.refusal;
    if (!refusal && owner != actor.user_id) {
      refusal = policy::Refusal{policy::RefusalCode::kNotOwner,
                                "API token " + std::to_string(token_id) +
                                    " belongs to another user; only its owner may revoke it (an "
                                    "admin signs a user out with 'revoke sessions')"};
    }
    if (refusal) {
      return AuditRefusal(ctx, actor.name, "token.refused", subject, *refusal,
                          {{"attempted", "token.revoke"}, {"token_id", token_id}});
    }
    if (revoked) {
      return FailedPrecondition("API token " + std::to_string(token_id) + " is already revoked");
    }
    FT_ASSIGN_OR_RETURN(auto update, ctx.db().Prepare("UPDATE auth_credentials SET revoked_at = "
                                                      "?, revoked_by = ?, revoke_reason = 'revoked "
                                                      "by its owner' WHERE id = ?"));
    update.Bind(1, ctx.NowText()).Bind(2, actor.name).Bind(3, token_id);
    FT_RETURN_IF_ERROR(update.Run());
    return ctx.log()
        .Append({actor.name, "token.revoke", subject, {{"token_id", token_id}, {"label", label}}})
        .status();
  });
}

Expected<RevokedCredentials> RevokeUserCredentials(Context& ctx, const Actor& admin,
                                                   std::string_view user_name,
                                                   std::string_view reason) {
  if (IsBlank(reason)) return InvalidArgument("revoking a user's sessions needs a reason");
  FT_RETURN_IF_ERROR(ValidateText("reason", reason, kMaxLongTextBytes, {.multiline = true}));
  const std::string subject = "user:" + std::string(user_name);
  RevokedCredentials out;
  Status s = RunRefusable(ctx, [&](std::optional<policy::Refusal>& refusal) -> Status {
    out = RevokedCredentials();
    FT_ASSIGN_OR_RETURN(auto checked, internal::CheckRole(ctx, admin, policy::Role::kAdmin));
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, admin.name, "admin.refused", subject, *refusal,
                          {{"attempted", "session.revoke"}});
    }
    FT_ASSIGN_OR_RETURN(policy::User target, ctx.store().FindUser(user_name));
    FT_ASSIGN_OR_RETURN(out, internal::RevokeAllCredentials(ctx, target.id, admin.name, reason));
    return ctx.log()
        .Append(
            {admin.name,
             "session.revoke",
             subject,
             {{"reason", reason}, {"session_ids", out.session_ids}, {"token_ids", out.token_ids}}})
        .status();
  });
  FT_RETURN_IF_ERROR(s);
  return out;
}

Expected<int64_t> CountActiveSessions(Context& ctx, const SessionLimits& limits) {
  const int64_t now = ctx.Now();
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("SELECT count(*) FROM auth_credentials WHERE kind = "
                                       "'session' AND revoked_at IS NULL AND expires_at > ? AND "
                                       "last_used_at >= ?"));
  stmt.Bind(1, audit::FormatUtc(now)).Bind(2, audit::FormatUtc(now - limits.session_idle_s));
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Internal("count(*) returned no row");
  return stmt.Int(0);
}

}  // namespace facetrail::service
