// The search-request policy matrix: role × certificate × case × purpose × agency → decision.
#include <gtest/gtest.h>

#include <cmath>

#include "policy/policy.h"

namespace facetrail::policy {
namespace {

constexpr const char* kToday = "2026-03-02";

enum class Cert { kValid, kExpired, kRevoked, kNone, kNotYetValid, kExpiresToday };
enum class Case { kOk, kMissing, kMalformed };
enum class Purpose { kOk, kOffList };
enum class Agency { kHome, kOther };

const char* CertName(Cert c) {
  switch (c) {
    case Cert::kValid: return "valid";
    case Cert::kExpired: return "expired";
    case Cert::kRevoked: return "revoked";
    case Cert::kNone: return "none";
    case Cert::kNotYetValid: return "not-yet-valid";
    case Cert::kExpiresToday: return "expires-today";
  }
  return "?";
}

PolicyConfig Config() {
  PolicyConfig c;
  c.home_agency = "Metro PD";
  return c;
}

User MakeUser(const RoleSet& roles, Cert cert, bool locked = false) {
  User u;
  u.id = 1;
  u.name = "sam";
  u.agency = "Metro PD";
  u.roles = roles;
  u.locked = locked;
  Certificate c{1,         "Face comparison 101", "FC-1",       "2026-01-01", "2027-01-01",
                "Academy", std::nullopt,          std::nullopt, std::nullopt};
  switch (cert) {
    case Cert::kValid: break;
    case Cert::kExpired: c.expires = "2026-03-01"; break;
    case Cert::kRevoked:
      c.revoked_at = "2026-02-01T10:00:00Z";
      c.revoke_reason = "misuse";
      break;
    case Cert::kNone: return u;
    case Cert::kNotYetValid: c.issued = "2026-03-03"; break;
    case Cert::kExpiresToday: c.expires = kToday; break;
  }
  u.certificates.push_back(c);
  return u;
}

SearchRequestFields Fields(Case k, Purpose p, Agency a) {
  SearchRequestFields f;
  f.case_number = k == Case::kOk ? "MPD-2026-0042" : k == Case::kMissing ? "" : "42; DROP";
  f.purpose = p == Purpose::kOk ? "imminent threat to life" : "curiosity";
  f.offense = "armed robbery";
  f.justification = "CCTV still from the bank; no other leads";
  f.agency = a == Agency::kHome ? "Metro PD" : "County Sheriff";
  return f;
}

// The expected decision, written as the plain precedence list of docs/POLICY.md.
std::optional<RefusalCode> Model(const RoleSet& roles, Cert cert, Case k, Purpose p, Agency a) {
  if (!roles.count(Role::kSearcher)) return RefusalCode::kWrongRole;
  if (cert != Cert::kValid && cert != Cert::kExpiresToday) return RefusalCode::kNoValidCertificate;
  if (k == Case::kMissing) return RefusalCode::kMissingCaseNumber;
  if (k == Case::kMalformed) return RefusalCode::kMalformedCaseNumber;
  if (p == Purpose::kOffList) return RefusalCode::kPurposeNotAllowed;
  if (a == Agency::kOther) return RefusalCode::kOutsideAgency;
  return std::nullopt;
}

std::string CodeText(std::optional<RefusalCode> c) {
  return c ? std::string(RefusalCodeName(*c)) : "allowed";
}

TEST(PolicyMatrixTest, EveryCombination) {
  const std::vector<RoleSet> role_sets = {{Role::kSearcher},
                                          {Role::kSearcher, Role::kExaminer},
                                          {Role::kSearcher, Role::kSupervisor},
                                          {Role::kExaminer},
                                          {Role::kSupervisor},
                                          {Role::kAuditor},
                                          {Role::kAdmin}};
  int allowed = 0, cases = 0;
  for (const RoleSet& roles : role_sets) {
    for (Cert cert : {Cert::kValid, Cert::kExpired, Cert::kRevoked, Cert::kNone, Cert::kNotYetValid,
                      Cert::kExpiresToday}) {
      for (Case k : {Case::kOk, Case::kMissing, Case::kMalformed}) {
        for (Purpose p : {Purpose::kOk, Purpose::kOffList}) {
          for (Agency a : {Agency::kHome, Agency::kOther}) {
            SCOPED_TRACE("roles=" + RoleSetText(roles) + " cert=" + CertName(cert) +
                         " case=" + std::to_string(static_cast<int>(k)) +
                         " purpose=" + std::to_string(static_cast<int>(p)) +
                         " agency=" + std::to_string(static_cast<int>(a)));
            auto got = CheckSearchRequest(MakeUser(roles, cert), Fields(k, p, a), Config(), kToday);
            auto want = Model(roles, cert, k, p, a);
            EXPECT_EQ(CodeText(got ? std::optional(got->code) : std::nullopt), CodeText(want));
            if (got) {
              EXPECT_FALSE(got->reason.empty());
            }
            allowed += !want;
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 7 * 6 * 3 * 2 * 2);
  EXPECT_EQ(allowed, 3 * 2);  // three searcher role sets × {valid, expires today}
}

struct Row {
  const char* name;
  RoleSet roles;
  Cert cert;
  bool locked;
  SearchRequestFields fields;
  std::optional<RefusalCode> want;
  const char* reason_contains;
};

TEST(PolicyMatrixTest, NamedCases) {
  SearchRequestFields ok = Fields(Case::kOk, Purpose::kOk, Agency::kHome);
  auto with = [&](auto change) {
    SearchRequestFields f = ok;
    change(f);
    return f;
  };
  const std::vector<Row> rows = {
      {"allowed", {Role::kSearcher}, Cert::kValid, false, ok, std::nullopt, ""},
      {"locked", {Role::kSearcher}, Cert::kValid, true, ok, RefusalCode::kAccountLocked, "locked"},
      {"admin cannot search",
       {Role::kAdmin},
       Cert::kValid,
       false,
       ok,
       RefusalCode::kWrongRole,
       "searcher"},
      {"expired",
       {Role::kSearcher},
       Cert::kExpired,
       false,
       ok,
       RefusalCode::kNoValidCertificate,
       "expired on 2026-03-01"},
      {"revoked",
       {Role::kSearcher},
       Cert::kRevoked,
       false,
       ok,
       RefusalCode::kNoValidCertificate,
       "revoked"},
      {"blank case",
       {Role::kSearcher},
       Cert::kValid,
       false,
       with([](auto& f) { f.case_number = "   "; }),
       RefusalCode::kMissingCaseNumber,
       ""},
      {"case with suffix",
       {Role::kSearcher},
       Cert::kValid,
       false,
       with([](auto& f) { f.case_number = "MPD-2026-0042 x"; }),
       RefusalCode::kMalformedCaseNumber,
       "format"},
      {"purpose differs in case",
       {Role::kSearcher},
       Cert::kValid,
       false,
       with([](auto& f) { f.purpose = "Criminal investigation"; }),
       RefusalCode::kPurposeNotAllowed,
       "not on the list"},
      {"no offence",
       {Role::kSearcher},
       Cert::kValid,
       false,
       with([](auto& f) { f.offense = ""; }),
       RefusalCode::kMissingOffense,
       ""},
      {"no justification",
       {Role::kSearcher},
       Cert::kValid,
       false,
       with([](auto& f) { f.justification = " "; }),
       RefusalCode::kMissingJustification,
       ""},
      // Issue 17: no agency at all says so, not "outside agency ''".
      {"no agency",
       {Role::kSearcher},
       Cert::kValid,
       false,
       with([](auto& f) { f.agency = ""; }),
       RefusalCode::kMissingAgency,
       "missing agency"},
      {"blank agency",
       {Role::kSearcher},
       Cert::kValid,
       false,
       with([](auto& f) { f.agency = "  "; }),
       RefusalCode::kMissingAgency,
       "missing agency"},
      {"outside agency",
       {Role::kSearcher},
       Cert::kValid,
       false,
       with([](auto& f) { f.agency = "Metro PD "; }),
       RefusalCode::kOutsideAgency,
       "home agency"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    auto got = CheckSearchRequest(MakeUser(r.roles, r.cert, r.locked), r.fields, Config(), kToday);
    EXPECT_EQ(CodeText(got ? std::optional(got->code) : std::nullopt), CodeText(r.want));
    if (got) {
      EXPECT_NE(got->reason.find(r.reason_contains), std::string::npos) << got->reason;
    }
  }
}

TEST(PolicyRulesTest, MemberOfAnotherAgencyIsRefusedEvenForHomeAgency) {
  User u = MakeUser({Role::kSearcher}, Cert::kValid);
  u.agency = "County Sheriff";
  auto r = CheckSearchRequest(u, Fields(Case::kOk, Purpose::kOk, Agency::kHome), Config(), kToday);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, RefusalCode::kOutsideAgency);
}

TEST(PolicyRulesTest, OneValidCertificateAmongSeveralSuffices) {
  User u = MakeUser({Role::kExaminer}, Cert::kRevoked);
  u.certificates.push_back(MakeUser({}, Cert::kValid).certificates[0]);
  EXPECT_FALSE(CheckActor(u, Role::kExaminer, kToday));
  EXPECT_TRUE(CheckActor(MakeUser({Role::kExaminer}, Cert::kExpired), Role::kExaminer, kToday));
  // Supervisors and auditors act without a certificate.
  EXPECT_FALSE(CheckActor(MakeUser({Role::kSupervisor}, Cert::kNone), Role::kSupervisor, kToday));
}

TEST(PolicyRulesTest, AdminRoleIsExclusive) {
  EXPECT_TRUE(ValidateRoles({Role::kAdmin}).ok());
  EXPECT_TRUE(ValidateRoles({Role::kSearcher, Role::kExaminer, Role::kSupervisor}).ok());
  EXPECT_EQ(ValidateRoles({Role::kAdmin, Role::kAuditor}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateRoles({}).code(), StatusCode::kInvalidArgument);
}

TEST(PolicyRulesTest, QualityGateBothSidesOfEachLimit) {
  QualityGate gate;
  gate.min_eye_distance_px = 20;
  gate.min_sharpness = 15;
  vision::FaceQuality good{40, 0.9f, 100, 0, 0, 0};
  EXPECT_FALSE(CheckProbeQuality(good, gate));
  vision::FaceQuality edge{gate.min_eye_distance_px, gate.min_detector_score,
                           gate.min_sharpness,       gate.max_abs_yaw_deg,
                           -gate.max_abs_roll_deg,   gate.max_abs_pitch_deg};
  EXPECT_FALSE(CheckProbeQuality(edge, gate));
  auto fails = [&](auto change, const char* word) {
    vision::FaceQuality q = good;
    change(q);
    auto r = CheckProbeQuality(q, gate);
    ASSERT_TRUE(r) << word;
    EXPECT_EQ(r->code, RefusalCode::kProbeQuality);
    EXPECT_NE(r->reason.find(word), std::string::npos) << r->reason;
  };
  fails([&](auto& q) { q.eye_distance_px = gate.min_eye_distance_px - 0.01f; }, "too small");
  fails([&](auto& q) { q.sharpness = gate.min_sharpness - 0.01f; }, "blurred");
  fails([&](auto& q) { q.yaw_deg = -gate.max_abs_yaw_deg - 0.1f; }, "turned");
  fails([&](auto& q) { q.pitch_deg = gate.max_abs_pitch_deg + 0.1f; }, "tilted");
  fails([&](auto& q) { q.roll_deg = gate.max_abs_roll_deg + 0.1f; }, "rolled");
  fails([&](auto& q) { q.detector_score = 0.1f; }, "uncertain");
  fails([&](auto& q) { q.sharpness = std::nanf(""); }, "blurred");  // NaN never passes
}

// Faked quality (issue 14 §5): the gate reads what the face carries when it was measured.
TEST(PolicyRulesTest, QualityGateReadsWhatTheFaceCarries) {
  QualityGate gate;
  gate.min_eye_distance_px = 20;
  gate.min_sharpness = 15;
  vision::FaceQuality q{40, 0.9f, 100, 0, 0, 0};
  EXPECT_FALSE(CheckProbeQuality(q, gate)) << "figures not measured: the plain ones decide";
  q.effective_scale = 4;
  q.effective_eye_distance_px = 10;
  auto r = CheckProbeQuality(q, gate);
  ASSERT_TRUE(r);
  EXPECT_NE(r->reason.find("enlarged about 4.0x"), std::string::npos) << r->reason;
  EXPECT_NE(r->reason.find("10.0 px"), std::string::npos) << r->reason;
  q.effective_eye_distance_px = 20;
  q.noise_sigma = 2.2f;
  q.detail = 3.2f;
  r = CheckProbeQuality(q, gate);
  ASSERT_TRUE(r);
  EXPECT_NE(r->reason.find("mostly noise"), std::string::npos) << r->reason;
  EXPECT_EQ(r->reason.find("enlarged"), std::string::npos) << r->reason;
  q.detail = 15;
  EXPECT_FALSE(CheckProbeQuality(q, gate));
}

TEST(PolicyRulesTest, ConfigValidation) {
  PolicyConfig c = Config();
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.case_number_regex = "([";
  EXPECT_EQ(ValidateConfig(c).code(), StatusCode::kInvalidArgument);
  c = Config();
  c.purposes.clear();
  EXPECT_FALSE(ValidateConfig(c).ok());
  c = Config();
  c.home_agency = "";
  EXPECT_FALSE(ValidateConfig(c).ok());
  auto parsed = ParseConfigJson(ConfigToJsonText(Config()));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->purposes, Config().purposes);
  EXPECT_EQ(parsed->home_agency, "Metro PD");
  EXPECT_FALSE(ParseConfigJson(R"({"max_failed_logins": "five"})").ok());
}

// The eye-distance and sharpness limits come from the model's calibration unless the
// department set its own; neither is an error, not a gate that lets everything through.
TEST(PolicyRulesTest, QualityGateLimitsComeFromTheModelUnlessSet) {
  QualityPolicy policy;
  ModelQualityLimits model{18.f, 40.f, "fr_feature"};
  auto g = ResolveQualityGate(policy, model);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->min_eye_distance_px, 18.f);
  EXPECT_EQ(g->min_sharpness, 40.f);
  EXPECT_EQ(g->max_abs_yaw_deg, policy.max_abs_yaw_deg);
  policy.min_sharpness = 25.f;
  g = ResolveQualityGate(policy, model);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->min_sharpness, 25.f);
  auto none = ResolveQualityGate(QualityPolicy{}, ModelQualityLimits{{}, {}, "dept_net"});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("dept_net"), std::string::npos);
}

}  // namespace
}  // namespace facetrail::policy
