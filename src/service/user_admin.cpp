// User administration use cases (service/user_admin.h).
#include "service/user_admin.h"

#include "common/text.h"
#include "service/internal/guard.h"
#include "service/internal/sessions_schema.h"

namespace facetrail::service {

nlohmann::json CertificateJson(const policy::Certificate& c) {
  auto opt = [](const std::optional<std::string>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json();
  };
  return {{"course", c.course},
          {"number", c.number},
          {"issued", c.issued},
          {"expires", c.expires},
          {"issued_by", c.issued_by},
          {"revoked_at", opt(c.revoked_at)},
          {"revoked_by", opt(c.revoked_by)},
          {"revoke_reason", opt(c.revoke_reason)}};
}

nlohmann::json RolesJson(const policy::RoleSet& roles) {
  nlohmann::json out = nlohmann::json::array();
  for (policy::Role r : roles) out.push_back(policy::RoleName(r));
  return out;
}

nlohmann::json UserJson(const policy::User& u) {
  nlohmann::json certs = nlohmann::json::array();
  for (const auto& c : u.certificates) certs.push_back(CertificateJson(c));
  return {{"name", u.name},     {"full_name", u.full_name},
          {"agency", u.agency}, {"roles", RolesJson(u.roles)},
          {"locked", u.locked}, {"certificates", certs}};
}

namespace {

using internal::AuditRefusal;
using internal::RunRefusable;

nlohmann::json CertJson(const policy::Certificate& c) {
  nlohmann::json j = {{"course", c.course},
                      {"number", c.number},
                      {"issued", c.issued},
                      {"expires", c.expires},
                      {"issued_by", c.issued_by}};
  if (c.revoked_at) j["revoked_at"] = *c.revoked_at;
  if (c.revoke_reason) j["revoke_reason"] = *c.revoke_reason;
  return j;
}

// Runs an admin action: checks the actor is an unlocked admin (refusal audited as
// "admin.refused" with `action` and `subject`), then fn inside the same transaction.
Status RunAdmin(Context& ctx, const Actor& admin, const std::string& action,
                const std::string& subject, const std::function<Status()>& fn) {
  return RunRefusable(ctx, [&](std::optional<policy::Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto checked, internal::CheckRole(ctx, admin, policy::Role::kAdmin));
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, admin.name, "admin.refused", subject, *refusal,
                          {{"attempted", action}});
    }
    return fn();
  });
}

Expected<policy::User> FindTarget(Context& ctx, std::string_view user_name) {
  return ctx.store().FindUser(user_name);
}

}  // namespace

Expected<Actor> InitAdmin(Context& ctx, const InitRequest& req) {
  FT_ASSIGN_OR_RETURN(int64_t num_users, ctx.store().NumUsers());
  if (num_users > 0) {
    return FailedPrecondition(ctx.db().path() +
                              " already has users; 'admin init' runs only on a "
                              "database without users");
  }
  policy::PolicyConfig config;
  config.home_agency = req.home_agency;
  FT_RETURN_IF_ERROR(policy::ValidateConfig(config));
  std::optional<audit::SigningKey> key;
  if (!req.signing_key_path.empty()) {
    FT_ASSIGN_OR_RETURN(key, audit::CreateSigningKey(req.signing_key_path));
  }
  Actor actor;
  Status s = ctx.db().InTransaction([&]() -> Status {
    FT_ASSIGN_OR_RETURN(int64_t n, ctx.store().NumUsers());  // re-check under the write lock
    if (n > 0) return FailedPrecondition("another process initialised the database first");
    FT_ASSIGN_OR_RETURN(policy::User u, ctx.store().AddUser({req.admin_name,
                                                             req.admin_full_name,
                                                             req.home_agency,
                                                             {policy::Role::kAdmin},
                                                             req.admin_password}));
    FT_RETURN_IF_ERROR(ctx.store().SaveConfig(config));
    actor = {u.id, u.name};
    nlohmann::json details = {{"admin", u.name}, {"home_agency", req.home_agency}};
    if (key) details["checkpoint_key_id"] = key->public_key.KeyId();
    FT_RETURN_IF_ERROR(
        ctx.log().Append({u.name, "admin.init", "user:" + u.name, details}).status());
    // The first checkpoint, signed at once: a verifier that pins the key has a start to check.
    if (key) return audit::CreateCheckpoint(ctx.log(), *key, u.name).status();
    return Status::Ok();
  });
  if (!s.ok()) {
    if (key) {
      std::remove(req.signing_key_path.c_str());
      std::remove((req.signing_key_path + ".pub").c_str());
    }
    return s.WithContext("admin init");
  }
  return actor;
}

