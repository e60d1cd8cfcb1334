// PolicyStore: Argon2id passwords, lockout, roles and certificates, on SQLite and on PostgreSQL
// (a throw-away cluster, tests/common/pg_cluster.h).
#include <gtest/gtest.h>

#include "common/pg_cluster.h"
#include "policy/policy.h"

namespace facetrail::policy {
namespace {

enum class Backend { kSqlite, kPostgres };

class PolicyStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string uri = ":memory:";
    if (GetParam() == Backend::kPostgres) FT_PG_DATABASE_OR_SKIP(uri);
    auto db = Db::Open(uri);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::make_unique<Db>(std::move(*db));
    auto store = PolicyStore::Open(*db_, PasswordCost::Minimum());
    ASSERT_TRUE(store.ok());
    store_ = std::make_unique<PolicyStore>(std::move(*store));
  }
  std::unique_ptr<Db> db_;
  std::unique_ptr<PolicyStore> store_;
};

TEST(PasswordTest, Argon2idHashVerifies) {
  auto h = HashPassword("correct horse battery", PasswordCost::Minimum());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u) << *h;
  EXPECT_TRUE(PasswordMatches(*h, "correct horse battery"));
  EXPECT_FALSE(PasswordMatches(*h, "correct horse batterY"));
  EXPECT_FALSE(PasswordMatches("not a hash", "x"));
  // Salted: the same password hashes differently each time.
  EXPECT_NE(*h, *HashPassword("correct horse battery", PasswordCost::Minimum()));
  EXPECT_EQ(HashPassword("short", PasswordCost::Minimum()).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(PolicyStoreTest, UsersRolesAndDuplicates) {
  auto u =
      store_->AddUser({"sam", "Sam Searcher", "Metro PD", {Role::kSearcher}, "sam-password-123"});
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_TRUE(u->HasRole(Role::kSearcher));
  EXPECT_EQ(store_->AddUser({"sam", "", "Metro PD", {Role::kSearcher}, "sam-password-123"})
                .status()
                .code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->AddUser({"Bad Name", "", "Metro PD", {Role::kSearcher}, "sam-password-123"})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->SetRoles(u->id, {Role::kAdmin, Role::kSearcher}).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->SetRoles(u->id, {Role::kExaminer, Role::kSupervisor}).ok());
  EXPECT_EQ(RoleSetText(store_->FindUser("sam")->roles), "examiner,supervisor");
  // The stored hash is Argon2id, never the password.
  auto stmt = db_->Prepare("SELECT password_hash FROM policy_users WHERE name = 'sam'");
  ASSERT_TRUE(stmt->Step().ok());
  EXPECT_EQ(stmt->Text(0).rfind("$argon2id$", 0), 0u);
}

// Issue 14 §2: failures throttle (growing delays, forgotten after the cool-down); they never lock.
TEST_P(PolicyStoreTest, LoginRecordsAndThrottleState) {
  ASSERT_TRUE(store_->AddUser({"sam", "", "Metro PD", {Role::kSearcher}, "sam-password-123"}).ok());
  auto sam = store_->FindLoginRecord("sam");
  ASSERT_TRUE(sam.ok() && sam->has_value());
  EXPECT_TRUE(store_->VerifyPassword(*sam, "sam-password-123"));
  EXPECT_FALSE(store_->VerifyPassword(*sam, "wrong-password!"));
  auto nobody = store_->FindLoginRecord("nobody");
  ASSERT_TRUE(nobody.ok());
  EXPECT_FALSE(nobody->has_value());
  EXPECT_FALSE(store_->VerifyPassword(*nobody, "sam-password-123"));

  EXPECT_EQ(store_->LoadThrottle("user:sam")->failures, 0);
  ASSERT_TRUE(store_->SaveThrottle("user:sam", {3, 100, 160}).ok());
  LoginThrottle t = *store_->LoadThrottle("user:sam");
  EXPECT_EQ(t.failures, 3);
  EXPECT_EQ(t.last_failure_at, 100);
  EXPECT_EQ(t.blocked_until, 160);
  ASSERT_TRUE(store_->SaveThrottle("user:sam", {}).ok());
  EXPECT_EQ(store_->LoadThrottle("user:sam")->failures, 0);
}

TEST(LoginThrottleTest, DelaysGrowToTheCapAndAreForgottenAfterTheCoolDown) {
  PolicyConfig c;
  c.home_agency = "Metro PD";
  c.max_failed_logins = 3;
  c.login_delay_s = 2;
  c.login_max_delay_s = 30;
  c.login_cooldown_s = 600;
  LoginThrottle t;
  int64_t now = 1000;
  // Two free failures, then 2, 4, 8, 16, 30, 30 s.
  const int64_t expected[] = {0, 0, 2, 4, 8, 16, 30, 30};
  for (int64_t delay : expected) {
    t = ThrottleAfterFailure(t, now, c.max_failed_logins, c);
    EXPECT_EQ(t.blocked_until, delay == 0 ? 0 : now + delay) << "failure " << t.failures;
    now += 1;
  }
  // 40 failures later the delay is still the cap: never a permanent lock.
  for (int i = 0; i < 40; ++i) t = ThrottleAfterFailure(t, now, c.max_failed_logins, c);
  EXPECT_EQ(t.blocked_until, now + 30);
  EXPECT_EQ(ThrottleAsOf(t, now + 599, c).failures, t.failures);
  EXPECT_EQ(ThrottleAsOf(t, now + 600, c).failures, 0);
  EXPECT_EQ(ThrottleAsOf(t, now + 600, c).blocked_until, 0);
  // The configuration refuses delays that do not make sense.
  ASSERT_TRUE(ValidateConfig(c).ok());
  PolicyConfig bad = c;
  bad.login_cooldown_s = 10;
  EXPECT_FALSE(ValidateConfig(bad).ok());
  bad = c;
  bad.login_delay_s = 0;
  EXPECT_FALSE(ValidateConfig(bad).ok());
}

TEST_P(PolicyStoreTest, CertificatesAddRevoke) {
  auto u = store_->AddUser({"eve", "", "Metro PD", {Role::kExaminer}, "eve-password-123"});
  ASSERT_TRUE(u.ok());
  NewCertificate c{"FIA Facial Examiner", "FE-7", "2026-01-01", "2026-12-31", "FISWG course"};
  ASSERT_TRUE(store_->AddCertificate(u->id, c).ok());
  EXPECT_EQ(store_->AddCertificate(u->id, c).status().code(), StatusCode::kAlreadyExists);
  NewCertificate bad = c;
  bad.number = "FE-8";
  bad.expires = "2025-12-31";
  EXPECT_EQ(store_->AddCertificate(u->id, bad).status().code(), StatusCode::kInvalidArgument);
  bad.expires = "31/12/2026";
  EXPECT_EQ(store_->AddCertificate(u->id, bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidCertificate(*store_->FindUser("eve"), "2026-06-01").ok());
  auto revoked =
      store_->RevokeCertificate(u->id, "FE-7", "2026-06-02T10:00:00Z", "admin", "lapsed");
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(store_->RevokeCertificate(u->id, "FE-7", "t", "admin", "again").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->RevokeCertificate(u->id, "FE-9", "t", "admin", "x").status().code(),
            StatusCode::kNotFound);
  auto reloaded = store_->FindUser("eve");
  ASSERT_EQ(reloaded->certificates.size(), 1u);
  EXPECT_EQ(reloaded->certificates[0].revoked_by, "admin");
  EXPECT_FALSE(ValidCertificate(*reloaded, "2026-06-03").ok());
}

TEST_P(PolicyStoreTest, ConfigRoundTrip) {
  EXPECT_EQ(store_->LoadConfig().status().code(), StatusCode::kFailedPrecondition);
  PolicyConfig c;
  c.home_agency = "Metro PD";
  c.purposes = {"criminal investigation"};
  c.quality.min_sharpness = 42;
  ASSERT_TRUE(store_->SaveConfig(c).ok());
  auto loaded = store_->LoadConfig();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->purposes, c.purposes);
  EXPECT_EQ(loaded->quality.min_sharpness, 42);
  EXPECT_FALSE(loaded->quality.min_eye_distance_px.has_value());  // unset: the model's
  c.home_agency = "";
  EXPECT_FALSE(store_->SaveConfig(c).ok());
}

// A configuration stored before the limits became the model's (format 1) held the old fixed
// defaults 20 px / 15 whether or not anyone chose them: they read as unset. Other values stay.
TEST(PolicyConfigFormat, OldDefaultsBecomeTheModelsLimits) {
  auto old = ParseConfigJson(
      R"({"home_agency":"Metro PD","quality":{"min_eye_distance_px":20,"min_sharpness":15}})");
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->quality.min_eye_distance_px.has_value());
  EXPECT_FALSE(old->quality.min_sharpness.has_value());
  auto chosen = ParseConfigJson(
      R"({"home_agency":"Metro PD","quality":{"min_eye_distance_px":24,"min_sharpness":15}})");
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->quality.min_eye_distance_px, 24.f);
  auto now = ParseConfigJson(ConfigToJsonText(*chosen));
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->quality.min_eye_distance_px, 24.f);
  EXPECT_FALSE(now->quality.min_sharpness.has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, PolicyStoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& p) {
                           return p.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace facetrail::policy
