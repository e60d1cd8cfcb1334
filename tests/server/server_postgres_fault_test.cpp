// Faults on PostgreSQL (issue 15): the database restarted under load, and one of two servers
// killed under load. A real server (in this process, or the real binary for the kill) over a
// database on a cluster of this test's own, a gallery enrolled from real LFW photos through the
// real pipeline, and certified searchers searching in a loop.
//
// What must hold: a request in flight when PostgreSQL goes away fails with a 503 JSON error
// (code "unavailable"), never anything else; the server reconnects by itself and answers again;
// every search answered 201 has its request row and its committed "search.request" audit entry;
// the audit chain verifies. With two servers, SIGKILL of one leaves the other serving.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <set>

#include "audit/audit.h"
#include "common/pg_cluster.h"
#include "server_gallery_util.h"

namespace facetrail::server::testing {
namespace {

using Clock = std::chrono::steady_clock;

class PostgresFaultTest : public GalleryServerTest {
 protected:
  void StartServer() {
    ServerOptions options;
    options.search_burst = 1000000;  // the load is the point, not the per-user rate limit
    options.searches_per_minute = 1000000;
    GalleryServerTest::StartServer(options);
  }
  void SetUp() override {
    FT_PG_OWN_CLUSTER_DATABASE_OR_SKIP(pg_, db_uri_);
    GalleryServerTest::SetUp();
    probe_ = ReadWholeFile(kLfwImages + "/Abdullah_Gul/Abdullah_Gul_0010.jpg");
    ASSERT_FALSE(probe_.empty());
  }

