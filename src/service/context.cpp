#include "service/context.h"

#include "service/internal/requests_schema.h"
#include "service/internal/sessions_schema.h"

namespace facetrail::service {

Expected<std::unique_ptr<Context>> Context::Open(SqliteDb& db, const ContextOptions& options) {
  FT_RETURN_IF_ERROR(audit::Migrate(db));
  FT_ASSIGN_OR_RETURN(policy::PolicyStore store,
                      policy::PolicyStore::Open(db, options.password_cost));
  FT_RETURN_IF_ERROR(internal::MigrateRequests(db));
  FT_RETURN_IF_ERROR(internal::MigrateSessions(db));
  return std::unique_ptr<Context>(new Context(db, audit::AuditLog(db, options.clock), store));
}

Expected<Actor> Login(Context& ctx, std::string_view name, std::string_view password) {
  int max_failed = 5;
  if (auto config = ctx.store().LoadConfig(); config.ok()) max_failed = config->max_failed_logins;
  policy::PolicyStore::LoginResult result;
  Status s = ctx.db().InTransaction([&]() -> Status {
    FT_ASSIGN_OR_RETURN(result, ctx.store().CheckLogin(name, password, max_failed));
    std::string subject = "user:" + std::string(name);
    if (result.user) {
      return ctx.log().Append({result.user->name, "login", subject, {}}).status();
    }
    std::string why = !result.known_user  ? "unknown user"
                      : result.was_locked ? "account locked"
                                          : "wrong password";
    FT_RETURN_IF_ERROR(ctx.log()
                           .Append({std::string(name),
                                    "login.failed",
                                    subject,
                                    {{"reason", why}, {"failed_logins", result.failed_logins}}})
                           .status());
    if (result.now_locked) {
      FT_RETURN_IF_ERROR(ctx.log()
                             .Append({"system",
                                      "user.lock",
                                      subject,
                                      {{"reason", "too many failed logins"},
                                       {"failed_logins", result.failed_logins}}})
                             .status());
    }
    return Status::Ok();
  });
  FT_RETURN_IF_ERROR(s.WithContext("login"));
  if (result.user) return Actor{result.user->id, result.user->name};
  if (result.was_locked || result.now_locked) {
    return Unauthenticated("account_locked: the account '" + std::string(name) +
                           "' is locked; an administrator must unlock it");
  }
  return Unauthenticated("unauthenticated: unknown user or wrong password");
}

RefusalParts SplitRefusal(const Status& status) {
  const std::string& m = status.message();
  if (IsRefusal(status)) {
    size_t colon = m.find(": ");
    if (colon != std::string::npos && colon > 0 &&
        m.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") >= colon) {
      return {m.substr(0, colon), m.substr(colon + 2)};
    }
  }
  return {std::string(StatusCodeName(status.code())), m};
}

bool IsRefusal(const Status& status) {
  return status.code() == StatusCode::kPermissionDenied ||
         status.code() == StatusCode::kUnauthenticated;
}

}  // namespace facetrail::service
