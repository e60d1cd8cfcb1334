// `facetrail serve --trusted-proxy` over real HTTP on 127.0.0.1 (docs/SERVER.md, "Behind a
// reverse proxy"): X-Forwarded-For is believed only from a trusted proxy, read from the right so a
// client cannot put itself in someone else's place; the sign-in limits, the database throttle,
// the access log and the audit log then see the forwarded client, and the proxy's connections are
// not capped as one client's. From any other peer the header changes nothing.
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "server/internal/http_transport.h"
#include "server_test_util.h"

namespace facetrail::server::testing {
namespace {

class ServerProxyTest : public ServerTest {
 protected:
  // The database throttle per address after 3 failures (long enough that it cannot lapse during
  // the test); the per-name one well above what the tests send.
  void SetUp() override {
    ServerTest::SetUp();
    ChangePolicy([](policy::PolicyConfig& c) {
      c.max_failed_logins = 50;
      c.max_failed_logins_per_address = 3;
      c.login_delay_s = 300;
      c.login_max_delay_s = 300;
    });
  }

  void Start(std::vector<std::string> trusted, double login_burst = 1000,
             unsigned max_connections_per_address = 64) {
    ServerOptions o;
    o.trusted_proxies = std::move(trusted);
    o.login_burst = login_burst;
    o.http.max_connections_per_address = max_connections_per_address;
    o.access_log = [this](const std::string& line) {
      std::lock_guard lock(mu_);
      lines_.push_back(line);
    };
    StartServer(o);
  }

  // A failed sign-in (a new name each time, so only the per-address limits can refuse it) with
  // these X-Forwarded-For header lines.
  Reply FailedLogin(const std::vector<std::string>& forwarded_for) {
    httplib::Headers h;
    for (const std::string& v : forwarded_for) h.emplace("X-Forwarded-For", v);
    return Send("POST", "/api/v1/login", {},
                {{"name", "nobody" + std::to_string(++names_)}, {"password", "wrong-password"}}, h);
  }

  // The access-log line of the request whose error carries `reply`'s request id.
  json LineOf(const Reply& reply) {
    const std::string id = reply.body.is_object() && reply.body.contains("error")
                               ? reply.body["error"].value("request_id", "")
                               : "";
    std::lock_guard lock(mu_);
    for (const std::string& l : lines_) {
      json j = json::parse(l, nullptr, false);
      if (j.is_object() && !id.empty() && j.value("request_id", "") == id) return j;
    }
    return json();
  }

  // The client a GET /healthz with these X-Forwarded-For lines is logged under ("" when refused).
  std::pair<std::string, json> ClientOf(const std::vector<std::string>& forwarded_for) {
    httplib::Headers h;
    for (const std::string& v : forwarded_for) h.emplace("X-Forwarded-For", v);
    {
      std::lock_guard lock(mu_);
      lines_.clear();
    }
    auto r = client_->Get("/healthz", h);
    if (!r || r->status != 200) return {"", json()};
    std::lock_guard lock(mu_);
    for (const std::string& l : lines_) {
      json j = json::parse(l, nullptr, false);
      if (j.is_object() && j.value("route", "") == "/healthz") {
        return {j.value("client", ""), j["proxy"]};
      }
    }
    return {"(no log line)", json()};
  }

  std::string AuditAddresses() {
    std::string cmd = "sqlite3 '" + db_path_ +
                      "' \"SELECT DISTINCT json_extract(details, '$.address') FROM audit_entries "
                      "WHERE action = 'login.failed' ORDER BY 1\"";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
    return out;
  }

