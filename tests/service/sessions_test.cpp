// Sessions and API tokens (service/sessions.h) on a real database: secrets kept only as hashes,
// lifetimes (absolute, idle, token expiry), the once-a-minute last_used_at, logout, token
// ownership, an admin's revocation, a lock's revocation, and the audit entry of each change.
#include "service/sessions.h"

#include <regex>

#include "service/internal/sessions_schema.h"
#include "service_test_util.h"

namespace facetrail::service::testing {
namespace {

class SessionsTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (HasFatalFailure()) return;
    // A clock that moves only when the test says so (the fixture's advances a minute per read).
    now_ = std::make_shared<int64_t>(*audit::ParseUtc("2026-03-02T12:00:00Z"));
    ContextOptions options;
    options.clock = [t = now_] { return *t; };
    options.password_cost = policy::PasswordCost::Minimum();
    auto ctx = Context::Open(*db_, options);
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    c_ = std::move(*ctx);
  }
  void TearDown() override {
    c_.reset();
    ServiceTest::TearDown();
  }
  void Advance(int64_t seconds) { *now_ += seconds; }

  IssuedCredential NewSession(const Actor& who) {
    auto s = CreateSession(*c_, who);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : IssuedCredential();
  }
  SignedIn SignIn(const IssuedCredential& session) {
    auto who = Authenticate(*c_, CredentialKind::kSession, session.secret);
    EXPECT_TRUE(who.ok()) << who.status().ToString();
    return who.ok() ? *who : SignedIn();
  }
  IssuedCredential NewToken(const SignedIn& who, const std::string& label, int64_t days = 0) {
    auto t = CreateToken(*c_, who, {label, days});
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : IssuedCredential();
  }
  Status Use(CredentialKind kind, const std::string& secret) {
    return Authenticate(*c_, kind, secret).status();
  }
  std::string LastUsed(int64_t id) {
    auto stmt = db_->Prepare("SELECT last_used_at FROM auth_credentials WHERE id = ?");
    EXPECT_TRUE(stmt.ok());
    stmt->Bind(1, id);
    EXPECT_TRUE(*stmt->Step());
    return stmt->OptText(0).value_or("NULL");
  }
  void ExpectUnauthenticated(const Status& s, const std::string& says) {
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
    EXPECT_NE(s.message().find(says), std::string::npos) << s.ToString();
  }

  std::shared_ptr<int64_t> now_;
  std::unique_ptr<Context> c_;
};

TEST_P(SessionsTest, OnlyTheHashOfASecretIsStoredAndTheSessionResolvesToItsUser) {
  IssuedCredential s = NewSession(sam_);
  EXPECT_TRUE(std::regex_match(s.secret, std::regex("[0-9a-f]{64}")));
  EXPECT_EQ(s.expires_at, "2026-03-02T20:00:00Z");
  SignedIn who = SignIn(s);
  EXPECT_EQ(who.actor.user_id, sam_.user_id);
  EXPECT_EQ(who.actor.name, "sam");
  EXPECT_EQ(who.kind, CredentialKind::kSession);
  EXPECT_EQ(who.credential_id, s.id);
  // The CSRF token is derived from the secret: per session, stable, and not the secret.
  EXPECT_EQ(who.csrf_token, s.csrf_token);
  EXPECT_EQ(who.csrf_token, CsrfTokenFor(s.secret));
  EXPECT_TRUE(std::regex_match(who.csrf_token, std::regex("[0-9a-f]{64}")));
  EXPECT_NE(who.csrf_token, s.secret);
  EXPECT_NE(NewSession(sam_).csrf_token, s.csrf_token);

  auto stmt =
      db_->Prepare("SELECT secret_sha256, kind, user_id FROM auth_credentials WHERE id = ?");
  ASSERT_TRUE(stmt.ok());
  stmt->Bind(1, s.id);
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->Text(0), Sha256Hex(s.secret));
  EXPECT_EQ(stmt->Text(1), "session");
  EXPECT_EQ(stmt->Int(2), sam_.user_id);
  stmt->Reset();
  // Neither the secret nor its hash is in the audit log; the entry names the session by id.
  auto created = Entries("session.create");
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[0].actor, "sam");
  EXPECT_EQ(nlohmann::json::parse(created[0].details)["session_id"], s.id);
  auto all = ctx_->log().Read();
  ASSERT_TRUE(all.ok());
  for (const audit::Entry& e : *all) {
    EXPECT_EQ(e.details.find(s.secret), std::string::npos) << e.action;
    EXPECT_EQ(e.details.find(Sha256Hex(s.secret)), std::string::npos) << e.action;
  }
}

