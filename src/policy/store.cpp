// PolicyStore: users, roles, certificates and configuration in SQLite (component "policy").
#include <nlohmann/json.hpp>
#include <regex>

#include "common/text.h"
#include "policy/policy.h"

namespace facetrail::policy {

namespace {

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
CREATE TABLE policy_users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  full_name TEXT NOT NULL,
  agency TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE policy_user_roles (
  user_id INTEGER NOT NULL REFERENCES policy_users(id),
  role TEXT NOT NULL CHECK (role IN ('searcher', 'examiner', 'supervisor', 'auditor', 'admin')),
  PRIMARY KEY (user_id, role)
);
CREATE TABLE policy_certificates (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES policy_users(id),
  course TEXT NOT NULL,
  number TEXT NOT NULL,
  issued TEXT NOT NULL,
  expires TEXT NOT NULL,
  issued_by TEXT NOT NULL,
  revoked_at TEXT,
  revoked_by TEXT,
  revoke_reason TEXT,
  UNIQUE (user_id, number)
);
CREATE TABLE policy_config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql"},
      // Issue 14: sign-in throttling by account name and by client address replaces the lock.
      {2, R"sql(
CREATE TABLE policy_login_throttle (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  last_failure_at INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL
);
)sql"},
  };
  return kMigrations;
}

bool IsDate(const std::string& s) {
  static const std::regex kDate("[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])");
  return std::regex_match(s, kDate);
}

// The stored configuration's format: 2 made the eye-distance and sharpness limits optional
// (unset: the active model's calibrated limits).
constexpr int kConfigFormat = 2;

nlohmann::json OptionalNumber(const std::optional<float>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json ConfigToJson(const PolicyConfig& c) {
  const QualityPolicy& q = c.quality;
  return {{"format", kConfigFormat},
          {"home_agency", c.home_agency},
          {"case_number_regex", c.case_number_regex},
          {"purposes", c.purposes},
          {"max_failed_logins", c.max_failed_logins},
          {"max_failed_logins_per_address", c.max_failed_logins_per_address},
          {"login_delay_s", c.login_delay_s},
          {"login_max_delay_s", c.login_max_delay_s},
          {"login_cooldown_s", c.login_cooldown_s},
          {"probe_retention_days", c.probe_retention_days},
          {"max_top_k", c.max_top_k},
          {"candidate_threshold", OptionalNumber(c.candidate_threshold)},
          {"conclusion_scale", c.conclusion_scale},
          {"quality",
           {{"min_eye_distance_px", OptionalNumber(q.min_eye_distance_px)},
            {"min_detector_score", q.min_detector_score},
            {"min_sharpness", OptionalNumber(q.min_sharpness)},
            {"max_abs_yaw_deg", q.max_abs_yaw_deg},
            {"max_abs_pitch_deg", q.max_abs_pitch_deg},
            {"max_abs_roll_deg", q.max_abs_roll_deg}}}};
}

PolicyConfig ConfigFromJson(const nlohmann::json& j) {
  PolicyConfig c;
  c.home_agency = j.value("home_agency", c.home_agency);
  c.case_number_regex = j.value("case_number_regex", c.case_number_regex);
  c.purposes = j.value("purposes", c.purposes);
  c.max_failed_logins = j.value("max_failed_logins", c.max_failed_logins);
  c.max_failed_logins_per_address =
      j.value("max_failed_logins_per_address", c.max_failed_logins_per_address);
  c.login_delay_s = j.value("login_delay_s", c.login_delay_s);
  c.login_max_delay_s = j.value("login_max_delay_s", c.login_max_delay_s);
  c.login_cooldown_s = j.value("login_cooldown_s", c.login_cooldown_s);
  c.probe_retention_days = j.value("probe_retention_days", c.probe_retention_days);
  c.max_top_k = j.value("max_top_k", c.max_top_k);
  if (j.contains("candidate_threshold") && !j["candidate_threshold"].is_null()) {
    c.candidate_threshold = j["candidate_threshold"].get<float>();
  }
  c.conclusion_scale = j.value("conclusion_scale", c.conclusion_scale);
  if (j.contains("quality")) {
    const auto& q = j["quality"];
    QualityPolicy& g = c.quality;
    auto optional = [&](const char* key) -> std::optional<float> {
      if (!q.contains(key) || q[key].is_null()) return std::nullopt;
      return q[key].get<float>();
    };
    g.min_eye_distance_px = optional("min_eye_distance_px");
    g.min_sharpness = optional("min_sharpness");
    // Format 1 stored the fixed defaults (20 px, 15) whether or not anyone chose them: those
    // become unset, so the model's calibrated limits apply.
    if (j.value("format", 1) < 2) {
      if (g.min_eye_distance_px == 20.f) g.min_eye_distance_px.reset();
      if (g.min_sharpness == 15.f) g.min_sharpness.reset();
    }
    g.min_detector_score = q.value("min_detector_score", g.min_detector_score);
    g.max_abs_yaw_deg = q.value("max_abs_yaw_deg", g.max_abs_yaw_deg);
    g.max_abs_pitch_deg = q.value("max_abs_pitch_deg", g.max_abs_pitch_deg);
    g.max_abs_roll_deg = q.value("max_abs_roll_deg", g.max_abs_roll_deg);
  }
  return c;
}

constexpr const char* kUserColumns =
    "SELECT id, name, full_name, agency, failed_logins, locked FROM policy_users ";

}  // namespace

