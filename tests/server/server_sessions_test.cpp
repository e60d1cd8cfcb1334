// Persistent, revocable sessions and API tokens through the real server (service/sessions.h):
// a cookie and a token survive a restart on the same database, logout and revocation take
// effect on the next request, an admin signs a user out, wrong callers are refused, the idle
// timeout applies, and every state change has its audit entry.
#include <map>

#include "audit/audit.h"
#include "server_test_util.h"

namespace facetrail::server::testing {
namespace {

class ServerSessionsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer();
    admin_ = Login("admin", kAdminPassword);
    MakeUser(admin_, "sam", {"searcher"}, true);
    MakeUser(admin_, "eve", {"examiner"}, true);
    sam_ = Login("sam", "sam-password-1");
    eve_ = Login("eve", "eve-password-1");
  }

  // Creates a token as `who` (a session); returns {id, secret}.
  std::pair<int64_t, std::string> MakeToken(const Caller& who, const std::string& label) {
    Reply r = Send("POST", "/api/v1/tokens", who, {{"label", label}, {"expires_days", 30}});
    EXPECT_EQ(r.status, 201) << r.raw;
    if (r.status != 201) return {0, ""};
    return {r.body["id"].get<int64_t>(), r.body["token"].get<std::string>()};
  }

  // Audit entries by action, read from the database file.
  std::map<std::string, int> AuditCounts() {
    std::map<std::string, int> out;
    auto db = Db::Open(db_path_, /*create=*/false);
    EXPECT_TRUE(db.ok());
    audit::AuditLog log(*db);
    auto entries = log.Read();
    EXPECT_TRUE(entries.ok());
    if (entries.ok()) {
      for (const audit::Entry& e : *entries) ++out[e.action];
    }
    return out;
  }

  std::string Metric(const std::string& name) {
    std::string text = Send("GET", "/metrics", admin_).raw;
    size_t pos = text.find("\n" + name + " ");
    if (pos == std::string::npos) return "";
    pos += name.size() + 2;
    return text.substr(pos, text.find('\n', pos) - pos);
  }

  Caller admin_, sam_, eve_;
};

TEST_F(ServerSessionsTest, CookieAndTokenSurviveARestartOnTheSameDatabase) {
  auto [id, token] = MakeToken(sam_, "cron");
  Caller script{"", "", token};
  StopServer();
  StartServer();
  Reply me = Send("GET", "/api/v1/me", sam_);
  ASSERT_EQ(me.status, 200) << me.raw;
  EXPECT_EQ(me.body["user"]["name"], "sam");
  EXPECT_EQ(me.body["csrf_token"], sam_.csrf) << "the CSRF token is derived, so it survives too";
  // A state change with the old cookie and CSRF token still works.
  EXPECT_EQ(Send("POST", "/api/v1/tokens", sam_, {{"label", "after restart"}}).status, 201);
  Reply by_token = Send("GET", "/api/v1/me", script);
  ASSERT_EQ(by_token.status, 200) << by_token.raw;
  EXPECT_EQ(by_token.body["user"]["name"], "sam");
  Reply list = Send("GET", "/api/v1/tokens", sam_);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.body["tokens"].size(), 2u);
  EXPECT_EQ(list.body["tokens"][1]["id"], id);
  EXPECT_EQ(list.body["tokens"][1]["label"], "cron");
  EXPECT_TRUE(list.body["tokens"][1]["active"].get<bool>());
  EXPECT_FALSE(list.body["tokens"][1]["last_used_at"].is_null()) << "used by the script";
  EXPECT_TRUE(list.body["tokens"][0]["last_used_at"].is_null()) << "never used";
  EXPECT_EQ(list.raw.find(token), std::string::npos) << "never a secret in the list";
}