TEST_P(SessionsTest, UnknownMalformedAndOtherKindSecretsAreRefused) {
  IssuedCredential s = NewSession(sam_);
  ExpectUnauthenticated(Use(CredentialKind::kSession, std::string(64, 'a')), "no valid session");
  ExpectUnauthenticated(Use(CredentialKind::kSession, ""), "no valid session");
  ExpectUnauthenticated(Use(CredentialKind::kSession, s.secret.substr(1)), "no valid session");
  std::string upper = s.secret;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  ExpectUnauthenticated(Use(CredentialKind::kSession, upper + "' OR 1=1 --"), "no valid session");
  // A session secret is not an API token, and the other way round.
  ExpectUnauthenticated(Use(CredentialKind::kToken, s.secret), "unknown or revoked API token");
  IssuedCredential t = NewToken(SignIn(s), "script");
  ExpectUnauthenticated(Use(CredentialKind::kSession, t.secret), "no valid session");
  EXPECT_TRUE(Use(CredentialKind::kToken, t.secret).ok());
}

TEST_P(SessionsTest, IdleTimeoutAbsoluteLifetimeAndOnceAMinuteLastUsed) {
  IssuedCredential s = NewSession(sam_);
  EXPECT_EQ(LastUsed(s.id), "2026-03-02T12:00:00Z");
  // Used within the touch interval: last_used_at is not written again.
  Advance(30);
  ASSERT_TRUE(Use(CredentialKind::kSession, s.secret).ok());
  EXPECT_EQ(LastUsed(s.id), "2026-03-02T12:00:00Z");
  Advance(30);
  ASSERT_TRUE(Use(CredentialKind::kSession, s.secret).ok());
  EXPECT_EQ(LastUsed(s.id), "2026-03-02T12:01:00Z");
  // Used every 25 minutes it stays alive until its absolute lifetime (8 h) ends.
  while (*now_ + 25 * 60 < *audit::ParseUtc(s.expires_at)) {
    Advance(25 * 60);
    ASSERT_TRUE(Use(CredentialKind::kSession, s.secret).ok()) << audit::FormatUtc(*now_);
  }
  *now_ = *audit::ParseUtc(s.expires_at);
  ExpectUnauthenticated(Use(CredentialKind::kSession, s.secret), "expired at 2026-03-02T20:00:00Z");

  // Idle for more than 30 minutes: ended.
  IssuedCredential idle = NewSession(eve_);
  Advance(30 * 60);
  ASSERT_TRUE(Use(CredentialKind::kSession, idle.secret).ok());
  Advance(30 * 60 + 1);
  ExpectUnauthenticated(Use(CredentialKind::kSession, idle.secret), "30 minutes without activity");
  // The idle timeout is the caller's to set.
  SessionLimits limits;
  limits.session_idle_s = 2 * 3600;
  EXPECT_TRUE(Authenticate(*c_, CredentialKind::kSession, idle.secret, limits).ok());
}

