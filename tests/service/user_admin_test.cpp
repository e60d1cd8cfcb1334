// First admin, login with lockout, user and certificate administration: rules and audit.
#include <sys/stat.h>

#include "service_test_util.h"

namespace facetrail::service {
namespace {

using testing::kAgency;
using testing::kCase;
using testing::ServiceTest;

class UserAdminTest : public ServiceTest {};

TEST_P(UserAdminTest, InitOnlyOnEmptyDatabaseAndKeyIsPrivate) {
  auto again = InitAdmin(*ctx_, {"root", "", "other-password-1", kAgency, ""});
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/audit.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(audit::LoadPublicKey(dir_ + "/audit.key.pub").ok());
  ASSERT_EQ(Entries("admin.init").size(), 1u);
  // The admin can do nothing a searcher, examiner or auditor does.
  auto s = Search(admin_, Request(Probe(7)));
  ExpectRefused(s.status(), "wrong_role");
}

TEST_P(UserAdminTest, InitRefusesWeakPasswordAndLeavesNoKey) {
  Db db = std::move(*Db::Open(":memory:"));
  ContextOptions options;
  options.password_cost = policy::PasswordCost::Minimum();
  auto ctx = Context::Open(db, options);
  ASSERT_TRUE(ctx.ok());
  auto r = InitAdmin(**ctx, {"root", "", "short", kAgency, dir_ + "/k2"});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/k2"));
  EXPECT_EQ(*(*ctx)->store().NumUsers(), 0);
}

// Issue 14 §2: failed sign-ins throttle (they never lock), the same way for names that exist
// and names that do not, and the answers do not tell them apart. The test clock advances 60 s
// per reading (a Login reads it twice), so the delays here are long.
class LoginThrottleTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    policy::PolicyConfig c = *ctx_->store().LoadConfig();
    c.max_failed_logins = 5;
    c.login_delay_s = 1800;
    c.login_max_delay_s = 3600;
    c.login_cooldown_s = 7200;
    ASSERT_TRUE(UpdateConfig(*ctx_, admin_, c).ok());
  }
};

TEST_P(LoginThrottleTest, FailuresThrottleThenTheRightPasswordWorksAndNothingLocks) {
  auto ok = Login(*ctx_, "sam", "sam-password-1");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->name, "sam");
  EXPECT_EQ(Entries("login").size(), 1u);
  for (int i = 1; i <= 5; ++i) {
    auto bad = Login(*ctx_, "sam", "not-the-password");
    EXPECT_EQ(SplitRefusal(bad.status()).code, "unauthenticated") << i;
  }
  // Throttled now: even the right password is not checked.
  auto throttled = Login(*ctx_, "sam", "sam-password-1");
  EXPECT_EQ(throttled.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(throttled.status().message().rfind("rate_limited: too many failed sign-ins", 0), 0u);
  EXPECT_EQ(Entries("login.failed").size(), 6u);
  EXPECT_NE(Entries("login.failed").back().details.find("\"reason\":\"throttled\""),
            std::string::npos);
  EXPECT_TRUE(Entries("user.lock").empty());
  EXPECT_FALSE(ctx_->store().FindUser("sam")->locked);
  // After the delay the right password works, and resets the count.
  *clock_ += 1800;
  ASSERT_TRUE(Login(*ctx_, "sam", "sam-password-1").ok());
  EXPECT_EQ(ctx_->store().FindUser("sam")->failed_logins, 0);
  // Unknown users are audited too.
  auto unknown = Login(*ctx_, "mallory", "whatever-password");
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Entries("login.failed").back().subject, "user:mallory");
  // The stored hash is Argon2id, never the password.
  auto stmt = db_->Prepare("SELECT password_hash FROM policy_users WHERE name = 'sam'");
  ASSERT_TRUE(stmt->Step().ok());
  EXPECT_EQ(stmt->Text(0).rfind("$argon2id$", 0), 0u);
}

TEST_P(LoginThrottleTest, KnownAndUnknownNamesGetTheSameAnswers) {
  std::vector<std::string> known, unknown;
  for (int i = 0; i < 7; ++i) {
    known.push_back(Login(*ctx_, "eve", "not-the-password").status().ToString());
  }
  for (int i = 0; i < 7; ++i) {
    unknown.push_back(Login(*ctx_, "nobody-here", "not-the-password").status().ToString());
  }
  EXPECT_EQ(known, unknown);
  EXPECT_NE(known.back().find("rate_limited"), std::string::npos) << known.back();
  EXPECT_NE(known.front().find("unknown user or wrong password"), std::string::npos);
}