std::string ConfigToJsonText(const PolicyConfig& config) {
  return ConfigToJson(config).dump();
}

Expected<PolicyConfig> ParseConfigJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("policy configuration is not a JSON object");
  }
  try {
    return ConfigFromJson(j);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("policy configuration: ") + e.what());
  }
}

Expected<PolicyStore> PolicyStore::Open(Db& db, PasswordCost cost) {
  FT_RETURN_IF_ERROR(db.Migrate("policy", Migrations()));
  return PolicyStore(db, cost);
}

Expected<int64_t> PolicyStore::NumUsers() {
  FT_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT count(*) FROM policy_users"));
  FT_RETURN_IF_ERROR(stmt.Step().status());
  return stmt.Int(0);
}

Expected<std::vector<Certificate>> PolicyStore::Certificates(int64_t user_id) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      db_->Prepare("SELECT id, course, number, issued, expires, issued_by, "
                                   "revoked_at, revoked_by, revoke_reason FROM "
                                   "policy_certificates WHERE user_id = ? ORDER BY id"));
  stmt.Bind(1, user_id);
  std::vector<Certificate> out;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    Certificate c;
    c.id = stmt.Int(0);
    c.course = stmt.Text(1);
    c.number = stmt.Text(2);
    c.issued = stmt.Text(3);
    c.expires = stmt.Text(4);
    c.issued_by = stmt.Text(5);
    c.revoked_at = stmt.OptText(6);
    c.revoked_by = stmt.OptText(7);
    c.revoke_reason = stmt.OptText(8);
    out.push_back(std::move(c));
  }
  return out;
}

Expected<User> PolicyStore::ReadUser(Stmt& stmt) {
  User u;
  u.id = stmt.Int(0);
  u.name = stmt.Text(1);
  u.full_name = stmt.Text(2);
  u.agency = stmt.Text(3);
  u.failed_logins = static_cast<int>(stmt.Int(4));
  u.locked = stmt.Int(5) != 0;
  FT_ASSIGN_OR_RETURN(auto roles, db_->Prepare("SELECT role FROM policy_user_roles WHERE "
                                               "user_id = ?"));
  roles.Bind(1, u.id);
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, roles.Step());
    if (!row) break;
    FT_ASSIGN_OR_RETURN(Role r, ParseRole(roles.Text(0)));
    u.roles.insert(r);
  }
  FT_ASSIGN_OR_RETURN(u.certificates, Certificates(u.id));
  return u;
}

Expected<User> PolicyStore::FindUser(std::string_view name) {
  FT_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string(kUserColumns) + "WHERE name = ?"));
  stmt.Bind(1, name);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFound("no user named '" + std::string(name) + "'");
  return ReadUser(stmt);
}

Expected<User> PolicyStore::GetUser(int64_t id) {
  FT_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string(kUserColumns) + "WHERE id = ?"));
  stmt.Bind(1, id);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFound("no user with id " + std::to_string(id));
  return ReadUser(stmt);
}

Expected<std::vector<User>> PolicyStore::ListUsers() {
  FT_ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string(kUserColumns) + "ORDER BY name"));
  std::vector<User> out;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    FT_ASSIGN_OR_RETURN(User u, ReadUser(stmt));
    out.push_back(std::move(u));
  }
  return out;
}

Expected<User> PolicyStore::AddUser(const NewUser& nu) {
  FT_RETURN_IF_ERROR(ValidateText("name", nu.name, kMaxUserNameBytes));
  FT_RETURN_IF_ERROR(ValidateText("full_name", nu.full_name, kMaxShortTextBytes));
  FT_RETURN_IF_ERROR(ValidateText("agency", nu.agency, kMaxShortTextBytes));
  static const std::regex kName("[a-z0-9._-]{2,64}");
  if (!std::regex_match(nu.name, kName)) {
    return InvalidArgument("user name '" + nu.name +
                           "' must be 2-64 characters of a-z, 0-9, '.', '_' or '-'");
  }
  if (IsBlank(nu.agency)) return InvalidArgument("user " + nu.name + ": agency is empty");
  FT_RETURN_IF_ERROR(ValidateRoles(nu.roles).WithContext("user " + nu.name));
  FT_ASSIGN_OR_RETURN(std::string hash, HashPassword(nu.password, cost_));
  FT_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("INSERT INTO policy_users(name, full_name, agency, "
                                              "password_hash) VALUES (?, ?, ?, ?) RETURNING id"));
  stmt.Bind(1, nu.name).Bind(2, nu.full_name).Bind(3, nu.agency).Bind(4, hash);
  Expected<int64_t> inserted = stmt.InsertedId();
  if (inserted.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("user '" + nu.name + "' exists");
  }
  FT_ASSIGN_OR_RETURN(int64_t id, std::move(inserted));
  FT_RETURN_IF_ERROR(SetRoles(id, nu.roles));
  return GetUser(id);
}

