// The pure rules of docs/POLICY.md: roles, certificates, search request fields, quality gate.
#include <algorithm>
#include <cmath>
#include <regex>

#include "common/text.h"
#include "policy/policy.h"

namespace facetrail::policy {

namespace {

// Blank in Unicode (common/text.h): white space, invisible characters, punctuation alone.
bool Blank(std::string_view s) {
  return IsBlank(s);
}

std::string Fmt(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(v));
  return buf;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kSearcher: return "searcher";
    case Role::kExaminer: return "examiner";
    case Role::kSupervisor: return "supervisor";
    case Role::kAuditor: return "auditor";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

Expected<Role> ParseRole(std::string_view name) {
  for (Role r :
       {Role::kSearcher, Role::kExaminer, Role::kSupervisor, Role::kAuditor, Role::kAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return InvalidArgument("unknown role '" + std::string(name) +
                         "' (roles: searcher, examiner, supervisor, auditor, admin)");
}

std::string RoleSetText(const RoleSet& roles) {
  std::vector<std::string> names;
  for (Role r : roles) names.emplace_back(RoleName(r));
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

Status ValidateRoles(const RoleSet& roles) {
  if (roles.empty()) return InvalidArgument("a user needs at least one role");
  if (roles.count(Role::kAdmin) && roles.size() > 1) {
    return InvalidArgument("the admin role cannot be combined with other roles (" +
                           RoleSetText(roles) +
                           "): administrators may not search, review or "
                           "audit");
  }
  return Status::Ok();
}

Status ValidateConfig(const PolicyConfig& config) {
  if (Blank(config.home_agency)) return InvalidArgument("home agency is empty");
  try {
    std::regex re(config.case_number_regex);
  } catch (const std::regex_error& e) {
    return InvalidArgument("case number pattern '" + config.case_number_regex +
                           "' is not a valid regular expression: " + e.what());
  }
  if (config.purposes.empty()) return InvalidArgument("the list of purposes is empty");
  for (const auto& p : config.purposes) {
    if (Blank(p)) return InvalidArgument("a purpose is blank");
  }
  if (config.max_failed_logins < 1) return InvalidArgument("max_failed_logins must be >= 1");
  if (config.max_failed_logins_per_address < 1) {
    return InvalidArgument("max_failed_logins_per_address must be >= 1");
  }
  if (config.login_delay_s < 1 || config.login_max_delay_s < config.login_delay_s) {
    return InvalidArgument("login delays must be >= 1 s, login_max_delay_s >= login_delay_s");
  }
  if (config.login_cooldown_s < config.login_max_delay_s) {
    return InvalidArgument("login_cooldown_s must be >= login_max_delay_s");
  }
  if (config.probe_retention_days < 1) return InvalidArgument("probe_retention_days must be >= 1");
  if (config.max_top_k < 1) return InvalidArgument("max_top_k must be >= 1");
  if (config.max_top_k > 1000) return InvalidArgument("max_top_k must be <= 1000");
  if (config.candidate_threshold &&
      !(*config.candidate_threshold >= -1.f && *config.candidate_threshold <= 1.f)) {
    return InvalidArgument("candidate_threshold must be a similarity between -1 and 1");
  }
  if (config.conclusion_scale.size() < 2) {
    return InvalidArgument("conclusion_scale needs at least two conclusions");
  }
  std::set<std::string> conclusions;
  for (const auto& c : config.conclusion_scale) {
    if (Blank(c) || c.size() > 64) {
      return InvalidArgument("a conclusion on conclusion_scale is blank or longer than 64 bytes");
    }
    if (c == "not examined") {
      return InvalidArgument(
          "'not examined' is the state of a candidate nobody examined, not a "
          "conclusion");
    }
    if (!conclusions.insert(c).second) {
      return InvalidArgument("conclusion_scale lists '" + c + "' twice");
    }
  }
  return Status::Ok();
}

std::string_view RefusalCodeName(RefusalCode code) {
  switch (code) {
    case RefusalCode::kAccountLocked: return "account_locked";
    case RefusalCode::kWrongRole: return "wrong_role";
    case RefusalCode::kNoValidCertificate: return "no_valid_certificate";
    case RefusalCode::kMissingCaseNumber: return "missing_case_number";
    case RefusalCode::kMalformedCaseNumber: return "malformed_case_number";
    case RefusalCode::kPurposeNotAllowed: return "purpose_not_allowed";
    case RefusalCode::kMissingOffense: return "missing_offense";
    case RefusalCode::kMissingJustification: return "missing_justification";
    case RefusalCode::kMissingAgency: return "missing_agency";
    case RefusalCode::kOutsideAgency: return "outside_agency";
    case RefusalCode::kProbeIsVideo: return "probe_is_video";
    case RefusalCode::kProbeUnreadable: return "probe_unreadable";
    case RefusalCode::kNoFaceInProbe: return "no_face_in_probe";
    case RefusalCode::kProbeQuality: return "probe_quality";
    case RefusalCode::kSameExaminer: return "same_examiner";
    case RefusalCode::kNotRequester: return "not_requester";
    case RefusalCode::kNotOwner: return "not_owner";
    case RefusalCode::kSessionRequired: return "session_required";
  }
  return "unknown";
}

Status Refusal::ToStatus() const {
  return PermissionDenied(std::string(RefusalCodeName(code)) + ": " + reason);
}

Expected<Certificate> ValidCertificate(const User& user, std::string_view today) {
  if (user.certificates.empty()) {
    return PermissionDenied(user.name + " holds no training certificate");
  }
  std::string why;
  for (const Certificate& c : user.certificates) {
    std::string name = "certificate " + c.number + " (" + c.course + ")";
    if (c.revoked_at) {
      why = name + " was revoked at " + *c.revoked_at +
            (c.revoke_reason ? " (" + *c.revoke_reason + ")" : "");
    } else if (today > c.expires) {
      why = name + " expired on " + c.expires;
    } else if (today < c.issued) {
      why = name + " is valid only from " + c.issued;
    } else {
      return c;
    }
  }
  return PermissionDenied(user.name + " holds no valid training certificate: " + why);
}

std::optional<Refusal> CheckCertificate(const User& user, std::string_view today) {
  auto c = ValidCertificate(user, today);
  if (c.ok()) return std::nullopt;
  return Refusal{RefusalCode::kNoValidCertificate, c.status().message()};
}

std::optional<Refusal> CheckActor(const User& user, Role role, std::string_view today) {
  if (user.locked) {
    return Refusal{RefusalCode::kAccountLocked, "the account of " + user.name + " is locked"};
  }
  if (!user.HasRole(role)) {
    return Refusal{RefusalCode::kWrongRole, user.name + " does not have the " +
                                                std::string(RoleName(role)) +
                                                " role (has: " + RoleSetText(user.roles) + ")"};
  }
  if (role == Role::kSearcher || role == Role::kExaminer) return CheckCertificate(user, today);
  return std::nullopt;
}

std::optional<Refusal> CheckSearchRequest(const User& user, const SearchRequestFields& f,
                                          const PolicyConfig& config, std::string_view today) {
  if (auto r = CheckActor(user, Role::kSearcher, today)) return r;
  if (Blank(f.case_number)) {
    return Refusal{RefusalCode::kMissingCaseNumber, "a search needs a case number"};
  }
  bool case_ok = false;
  try {
    case_ok = std::regex_match(f.case_number, std::regex(config.case_number_regex));
  } catch (const std::regex_error&) {
    case_ok = false;  // ValidateConfig rejects such patterns; refuse rather than allow
  }
  if (!case_ok) {
    return Refusal{RefusalCode::kMalformedCaseNumber,
                   "case number '" + f.case_number + "' does not match the configured format " +
                       config.case_number_regex};
  }
  if (std::find(config.purposes.begin(), config.purposes.end(), f.purpose) ==
      config.purposes.end()) {
    std::string list;
    for (const auto& p : config.purposes) list += (list.empty() ? "'" : ", '") + p + "'";
    return Refusal{RefusalCode::kPurposeNotAllowed,
                   "purpose '" + f.purpose + "' is not on the list: " + list};
  }
  if (Blank(f.offense)) {
    return Refusal{RefusalCode::kMissingOffense, "a search needs the offence type"};
  }
  if (Blank(f.justification)) {
    return Refusal{RefusalCode::kMissingJustification, "a search needs a written justification"};
  }
  if (Blank(f.agency)) {
    return Refusal{RefusalCode::kMissingAgency,
                   "missing agency: a search needs the requesting agency (the home agency is '" +
                       config.home_agency + "')"};
  }
  if (f.agency != config.home_agency || f.agency != user.agency) {
    return Refusal{RefusalCode::kOutsideAgency,
                   "searches are made only for the home agency '" + config.home_agency +
                       "' by its own members; requested for '" + f.agency + "' by a member of '" +
                       user.agency + "'"};
  }
  return std::nullopt;
}

LoginThrottle ThrottleAsOf(const LoginThrottle& t, int64_t now, const PolicyConfig& config) {
  if (t.failures > 0 && now - t.last_failure_at >= config.login_cooldown_s) return {};
  return t;
}

LoginThrottle ThrottleAfterFailure(const LoginThrottle& t, int64_t now, int free_failures,
                                   const PolicyConfig& config) {
  LoginThrottle out = ThrottleAsOf(t, now, config);
  out.failures += 1;
  out.last_failure_at = now;
  if (out.failures >= free_failures) {
    const int doublings = std::min(out.failures - free_failures, 30);
    const int64_t delay =
        std::min<int64_t>(config.login_max_delay_s, int64_t{config.login_delay_s} << doublings);
    out.blocked_until = now + delay;
  }
  return out;
}

Expected<QualityGate> ResolveQualityGate(const QualityPolicy& policy,
                                         const ModelQualityLimits& model) {
  QualityGate g;
  g.min_detector_score = policy.min_detector_score;
  g.max_abs_yaw_deg = policy.max_abs_yaw_deg;
  g.max_abs_pitch_deg = policy.max_abs_pitch_deg;
  g.max_abs_roll_deg = policy.max_abs_roll_deg;
  auto pick = [&](const std::optional<float>& mine, const std::optional<float>& theirs,
                  const char* what, float& out) -> Status {
    if (mine) {
      out = *mine;
    } else if (theirs) {
      out = *theirs;
    } else {
      return FailedPrecondition(
          std::string("no ") + what + " limit for the probe: model '" + model.model +
          "' has no calibration and the quality policy sets none (certify the model with "
          "facetrail eval report --calibrate, or set quality." +
          what + " with admin config set)");
    }
    return Status::Ok();
  };
  FT_RETURN_IF_ERROR(pick(policy.min_eye_distance_px, model.min_eye_distance_px,
                          "min_eye_distance_px", g.min_eye_distance_px));
  FT_RETURN_IF_ERROR(
      pick(policy.min_sharpness, model.min_sharpness, "min_sharpness", g.min_sharpness));
  return g;
}

std::optional<Refusal> CheckProbeQuality(const vision::FaceQuality& q, const QualityGate& gate) {
  std::string why;
  auto add = [&why](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
  if (!(q.eye_distance_px >= gate.min_eye_distance_px)) {
    add("face too small (eye distance " + Fmt(q.eye_distance_px) + " px < " +
        Fmt(gate.min_eye_distance_px) + ")");
  } else if (!std::isnan(q.effective_eye_distance_px) &&
             !(q.effective_eye_distance_px >= gate.min_eye_distance_px)) {
    // Enlarged: the pixels are there, the detail is not (vision::FaceQuality).
    add("face too small: enlarged about " + Fmt(q.effective_scale) +
        "x, it carries the detail of " + Fmt(q.effective_eye_distance_px) +
        " px between the eyes < " + Fmt(gate.min_eye_distance_px) + " (eye distance as it stands " +
        Fmt(q.eye_distance_px) + " px)");
  }
  if (!(q.detector_score >= gate.min_detector_score)) {
    add("face detection too uncertain (score " + Fmt(q.detector_score) + " < " +
        Fmt(gate.min_detector_score) + ")");
  }
  if (!(q.sharpness >= gate.min_sharpness)) {
    add("too blurred (sharpness " + Fmt(q.sharpness) + " < " + Fmt(gate.min_sharpness) + ")");
  } else if (!std::isnan(q.detail) && !(q.detail >= gate.min_sharpness)) {
    // Noisy: the sharpness is the noise's (vision::FaceQuality).
    add("too blurred under noise: sharpness " + Fmt(q.sharpness) + " is mostly noise (sigma " +
        Fmt(q.noise_sigma) + "); the detail without it is " + Fmt(q.detail) + " < " +
        Fmt(gate.min_sharpness));
  }
  if (!(std::fabs(q.yaw_deg) <= gate.max_abs_yaw_deg)) {
    add("head turned too far (yaw " + Fmt(q.yaw_deg) + "°)");
  }
  if (!(std::fabs(q.pitch_deg) <= gate.max_abs_pitch_deg)) {
    add("head tilted too far up or down (pitch " + Fmt(q.pitch_deg) + "°)");
  }
  if (!(std::fabs(q.roll_deg) <= gate.max_abs_roll_deg)) {
    add("head rolled too far (roll " + Fmt(q.roll_deg) + "°)");
  }
  if (why.empty()) return std::nullopt;
  return Refusal{RefusalCode::kProbeQuality,
                 "the probe fails the quality gate: " + why +
                     "; a supervisor may approve an override with a reason"};
}

}  // namespace facetrail::policy
