// Security properties of the HTTP API, end to end against the real server: authentication and
// roles on every route, CSRF, hostile strings and paths, hostile uploads, limits, headers, and
// the OpenAPI description matching the routes.
#include <fstream>
#include <regex>
#include <set>

#include "common/file.h"
#include "server/internal/http_common.h"
#include "server_test_util.h"

namespace facetrail::server::testing {
namespace {

// A concrete path for a documented route ("{id}" → 1 ...).
std::string Concrete(std::string path) {
  static const std::vector<std::pair<std::string, std::string>> kParams = {
      {"{id}", "1"},       {"{name}", "someone"}, {"{booking}", "B-1"},
      {"{photo_id}", "1"}, {"{number}", "FC-1"},  {"{case}", kCase}};
  for (const auto& [from, to] : kParams) {
    for (size_t pos; (pos = path.find(from)) != std::string::npos;)
      path.replace(pos, from.size(), to);
  }
  return path;
}

bool IsPublic(const std::string& route) {
  return route == "GET /healthz" || route == "GET /api/v1/openapi.json" ||
         route == "POST /api/v1/login" || route == "GET /api/v1/session";
}

class ServerSecurityTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer();
    admin_ = Login("admin", kAdminPassword);
    MakeUser(admin_, "sam", {"searcher"}, true);
    MakeUser(admin_, "eve", {"examiner"}, true);
    MakeUser(admin_, "al", {"auditor"}, false);
    sam_ = Login("sam", "sam-password-1");
    eve_ = Login("eve", "eve-password-1");
    al_ = Login("al", "al-password-1");
  }
  Caller admin_, sam_, eve_, al_;
};

TEST(HttpStatusTest, OneMappingFromStatusCodes) {
  struct Case {
    Status status;
    int http;
    std::string code;
  };
  const std::vector<Case> cases = {
      {InvalidArgument("bad"), 400, "invalid_argument"},
      {Unauthenticated("unauthenticated: who"), 401, "unauthenticated"},
      {PermissionDenied("outside_agency: not ours"), 403, "outside_agency"},
      {NotFound("x"), 404, "not_found"},
      {AlreadyExists("x"), 409, "already_exists"},
      {FailedPrecondition("x"), 409, "failed_precondition"},
      {ResourceExhausted("image too large"), 413, "resource_exhausted"},
      {ResourceExhausted("rate_limited: slow down"), 429, "resource_exhausted"},
      {DataLoss("SELECT * FROM secret"), 500, "data_loss"},
      {Internal("stack at foo.cpp:12"), 500, "internal"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status.ToString());
    EXPECT_EQ(internal::HttpStatusFor(c.status), c.http);
    json body = internal::ErrorBody(c.status);
    EXPECT_EQ(body["error"]["code"], c.code);
    if (c.http == 500) {
      EXPECT_EQ(body.dump().find("SELECT"), std::string::npos);
      EXPECT_EQ(body.dump().find("cpp"), std::string::npos);
    }
  }
}

TEST_F(ServerSecurityTest, OpenApiDescribesExactlyTheRegisteredRoutes) {
  Reply r = Send("GET", "/api/v1/openapi.json", {});
  ASSERT_EQ(r.status, 200);
  std::set<std::string> documented;
  for (auto& [path, ops] : r.body["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      std::string m = method;
      for (char& ch : m) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      documented.insert(m + " " + path);
    }
  }
  std::vector<std::string> routes = server_->RegisteredRoutes();
  std::set<std::string> registered(routes.begin(), routes.end());
  EXPECT_EQ(registered.size(), routes.size()) << "a route registered twice";
  for (const auto& d : documented) EXPECT_TRUE(registered.count(d)) << "documented only: " << d;
  for (const auto& g : registered) EXPECT_TRUE(documented.count(g)) << "undocumented: " << g;
}