Expected<policy::User> AddUser(Context& ctx, const Actor& admin, const policy::NewUser& user) {
  policy::User added;
  Status s = RunAdmin(ctx, admin, "user.add", "user:" + user.name, [&]() -> Status {
    FT_ASSIGN_OR_RETURN(added, ctx.store().AddUser(user));
    return ctx.log()
        .Append({admin.name,
                 "user.add",
                 "user:" + added.name,
                 {{"full_name", added.full_name},
                  {"agency", added.agency},
                  {"roles", policy::RoleSetText(added.roles)}}})
        .status();
  });
  FT_RETURN_IF_ERROR(s);
  return added;
}

Status SetRoles(Context& ctx, const Actor& admin, std::string_view user_name,
                const policy::RoleSet& roles) {
  std::string subject = "user:" + std::string(user_name);
  return RunAdmin(ctx, admin, "user.roles", subject, [&]() -> Status {
    FT_ASSIGN_OR_RETURN(policy::User target, FindTarget(ctx, user_name));
    FT_RETURN_IF_ERROR(ctx.store().SetRoles(target.id, roles));
    return ctx.log()
        .Append({admin.name,
                 "user.roles",
                 subject,
                 {{"old", policy::RoleSetText(target.roles)}, {"new", policy::RoleSetText(roles)}}})
        .status();
  });
}

Expected<policy::Certificate> AddCertificate(Context& ctx, const Actor& admin,
                                             std::string_view user_name,
                                             const policy::NewCertificate& cert) {
  policy::Certificate added;
  std::string subject = "user:" + std::string(user_name);
  Status s = RunAdmin(ctx, admin, "certificate.add", subject, [&]() -> Status {
    FT_ASSIGN_OR_RETURN(policy::User target, FindTarget(ctx, user_name));
    FT_ASSIGN_OR_RETURN(added, ctx.store().AddCertificate(target.id, cert));
    return ctx.log().Append({admin.name, "certificate.add", subject, CertJson(added)}).status();
  });
  FT_RETURN_IF_ERROR(s);
  return added;
}

Status RevokeCertificate(Context& ctx, const Actor& admin, std::string_view user_name,
                         std::string_view number, std::string_view reason) {
  std::string subject = "user:" + std::string(user_name);
  if (IsBlank(reason)) return InvalidArgument("revoking a certificate needs a reason");
  FT_RETURN_IF_ERROR(ValidateText("reason", reason, kMaxLongTextBytes, {.multiline = true}));
  return RunAdmin(ctx, admin, "certificate.revoke", subject, [&]() -> Status {
    FT_ASSIGN_OR_RETURN(policy::User target, FindTarget(ctx, user_name));
    FT_ASSIGN_OR_RETURN(auto cert, ctx.store().RevokeCertificate(target.id, number, ctx.NowText(),
                                                                 admin.name, reason));
    return ctx.log().Append({admin.name, "certificate.revoke", subject, CertJson(cert)}).status();
  });
}

Status SetLocked(Context& ctx, const Actor& admin, std::string_view user_name, bool locked,
                 std::string_view reason) {
  std::string subject = "user:" + std::string(user_name);
  std::string action = locked ? "user.lock" : "user.unlock";
  return RunAdmin(ctx, admin, action, subject, [&]() -> Status {
    FT_ASSIGN_OR_RETURN(policy::User target, FindTarget(ctx, user_name));
    FT_RETURN_IF_ERROR(ctx.store().SetLocked(target.id, locked));
    if (!locked) FT_RETURN_IF_ERROR(ClearLoginThrottle(ctx, target.name));
    nlohmann::json details = {{"reason", reason}};
    if (locked) {
      // A locked account is signed out everywhere: its sessions and API tokens end now.
      FT_ASSIGN_OR_RETURN(RevokedCredentials revoked,
                          internal::RevokeAllCredentials(ctx, target.id, admin.name,
                                                         "account locked: " + std::string(reason)));
      details["session_ids"] = revoked.session_ids;
      details["token_ids"] = revoked.token_ids;
    }
    return ctx.log().Append({admin.name, action, subject, details}).status();
  });
}