TEST_P(LoginThrottleTest, TheOnlyAdminIsNeverLockedOut) {
  for (int i = 0; i < 20; ++i) (void)Login(*ctx_, "admin", "not-the-password");
  EXPECT_FALSE(ctx_->store().FindUser("admin")->locked);
  EXPECT_EQ(Login(*ctx_, "admin", "admin-password-1").status().code(),
            StatusCode::kResourceExhausted);
  *clock_ += 7200;  // the cool-down
  EXPECT_TRUE(Login(*ctx_, "admin", "admin-password-1").ok());
}

TEST_P(LoginThrottleTest, AnAdminsUnlockClearsTheThrottle) {
  for (int i = 0; i < 6; ++i) (void)Login(*ctx_, "sam", "not-the-password");
  EXPECT_EQ(Login(*ctx_, "sam", "sam-password-1").status().code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(SetLocked(*ctx_, admin_, "sam", false, "identity confirmed by phone").ok());
  EXPECT_TRUE(Login(*ctx_, "sam", "sam-password-1").ok());
  EXPECT_EQ(Entries("user.unlock").size(), 1u);
}

TEST_P(LoginThrottleTest, ThrottlingByClientAddressCoversEveryName) {
  policy::PolicyConfig c = *ctx_->store().LoadConfig();
  c.max_failed_logins_per_address = 3;
  ASSERT_TRUE(UpdateConfig(*ctx_, admin_, c).ok());
  for (const char* name : {"a1", "a2", "a3"}) {
    EXPECT_EQ(Login(*ctx_, name, "not-the-password", "203.0.113.9").status().code(),
              StatusCode::kUnauthenticated);
  }
  // The address is throttled for every name, the right password included; another address not.
  EXPECT_EQ(Login(*ctx_, "sam", "sam-password-1", "203.0.113.9").status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_TRUE(Login(*ctx_, "sam", "sam-password-1", "198.51.100.7").ok());
  EXPECT_NE(Entries("login.failed").back().details.find("203.0.113.9"), std::string::npos);
}

TEST_P(LoginThrottleTest, AHugeNameIsRefusedAndItsAuditEntryIsBounded) {
  const std::string huge(9 << 20, 'a');
  auto r = Login(*ctx_, huge, "whatever-password");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_LT(r.status().message().size(), 200u);
  auto failed = Entries("login.failed");
  ASSERT_FALSE(failed.empty());
  EXPECT_LT(failed.back().details.size() + failed.back().subject.size(), 300u);
  EXPECT_EQ(Login(*ctx_, "sam\xff", "whatever-password").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Login(*ctx_, "sam", std::string(2000, 'p')).status().code(),
            StatusCode::kInvalidArgument);
}

// A locked account (an admin's lock, or an older database's automatic lock) and no admin able to
// sign in: whoever can write the database file unlocks it, audited as break-glass.
TEST_P(LoginThrottleTest, BreakGlassUnlockIsAudited) {
  ASSERT_TRUE(SetLocked(*ctx_, admin_, "sam", true, "left the unit").ok());
  EXPECT_EQ(SplitRefusal(Login(*ctx_, "sam", "sam-password-1").status()).code, "account_locked");
  // A locked user's existing session cannot search either.
  ExpectRefused(Search(sam_, Request(Probe(7))).status(), "account_locked");
  // A wrong password on a locked account is answered like any wrong password.
  EXPECT_EQ(SplitRefusal(Login(*ctx_, "sam", "not-the-password").status()).code, "unauthenticated");
  EXPECT_EQ(BreakGlassUnlock(*ctx_, "sam", "  ", "uid 0").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BreakGlassUnlock(*ctx_, "nobody", "ticket 7", "uid 0").code(), StatusCode::kNotFound);
  ASSERT_TRUE(BreakGlassUnlock(*ctx_, "sam", "ticket 7: only admin on leave", "uid 0 (root)").ok());
  EXPECT_TRUE(Login(*ctx_, "sam", "sam-password-1").ok());
  auto e = Entries("user.unlock.break_glass");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].actor, "break-glass");
  EXPECT_EQ(e[0].subject, "user:sam");
  EXPECT_NE(e[0].details.find("uid 0 (root)"), std::string::npos);
  EXPECT_NE(e[0].details.find("ticket 7"), std::string::npos);
}