// Issue 17: the sign-in page asks /session, which answers "nobody" with 200 (no failing request
// before sign-in) and reveals nothing for a forged or bearer credential.
TEST_F(ServerSecurityTest, SessionAnswersWithoutA401AndRevealsNothingToStrangers) {
  Reply r = Send("GET", "/api/v1/session", {});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, json({{"signed_in", false}}));
  r = Send("GET", "/api/v1/session", {"ft_session=" + std::string(64, 'a'), "", ""});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, json({{"signed_in", false}}));
  Caller admin = Login("admin", kAdminPassword);
  r = Send("GET", "/api/v1/session", admin);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["signed_in"], true);
  EXPECT_EQ(r.body["user"]["name"], "admin");
  EXPECT_EQ(r.body["csrf_token"], admin.csrf);
}

TEST_F(ServerSecurityTest, EveryNonPublicRouteRefusesAnonymousAndBadCredentials) {
  for (const std::string& route : server_->RegisteredRoutes()) {
    if (IsPublic(route)) continue;
    SCOPED_TRACE(route);
    std::string method = route.substr(0, route.find(' '));
    std::string path = Concrete(route.substr(route.find(' ') + 1));
    Reply r = Send(method, path, {});
    EXPECT_EQ(r.status, 401) << r.raw;
    EXPECT_EQ(r.Code(), "unauthenticated");
    r = Send(method, path, {"ft_session=" + std::string(64, 'a'), "x", ""});
    EXPECT_EQ(r.status, 401);
    r = Send(method, path, {"", "", std::string(64, 'b')});
    EXPECT_EQ(r.status, 401);
  }
}