Status PolicyStore::SetRoles(int64_t user_id, const RoleSet& roles) {
  FT_RETURN_IF_ERROR(ValidateRoles(roles));
  return db_->InTransaction([&]() -> Status {
    FT_ASSIGN_OR_RETURN(auto del, db_->Prepare("DELETE FROM policy_user_roles WHERE user_id = ?"));
    del.Bind(1, user_id);
    FT_RETURN_IF_ERROR(del.Run());
    for (Role r : roles) {
      FT_ASSIGN_OR_RETURN(auto ins, db_->Prepare("INSERT INTO policy_user_roles(user_id, role) "
                                                 "VALUES (?, ?)"));
      ins.Bind(1, user_id).Bind(2, RoleName(r));
      FT_RETURN_IF_ERROR(ins.Run());
    }
    return Status::Ok();
  });
}

Status PolicyStore::SetPassword(int64_t user_id, std::string_view password) {
  FT_ASSIGN_OR_RETURN(std::string hash, HashPassword(password, cost_));
  FT_ASSIGN_OR_RETURN(auto stmt,
                      db_->Prepare("UPDATE policy_users SET password_hash = ? WHERE id = ?"));
  stmt.Bind(1, hash).Bind(2, user_id);
  return stmt.Run();
}

Status PolicyStore::SetLocked(int64_t user_id, bool locked) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      db_->Prepare("UPDATE policy_users SET locked = ?, failed_logins = CASE "
                                   "WHEN ? <> 0 THEN failed_logins ELSE 0 END WHERE id = ?"));
  stmt.Bind(1, int64_t{locked}).Bind(2, int64_t{locked}).Bind(3, user_id);
  FT_RETURN_IF_ERROR(stmt.Run());
  if (db_->Changes() == 0) return NotFound("no user with id " + std::to_string(user_id));
  return Status::Ok();
}

Expected<Certificate> PolicyStore::AddCertificate(int64_t user_id, const NewCertificate& nc) {
  if (IsBlank(nc.course) || IsBlank(nc.number) || IsBlank(nc.issued_by)) {
    return InvalidArgument("a certificate needs course, number and issuer");
  }
  FT_RETURN_IF_ERROR(ValidateText("course", nc.course, kMaxShortTextBytes));
  FT_RETURN_IF_ERROR(ValidateText("number", nc.number, kMaxShortTextBytes));
  FT_RETURN_IF_ERROR(ValidateText("issued_by", nc.issued_by, kMaxShortTextBytes));
  if (!IsDate(nc.issued) || !IsDate(nc.expires)) {
    return InvalidArgument("certificate dates must be YYYY-MM-DD (issued '" + nc.issued +
                           "', expires '" + nc.expires + "')");
  }
  if (nc.expires < nc.issued) {
    return InvalidArgument("certificate " + nc.number + " expires before it is issued");
  }
  FT_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("INSERT INTO policy_certificates(user_id, course, number, "
                   "issued, expires, issued_by) VALUES (?, ?, ?, ?, ?, ?) RETURNING id"));
  stmt.Bind(1, user_id)
      .Bind(2, nc.course)
      .Bind(3, nc.number)
      .Bind(4, nc.issued)
      .Bind(5, nc.expires)
      .Bind(6, nc.issued_by);
  Expected<int64_t> inserted = stmt.InsertedId();
  if (inserted.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("certificate " + nc.number + " is already recorded for this user");
  }
  FT_ASSIGN_OR_RETURN(int64_t id, std::move(inserted));
  Certificate c{id,           nc.course,    nc.number,    nc.issued,   nc.expires,
                nc.issued_by, std::nullopt, std::nullopt, std::nullopt};
  return c;
}