  // Searches as `caller` against `port` until `until`; each answer's status, and the request ids
  // of the 201s, go into the shared tallies.
  void SearchUntil(int port, const Caller& caller, Clock::time_point until) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(120, 0);
    client.set_connection_timeout(5, 0);
    httplib::MultipartFormDataItems items = {{"probe", probe_, "probe.jpg", "image/jpeg"}};
    for (const auto& [k, v] : SearchFields()) items.push_back({k, v, "", ""});
    while (Clock::now() < until) {
      Reply r = ToReply(client.Post("/api/v1/searches", HeadersFor(caller), items));
      std::lock_guard lock(mu_);
      ++statuses_[r.status];
      if (r.status == 201) {
        ids_.insert(r.body.value("request_id", int64_t{-1}));
      } else if (r.status == 503) {
        if (r.Code() != "unavailable") bad_.push_back(r.raw);
      } else if (r.status != 0) {
        bad_.push_back(std::to_string(r.status) + " " + r.raw);
      }
      if (r.status == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // Every 201's request row and its search.request entry are in the database; the chain
  // verifies.
  void ExpectEveryAnswerAudited() {
    std::cout << "answers:";
    for (const auto& [status, n] : statuses_) std::cout << ' ' << status << "x" << n;
    std::cout << "; requests answered 201: " << ids_.size() << '\n';
    auto db = Db::Open(db_path_, false);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    for (int64_t id : ids_) {
      auto st = db->Prepare(
          "SELECT (SELECT count(*) FROM search_requests WHERE id = ?), "
          "(SELECT count(*) FROM audit_entries WHERE action = 'search.request' AND subject = ?)");
      ASSERT_TRUE(st.ok());
      st->Bind(1, id).Bind(2, "request:" + std::to_string(id));
      auto row = st->Step();
      ASSERT_TRUE(row.ok() && *row);
      EXPECT_EQ(st->Int(0), 1) << "request " << id << " answered 201 but has no row";
      EXPECT_EQ(st->Int(1), 1) << "request " << id << " answered 201 without its audit entry";
    }
    auto report = audit::Verify(*db, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok()) << report->problems.front().message;
  }

  ::facetrail::testing::PgCluster* pg_ = nullptr;
  std::string probe_;
  std::mutex mu_;
  std::map<int, int> statuses_;   // guarded by mu_
  std::set<int64_t> ids_;         // guarded by mu_
  std::vector<std::string> bad_;  // guarded by mu_: answers that are neither 201 nor a 503 error
};

TEST_F(PostgresFaultTest, ARestartUnderLoadFailsInFlightRequestsWith503ThenServesAgain) {
  StartServer();
  Caller admin = Login("admin", kAdminPassword);
  MakeUser(admin, "sam", {"searcher"}, true);
  MakeUser(admin, "sue", {"searcher"}, true);
  const Caller callers[] = {Login("sam", "sam-password-1"), Login("sue", "sue-password-1")};
  const auto until = Clock::now() + std::chrono::seconds(25);
  std::vector<std::thread> clients;
  for (const Caller& c : callers) {
    clients.emplace_back([this, &c, until] { SearchUntil(server_->port(), c, until); });
  }
  // Let searches flow, then restart PostgreSQL under them (twice: fast, then immediate, which
  // kills the backends without a checkpoint, as a crash would).
  std::this_thread::sleep_for(std::chrono::seconds(5));
  ASSERT_EQ(pg_->PgCtl("-w -m fast restart"), 0);
  std::this_thread::sleep_for(std::chrono::seconds(6));
  ASSERT_EQ(pg_->PgCtl("-w -m immediate restart"), 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const size_t before_end = [&] {
    std::lock_guard lock(mu_);
    return ids_.size();
  }();
  for (std::thread& t : clients) t.join();
  std::lock_guard lock(mu_);
  EXPECT_TRUE(bad_.empty()) << bad_.front();
  EXPECT_GT(statuses_[503], 0) << "no request was in flight during either restart";
  EXPECT_EQ(statuses_[0], 0) << "the server dropped a connection instead of answering";
  EXPECT_GT(ids_.size(), before_end) << "no search succeeded after the restarts";
  ExpectEveryAnswerAudited();
}

TEST_F(PostgresFaultTest, OneOfTwoServersKilledUnderLoadLeavesTheOtherServing) {
  // The two servers are real `facetrail serve` processes (a SIGKILL must kill a process).
  StartServer();  // only to make the users; stopped before the two start
  Caller admin = Login("admin", kAdminPassword);
  MakeUser(admin, "sam", {"searcher"}, true);
  MakeUser(admin, "sue", {"searcher"}, true);
  StopServer();
  pid_t pids[2] = {0, 0};
  int ports[2] = {0, 0};
  for (int k = 0; k < 2; ++k) {
    ports[k] = 21000 + static_cast<int>(::getpid() % 2000) * 2 + k;
    pids[k] = ::fork();
    if (pids[k] == 0) {
      const std::string bin = FACETRAIL_BINARY_DIR "/facetrail";
      const std::string listen = "127.0.0.1:" + std::to_string(ports[k]);
      const std::string snap = dir_ + "/snap-" + std::to_string(k);
      ::execl(bin.c_str(), bin.c_str(), "serve", "--db", db_path_.c_str(), "--listen",
              listen.c_str(), "--models", FACETRAIL_MODELS_DIR, "--snapshot-dir", snap.c_str(),
              "--pipelines", "1", "--searches-per-minute", "1000000", "--search-burst", "1000000",
              static_cast<char*>(nullptr));
      std::_Exit(127);
    }
  }
  for (int port : ports) {
    httplib::Client c("127.0.0.1", port);
    bool up = false;
    for (int i = 0; i < 600 && !up; ++i) {
      auto r = c.Get("/healthz");
      up = r && r->status == 200;
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(up) << "server on port " << port << " did not start";
  }
  // Sign in on the first server; the sessions work on both (they are in the database).
  httplib::Client first("127.0.0.1", ports[0]);
  const Caller sam = LoginVia(first, "sam", "sam-password-1");
  const Caller sue = LoginVia(first, "sue", "sue-password-1");
  const auto until = Clock::now() + std::chrono::seconds(20);
  std::thread survivor([&] { SearchUntil(ports[1], sam, until); });
  std::thread victim([&] {
    httplib::Client client("127.0.0.1", ports[0]);
    client.set_read_timeout(120, 0);
    httplib::MultipartFormDataItems items = {{"probe", probe_, "probe.jpg", "image/jpeg"}};
    for (const auto& [k, v] : SearchFields()) items.push_back({k, v, "", ""});
    while (Clock::now() < until) {
      auto r = client.Post("/api/v1/searches", HeadersFor(sue), items);
      if (!r) break;  // the server is gone
      if (r->status == 201) {
        std::lock_guard lock(mu_);
        ids_.insert(nlohmann::json::parse(r->body).value("request_id", int64_t{-1}));
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(6));
  const size_t before_kill = [&] {
    std::lock_guard lock(mu_);
    return statuses_[201];
  }();
  ::kill(pids[0], SIGKILL);
  ::waitpid(pids[0], nullptr, 0);
  victim.join();
  survivor.join();
  std::lock_guard lock(mu_);
  EXPECT_TRUE(bad_.empty()) << bad_.front();
  EXPECT_EQ(statuses_[0], 0) << "the surviving server dropped a connection";
  EXPECT_GT(statuses_[201], static_cast<int>(before_kill) + 2)
      << "the surviving server stopped answering after the other was killed";
  // sue's session, made on the killed server, works on the survivor (it is in the database).
  httplib::Client second("127.0.0.1", ports[1]);
  second.set_read_timeout(120, 0);
  client_ = &second;  // Upload's client, until the end of the test
  Reply again = Upload("/api/v1/searches", sue, probe_, SearchFields());
  EXPECT_EQ(again.status, 201) << again.raw;
  if (again.status == 201) ids_.insert(again.body.value("request_id", int64_t{-1}));
  ::kill(pids[1], SIGTERM);
  ::waitpid(pids[1], nullptr, 0);
  ExpectEveryAnswerAudited();
}

}  // namespace
}  // namespace facetrail::server::testing