TEST_F(ServerSecurityTest, WrongRolesAreRefused) {
  struct Case {
    const char* who;
    std::string method, path;
    json body;
  };
  const std::vector<Case> cases = {
      {"sam", "GET", "/api/v1/users", {}},
      {"sam", "POST", "/api/v1/users", {{"name", "x1"}, {"roles", {"admin"}}}},
      {"sam", "PUT", "/api/v1/users/eve/roles", {{"roles", {"admin"}}}},
      {"sam", "POST", "/api/v1/users/eve/lock", {{"locked", true}, {"reason", "x"}}},
      {"sam", "POST", "/api/v1/users/sam/certificates", {{"course", "c"}, {"number", "n"}}},
      {"sam", "POST", "/api/v1/users/eve/certificates/FC-eve/revoke", {{"reason", "x"}}},
      {"sam", "GET", "/api/v1/audit/report", {}},
      {"sam", "GET", "/api/v1/audit/verify", {}},
      {"sam", "GET", "/api/v1/audit/export", {}},
      {"sam", "GET", "/api/v1/reviews", {}},
      {"sam", "GET", "/api/v1/bookings/B-1", {}},
      {"sam", "GET", "/api/v1/bookings/B-1/photos/1", {}},
      // Issue 13, side by side: the aligned views follow the image routes' rules.
      {"sam", "GET", "/api/v1/bookings/B-1/photos/1/aligned", {}},
      {"al", "GET", "/api/v1/bookings/B-1/photos/1/aligned", {}},
      {"admin", "GET", "/api/v1/bookings/B-1/photos/1/aligned", {}},
      {"admin", "GET", "/api/v1/searches/1/probe/aligned", {}},
      {"sam", "GET", "/api/v1/searches/999999/probe/aligned", {}},
      {"sam",
       "POST",
       "/api/v1/quality-overrides",
       {{"probe_sha256", std::string(64, 'a')}, {"case", kCase}, {"reason", "r"}}},
      {"sam", "GET", "/api/v1/quality-overrides", {}},
      {"sam", "GET", "/api/v1/case-holds", {}},
      {"sam", "POST", "/api/v1/case-holds", {{"case", kCase}, {"reason", "r"}}},
      {"sam", "POST", std::string("/api/v1/case-holds/") + kCase + "/release", {{"reason", "r"}}},
      {"sam", "POST", "/api/v1/probes/purge", {}},
      {"eve", "GET", "/api/v1/quality-overrides", {}},
      {"eve", "GET", "/api/v1/case-holds", {}},
      {"eve", "POST", "/api/v1/case-holds", {{"case", kCase}, {"reason", "r"}}},
      {"al",
       "POST",
       "/api/v1/quality-overrides",
       {{"probe_sha256", std::string(64, 'a')}, {"case", kCase}, {"reason", "r"}}},
      {"al", "POST", "/api/v1/case-holds", {{"case", kCase}, {"reason", "r"}}},
      {"al", "POST", std::string("/api/v1/case-holds/") + kCase + "/release", {{"reason", "r"}}},
      {"al", "POST", "/api/v1/probes/purge", {}},
      {"admin", "GET", "/api/v1/quality-overrides", {}},
      {"admin", "GET", "/api/v1/case-holds", {}},
      {"admin", "POST", "/api/v1/case-holds", {{"case", kCase}, {"reason", "r"}}},
      {"eve", "GET", "/api/v1/users", {}},
      {"eve", "GET", "/api/v1/audit/export", {}},
      {"al", "GET", "/api/v1/users", {}},
      {"al", "GET", "/api/v1/reviews", {}},
      {"al", "GET", "/api/v1/bookings/B-1", {}},
      {"admin", "GET", "/api/v1/audit/report", {}},
      {"admin", "GET", "/api/v1/reviews", {}},
      // Issue 14 §6: the counters are for admins and auditors; a lead's id is not revealed.
      {"sam", "GET", "/metrics", {}},
      {"eve", "GET", "/metrics", {}},
      {"admin", "GET", "/api/v1/searches/1", {}},
      {"admin", "GET", "/api/v1/searches/999999", {}},
      {"sam", "GET", "/api/v1/searches/999999", {}},
      {"admin", "POST", "/api/v1/searches/999999/examination", {{"candidates", json::array()}}},
      {"sam", "POST", "/api/v1/searches/999999/examination", {{"candidates", json::array()}}},
      {"al", "POST", "/api/v1/searches/999999/verification", {{"candidates", json::array()}}},
      {"eve", "POST", "/api/v1/searches/999999/outcome", {{"outcome", "unknown"}}},
      // The case file: only the lead's readers, and the refusal reveals no id.
      {"admin", "GET", "/api/v1/searches/1/case", {}},
      {"admin", "GET", "/api/v1/searches/999999/case", {}},
      {"sam", "GET", "/api/v1/searches/999999/case", {}},
  };
  std::map<std::string, Caller> callers = {
      {"sam", sam_}, {"eve", eve_}, {"al", al_}, {"admin", admin_}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.who) + " " + c.method + " " + c.path);
    Reply r = Send(c.method, c.path, callers[c.who], c.body);
    EXPECT_EQ(r.status, 403) << r.raw;
    EXPECT_FALSE(r.Code().empty());
  }
  // Examiners and auditors may not search; the refusal names the rule.
  Reply r = Upload("/api/v1/searches", eve_, "not an image",
                   {{"case", kCase},
                    {"purpose", "criminal investigation"},
                    {"offense", "theft"},
                    {"justification", "CCTV still"},
                    {"agency", kAgency}});
  EXPECT_EQ(r.status, 403) << r.raw;
  EXPECT_EQ(r.Code(), "wrong_role");
  // The refusals are in the audit log.
  MakeUser(admin_, "sue", {"supervisor"}, false);
  Reply log = Send("GET", "/api/v1/audit/export", Login("sue", "sue-password-1"));
  ASSERT_EQ(log.status, 200) << log.raw;
  int refused = 0;
  for (const json& e : log.body["entries"]) {
    if (e["action"].get<std::string>().find(".refused") != std::string::npos) ++refused;
  }
  EXPECT_GE(refused, 10);
}

