// Several servers on one PostgreSQL database (issue 15): two real facetrail servers in this
// process, A and B, each with its own connections, over one database on the throw-away cluster
// (tests/common/pg_cluster.h). Whatever is accountable is in the database, so a request may land
// on either: a session made on A works on B (cookie and CSRF token), a sign-out on B ends it on
// A, a token revoked on A is refused by B, a lock made on A refuses the user's session on B, and
// failed sign-ins spread over A and B throttle the account as one, and failures arriving at both
// at once are each counted exactly once.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/pg_cluster.h"
#include "gallery/gallery_store.h"
#include "server_test_util.h"

namespace facetrail::server::testing {
namespace {

// One server of the pair; TryLogin returns the answer, whatever it is.
struct Node : ServerNode {
  Reply TryLogin(const std::string& name, const std::string& password) {
    return Send("POST", "/api/v1/login", {}, {{"name", name}, {"password", password}});
  }
};

// ServerTest's database (first admin) on the shared cluster, with two servers instead of one.
class MultiServerTest : public ServerTest {
 protected:
  void SetUp() override {
    FT_PG_DATABASE_OR_SKIP(db_uri_);
    ServerTest::SetUp();
    // Long enough that no delay runs out while the test signs in on the other server.
    ChangePolicy([](policy::PolicyConfig& c) { c.login_delay_s = 600; });
    Start(a_);
    Start(b_);
    admin_ = a_.Login("admin", kAdminPassword);
    MakeUser("sam", {"searcher"});
  }

  void Start(Node& node) {
    ServerOptions options;
    options.db_path = db_path_;
    options.access_log_enabled = false;
    // The per-process flood guard out of the way: what is shown is the database's throttle.
    options.login_burst = 1000;
    node.Start(std::move(options));
  }

  void MakeUser(const std::string& name, const std::vector<std::string>& roles) {
    Reply r = a_.Send("POST", "/api/v1/users", admin_,
                      {{"name", name},
                       {"full_name", name + " Example"},
                       {"agency", kAgency},
                       {"roles", roles},
                       {"password", name + "-password-1"}});
    ASSERT_EQ(r.status, 201) << r.raw;
  }

  int64_t FailedLogins(const std::string& name) {
    auto db = Db::Open(db_path_, false);
    EXPECT_TRUE(db.ok());
    auto stmt = db->Prepare("SELECT failed_logins FROM policy_users WHERE name = ?");
    EXPECT_TRUE(stmt.ok());
    stmt->Bind(1, name);
    auto row = stmt->Step();
    EXPECT_TRUE(row.ok() && *row);
    return stmt->Int(0);
  }

