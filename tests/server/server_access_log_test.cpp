// Issue 17: the access log. One JSON line per request with the request's id, which every error
// response carries too (body and X-Request-Id), so an administrator can follow one failure from
// what a user reports to the server's log; and nothing a request carried that is secret.
#include <mutex>
#include <vector>

#include "server_test_util.h"

namespace facetrail::server::testing {
namespace {

class AccessLogTest : public ServerTest {
 protected:
  void Start() {
    ServerOptions o;
    o.access_log = [this](const std::string& line) {
      std::lock_guard lock(mu_);
      lines_.push_back(line);
    };
    StartServer(o);
  }
  std::vector<std::string> Lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }
  // The line of request `id`, parsed; null when there is none (or more than one).
  json LineOf(const std::string& id) {
    json found;
    int n = 0;
    for (const std::string& l : Lines()) {
      json j = json::parse(l, nullptr, false);
      EXPECT_TRUE(j.is_object()) << "not one JSON object: " << l;
      if (j.is_object() && j.value("request_id", "") == id) {
        found = j;
        ++n;
      }
    }
    return n == 1 ? found : json();
  }
  std::string HeaderOf(const Reply& r, const std::string& name) {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? "" : it->second;
  }

  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST_F(AccessLogTest, AFailingRequestsIdIsInTheResponseAndTheLogLine) {
  Start();
  const std::string wrong = "Wrong-Secret-Pass-771";
  Reply r = Send("POST", "/api/v1/login", {}, {{"name", "admin"}, {"password", wrong}});
  ASSERT_EQ(r.status, 401) << r.raw;
  const std::string id = r.body["error"].value("request_id", "");
  ASSERT_FALSE(id.empty()) << r.raw;
  EXPECT_EQ(HeaderOf(r, "X-Request-Id"), id);
  json line = LineOf(id);
  ASSERT_TRUE(line.is_object()) << "no log line for " << id;
  EXPECT_EQ(line["method"], "POST");
  EXPECT_EQ(line["route"], "/api/v1/login");
  EXPECT_EQ(line["status"], 401);
  EXPECT_TRUE(line["duration_ms"].is_number());
  EXPECT_TRUE(line["time"].is_string());
  EXPECT_TRUE(line["user"].is_null());  // nobody signed in

  // A signed-in caller's failure names the user; the route is the template, not the path.
  Caller admin = Login("admin", kAdminPassword);
  r = Send("GET", "/api/v1/searches/987654321", admin);
  ASSERT_GE(r.status, 400) << r.raw;
  const std::string id2 = r.body["error"].value("request_id", "");
  EXPECT_NE(id2, id);
  line = LineOf(id2);
  ASSERT_TRUE(line.is_object()) << "no log line for " << id2;
  EXPECT_EQ(line["user"], "admin");
  EXPECT_EQ(line["status"], r.status);
  EXPECT_EQ(line["route"], "/api/v1/searches/{id}");

  // A request no route takes, with a secret in its path and query string.
  r = Send("GET", "/nothing-here/path-secret-5?token=query-secret-6", admin);
  EXPECT_EQ(r.status, 404);
  line = LineOf(r.body["error"].value("request_id", ""));
  ASSERT_TRUE(line.is_object()) << r.raw;
  EXPECT_EQ(line["route"], "(no route)");

  // Successful requests are logged too and carry the header.
  r = Send("GET", "/api/v1/me", admin);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(LineOf(HeaderOf(r, "X-Request-Id")).is_object());

  // Never a password (right or wrong), a session cookie, a CSRF token or a query string.
  const std::string cookie_secret = admin.cookie.substr(admin.cookie.find('=') + 1);
  for (const std::string& l : Lines()) {
    for (const std::string& secret :
         {wrong, std::string(kAdminPassword), cookie_secret, admin.csrf,
          std::string("path-secret-5"), std::string("query-secret-6")}) {
      EXPECT_EQ(l.find(secret), std::string::npos) << "'" << secret << "' in: " << l;
    }
  }
}

// Issue 17: a file that is not an image is the caller's input error (400), not a policy refusal
// (403 probe_unreadable); the attempt is still audited, and the answer names the request.
TEST_F(AccessLogTest, ANonImageUploadIsAnInputErrorAndAudited) {
  Start();
  Caller admin = Login("admin", kAdminPassword);
  MakeUser(admin, "sam", {"searcher"}, true);
  Caller sam = Login("sam", "sam-password-1");
  Reply r = Upload("/api/v1/searches", sam, "these are my notes, not a photograph",
                   {{"case", kCase},
                    {"purpose", "criminal investigation"},
                    {"offense", "robbery"},
                    {"justification", "CCTV still"},
                    {"agency", kAgency}});
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.Code(), "invalid_argument") << r.raw;
  EXPECT_NE(r.raw.find("is not a usable still image"), std::string::npos) << r.raw;
  json line = LineOf(r.body["error"].value("request_id", ""));
  ASSERT_TRUE(line.is_object()) << r.raw;
  EXPECT_EQ(line["status"], 400);
  EXPECT_EQ(line["user"], "sam");
  // Audited as the attempt it was.
  MakeUser(admin, "al", {"auditor"}, false);
  Caller al = Login("al", "al-password-1");
  Reply report = Send("GET", "/api/v1/audit/report", al);
  ASSERT_EQ(report.status, 200) << report.raw;
  EXPECT_EQ(report.body["refusals"]["per_code"]["probe_unreadable"], 1) << report.raw;
}

}  // namespace
}  // namespace facetrail::server::testing