Expected<policy::PolicyConfig> SetCandidatePolicy(Context& ctx, const Actor& actor,
                                                  std::optional<float> threshold,
                                                  std::optional<int> max_list_length,
                                                  const std::string& reason) {
  if (IsBlank(reason)) {
    return InvalidArgument("reason: a change of the candidate-list policy needs a reason");
  }
  FT_RETURN_IF_ERROR(ValidateText("reason", reason, kMaxLongTextBytes, {.multiline = true}));
  FT_RETURN_IF_ERROR(internal::CheckAnyRole(ctx, actor,
                                            {policy::Role::kSupervisor, policy::Role::kAdmin},
                                            "config.refused", "config:candidates"));
  policy::PolicyConfig config;
  Status saved = ctx.db().InTransaction([&]() -> Status {
    FT_ASSIGN_OR_RETURN(config, ctx.store().LoadConfig());
    auto policy_json = [](const policy::PolicyConfig& c) {
      return nlohmann::json{
          {"max_list_length", c.max_top_k},
          {"threshold", c.candidate_threshold ? nlohmann::json(*c.candidate_threshold)
                                              : nlohmann::json("model calibration")}};
    };
    nlohmann::json old = policy_json(config);
    config.candidate_threshold = threshold;
    if (max_list_length) config.max_top_k = *max_list_length;
    FT_RETURN_IF_ERROR(ctx.store().SaveConfig(config));  // validates the new values
    return ctx.log()
        .Append({actor.name,
                 "config.candidates",
                 "config:candidates",
                 {{"old", old}, {"new", policy_json(config)}, {"reason", reason}}})
        .status();
  });
  if (!saved.ok()) return saved;
  return config;
}

Status BreakGlassUnlock(Context& ctx, std::string_view user_name, std::string_view reason,
                        std::string_view operator_identity) {
  if (IsBlank(reason)) return InvalidArgument("a break-glass unlock needs a reason");
  FT_RETURN_IF_ERROR(ValidateText("reason", reason, kMaxLongTextBytes, {.multiline = true}));
  FT_RETURN_IF_ERROR(ValidateText("name", user_name, kMaxUserNameBytes));
  const std::string subject = "user:" + std::string(user_name);
  return ctx.db().InTransaction([&]() -> Status {
    FT_ASSIGN_OR_RETURN(policy::User target, FindTarget(ctx, user_name));
    FT_RETURN_IF_ERROR(ctx.store().SetLocked(target.id, false));
    FT_RETURN_IF_ERROR(ClearLoginThrottle(ctx, target.name));
    return ctx.log()
        .Append({"break-glass",
                 "user.unlock.break_glass",
                 subject,
                 {{"reason", reason},
                  {"was_locked", target.locked},
                  {"operator", SanitizeUtf8(operator_identity)}}})
        .status();
  });
}

Status UpdateConfig(Context& ctx, const Actor& admin, const policy::PolicyConfig& config) {
  return RunAdmin(ctx, admin, "config.change", "config", [&]() -> Status {
    FT_ASSIGN_OR_RETURN(policy::PolicyConfig old, ctx.store().LoadConfig());
    FT_RETURN_IF_ERROR(ctx.store().SaveConfig(config));
    auto to_json = [](const policy::PolicyConfig& c) {
      return nlohmann::json::parse(policy::ConfigToJsonText(c));
    };
    return ctx.log()
        .Append({admin.name,
                 "config.change",
                 "config",
                 {{"old", to_json(old)}, {"new", to_json(config)}}})
        .status();
  });
}

}  // namespace facetrail::service
