// Helpers shared by the use cases: reload the actor, check a role, run a transaction whose
// refusal is committed together with its audit entry.
#pragma once

#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "service/context.h"

namespace facetrail::service::internal {

struct CheckedActor {
  policy::User user;
  std::optional<policy::Refusal> refusal;  // set when the actor may not act in the role
};

// Reloads the actor's user record (never trusting a cached Actor) and applies CheckActor.
// kUnauthenticated when the user no longer exists.
Expected<CheckedActor> CheckRole(Context& ctx, const Actor& actor, policy::Role role);

// OK when the actor may act in at least one of `roles`; otherwise the refusal for the first role,
// audited as `refused_action` on `subject` and committed (kPermissionDenied "<code>: <reason>").
Status CheckAnyRole(Context& ctx, const Actor& actor, std::initializer_list<policy::Role> roles,
                    const std::string& refused_action, const std::string& subject);

// Runs fn inside a transaction. When fn returns OK with `refusal` set, the transaction (holding
// the refusal's audit entry) is committed and refusal->ToStatus() is returned; any other error
// rolls everything back.
Status RunRefusable(Context& ctx,
                    const std::function<Status(std::optional<policy::Refusal>& refusal)>& fn);

// Appends "<action>" with {"code", "reason"} merged into `details`.
Status AuditRefusal(Context& ctx, const std::string& actor, const std::string& action,
                    const std::string& subject, const policy::Refusal& refusal,
                    nlohmann::json details = nlohmann::json::object());

}  // namespace facetrail::service::internal
