#include "service/internal/guard.h"

namespace facetrail::service::internal {

Expected<CheckedActor> CheckRole(Context& ctx, const Actor& actor, policy::Role role) {
  auto user = ctx.store().GetUser(actor.user_id);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kNotFound) {
      return Unauthenticated("unauthenticated: user '" + actor.name + "' no longer exists");
    }
    return user.status();
  }
  CheckedActor out{std::move(*user), std::nullopt};
  out.refusal = policy::CheckActor(out.user, role, ctx.Today());
  return out;
}

Status RunRefusable(Context& ctx,
                    const std::function<Status(std::optional<policy::Refusal>& refusal)>& fn) {
  std::optional<policy::Refusal> refusal;
  FT_RETURN_IF_ERROR(ctx.db().InTransaction([&]() -> Status {
    refusal.reset();
    return fn(refusal);
  }));
  if (refusal) return refusal->ToStatus();
  return Status::Ok();
}

Status CheckAnyRole(Context& ctx, const Actor& actor, std::initializer_list<policy::Role> roles,
                    const std::string& refused_action, const std::string& subject) {
  return RunRefusable(ctx, [&](std::optional<policy::Refusal>& refusal) -> Status {
    std::optional<policy::Refusal> first;
    for (policy::Role role : roles) {
      FT_ASSIGN_OR_RETURN(CheckedActor checked, CheckRole(ctx, actor, role));
      if (!checked.refusal) return Status::Ok();
      if (!first) first = checked.refusal;
    }
    refusal = first;
    return AuditRefusal(ctx, actor.name, refused_action, subject, *first);
  });
}

Status AuditRefusal(Context& ctx, const std::string& actor, const std::string& action,
                    const std::string& subject, const policy::Refusal& refusal,
                    nlohmann::json details) {
  if (!details.is_object()) details = nlohmann::json::object();
  details["code"] = policy::RefusalCodeName(refusal.code);
  details["reason"] = refusal.reason;
  return ctx.log().Append({actor, action, subject, std::move(details)}).status();
}

}  // namespace facetrail::service::internal
