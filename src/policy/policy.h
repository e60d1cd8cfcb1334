// policy: who may do what, for which case. Users, roles, training certificates, passwords, the
// configurable rules of a search request, and the store that keeps them (SQLite, component
// "policy"). Rules and configuration: docs/POLICY.md.
//
// WHAT THIS REPRESENTS
//   Pure rule functions (CheckSearchRequest, CheckReviewer, CheckProbeQuality, ...) that turn
//   facts into a Refusal or nothing, and a PolicyStore that reads and writes users, certificates
//   and configuration. Neither writes the audit log: the use cases in service/ call them inside
//   a transaction and append the audit entry (a refusal is a normal, audited outcome).
//
// THREAD SAFETY
//   Rule functions are pure. A PolicyStore is bound to one Db (one thread at a time).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/db.h"
#include "common/status.h"
#include "vision/face_pipeline.h"

namespace facetrail::policy {

// ---- Roles ----

enum class Role { kSearcher, kExaminer, kSupervisor, kAuditor, kAdmin };
std::string_view RoleName(Role role);  // "searcher", "examiner", ...
Expected<Role> ParseRole(std::string_view name);
using RoleSet = std::set<Role>;
std::string RoleSetText(const RoleSet& roles);  // "examiner,searcher"
// Non-empty; admin may not be combined with any other role (kInvalidArgument otherwise).
Status ValidateRoles(const RoleSet& roles);

// ---- Users and certificates ----

struct Certificate {
  int64_t id = 0;
  std::string course;
  std::string number;
  std::string issued;   // YYYY-MM-DD, first valid day
  std::string expires;  // YYYY-MM-DD, last valid day
  std::string issued_by;
  std::optional<std::string> revoked_at;  // UTC time of revocation
  std::optional<std::string> revoked_by;
  std::optional<std::string> revoke_reason;
};

struct User {
  int64_t id = 0;
  std::string name;
  std::string full_name;
  std::string agency;
  RoleSet roles;
  bool locked = false;
  int failed_logins = 0;
  std::vector<Certificate> certificates;
  bool HasRole(Role role) const { return roles.count(role) != 0; }
};

// ---- Configuration ----

// A complete quality gate: what CheckProbeQuality applies to a probe's face.
struct QualityGate {
  float min_eye_distance_px = 0;  // below this the template is unreliable (too small a face)
  float min_detector_score = 0.6f;
  float min_sharpness = 0;  // variance of the Laplacian of the aligned grey chip
  float max_abs_yaw_deg = 35;
  float max_abs_pitch_deg = 30;
  float max_abs_roll_deg = 35;
};

// The department's quality policy. The eye-distance and sharpness limits depend on the
// recognition model (how much each model loses on small or blurred faces): unset, they are the
// limits `facetrail eval` calibrated for the gallery's active model (docs/MODELS.md); set, the
// department's own. The angle and detector limits are the department's.
struct QualityPolicy {
  std::optional<float> min_eye_distance_px;
  float min_detector_score = 0.6f;
  std::optional<float> min_sharpness;
  float max_abs_yaw_deg = 35;
  float max_abs_pitch_deg = 30;
  float max_abs_roll_deg = 35;
};

// The calibrated limits of the model that made a probe's template (from its manifest).
struct ModelQualityLimits {
  std::optional<float> min_eye_distance_px;
  std::optional<float> min_sharpness;
  std::string model;  // the model's name, for messages
};

// The gate for a probe made by `model`: the policy's limits, the model's where the policy has
// none. kFailedPrecondition when a limit is in neither (an uncertified model: docs/MODELS.md).
Expected<QualityGate> ResolveQualityGate(const QualityPolicy& policy,
                                         const ModelQualityLimits& model);

struct PolicyConfig {
  std::string home_agency;  // the only agency searches may be made for; set by admin init
  // ECMAScript regular expression the whole case number must match.
  std::string case_number_regex = "[A-Z0-9]{2,10}-[0-9]{2,4}-[0-9A-Z]{1,10}";
  std::vector<std::string> purposes = {"criminal investigation", "imminent threat to life",
                                       "identifying a person unable to identify themselves"};
  // Sign-in throttling (docs/POLICY.md, "Accounts and passwords"): failures never lock an
  // account. After max_failed_logins consecutive failures of one account name (known or not),
  // or max_failed_logins_per_address from one client address, the next attempt must wait
  // login_delay_s, doubled with each further failure up to login_max_delay_s; failures are
  // forgotten login_cooldown_s after the last one.
  int max_failed_logins = 5;
  int max_failed_logins_per_address = 20;
  int login_delay_s = 2;
  int login_max_delay_s = 900;
  int login_cooldown_s = 3600;
  QualityPolicy quality;
  int probe_retention_days = 365;  // probe images purged after this, unless the case is on hold
  // The candidate-list policy, one for the command line, the API and the web application
  // (docs/POLICY.md, "The candidate list"): every list has at most max_top_k candidates (a
  // searcher may ask for fewer), each scoring at least candidate_threshold; unset, the threshold
  // `facetrail eval` calibrated for the model the search runs (models/*.model.json).
  int max_top_k = 20;
  std::optional<float> candidate_threshold;
  // The scale of an examiner's conclusion about one candidate (docs/POLICY.md, "Review of
  // leads"); "not examined" is never on it.
  std::vector<std::string> conclusion_scale = {"possible lead", "not a lead",
                                               "insufficient detail"};
};

// Checks the configuration itself (regex compiles, purposes non-empty, limits positive).
Status ValidateConfig(const PolicyConfig& config);
// The configuration as a JSON object text (the stored and documented form) and back; missing
// keys keep their defaults. kInvalidArgument for malformed JSON or wrong types.
std::string ConfigToJsonText(const PolicyConfig& config);
Expected<PolicyConfig> ParseConfigJson(std::string_view text);

// ---- Refusals ----

enum class RefusalCode {
  kAccountLocked,
  kWrongRole,
  kNoValidCertificate,
  kMissingCaseNumber,
  kMalformedCaseNumber,
  kPurposeNotAllowed,
  kMissingOffense,
  kMissingJustification,
  kMissingAgency,  // no requesting agency given (before: "outside agency ''")
  kOutsideAgency,
  kProbeIsVideo,
  kProbeUnreadable,
  kNoFaceInProbe,
  kProbeQuality,
  kSameExaminer,  // reviewer is the requester or the first examiner
  kNotRequester,
  kNotOwner,         // an API token of another user
  kSessionRequired,  // an API token may not create API tokens
};
std::string_view RefusalCodeName(RefusalCode code);  // stable snake_case, used in JSON

struct Refusal {
  RefusalCode code;
  std::string reason;  // for the user: what is wrong and what would make it right
  // The PermissionDenied status the use cases return: "<code>: <reason>".
  Status ToStatus() const;
};

// The fields a searcher supplies.
struct SearchRequestFields {
  std::string case_number;
  std::string purpose;
  std::string offense;
  std::string justification;
  std::string agency;
};

// ---- Rules (pure) ----

// Certificates: valid on `today` (YYYY-MM-DD) when issued <= today <= expires and not revoked.
// Returns the first valid certificate, or a kNoValidCertificate refusal that says why (none,
// expired on D, revoked at T).
Expected<Certificate> ValidCertificate(const User& user, std::string_view today);
std::optional<Refusal> CheckCertificate(const User& user, std::string_view today);

// Role + certificate for searcher/examiner actions, the role alone for the others.
std::optional<Refusal> CheckActor(const User& user, Role role, std::string_view today);

// The whole search request except the probe, in this order: account, role, certificate, case,
// purpose, offence, justification, agency.
std::optional<Refusal> CheckSearchRequest(const User& user, const SearchRequestFields& fields,
                                          const PolicyConfig& config, std::string_view today);

// The quality gate for the probe's face.
std::optional<Refusal> CheckProbeQuality(const vision::FaceQuality& quality,
                                         const QualityGate& gate);

// ---- Sign-in throttling (pure) ----

// Consecutive failed sign-ins under one key (an account name, a client address).
struct LoginThrottle {
  int failures = 0;
  int64_t last_failure_at = 0;  // Unix seconds
  int64_t blocked_until = 0;    // Unix seconds; attempts before this are refused unchecked
};
// `t` as of `now`: all forgotten when the last failure is config.login_cooldown_s old.
LoginThrottle ThrottleAsOf(const LoginThrottle& t, int64_t now, const PolicyConfig& config);
// `t` after one more failure at `now`: once failures reach `free_failures`, blocked for
// login_delay_s × 2^(failures − free_failures), at most login_max_delay_s.
LoginThrottle ThrottleAfterFailure(const LoginThrottle& t, int64_t now, int free_failures,
                                   const PolicyConfig& config);

// ---- Passwords (Argon2id, libsodium crypto_pwhash_str) ----

struct PasswordCost {
  uint64_t ops_limit;
  size_t mem_limit_bytes;
  static PasswordCost Interactive();  // libsodium's INTERACTIVE limits (default)
  static PasswordCost Minimum();      // for tests only
};
// kInvalidArgument for passwords shorter than 12 characters or longer than kMaxPasswordBytes.
Expected<std::string> HashPassword(std::string_view password, const PasswordCost& cost);
bool PasswordMatches(std::string_view stored_hash, std::string_view password);

// ---- Store ----

struct NewUser {
  std::string name;  // [a-z0-9._-]{2,64}
  std::string full_name;
  std::string agency;
  RoleSet roles;
  std::string password;
};

struct NewCertificate {
  std::string course;
  std::string number;
  std::string issued;
  std::string expires;
  std::string issued_by;
};

class PolicyStore {
 public:
  // Migrates the "policy" schema. requires: db outlives the store.
  static Expected<PolicyStore> Open(Db& db, PasswordCost cost = PasswordCost::Interactive());