TEST_P(SessionsTest, LogoutRevokesTheSessionAndIsAudited) {
  IssuedCredential s = NewSession(sam_);
  IssuedCredential other = NewSession(sam_);
  SignedIn who = SignIn(s);
  ASSERT_TRUE(Logout(*c_, who).ok());
  ExpectUnauthenticated(Use(CredentialKind::kSession, s.secret), "the session was revoked");
  EXPECT_TRUE(Use(CredentialKind::kSession, other.secret).ok()) << "only that session ended";
  EXPECT_EQ(Logout(*c_, who).code(), StatusCode::kFailedPrecondition);
  auto logouts = Entries("logout");
  ASSERT_EQ(logouts.size(), 1u);
  EXPECT_EQ(logouts[0].actor, "sam");
  EXPECT_EQ(logouts[0].subject, "user:sam");
  EXPECT_EQ(nlohmann::json::parse(logouts[0].details)["session_id"], s.id);
  // A token is revoked with RevokeMyToken, not by "signing out".
  IssuedCredential t = NewToken(SignIn(other), "script");
  auto by_token = Authenticate(*c_, CredentialKind::kToken, t.secret);
  ASSERT_TRUE(by_token.ok());
  EXPECT_EQ(Logout(*c_, *by_token).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Use(CredentialKind::kToken, t.secret).ok());
}

