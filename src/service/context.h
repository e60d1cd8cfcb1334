// service::Context: the accountability state one database connection needs — the audit log,
// the policy store, the clock — and login. Every use case in service/ takes a Context and the
// Actor who asks; the front ends (cli/, server/) never touch policy or audit tables themselves.
//
// HOW A FRONT END USES IT
//   auto ctx = Context::Open(db);                 // migrates audit, policy, requests, sessions
//   auto actor = Login(*ctx, name, password);     // audited; kUnauthenticated on failure
//   auto result = RequestSearch(*ctx, *actor, request, analyzer, source);
//   A refusal is a kPermissionDenied status whose message is "<code>: <reason>"
//   (SplitRefusal below); it has been audited and committed before it is returned.
//   An Actor is only an identity: every use case reloads the user and re-checks roles, lock and
//   certificate inside its own transaction, so a server may keep an Actor in a session.
//
// THREAD SAFETY
//   A Context is bound to one Db: one thread at a time. Open one per thread/connection.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "audit/audit.h"
#include "common/db.h"
#include "common/status.h"
#include "policy/policy.h"

namespace facetrail::service {

struct ContextOptions {
  audit::Clock clock = audit::SystemClock();
  policy::PasswordCost password_cost = policy::PasswordCost::Interactive();
};

class Context {
 public:
  // requires: db outlives the Context.
  static Expected<std::unique_ptr<Context>> Open(Db& db, const ContextOptions& options = {});

  Db& db() { return db_; }
  audit::AuditLog& log() { return log_; }
  policy::PolicyStore& store() { return store_; }
  int64_t Now() const { return log_.Now(); }
  std::string NowText() const { return audit::FormatUtc(Now()); }
  std::string Today() const { return NowText().substr(0, 10); }  // UTC date, YYYY-MM-DD

 private:
  Context(Db& db, audit::AuditLog log, policy::PolicyStore store)
      : db_(db), log_(std::move(log)), store_(store) {}
  Db& db_;
  audit::AuditLog log_;
  policy::PolicyStore store_;
};

// Who is asking: established by Login (or by a server session created from a Login).
struct Actor {
  int64_t user_id = 0;
  std::string name;
};

// Checks the password (Argon2id) and audits the attempt: "login" or "login.failed" (the reason,
// the failure counts, the client address), committed even when the login fails.
// Failures never lock an account: they throttle the account name (known or not) and the client
// address (`client_address`, empty from the command line) as the policy configures
// (PolicyConfig::max_failed_logins …, docs/POLICY.md). The Argon2id check runs outside the write
// transaction, so failed sign-ins do not hold up searches and reviews.
//   kInvalidArgument   name longer than kMaxUserNameBytes, not UTF-8 or with control characters,
//                      password longer than kMaxPasswordBytes (audited without the name)
//   kUnauthenticated   "unauthenticated: unknown user or wrong password" — the same for both
//   kResourceExhausted "rate_limited: too many failed sign-ins …; try again in N s" while
//                      throttled, for known and unknown names alike (nothing is checked)
//   kUnauthenticated   "account_locked: …" only with the right password of a locked account
Expected<Actor> Login(Context& ctx, std::string_view name, std::string_view password,
                      std::string_view client_address = {});

// Clears the sign-in throttle of an account name (an unlock, a break-glass unlock). Inside the
// caller's transaction.
Status ClearLoginThrottle(Context& ctx, std::string_view name);

// The two parts of a refusal status: {"outside_agency", "searches are made only ..."}.
// For a status that is not a refusal, code is StatusCodeName(status.code()).
struct RefusalParts {
  std::string code;
  std::string reason;
};
RefusalParts SplitRefusal(const Status& status);
// True for kPermissionDenied and kUnauthenticated: what the CLI reports with exit status 3.
bool IsRefusal(const Status& status);

}  // namespace facetrail::service
