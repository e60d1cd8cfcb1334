#include "service/context.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/text.h"
#include "service/internal/requests_schema.h"
#include "service/internal/sessions_schema.h"

namespace facetrail::service {

Expected<std::unique_ptr<Context>> Context::Open(Db& db, const ContextOptions& options) {
  FT_RETURN_IF_ERROR(audit::Migrate(db));
  FT_ASSIGN_OR_RETURN(policy::PolicyStore store,
                      policy::PolicyStore::Open(db, options.password_cost));
  FT_RETURN_IF_ERROR(internal::MigrateRequests(db));
  FT_RETURN_IF_ERROR(internal::MigrateSessions(db));
  return std::unique_ptr<Context>(new Context(db, audit::AuditLog(db, options.clock), store));
}

namespace {

std::string UserKey(std::string_view name) {
  return "user:" + std::string(name);
}
std::string AddressKey(std::string_view address) {
  return "address:" + std::string(address);
}

// A sign-in whose name or password cannot be what any account has is refused before anything is
// looked up, and audited without the name (it may be 9 MB or not text at all).
Status CheckLoginInput(Context& ctx, std::string_view name, std::string_view password,
                       std::string_view client_address) {
  Status bad = ValidateText("name", name, kMaxUserNameBytes);
  if (bad.ok() && password.size() > kMaxPasswordBytes) {
    bad = InvalidArgument("password: longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  if (bad.ok()) return bad;
  nlohmann::json details = {{"reason", "malformed"}, {"detail", bad.message()}};
  if (!client_address.empty()) details["address"] = SanitizeUtf8(client_address.substr(0, 64));
  FT_RETURN_IF_ERROR(
      ctx.log().AppendInOwnTransaction({"unknown", "login.failed", "user:", std::move(details)}));
  return bad;
}

}  // namespace

Status ClearLoginThrottle(Context& ctx, std::string_view name) {
  return ctx.store().SaveThrottle(UserKey(name), {});
}

Expected<Actor> Login(Context& ctx, std::string_view name, std::string_view password,
                      std::string_view client_address) {
  FT_RETURN_IF_ERROR(CheckLoginInput(ctx, name, password, client_address).WithContext("login"));
  policy::PolicyConfig config;
  if (auto loaded = ctx.store().LoadConfig(); loaded.ok()) config = *loaded;
  const std::string user_key = UserKey(name);
  const std::string address_key = AddressKey(client_address);
  const bool by_address = !client_address.empty();
  const int64_t now = ctx.Now();

  // Read, then check the password with no transaction open: Argon2id takes tens of milliseconds
  // and SQLite has one writer.
  FT_ASSIGN_OR_RETURN(std::optional<policy::PolicyStore::LoginRecord> record,
                      ctx.store().FindLoginRecord(name));
  FT_ASSIGN_OR_RETURN(policy::LoginThrottle account, ctx.store().LoadThrottle(user_key));
  policy::LoginThrottle address;
  if (by_address) {
    FT_ASSIGN_OR_RETURN(address, ctx.store().LoadThrottle(address_key));
  }
  const int64_t blocked_until = std::max(policy::ThrottleAsOf(account, now, config).blocked_until,
                                         policy::ThrottleAsOf(address, now, config).blocked_until);
  const bool throttled = now < blocked_until;
  const bool matches = !throttled && ctx.store().VerifyPassword(record, password);

  std::optional<Actor> actor;
  bool locked = false;
  Status s = ctx.db().InTransaction([&]() -> Status {
    const std::string subject = "user:" + std::string(name);
    nlohmann::json details;
    if (by_address) details["address"] = std::string(client_address);
    // Reloaded under the write lock: concurrent attempts each count.
    FT_ASSIGN_OR_RETURN(account, ctx.store().LoadThrottle(user_key));
    if (by_address) {
      FT_ASSIGN_OR_RETURN(address, ctx.store().LoadThrottle(address_key));
    }
    if (matches && record) {
      FT_ASSIGN_OR_RETURN(std::optional<policy::PolicyStore::LoginRecord> again,
                          ctx.store().FindLoginRecord(name));
      locked = !again || again->locked;
      if (!locked) {
        FT_RETURN_IF_ERROR(ctx.store().SaveThrottle(user_key, {}));
        FT_RETURN_IF_ERROR(ctx.store().SetFailedLogins(record->id, 0));
        actor = Actor{record->id, std::string(name)};
        return ctx.log().Append({std::string(name), "login", subject, std::move(details)}).status();
      }
      details["reason"] = "account locked";
      return ctx.log()
          .Append({std::string(name), "login.failed", subject, std::move(details)})
          .status();
    }
    if (!throttled) {
      account = policy::ThrottleAfterFailure(account, now, config.max_failed_logins, config);
      FT_RETURN_IF_ERROR(ctx.store().SaveThrottle(user_key, account));
      if (record) FT_RETURN_IF_ERROR(ctx.store().SetFailedLogins(record->id, account.failures));
      if (by_address) {
        address = policy::ThrottleAfterFailure(address, now, config.max_failed_logins_per_address,
                                               config);
        FT_RETURN_IF_ERROR(ctx.store().SaveThrottle(address_key, address));
      }
    }
    details["reason"] = throttled ? "throttled" : record ? "wrong password" : "unknown user";
    details["failed_logins"] = account.failures;
    if (by_address) details["failed_logins_from_address"] = address.failures;
    const int64_t until = std::max(account.blocked_until, address.blocked_until);
    if (until > now) details["blocked_until"] = audit::FormatUtc(until);
    return ctx.log()
        .Append({std::string(name), "login.failed", subject, std::move(details)})
        .status();
  });
  FT_RETURN_IF_ERROR(s.WithContext("login"));
  if (actor) return *actor;
  if (locked) {
    return Unauthenticated("account_locked: the account '" + std::string(name) +
                           "' is locked; an administrator must unlock it");
  }
  if (throttled) {
    return ResourceExhausted(
        "rate_limited: too many failed sign-ins for this account or from "
        "this address; try again in " +
        std::to_string(blocked_until - now) + " s");
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