  Node a_, b_;
  Caller admin_;
};

TEST_F(MultiServerTest, ASessionMadeOnOneServerWorksOnTheOtherUntilSignedOutThere) {
  Caller sam = a_.Login("sam", "sam-password-1");
  ASSERT_FALSE(sam.cookie.empty());
  // B knows the session (the database does) and gives the same CSRF token.
  Reply me = b_.Send("GET", "/api/v1/me", sam);
  ASSERT_EQ(me.status, 200) << me.raw;
  EXPECT_EQ(me.body["user"]["name"], "sam");
  EXPECT_EQ(me.body["csrf_token"], sam.csrf);
  Reply session = b_.Send("GET", "/api/v1/session", sam);
  EXPECT_EQ(session.body.value("signed_in", false), true) << session.raw;

  // A state change on B with A's CSRF token is accepted; without it, refused.
  Reply token = b_.Send("POST", "/api/v1/tokens", sam, {{"label", "script"}});
  EXPECT_EQ(token.status, 201) << token.raw;
  Caller no_csrf = sam;
  no_csrf.csrf.clear();
  Reply refused = b_.Send("POST", "/api/v1/tokens", no_csrf, {{"label", "script 2"}});
  EXPECT_EQ(refused.status, 403) << refused.raw;
  EXPECT_EQ(refused.Code(), "csrf_token");

  // Signed out on B: refused on A at the next request, and on B.
  Reply out = b_.Send("POST", "/api/v1/logout", sam);
  ASSERT_EQ(out.status, 200) << out.raw;
  Reply after_a = a_.Send("GET", "/api/v1/me", sam);
  EXPECT_EQ(after_a.status, 401) << after_a.raw;
  EXPECT_EQ(b_.Send("GET", "/api/v1/me", sam).status, 401);
  EXPECT_EQ(a_.Send("GET", "/api/v1/session", sam).body.value("signed_in", true), false);
}

TEST_F(MultiServerTest, ATokenRevokedOnOneServerIsRefusedByTheOther) {
  Caller sam = a_.Login("sam", "sam-password-1");
  Reply made = a_.Send("POST", "/api/v1/tokens", sam, {{"label", "nightly export"}});
  ASSERT_EQ(made.status, 201) << made.raw;
  Caller script{"", "", made.body["token"].get<std::string>()};
  EXPECT_EQ(b_.Send("GET", "/api/v1/me", script).status, 200);
  const int64_t id = made.body["id"].get<int64_t>();
  ASSERT_EQ(a_.Send("DELETE", "/api/v1/tokens/" + std::to_string(id), sam).status, 200);
  Reply refused = b_.Send("GET", "/api/v1/me", script);
  EXPECT_EQ(refused.status, 401) << refused.raw;
}

TEST_F(MultiServerTest, ALockMadeOnOneServerEndsTheSessionOnTheOther) {
  Caller sam = b_.Login("sam", "sam-password-1");
  ASSERT_EQ(b_.Send("GET", "/api/v1/me", sam).status, 200);
  Reply lock = a_.Send("POST", "/api/v1/users/sam/lock", admin_,
                       {{"locked", true}, {"reason", "left the unit"}});
  ASSERT_EQ(lock.status, 200) << lock.raw;
  EXPECT_EQ(b_.Send("GET", "/api/v1/me", sam).status, 401);
  Reply again = b_.TryLogin("sam", "sam-password-1");
  EXPECT_EQ(again.status, 401) << again.raw;
  EXPECT_EQ(again.Code(), "account_locked");
}

TEST_F(MultiServerTest, FailedSignInsSpreadOverBothServersThrottleTheAccountAsOne) {
  // max_failed_logins (5) free failures in all, alternating servers: each is a plain refusal.
  for (int i = 0; i < 5; ++i) {
    Node& node = i % 2 == 0 ? a_ : b_;
    Reply r = node.TryLogin("sam", "wrong-password-" + std::to_string(i));
    EXPECT_EQ(r.status, 401) << i << ": " << r.raw;
    EXPECT_EQ(r.Code(), "unauthenticated") << r.raw;
  }
  EXPECT_EQ(FailedLogins("sam"), 5);
  // Neither server has seen five failures itself, yet both now make the account wait, even with
  // the right password (nothing is checked while throttled).
  for (Node* node : {&b_, &a_}) {
    Reply r = node->TryLogin("sam", "sam-password-1");
    EXPECT_EQ(r.status, 429) << r.raw;
    EXPECT_EQ(r.Code(), "resource_exhausted") << r.raw;
    EXPECT_EQ(
        r.body["error"].value("message", "").rfind("rate_limited: too many failed sign-ins", 0), 0u)
        << r.raw;
  }
  // Another account is not affected.
  MakeUser("eve", {"examiner"});
  EXPECT_EQ(b_.TryLogin("eve", "eve-password-1").status, 200);
}

// Wrong passwords sent to both servers at the same moment: every attempt that was checked (401)
// is counted once, none is lost to a concurrent write (the count is re-read and written under
// the write lock in each attempt's transaction), and the ones that found the account already
// waiting (429) check nothing and count nothing.
TEST_F(MultiServerTest, ConcurrentFailuresOnBothServersAreEachCountedOnce) {
  constexpr int kPerServer = 6;
  std::atomic<int> refused{0}, throttled{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2 * kPerServer; ++i) {
    const int port = (i % 2 == 0 ? a_ : b_).server->port();
    threads.emplace_back([port, i, &refused, &throttled, &other] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(60, 0);
      json body{{"name", "sam"}, {"password", "wrong-password-" + std::to_string(i)}};
      auto r = client.Post("/api/v1/login", body.dump(), "application/json");
      if (r && r->status == 401) {
        ++refused;
      } else if (r && r->status == 429) {
        ++throttled;
      } else {
        ++other;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(refused + throttled, 2 * kPerServer);
  EXPECT_GE(refused.load(), 5) << "the free failures were all checked";
  EXPECT_EQ(FailedLogins("sam"), refused.load());
  // And the account now waits on both servers.
  EXPECT_EQ(a_.TryLogin("sam", "sam-password-1").status, 429);
  EXPECT_EQ(b_.TryLogin("sam", "sam-password-1").status, 429);
}

// A gallery change committed by another process (a store on a connection of its own, as
// `facetrail enroll` on another machine would make) is announced by PostgreSQL when it commits
// (NOTIFY facetrail_gallery, gallery schema v5) and heard by both servers, which catch their
// indexes up before any search asks (docs/DATABASE.md, "Every server sees every change").
TEST_F(MultiServerTest, AGalleryChangeCommittedElsewhereIsAnnouncedToEveryServer) {
  auto notified = [&](Node& node) -> int64_t {
    Reply r = node.Send("GET", "/metrics", admin_);
    const std::string key = "\nfacetrail_gallery_change_notifications_total ";
    const size_t at = r.raw.find(key);
    return at == std::string::npos ? -1 : std::stoll(r.raw.substr(at + key.size()));
  };
  ASSERT_EQ(notified(a_), 0);
  ASSERT_EQ(notified(b_), 0);
  auto db = Db::Open(db_path_, false);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto store = gallery::GalleryStore::OpenOn(*db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const gallery::ModelRef model{"notify-test", 1, 16};
  // Each server starts listening on a thread of its own once it serves: enrol until both have
  // heard a change (a change committed before a server listened is caught up by its first
  // search, not announced).
  bool heard = false;
  for (int i = 0; i < 20 && !heard; ++i) {
    gallery::BookingRecord booking;
    booking.booking_number = "N-" + std::to_string(i);
    gallery::NewPhoto photo;
    const std::string bytes = "photo " + std::to_string(i);
    photo.bytes.assign(bytes.begin(), bytes.end());
    photo.source = "notify test";
    gallery::NewTemplate t;
    t.templ.assign(16, 0.25f);
    auto added = (*store)->AddPhoto(booking, photo, model, {&t, 1});
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    for (int wait = 0; wait < 20 && !heard; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      heard = notified(a_) > 0 && notified(b_) > 0;
    }
  }
  EXPECT_TRUE(heard) << "A heard " << notified(a_) << ", B heard " << notified(b_);
}

}  // namespace
}  // namespace facetrail::server::testing