  int names_ = 0;
  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST_F(ServerProxyTest, AnUntrustedPeersForwardedForIsIgnored) {
  Start({});
  // Three failures, each claiming another address: all count against 127.0.0.1.
  for (const char* claimed : {"203.0.113.7", "203.0.113.8", "203.0.113.9"}) {
    Reply r = FailedLogin({claimed});
    ASSERT_EQ(r.status, 401) << r.raw;
    json line = LineOf(r);
    ASSERT_TRUE(line.is_object()) << r.raw;
    EXPECT_EQ(line["client"], "127.0.0.1");
    EXPECT_TRUE(line["proxy"].is_null()) << line.dump();
  }
  Reply r = FailedLogin({"198.51.100.1"});
  EXPECT_EQ(r.status, 429) << "the database throttle by address was dodged: " << r.raw;
  EXPECT_EQ(AuditAddresses(), "127.0.0.1\n");
}

TEST_F(ServerProxyTest, ATrustedProxysClientsAreThrottledSeparately) {
  Start({"127.0.0.1"});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(FailedLogin({"203.0.113.7"}).status, 401);
  EXPECT_EQ(FailedLogin({"203.0.113.7"}).status, 429);  // that client is throttled
  Reply other = FailedLogin({"203.0.113.8"});
  EXPECT_EQ(other.status, 401) << "another client behind the proxy was throttled: " << other.raw;
  json line = LineOf(other);
  ASSERT_TRUE(line.is_object()) << other.raw;
  EXPECT_EQ(line["client"], "203.0.113.8");
  EXPECT_EQ(line["proxy"], "127.0.0.1");
  EXPECT_EQ(AuditAddresses(), "203.0.113.7\n203.0.113.8\n");
  // The proxy itself, without the header (a health check), is the client.
  auto [client, proxy] = ClientOf({});
  EXPECT_EQ(client, "127.0.0.1");
  EXPECT_TRUE(proxy.is_null());
}

TEST_F(ServerProxyTest, TheServersOwnSignInLimiterIsPerForwardedClient) {
  Start({"127.0.0.1"}, /*login_burst=*/2);
  for (int i = 0; i < 2; ++i) ASSERT_NE(FailedLogin({"203.0.113.7"}).status, 429);
  Reply r = FailedLogin({"203.0.113.7"});
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.raw.find("rate_limited"), std::string::npos) << r.raw;
  EXPECT_EQ(FailedLogin({"203.0.113.8"}).status, 401);
}

TEST_F(ServerProxyTest, AChainIsReadFromTheRightSkippingTrustedProxies) {
  Start({"127.0.0.1", "10.0.0.5", "2001:db8::5"});
  // What the client wrote itself (left) is not believed; the entry the proxy added is.
  EXPECT_EQ(ClientOf({"198.51.100.66, 203.0.113.7"}).first, "203.0.113.7");
  // An inner proxy in the chain is skipped.
  EXPECT_EQ(ClientOf({"198.51.100.66,203.0.113.7 , 10.0.0.5"}).first, "203.0.113.7");
  EXPECT_EQ(ClientOf({"203.0.113.7, 2001:DB8:0::5"}).first, "203.0.113.7");
  // Several header lines are one list, in order.
  EXPECT_EQ(ClientOf({"198.51.100.66", "203.0.113.9"}).first, "203.0.113.9");
  // Addresses are logged in one form (IPv6 lower case and shortened, mapped IPv4 as IPv4).
  EXPECT_EQ(ClientOf({"2001:DB8:0:0::7"}).first, "2001:db8::7");
  EXPECT_EQ(ClientOf({"::ffff:203.0.113.7"}).first, "203.0.113.7");
  // Only proxies: the left-most.
  auto [client, proxy] = ClientOf({"10.0.0.5"});
  EXPECT_EQ(client, "10.0.0.5");
  EXPECT_EQ(proxy, "127.0.0.1");
  // Garbage the client wrote left of the entry its proxy added changes nothing.
  EXPECT_EQ(ClientOf({"<script>, not-an-address, 203.0.113.7"}).first, "203.0.113.7");
}

TEST_F(ServerProxyTest, GarbageFromATrustedProxyIsRefused) {
  Start({"127.0.0.1"});
  const std::vector<std::vector<std::string>> bad = {
      {"not-an-address"}, {"203.0.113.7:443"}, {"[2001:db8::7]"}, {""},
      {"203.0.113.7,"},   {"203.0.113.7", ""}, {"203.0.113.07"},  {"proxy.example"},
      {"203.0.113.7 x"}};
  for (const auto& forwarded_for : bad) {
    httplib::Headers h;
    for (const std::string& v : forwarded_for) h.emplace("X-Forwarded-For", v);
    auto r = client_->Get("/healthz", h);
    ASSERT_TRUE(r) << forwarded_for[0];
    EXPECT_EQ(r->status, 400) << forwarded_for[0];
    EXPECT_NE(r->body.find("X-Forwarded-For"), std::string::npos) << r->body;
  }
  EXPECT_EQ(ClientOf({"203.0.113.7"}).first, "203.0.113.7");  // the server still serves
}

TEST_F(ServerProxyTest, UntrustedPeersMaySendAnythingInTheHeader) {
  Start({"10.0.0.5"});  // trusted proxies exist, but the test's peer is not one
  auto [client, proxy] = ClientOf({"not-an-address, 10.0.0.5"});
  EXPECT_EQ(client, "127.0.0.1");
  EXPECT_TRUE(proxy.is_null());
}

// A trusted proxy carries many clients' connections: the per-address cap does not apply to it,
// and still applies to any other peer.
TEST_F(ServerProxyTest, ATrustedProxysConnectionsAreNotCappedPerAddress) {
  for (bool trusted : {true, false}) {
    Start(trusted ? std::vector<std::string>{"127.0.0.1"} : std::vector<std::string>{},
          /*login_burst=*/1000, /*max_connections_per_address=*/2);
    node_.client.reset();  // the fixture's own client would hold one of the two
    client_ = nullptr;
    std::vector<std::unique_ptr<httplib::Client>> held;
    int served = 0;
    for (int i = 0; i < 4; ++i) {
      held.push_back(std::make_unique<httplib::Client>("127.0.0.1", server_->port()));
      held.back()->set_keep_alive(true);
      held.back()->set_connection_timeout(2, 0);
      held.back()->set_read_timeout(2, 0);
      auto r = held.back()->Get("/healthz");
      if (r && r->status == 200) ++served;
    }
    EXPECT_EQ(served, trusted ? 4 : 2) << (trusted ? "trusted" : "untrusted");
    held.clear();
    StopServer();
  }
}

TEST_F(ServerProxyTest, AnAddressThatIsNotOneIsRefusedAtStart) {
  for (const char* bad : {"10.0.0.5:8080", "proxy.example", "10.0.0.0/8", "", " 10.0.0.5"}) {
    ServerOptions o;
    o.db_path = db_path_;
    o.models_dir = FACETRAIL_MODELS_DIR;
    o.port = 0;
    o.trusted_proxies = {"10.0.0.1", bad};
    auto s = Server::Create(o);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.status().message().find("trusted proxy '" + std::string(bad) + "'"),
              std::string::npos)
        << s.status().ToString();
  }
}

TEST(ClientBehindProxiesTest, ReadsFromTheRight) {
  using internal::ClientBehindProxies;
  const std::set<std::string> trusted = {"10.0.0.5", "10.0.0.6"};
  EXPECT_EQ(*ClientBehindProxies("10.0.0.5", {}, trusted), "10.0.0.5");
  EXPECT_EQ(*ClientBehindProxies("10.0.0.5", {"1.2.3.4,10.0.0.6"}, trusted), "1.2.3.4");
  EXPECT_EQ(*ClientBehindProxies("10.0.0.5", {"10.0.0.6", "10.0.0.5"}, trusted), "10.0.0.6");
  EXPECT_FALSE(ClientBehindProxies("10.0.0.5", {"1.2.3.4,,10.0.0.6"}, trusted).ok());
  EXPECT_FALSE(ClientBehindProxies("10.0.0.5", {","}, trusted).ok());
  EXPECT_FALSE(ClientBehindProxies("10.0.0.5", {"1.2.3.4", ""}, trusted).ok());
  EXPECT_FALSE(ClientBehindProxies("10.0.0.5", {"", "10.0.0.6"}, trusted).ok());
  // Left of the client: what the client sent, not looked at.
  EXPECT_EQ(*ClientBehindProxies("10.0.0.5", {"", "1.2.3.4"}, trusted), "1.2.3.4");
  EXPECT_EQ(*ClientBehindProxies("10.0.0.5", {" \t1.2.3.4\t "}, trusted), "1.2.3.4");
}

}  // namespace
}  // namespace facetrail::server::testing