TEST_P(SessionsTest, TokensComeFromSessionsWithALabelAndAnExpiry) {
  SignedIn sam = SignIn(NewSession(sam_));
  IssuedCredential t = NewToken(sam, "nightly report");
  EXPECT_EQ(t.expires_at, "2026-05-31T12:00:00Z") << "90 days by default";
  EXPECT_TRUE(t.csrf_token.empty());
  EXPECT_EQ(LastUsed(t.id), "NULL") << "never used yet";
  auto by_token = Authenticate(*c_, CredentialKind::kToken, t.secret);
  ASSERT_TRUE(by_token.ok());
  EXPECT_EQ(by_token->actor.name, "sam");
  EXPECT_TRUE(by_token->csrf_token.empty());
  EXPECT_EQ(LastUsed(t.id), "2026-03-02T12:00:00Z");
  auto created = Entries("token.create");
  ASSERT_EQ(created.size(), 1u);
  auto details = nlohmann::json::parse(created[0].details);
  EXPECT_EQ(details["token_id"], t.id);
  EXPECT_EQ(details["label"], "nightly report");
  EXPECT_EQ(created[0].details.find(t.secret), std::string::npos);

  // A token cannot mint tokens: refused and audited.
  ExpectRefused(CreateToken(*c_, *by_token, {"another", 0}).status(), "session_required");
  auto refused = Entries("token.refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(refused[0].details)["code"], "session_required");
  // Label and expiry are checked.
  EXPECT_EQ(CreateToken(*c_, sam, {"", 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateToken(*c_, sam, {std::string(81, 'x'), 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateToken(*c_, sam, {"bad\nlabel", 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateToken(*c_, sam, {"x", 366}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateToken(*c_, sam, {"x", -1}).status().code(), StatusCode::kInvalidArgument);
  IssuedCredential year = NewToken(sam, "a year", 365);
  EXPECT_EQ(year.expires_at, "2027-03-02T12:00:00Z");
  IssuedCredential day = NewToken(sam, "a day", 1);
  // Tokens have no idle timeout, but they expire.
  Advance(86400 - 1);
  EXPECT_TRUE(Use(CredentialKind::kToken, day.secret).ok());
  Advance(1);
  ExpectUnauthenticated(Use(CredentialKind::kToken, day.secret), "expired");
  EXPECT_TRUE(Use(CredentialKind::kToken, year.secret).ok());
  EXPECT_EQ(Entries("token.create").size(), 3u);
}

TEST_P(SessionsTest, ListMyTokensShowsOnlyMineWithoutSecrets) {
  SignedIn sam = SignIn(NewSession(sam_));
  SignedIn eve = SignIn(NewSession(eve_));
  IssuedCredential a = NewToken(sam, "first");
  Advance(60);
  IssuedCredential b = NewToken(sam, "second", 1);
  NewToken(eve, "eve's");
  ASSERT_TRUE(RevokeMyToken(*c_, sam_, a.id).ok());
  Advance(2 * 86400);
  auto list = ListMyTokens(*c_, sam_);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, b.id) << "newest first";
  EXPECT_EQ((*list)[0].label, "second");
  EXPECT_FALSE((*list)[0].active) << "expired";
  EXPECT_FALSE((*list)[0].revoked_at);
  EXPECT_EQ((*list)[1].label, "first");
  EXPECT_FALSE((*list)[1].active);
  EXPECT_EQ((*list)[1].revoked_by, "sam");
  EXPECT_EQ((*list)[1].created_at, "2026-03-02T12:00:00Z");
  EXPECT_EQ(ListMyTokens(*c_, eve_)->size(), 1u);
  EXPECT_EQ(ListMyTokens(*c_, al_)->size(), 0u);
}

TEST_P(SessionsTest, OnlyTheOwnerRevokesAToken) {
  IssuedCredential t = NewToken(SignIn(NewSession(sam_)), "script");
  // Another user: refused, audited, and the token still works.
  ExpectRefused(RevokeMyToken(*c_, eve_, t.id), "not_owner");
  ExpectRefused(RevokeMyToken(*c_, admin_, t.id), "not_owner");
  EXPECT_TRUE(Use(CredentialKind::kToken, t.secret).ok());
  auto refused = Entries("token.refused");
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0].actor, "eve");
  EXPECT_EQ(nlohmann::json::parse(refused[0].details)["token_id"], t.id);
  // Unknown ids and sessions are not tokens.
  EXPECT_EQ(RevokeMyToken(*c_, sam_, 9999).code(), StatusCode::kNotFound);
  IssuedCredential session = NewSession(sam_);
  EXPECT_EQ(RevokeMyToken(*c_, sam_, session.id).code(), StatusCode::kNotFound);
  // The owner: revoked at once, audited; twice is an error.
  ASSERT_TRUE(RevokeMyToken(*c_, sam_, t.id).ok());
  ExpectUnauthenticated(Use(CredentialKind::kToken, t.secret), "revoked");
  EXPECT_EQ(RevokeMyToken(*c_, sam_, t.id).code(), StatusCode::kFailedPrecondition);
  auto revoked = Entries("token.revoke");
  ASSERT_EQ(revoked.size(), 1u);
  EXPECT_EQ(revoked[0].actor, "sam");
  EXPECT_EQ(nlohmann::json::parse(revoked[0].details)["label"], "script");
}

TEST_P(SessionsTest, AnAdminSignsAUserOutEverywhere) {
  IssuedCredential s1 = NewSession(sam_);
  IssuedCredential s2 = NewSession(sam_);
  IssuedCredential t = NewToken(SignIn(s1), "script");
  IssuedCredential eve = NewSession(eve_);
  // Only an admin, only with a reason, only for a known user.
  ExpectRefused(RevokeUserCredentials(*c_, sue_, "sam", "suspicious").status(), "wrong_role");
  ExpectRefused(RevokeUserCredentials(*c_, sam_, "eve", "revenge").status(), "wrong_role");
  EXPECT_EQ(Entries("admin.refused").size(), 2u);
  EXPECT_EQ(RevokeUserCredentials(*c_, admin_, "sam", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(RevokeUserCredentials(*c_, admin_, "nobody", "x").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(Use(CredentialKind::kSession, s1.secret).ok());

  auto r = RevokeUserCredentials(*c_, admin_, "sam", "laptop stolen");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->session_ids, (std::vector<int64_t>{s1.id, s2.id}));
  EXPECT_EQ(r->token_ids, (std::vector<int64_t>{t.id}));
  for (const auto& secret : {s1.secret, s2.secret}) {
    ExpectUnauthenticated(Use(CredentialKind::kSession, secret), "revoked");
  }
  ExpectUnauthenticated(Use(CredentialKind::kToken, t.secret), "revoked");
  EXPECT_TRUE(Use(CredentialKind::kSession, eve.secret).ok()) << "other users are untouched";
  auto entries = Entries("session.revoke");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].actor, "admin");
  EXPECT_EQ(entries[0].subject, "user:sam");
  auto details = nlohmann::json::parse(entries[0].details);
  EXPECT_EQ(details["reason"], "laptop stolen");
  EXPECT_EQ(details["session_ids"].size(), 2u);
  EXPECT_EQ(details["token_ids"][0], t.id);
  auto list = ListMyTokens(*c_, sam_);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].revoked_by, "admin");
  EXPECT_EQ((*list)[0].revoke_reason, "laptop stolen");
  // Nothing left to revoke: still audited, nothing listed.
  r = RevokeUserCredentials(*c_, admin_, "sam", "again");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->session_ids.empty() && r->token_ids.empty());
  // The user signs in again normally.
  EXPECT_TRUE(Use(CredentialKind::kSession, NewSession(sam_).secret).ok());
}

TEST_P(SessionsTest, LockingAUserRevokesTheirSessionsAndTokens) {
  IssuedCredential s = NewSession(sam_);
  IssuedCredential t = NewToken(SignIn(s), "script");
  IssuedCredential eve = NewSession(eve_);
  ASSERT_TRUE(SetLocked(*c_, admin_, "sam", true, "left the unit").ok());
  ExpectUnauthenticated(Use(CredentialKind::kSession, s.secret), "revoked");
  ExpectUnauthenticated(Use(CredentialKind::kToken, t.secret), "revoked");
  EXPECT_TRUE(Use(CredentialKind::kSession, eve.secret).ok());
  auto locks = Entries("user.lock");
  ASSERT_EQ(locks.size(), 1u);
  auto details = nlohmann::json::parse(locks[0].details);
  EXPECT_EQ(details["session_ids"][0], s.id);
  EXPECT_EQ(details["token_ids"][0], t.id);
  auto list = ListMyTokens(*c_, sam_);
  EXPECT_EQ(list.status().code(), StatusCode::kUnauthenticated) << "locked";
  // A locked account gets no session; unlocking brings none of the old ones back.
  EXPECT_EQ(CreateSession(*c_, sam_).status().code(), StatusCode::kUnauthenticated);
  ASSERT_TRUE(SetLocked(*c_, admin_, "sam", false, "back").ok());
  ExpectUnauthenticated(Use(CredentialKind::kSession, s.secret), "revoked");
  ExpectUnauthenticated(Use(CredentialKind::kToken, t.secret), "revoked");
  EXPECT_EQ(nlohmann::json::parse(Entries("user.unlock")[0].details).count("session_ids"), 0u);
  // A user locked by the database behind the service's back: tokens refuse to be made.
  SignedIn again = SignIn(NewSession(sam_));
  ASSERT_TRUE(c_->store().SetLocked(sam_.user_id, true).ok());
  ExpectRefused(CreateToken(*c_, again, {"x", 0}).status(), "account_locked");
}

TEST_P(SessionsTest, ActiveSessionsAreCountedAndTheChainVerifies) {
  EXPECT_EQ(CountActiveSessions(*c_).value(), 0);
  IssuedCredential a = NewSession(sam_);
  NewSession(eve_);
  IssuedCredential c = NewSession(ed_);
  NewToken(SignIn(c), "not a session");
  EXPECT_EQ(CountActiveSessions(*c_).value(), 3);
  ASSERT_TRUE(Logout(*c_, SignIn(a)).ok());
  EXPECT_EQ(CountActiveSessions(*c_).value(), 2);
  Advance(31 * 60);
  EXPECT_EQ(CountActiveSessions(*c_).value(), 0) << "idle";
  auto report = audit::Verify(*db_, Pinned());
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
}

TEST_P(SessionsTest, MigrationIsIdempotentAndRecorded) {
  EXPECT_TRUE(internal::MigrateSessions(*db_).ok());
  EXPECT_EQ(db_->SchemaVersion("sessions").value(), 1);
}

FT_INSTANTIATE_BACKENDS(SessionsTest);

}  // namespace
}  // namespace facetrail::service::testing
