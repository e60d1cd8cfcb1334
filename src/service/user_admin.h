// User administration use cases: first admin, users, roles, certificates, locks, configuration.
// Every change is audited in the same transaction; only an unlocked admin may make them
// (refusals are audited as "admin.refused"). Passwords never appear in the audit log.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "service/context.h"

namespace facetrail::service {

struct InitRequest {
  std::string admin_name;
  std::string admin_full_name;
  std::string admin_password;
  std::string home_agency;
  // Where the Ed25519 checkpoint key is created (0600; `.pub` beside it, 0600 too). Empty: no key.
  std::string signing_key_path;
};

// Creates the first admin and the default policy configuration, and with a key the log's first
// checkpoint (entries admin.init and audit.checkpoint). kFailedPrecondition when the database
// already has users (there is no default password and no second init).
Expected<Actor> InitAdmin(Context& ctx, const InitRequest& request);

// The one JSON shape of a user and a certificate, for every front end (GET /api/v1/users,
// `admin user list --json`, …): never a password hash.
nlohmann::json CertificateJson(const policy::Certificate& certificate);
nlohmann::json RolesJson(const policy::RoleSet& roles);  // role names, in the set's order
nlohmann::json UserJson(const policy::User& user);

Expected<policy::User> AddUser(Context& ctx, const Actor& admin, const policy::NewUser& user);
Status SetRoles(Context& ctx, const Actor& admin, std::string_view user_name,
                const policy::RoleSet& roles);
Expected<policy::Certificate> AddCertificate(Context& ctx, const Actor& admin,
                                             std::string_view user_name,
                                             const policy::NewCertificate& cert);
Status RevokeCertificate(Context& ctx, const Actor& admin, std::string_view user_name,
                         std::string_view number, std::string_view reason);
// Locking also revokes the user's live sessions and API tokens (service/sessions.h) in the same
// transaction; the "user.lock" entry lists their ids. Unlocking restores none of them, and clears
// the account's sign-in throttle.
Status SetLocked(Context& ctx, const Actor& admin, std::string_view user_name, bool locked,
                 std::string_view reason);
// Break-glass: unlocks `user_name` and clears its sign-in throttle without any account, for
// whoever can write the database file (`facetrail admin unlock --break-glass`), e.g. when the only
// admin is locked. `operator_identity` says who ran it as far as the operating system knows
// ("uid 1000 (ada) on host"). Audited "user.unlock.break_glass" by actor "break-glass" with the
// reason and that identity; kNotFound for an unknown user; reason required.
Status BreakGlassUnlock(Context& ctx, std::string_view user_name, std::string_view reason,
                        std::string_view operator_identity);
// Replaces the configuration (validated); the entry records old and new values.
Status UpdateConfig(Context& ctx, const Actor& admin, const policy::PolicyConfig& config);

// The department's candidate-list policy (docs/POLICY.md, "The candidate list"): the list
// length and the score threshold (unset: the active model's calibrated one), used by every
// front end. A supervisor or an admin, with a reason; audited "config.candidates" with the old
// and new policy; refusals "config.refused". An unset `max_list_length` keeps the current one.
// Returns the configuration as stored. kInvalidArgument for a length outside 1..1000, a
// threshold outside -1..1 or an empty reason.
Expected<policy::PolicyConfig> SetCandidatePolicy(Context& ctx, const Actor& actor,
                                                  std::optional<float> threshold,
                                                  std::optional<int> max_list_length,
                                                  const std::string& reason);

}  // namespace facetrail::service