TEST_F(ServerSecurityTest, CsrfTokenAndOriginAreRequiredForStateChanges) {
  json user{{"name", "newbie"},
            {"full_name", "N"},
            {"agency", kAgency},
            {"roles", {"searcher"}},
            {"password", "newbie-password-1"}};
  Caller no_token{admin_.cookie, "", ""};
  Reply r = Send("POST", "/api/v1/users", no_token, user);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Code(), "csrf_token");
  Caller wrong_token{admin_.cookie, std::string(64, '0'), ""};
  r = Send("POST", "/api/v1/users", wrong_token, user);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Code(), "csrf_token");
  Caller other_session_token{admin_.cookie, sam_.csrf, ""};
  r = Send("POST", "/api/v1/users", other_session_token, user);
  EXPECT_EQ(r.status, 403);
  r = Send("POST", "/api/v1/users", admin_, user, {{"Origin", "http://evil.example"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Code(), "csrf_origin");
  // Nothing was created by the refused attempts.
  Reply users = Send("GET", "/api/v1/users", admin_);
  EXPECT_EQ(users.raw.find("newbie"), std::string::npos);
  // With the token (and a same-origin Origin) it works.
  std::string origin = "http://127.0.0.1:" + std::to_string(server_->port());
  r = Send("POST", "/api/v1/users", admin_, user, {{"Origin", origin}});
  EXPECT_EQ(r.status, 201) << r.raw;
}

TEST_F(ServerSecurityTest, SessionCookieIsHardenedAndLogoutEndsIt) {
  Reply r = Send("POST", "/api/v1/login", {}, {{"name", "sam"}, {"password", "sam-password-1"}});
  ASSERT_EQ(r.status, 200);
  std::string cookie;
  for (auto& [k, v] : r.headers) {
    if (k == "Set-Cookie") cookie = v;
  }
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("Path=/"), std::string::npos);
  EXPECT_NE(cookie.find("Max-Age="), std::string::npos);
  std::string id = cookie.substr(std::string("ft_session=").size(), 64);
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{64}")));
  EXPECT_EQ(r.raw.find(id), std::string::npos) << "the session id must not be in the body";
  EXPECT_EQ(Send("POST", "/api/v1/logout", sam_).status, 200);
  EXPECT_EQ(Send("GET", "/api/v1/me", sam_).status, 401);
  // Wrong password: 401, same message as an unknown user.
  Reply bad = Send("POST", "/api/v1/login", {}, {{"name", "eve"}, {"password", "nope-nope-nope"}});
  Reply unknown = Send("POST", "/api/v1/login", {}, {{"name", "zed"}, {"password", "nope"}});
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(bad.body["error"]["message"], unknown.body["error"]["message"]);
}

TEST_F(ServerSecurityTest, ApiTokensWorkWithoutCsrfAndOnlyFromSessions) {
  Reply t = Send("POST", "/api/v1/tokens", eve_, {{"label", "review export"}});
  ASSERT_EQ(t.status, 201) << t.raw;
  Caller script{"", "", t.body["token"].get<std::string>()};
  Reply me = Send("GET", "/api/v1/me", script);
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.body["user"]["name"], "eve");
  EXPECT_FALSE(me.body.contains("csrf_token"));
  EXPECT_EQ(Send("POST", "/api/v1/tokens", script, {{"label", "x"}}).status, 403);
  EXPECT_EQ(Send("GET", "/api/v1/reviews", script).status, 200);
}

TEST_F(ServerSecurityTest, InjectionAndTraversalStringsFailCleanly) {
  Reply r = Send("POST", "/api/v1/login", {},
                 {{"name", "admin' OR '1'='1' --"}, {"password", "' OR 1=1 --"}});
  EXPECT_EQ(r.status, 401);
  r = Send("POST", "/api/v1/users", admin_,
           {{"name", "x'); DROP TABLE policy_users; --"},
            {"full_name", "Robert'); --"},
            {"agency", kAgency},
            {"roles", {"searcher"}},
            {"password", "long-enough-pass"}});
  EXPECT_EQ(r.status, 400) << r.raw;
  r = Upload("/api/v1/searches", sam_, "not an image",
             {{"case", "X'; DELETE FROM audit_log; --"},
              {"purpose", "criminal investigation"},
              {"offense", "' OR 1=1"},
              {"justification", "\"; DROP TABLE x"},
              {"agency", kAgency}});
  EXPECT_EQ(r.status, 403) << r.raw;
  EXPECT_EQ(r.Code(), "malformed_case_number");
  const std::vector<std::string> paths = {"/api/v1/bookings/..%2F..%2Fetc%2Fpasswd",
                                          "/api/v1/bookings/B-1'%20OR%201=1--",
                                          "/api/v1/bookings/../../../etc/passwd",
                                          "/api/v1/users/..%2Fadmin/roles",
                                          "/api/v1/searches/1%20OR%201=1",
                                          "/app/../../etc/passwd",
                                          "/app/..%2F..%2FCMakeLists.txt",
                                          "/app/%2e%2e/src/server/server.cpp",
                                          "/api/v1/searches/-1",
                                          "/api/v1/searches/99999999999999999999999"};
  Caller eve = eve_;
  for (const std::string& p : paths) {
    SCOPED_TRACE(p);
    Reply x = Send("GET", p, eve);
    EXPECT_GE(x.status, 400);
    EXPECT_LT(x.status, 500);
    EXPECT_EQ(x.raw.find("root:"), std::string::npos);
    EXPECT_EQ(x.raw.find("cmake"), std::string::npos);
    EXPECT_TRUE(x.body.is_object() && x.body.contains("error")) << x.raw;
  }
  // Everything still works and the log is intact.
  Reply v = Send("GET", "/api/v1/audit/verify", al_);
  ASSERT_EQ(v.status, 200) << v.raw;
  EXPECT_TRUE(v.body["ok"].get<bool>());
  EXPECT_EQ(Send("GET", "/api/v1/users", admin_).body["users"].size(), 4u);
}