Expected<Certificate> PolicyStore::RevokeCertificate(int64_t user_id, std::string_view number,
                                                     std::string_view revoked_at,
                                                     std::string_view revoked_by,
                                                     std::string_view reason) {
  FT_ASSIGN_OR_RETURN(auto certs, Certificates(user_id));
  for (Certificate& c : certs) {
    if (c.number != number) continue;
    if (c.revoked_at) {
      return FailedPrecondition("certificate " + c.number + " was already revoked at " +
                                *c.revoked_at);
    }
    FT_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("UPDATE policy_certificates SET revoked_at = ?, "
                                                "revoked_by = ?, revoke_reason = ? WHERE id = ?"));
    stmt.Bind(1, revoked_at).Bind(2, revoked_by).Bind(3, reason).Bind(4, c.id);
    FT_RETURN_IF_ERROR(stmt.Run());
    c.revoked_at = std::string(revoked_at);
    c.revoked_by = std::string(revoked_by);
    c.revoke_reason = std::string(reason);
    return c;
  }
  return NotFound("no certificate numbered '" + std::string(number) + "' for this user");
}

Expected<std::optional<PolicyStore::LoginRecord>> PolicyStore::FindLoginRecord(
    std::string_view name) {
  FT_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT id, password_hash, locked FROM policy_users "
                                              "WHERE name = ?"));
  stmt.Bind(1, name);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<LoginRecord>();
  return std::optional<LoginRecord>(LoginRecord{stmt.Int(0), stmt.Text(1), stmt.Int(2) != 0});
}

bool PolicyStore::VerifyPassword(const std::optional<LoginRecord>& record,
                                 std::string_view password) const {
  if (record) return PasswordMatches(record->password_hash, password);
  // Spend the same time as for a real user, so timing does not reveal which names exist: check
  // against a stored hash (same algorithm and cost as the users'; nothing to compute first, which
  // cost a command-line run an extra hashing) and discard the result.
  std::string stand_in;
  if (auto stmt = db_->Prepare("SELECT password_hash FROM policy_users ORDER BY id LIMIT 1");
      stmt.ok()) {
    if (Expected<bool> row = stmt->Step(); row.ok() && *row) stand_in = stmt->Text(0);
  }
  if (stand_in.empty()) {
    static const std::string kDummy = *HashPassword("dummy-password-for-timing", cost_);
    stand_in = kDummy;
  }
  (void)PasswordMatches(stand_in, password);
  return false;
}

Expected<LoginThrottle> PolicyStore::LoadThrottle(std::string_view key) {
  FT_ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT failures, last_failure_at, blocked_until "
                                              "FROM policy_login_throttle WHERE key = ?"));
  stmt.Bind(1, key);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return LoginThrottle();
  return LoginThrottle{static_cast<int>(stmt.Int(0)), stmt.Int(1), stmt.Int(2)};
}

Status PolicyStore::SaveThrottle(std::string_view key, const LoginThrottle& t) {
  if (t.failures == 0) {
    FT_ASSIGN_OR_RETURN(auto del, db_->Prepare("DELETE FROM policy_login_throttle WHERE key = ?"));
    del.Bind(1, key);
    return del.Run();
  }
  FT_ASSIGN_OR_RETURN(
      auto stmt,
      db_->Prepare("INSERT INTO policy_login_throttle(key, failures, last_failure_at, "
                   "blocked_until) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET failures = "
                   "excluded.failures, last_failure_at = excluded.last_failure_at, "
                   "blocked_until = excluded.blocked_until"));
  stmt.Bind(1, key)
      .Bind(2, int64_t{t.failures})
      .Bind(3, t.last_failure_at)
      .Bind(4, t.blocked_until);
  return stmt.Run();
}

Status PolicyStore::SetFailedLogins(int64_t user_id, int failed_logins) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      db_->Prepare("UPDATE policy_users SET failed_logins = ? WHERE id = ?"));
  stmt.Bind(1, int64_t{failed_logins}).Bind(2, user_id);
  return stmt.Run();
}

Expected<PolicyConfig> PolicyStore::LoadConfig() {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      db_->Prepare("SELECT value FROM policy_config WHERE key = 'config'"));
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) {
    return FailedPrecondition(db_->path() +
                              ": no policy configuration; run 'facetrail admin init' first");
  }
  nlohmann::json j = nlohmann::json::parse(stmt.Text(0), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLoss(db_->path() + ": the stored policy configuration is not a JSON object");
  }
  try {
    return ConfigFromJson(j);
  } catch (const nlohmann::json::exception& e) {
    return DataLoss(db_->path() + ": policy configuration: " + e.what());
  }
}

Status PolicyStore::SaveConfig(const PolicyConfig& config) {
  FT_RETURN_IF_ERROR(ValidateConfig(config));
  FT_ASSIGN_OR_RETURN(auto stmt,
                      db_->Prepare("INSERT INTO policy_config(key, value) VALUES ('config', ?) "
                                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  stmt.Bind(1, ConfigToJson(config).dump());
  return stmt.Run();
}

}  // namespace facetrail::policy