TEST_P(UserAdminTest, OnlyAdminsManageUsersAndRefusalsAreAudited) {
  auto r = AddUser(*ctx_, sue_, {"zed", "", kAgency, {policy::Role::kSearcher}, "zed-password-1"});
  ExpectRefused(r.status(), "wrong_role");
  EXPECT_EQ(ctx_->store().FindUser("zed").status().code(), StatusCode::kNotFound);
  ASSERT_EQ(Entries("admin.refused").size(), 1u);
  EXPECT_NE(Entries("admin.refused")[0].details.find("user.add"), std::string::npos);
  ExpectRefused(RevokeCertificate(*ctx_, sam_, "eve", "FC-eve", "spite"), "wrong_role");
  EXPECT_EQ(SetRoles(*ctx_, admin_, "sam", {policy::Role::kAdmin, policy::Role::kSearcher}).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(
      SetRoles(*ctx_, admin_, "sam", {policy::Role::kSearcher, policy::Role::kExaminer}).ok());
  auto roles = Entries("user.roles");
  ASSERT_EQ(roles.size(), 1u);
  EXPECT_NE(roles[0].details.find("\"new\":\"examiner,searcher\""), std::string::npos);
  // Passwords never reach the audit log.
  auto all = ctx_->log().Read();
  ASSERT_TRUE(all.ok());
  for (const auto& e : all.value()) {
    EXPECT_EQ(e.details.find("password"), std::string::npos) << e.action;
  }
}

TEST_P(UserAdminTest, RevokedCertificateStopsTheNextRequest) {
  ASSERT_TRUE(Search(sam_, Request(Probe(7))).ok());
  ASSERT_TRUE(RevokeCertificate(*ctx_, admin_, "sam", "FC-sam", "failed re-assessment").ok());
  auto entries = Entries("certificate.revoke");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(entries[0].details.find("failed re-assessment"), std::string::npos);
  auto r = Search(sam_, Request(Probe(7)));
  ExpectRefused(r.status(), "no_valid_certificate");
  EXPECT_NE(r.status().message().find("revoked"), std::string::npos);
  EXPECT_EQ(RevokeCertificate(*ctx_, admin_, "sam", "FC-sam", "again").code(),
            StatusCode::kFailedPrecondition);
}

TEST_P(UserAdminTest, ExpiredCertificateStopsTheNextRequest) {
  SetToday("2026-12-31T12:00:00Z");
  ASSERT_TRUE(Search(sam_, Request(Probe(7))).ok());  // last valid day
  SetToday("2027-01-01T00:00:30Z");
  auto r = Search(sam_, Request(Probe(7)));
  ExpectRefused(r.status(), "no_valid_certificate");
  EXPECT_NE(r.status().message().find("expired on 2026-12-31"), std::string::npos);
  EXPECT_NE(Entries("search.refused").back().details.find("expired on 2026-12-31"),
            std::string::npos);
}

TEST_P(UserAdminTest, ConfigChangesAreValidatedAndAudited) {
  policy::PolicyConfig c = *ctx_->store().LoadConfig();
  c.purposes.push_back("missing person");
  ASSERT_TRUE(UpdateConfig(*ctx_, admin_, c).ok());
  auto e = Entries("config.change");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].details.find("missing person"), std::string::npos);
  c.case_number_regex = "([";
  EXPECT_EQ(UpdateConfig(*ctx_, admin_, c).code(), StatusCode::kInvalidArgument);
  ExpectRefused(UpdateConfig(*ctx_, sue_, c), "wrong_role");
}

TEST_P(UserAdminTest, AuditChainOfAWholeSessionVerifies) {
  ASSERT_TRUE(Search(sam_, Request(Probe(7))).ok());
  (void)Search(sam_, Request(Probe(8, {5, 0.9f, 80, 0, 0, 0})));  // refused: too small
  auto key = audit::LoadSigningKey(dir_ + "/audit.key");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(audit::CreateCheckpoint(ctx_->log(), *key, "sue").ok());
  auto report = audit::Verify(*db_, Pinned());
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->problems.front().message;
  EXPECT_EQ(report->proven_seq, report->last_seq - 1);  // all but the checkpoint's own entry
  EXPECT_EQ(report->warnings.size(), 1u);               // which is that one unproven entry
  // Without a pinned key, the same log is not verified: its checkpoints cannot be checked.
  report = audit::Verify(*db_, {});
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->problems.front().kind, audit::ProblemKind::kUnverified);
}

FT_INSTANTIATE_BACKENDS(UserAdminTest);
FT_INSTANTIATE_BACKENDS(LoginThrottleTest);

}  // namespace
}  // namespace facetrail::service