TEST_F(ServerSecurityTest, MalformedJsonBodiesAre400) {
  for (const std::string body : {"{", "[1,2]", "{\"roles\": 5}", "null", "\"x\""}) {
    SCOPED_TRACE(body);
    httplib::Headers h = HeadersFor(admin_);
    auto r = ToReply(client_->Put("/api/v1/users/eve/roles", h, body, "application/json"));
    EXPECT_EQ(r.status, 400) << r.raw;
    EXPECT_EQ(r.Code(), "invalid_argument");
  }
}

std::string JpegWithHugeDimensions() {
  // SOI, APP0 JFIF, SOF0 declaring 60000 x 60000, 3 components, then EOI: a lying header.
  std::string j = "\xFF\xD8\xFF\xE0";
  j += std::string("\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 16);
  j += std::string("\xFF\xC0\x00\x11\x08\xEA\x60\xEA\x60\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01",
                   19);
  j += "\xFF\xD9";
  return j;
}

std::string ReadFile(const std::string& path) {
  auto bytes = ReadFileBytes(path, size_t{64} << 20);
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

TEST_F(ServerSecurityTest, HostileUploadsGetClean4xxAndTheServerStaysUp) {
  std::string real =
      ReadFile(std::string(FACETRAIL_SHARED_DIR) +
               "/data/lfw-deepfunneled-dev/images/Abdullah_Gul/Abdullah_Gul_0001.jpg");
  ASSERT_GT(real.size(), 1000u);
  struct Case {
    std::string name, bytes;
  };
  const std::vector<Case> cases = {
      {"not an image", "hello, this is plain text and not a picture"},
      {"truncated jpeg", real.substr(0, real.size() / 3)},
      {"jpeg header only", real.substr(0, 20)},
      {"huge declared dimensions", JpegWithHugeDimensions()},
      {"mp4 video", std::string("\x00\x00\x00\x18"
                                "ftypmp42\x00\x00\x00\x00mp42isom",
                                24)},
      {"empty", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Reply r = Upload("/api/v1/probes/analyze", sam_, c.bytes);
    EXPECT_GE(r.status, 400) << r.raw;
    EXPECT_LT(r.status, 500) << r.raw;
    EXPECT_FALSE(r.Code().empty()) << r.raw;
    EXPECT_EQ(Send("GET", "/healthz", {}).status, 200);
  }
  // A real JPEG whose frame header claims 60000 x 60000: refused from the header, before decoding.
  std::string lying = real;
  size_t sof = lying.find("\xFF\xC0");
  if (sof == std::string::npos) sof = lying.find("\xFF\xC2");
  ASSERT_NE(sof, std::string::npos);
  lying.replace(sof + 5, 4, "\xEA\x60\xEA\x60");
  Reply huge = Upload("/api/v1/probes/analyze", sam_, lying);
  EXPECT_EQ(huge.status, 413) << huge.raw;
  // Larger than the upload limit (2 MiB in these tests): 413 with a JSON body.
  Reply big = Upload("/api/v1/probes/analyze", sam_, std::string(3 << 20, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.Code(), "resource_exhausted");
  EXPECT_EQ(Send("GET", "/healthz", {}).status, 200);
  // The real image still works.
  Reply ok = Upload("/api/v1/probes/analyze", sam_, real);
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_GE(ok.body["faces"].size(), 1u);
  EXPECT_TRUE(ok.body["faces"][0].contains("quality_ok"));
}

TEST_F(ServerSecurityTest, SecurityHeadersOnPagesAndApi) {
  for (const std::string path : {"/", "/api/v1/me", "/app/nope.js", "/healthz"}) {
    SCOPED_TRACE(path);
    auto r = client_->Get(path.c_str(), HeadersFor(sam_));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get_header_value("Content-Security-Policy").rfind("default-src 'self'", 0), 0u);
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r->get_header_value("X-Frame-Options"), "DENY");
    EXPECT_EQ(r->get_header_value("Referrer-Policy"), "no-referrer");
  }
  EXPECT_EQ(client_->Get("/metrics")->status, 401);
  auto metrics = client_->Get("/metrics", HeadersFor(al_));
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("# TYPE facetrail_http_responses_total counter"), std::string::npos);
  EXPECT_NE(metrics->body.find("facetrail_logins_total "), std::string::npos);
}

class RateLimitTest : public ServerTest {};

TEST_F(RateLimitTest, SearchesPerUserAreLimited) {
  ServerOptions o;
  o.search_burst = 2;
  o.searches_per_minute = 1;
  StartServer(o);
  Caller admin = Login("admin", kAdminPassword);
  MakeUser(admin, "sam", {"searcher"}, true);
  Caller sam = Login("sam", "sam-password-1");
  EXPECT_EQ(Upload("/api/v1/probes/analyze", sam, "x").status, 400);
  EXPECT_EQ(Upload("/api/v1/probes/analyze", sam, "x").status, 400);
  Reply r = Upload("/api/v1/probes/analyze", sam, "x");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.Code(), "resource_exhausted");
}