TEST_F(ServerSessionsTest, ARevokedTokenIsRefusedAtTheNextRequest) {
  auto [id, token] = MakeToken(sam_, "cron");
  Caller script{"", "", token};
  ASSERT_EQ(Send("GET", "/api/v1/searches", script).status, 200);
  // Revoking needs the CSRF token from a session (a DELETE is a state change).
  Caller no_csrf{sam_.cookie, "", ""};
  Reply r = Send("DELETE", "/api/v1/tokens/" + std::to_string(id), no_csrf);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Code(), "csrf_token");
  r = Send("DELETE", "/api/v1/tokens/" + std::to_string(id), sam_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["revoked"], id);
  r = Send("GET", "/api/v1/searches", script);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Code(), "unauthenticated");
  EXPECT_EQ(Send("DELETE", "/api/v1/tokens/" + std::to_string(id), sam_).status, 409);
  EXPECT_EQ(Send("DELETE", "/api/v1/tokens/999", sam_).status, 404);
  Reply list = Send("GET", "/api/v1/tokens", sam_);
  EXPECT_FALSE(list.body["tokens"][0]["active"].get<bool>());
  EXPECT_EQ(list.body["tokens"][0]["revoked_by"], "sam");
  // A script may revoke its own token (no CSRF for a bearer token).
  auto [id2, token2] = MakeToken(sam_, "self-revoking");
  Caller script2{"", "", token2};
  EXPECT_EQ(Send("DELETE", "/api/v1/tokens/" + std::to_string(id2), script2).status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/me", script2).status, 401);
}

TEST_F(ServerSessionsTest, AfterLogoutTheOldCookieIsRefused) {
  Caller old = sam_;
  Caller other = Login("sam", "sam-password-1");
  Reply r = Send("POST", "/api/v1/logout", sam_);
  ASSERT_EQ(r.status, 200) << r.raw;
  std::string cleared;
  for (auto& [k, v] : r.headers) {
    if (k == "Set-Cookie") cleared = v;
  }
  EXPECT_NE(cleared.find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Send("GET", "/api/v1/me", old).status, 401);
  EXPECT_EQ(Send("POST", "/api/v1/tokens", old, {{"label", "x"}}).status, 401);
  EXPECT_EQ(Send("POST", "/api/v1/logout", old).status, 401);
  EXPECT_EQ(Send("GET", "/api/v1/me", other).status, 200) << "the other session is untouched";
  // Logout with a token is not a way to revoke it.
  auto [id, token] = MakeToken(other, "cron");
  Caller script{"", "", token};
  EXPECT_EQ(Send("POST", "/api/v1/logout", script).status, 409);
  EXPECT_EQ(Send("GET", "/api/v1/me", script).status, 200);
}