  Expected<int64_t> NumUsers();
  Expected<User> FindUser(std::string_view name);  // kNotFound
  Expected<User> GetUser(int64_t id);
  Expected<std::vector<User>> ListUsers();

  // Write operations; callers wrap them in a transaction with their audit entry.
  Expected<User> AddUser(const NewUser& user);  // kAlreadyExists, kInvalidArgument
  Status SetRoles(int64_t user_id, const RoleSet& roles);
  Status SetPassword(int64_t user_id, std::string_view password);
  Status SetLocked(int64_t user_id, bool locked);  // unlocking also clears the failure count
  Expected<Certificate> AddCertificate(int64_t user_id, const NewCertificate& cert);
  // kNotFound for an unknown number of this user; kFailedPrecondition if already revoked.
  Expected<Certificate> RevokeCertificate(int64_t user_id, std::string_view number,
                                          std::string_view revoked_at, std::string_view revoked_by,
                                          std::string_view reason);

  // Sign-in reads, in two steps so that the slow Argon2id check runs outside any transaction
  // (service::Login): the stored hash and lock of `name` (nullopt for an unknown name), then
  // VerifyPassword, which spends the same time on a dummy hash when there is no record.
  struct LoginRecord {
    int64_t id = 0;
    std::string password_hash;
    bool locked = false;
  };
  Expected<std::optional<LoginRecord>> FindLoginRecord(std::string_view name);
  bool VerifyPassword(const std::optional<LoginRecord>& record, std::string_view password) const;

  // Throttle state by key ("user:NAME", "address:ADDR"); a key never seen is all zeros.
  Expected<LoginThrottle> LoadThrottle(std::string_view key);
  Status SaveThrottle(std::string_view key, const LoginThrottle& throttle);  // 0 failures: forget
  Status SetFailedLogins(int64_t user_id, int failed_logins);  // the count shown to admins

  Expected<PolicyConfig> LoadConfig();
  Status SaveConfig(const PolicyConfig& config);  // validates first

  Db& db() { return *db_; }

 private:
  PolicyStore(Db& db, PasswordCost cost) : db_(&db), cost_(cost) {}
  Expected<std::vector<Certificate>> Certificates(int64_t user_id);
  Expected<User> ReadUser(Stmt& stmt);

  Db* db_;
  PasswordCost cost_;
};

}  // namespace facetrail::policy