class TlsTest : public ServerTest {};

TEST_F(TlsTest, HttpsWithSecureCookieAndHsts) {
  std::string cert = dir_ + "/cert.pem", key = dir_ + "/key.pem";
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " + key +
      " -out " + cert + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ServerOptions o;
  o.db_path = db_path_;
  o.port = 0;
  o.tls_cert_path = cert;
  ASSERT_EQ(Server::Create(o).status().code(), StatusCode::kInvalidArgument) << "half TLS";
  o.tls_key_path = key;
  o.fast_password_hashing = true;
  auto server = Server::Create(o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Bind().ok());
  std::thread t([&] { (void)(*server)->Serve(); });
  httplib::SSLClient tls("127.0.0.1", (*server)->port());
  tls.enable_server_certificate_verification(false);
  auto r = tls.Post("/api/v1/login", R"({"name": "admin", "password": "admin-password-1"})",
                    "application/json");
  (*server)->Stop();
  t.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::string cookie = r->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(r->get_header_value("Strict-Transport-Security"), "");
}

TEST_F(TlsTest, RefusesToStartWithoutAUsableDatabase) {
  ServerOptions o;
  o.db_path = dir_ + "/missing.db";
  EXPECT_EQ(Server::Create(o).status().code(), StatusCode::kNotFound);
  {
    auto db = Db::Open(dir_ + "/empty.db", /*create=*/true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(service::Context::Open(*db).ok());
  }
  o.db_path = dir_ + "/empty.db";
  EXPECT_EQ(Server::Create(o).status().code(), StatusCode::kFailedPrecondition);
}

TEST(LoopbackTest, OnlyLoopbackAddressesCountAsLocal) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost"})
    EXPECT_TRUE(IsLoopback(host));
  for (const char* host : {"0.0.0.0", "10.0.0.5", "::", "192.168.1.1", "example.org"}) {
    EXPECT_FALSE(IsLoopback(host)) << host;
  }
}

}  // namespace
}  // namespace facetrail::server::testing