TEST_F(ServerSessionsTest, AnAdminSignsAUserOutEverywhere) {
  Caller sam2 = Login("sam", "sam-password-1");
  auto [id, token] = MakeToken(sam_, "cron");
  Caller script{"", "", token};
  Reply r = Send("POST", "/api/v1/users/sam/sessions/revoke", admin_, json::object());
  EXPECT_EQ(r.status, 400) << "a reason is required: " << r.raw;
  EXPECT_EQ(Send("POST", "/api/v1/users/nobody/sessions/revoke", admin_, {{"reason", "x"}}).status,
            404);
  r = Send("POST", "/api/v1/users/sam/sessions/revoke", admin_, {{"reason", "phone stolen"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["revoked_sessions"], 2);
  EXPECT_EQ(r.body["revoked_tokens"], 1);
  for (const Caller& c : {sam_, sam2, script}) {
    EXPECT_EQ(Send("GET", "/api/v1/me", c).status, 401);
  }
  EXPECT_EQ(Send("GET", "/api/v1/me", eve_).status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/me", Login("sam", "sam-password-1")).status, 200)
      << "signing in again works";
  // Locking through the API signs the user out as well.
  Caller eve_script{"", "", MakeToken(eve_, "x").second};
  ASSERT_EQ(
      Send("POST", "/api/v1/users/eve/lock", admin_, {{"locked", true}, {"reason", "suspended"}})
          .status,
      200);
  EXPECT_EQ(Send("GET", "/api/v1/me", eve_).status, 401);
  EXPECT_EQ(Send("GET", "/api/v1/me", eve_script).status, 401);
}

TEST_F(ServerSessionsTest, WrongCallersAreRefused) {
  auto [sams_id, token] = MakeToken(sam_, "cron");
  Caller script{"", "", token};
  struct Case {
    std::string who, method, path;
    json body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"sam", "POST", "/api/v1/users/eve/sessions/revoke", {{"reason", "x"}}, 403, "wrong_role"},
      {"eve", "POST", "/api/v1/users/sam/sessions/revoke", {{"reason", "x"}}, 403, "wrong_role"},
      {"script", "POST", "/api/v1/users/eve/sessions/revoke", {{"reason", "x"}}, 403, "wrong_role"},
      {"eve", "DELETE", "/api/v1/tokens/" + std::to_string(sams_id), {}, 403, "not_owner"},
      {"admin", "DELETE", "/api/v1/tokens/" + std::to_string(sams_id), {}, 403, "not_owner"},
      {"script", "POST", "/api/v1/tokens", {{"label", "x"}}, 403, "session_required"},
      {"sam", "POST", "/api/v1/tokens", {{"label", ""}}, 400, "invalid_argument"},
      {"sam",
       "POST",
       "/api/v1/tokens",
       {{"label", "x"}, {"expires_days", 366}},
       400,
       "invalid_argument"},
      {"sam",
       "POST",
       "/api/v1/tokens",
       {{"label", "x"}, {"expires_days", "ten"}},
       400,
       "invalid_argument"},
      {"nobody", "GET", "/api/v1/tokens", {}, 401, "unauthenticated"},
      {"nobody", "POST", "/api/v1/tokens", {{"label", "x"}}, 401, "unauthenticated"},
      {"nobody", "DELETE", "/api/v1/tokens/" + std::to_string(sams_id), {}, 401, "unauthenticated"},
      {"nobody",
       "POST",
       "/api/v1/users/sam/sessions/revoke",
       {{"reason", "x"}},
       401,
       "unauthenticated"},
  };
  std::map<std::string, Caller> callers = {
      {"sam", sam_}, {"eve", eve_}, {"admin", admin_}, {"script", script}, {"nobody", {}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.who + " " + c.method + " " + c.path + " " + c.body.dump());
    Reply r = Send(c.method, c.path, callers[c.who], c.body);
    EXPECT_EQ(r.status, c.status) << r.raw;
    EXPECT_EQ(r.Code(), c.code);
  }
  // Nothing was revoked by the refused calls.
  EXPECT_EQ(Send("GET", "/api/v1/me", script).status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/me", eve_).status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/tokens", eve_).body["tokens"].size(), 0u);
  // The refusals are audited.
  auto counts = AuditCounts();
  EXPECT_EQ(counts["admin.refused"], 3);
  EXPECT_EQ(counts["token.refused"], 3);
}

TEST_F(ServerSessionsTest, EveryStateChangeHasItsAuditEntryAndTheGaugeCountsSessions) {
  auto before = AuditCounts();
  EXPECT_EQ(before["session.create"], 3) << "admin, sam, eve signed in";
  EXPECT_EQ(Metric("facetrail_sessions"), "3");
  Caller sam2 = Login("sam", "sam-password-1");
  auto [a, token_a] = MakeToken(sam_, "a");
  auto [b, token_b] = MakeToken(sam2, "b");
  MakeToken(eve_, "c");
  ASSERT_EQ(Send("DELETE", "/api/v1/tokens/" + std::to_string(a), sam_).status, 200);
  ASSERT_EQ(Send("POST", "/api/v1/logout", sam2).status, 200);
  EXPECT_EQ(Metric("facetrail_sessions"), "3");
  ASSERT_EQ(
      Send("POST", "/api/v1/users/sam/sessions/revoke", admin_, {{"reason", "audit test"}}).status,
      200);
  EXPECT_EQ(Metric("facetrail_sessions"), "2");
  auto after = AuditCounts();
  EXPECT_EQ(after["session.create"] - before["session.create"], 1);
  EXPECT_EQ(after["token.create"] - before["token.create"], 3);
  EXPECT_EQ(after["token.revoke"] - before["token.revoke"], 1);
  EXPECT_EQ(after["logout"] - before["logout"], 1);
  EXPECT_EQ(after["session.revoke"] - before["session.revoke"], 1);
  // Reads and authentication alone write no entry.
  auto steady = AuditCounts();
  Send("GET", "/api/v1/tokens", eve_);
  Send("GET", "/api/v1/me", eve_);
  Send("GET", "/api/v1/me", {"", "", token_b});
  EXPECT_EQ(AuditCounts(), steady);
}

class ServerIdleTest : public ServerTest {};

TEST_F(ServerIdleTest, AnIdleSessionEnds) {
  ServerOptions o;
  o.session_idle_s = 1;
  StartServer(o);
  Caller admin = Login("admin", kAdminPassword);
  ASSERT_EQ(Send("GET", "/api/v1/me", admin).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  Reply r = Send("GET", "/api/v1/me", admin);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body["error"]["message"].get<std::string>().find("without activity"),
            std::string::npos)
      << r.raw;
}

}  // namespace
}  // namespace facetrail::server::testing
