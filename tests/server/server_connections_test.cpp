// Slow, idle and greedy clients against a real server on 127.0.0.1 (raw sockets): none of them
// may hold up a normal client, and each is cut off at its limit (docs/SERVER.md, "Connections and
// limits"). These failed with the thread-per-connection server this replaced.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "server/internal/http_transport.h"
#include "server_test_util.h"

namespace facetrail::server::testing {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A raw TCP connection to the server.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  // False once the server has closed (or reset) the connection.
  bool Send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads one response (head, and a body of Content-Length); "" on timeout or close.
  std::string ReadResponse(int timeout_ms) {
    std::string got;
    const auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < until) {
      size_t head_end = got.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = 0;
        size_t at = got.find("Content-Length: ");
        if (at == std::string::npos) at = got.find("content-length: ");
        if (at != std::string::npos && at < head_end) length = std::stoul(got.substr(at + 16));
        if (got.size() >= head_end + 4 + length) return got.substr(0, head_end + 4 + length);
      }
      if (!WaitReadable(until)) break;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  // True when the server closes the connection within timeout_ms (any unread data is skipped).
  bool ClosedWithin(int timeout_ms) {
    const auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (WaitReadable(until)) {
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  bool WaitReadable(Clock::time_point until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
  }
  int fd_ = -1;
  bool connected_ = false;
};

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

std::string Get(const std::string& path, bool keep_alive = true) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
}

size_t ResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}

class ServerConnectionsTest : public ServerTest {
 protected:
  void Start(HttpLimits limits) {
    ServerOptions o;
    o.http = limits;
    StartServer(o);
  }
  int port() const { return server_->port(); }
};

TEST_F(ServerConnectionsTest, SlowHeaderClientsDoNotDelayOthersAndAreCutOffAtTheDeadline) {
  HttpLimits limits;
  limits.workers = 4;
  limits.head_deadline_ms = 2000;
  Start(limits);
  // Twice as many slow-header clients as workers, each a byte every 100 ms (never idle).
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 2 * limits.workers; ++i) {
    slow.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(slow.back()->connected());
  }
  const std::string head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  std::atomic<bool> stop{false};
  std::atomic<int> cut_off{0};
  std::thread dribble([&] {
    for (size_t i = 0; !stop && i < 1000; ++i) {
      for (auto& c : slow) {
        if (c && !c->Send(std::string(1, i < head.size() ? head[i] : 'x'))) ++cut_off;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (int i = 0; i < 5; ++i) {
    RawClient normal(port());
    const auto t0 = Clock::now();
    ASSERT_TRUE(normal.Send(Get("/healthz", false)));
    std::string r = normal.ReadResponse(5000);
    EXPECT_EQ(StatusOf(r), 200) << r;
    EXPECT_LT(SecondsSince(t0), 1.0) << "a normal client waited behind slow ones";
  }
  // The deadline is for the whole head, not per read: every slow client is closed soon after it.
  const auto t0 = Clock::now();
  for (auto& c : slow) EXPECT_TRUE(c->ClosedWithin(4000)) << "a slow client outlived the deadline";
  EXPECT_LT(SecondsSince(t0), 4.0);
  stop = true;
  dribble.join();
}

TEST_F(ServerConnectionsTest, FiftyKeepAliveClientsAreAllAnsweredPromptly) {
  HttpLimits limits;
  limits.workers = 4;
  Start(limits);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(clients.back()->connected());
  }
  // Each asks once and keeps its connection open (idle, kept alive) ...
  for (auto& c : clients) ASSERT_TRUE(c->Send(Get("/healthz")));
  double worst = 0;
  for (auto& c : clients) {
    const auto t0 = Clock::now();
    EXPECT_EQ(StatusOf(c->ReadResponse(5000)), 200);
    worst = std::max(worst, SecondsSince(t0));
  }
  // ... then asks again on the same connection, while a newcomer asks too.
  for (auto& c : clients) ASSERT_TRUE(c->Send(Get("/api/v1/openapi.json")));
  RawClient newcomer(port());
  const auto t_new = Clock::now();
  ASSERT_TRUE(newcomer.Send(Get("/healthz", false)));
  EXPECT_EQ(StatusOf(newcomer.ReadResponse(5000)), 200);
  EXPECT_LT(SecondsSince(t_new), 2.0);
  for (auto& c : clients) {
    const auto t0 = Clock::now();
    EXPECT_EQ(StatusOf(c->ReadResponse(5000)), 200);
    worst = std::max(worst, SecondsSince(t0));
  }
  EXPECT_LT(worst, 2.0) << "a keep-alive client waited too long";
}

TEST_F(ServerConnectionsTest, IdleKeepAliveConnectionsAreClosed) {
  HttpLimits limits;
  limits.idle_timeout_s = 1;
  Start(limits);
  RawClient c(port());
  ASSERT_TRUE(c.Send(Get("/healthz")));
  EXPECT_EQ(StatusOf(c.ReadResponse(5000)), 200);
  const auto t0 = Clock::now();
  EXPECT_TRUE(c.ClosedWithin(4000));
  EXPECT_GT(SecondsSince(t0), 0.5);
}

TEST_F(ServerConnectionsTest, ASlowBodyIsCutOffAtTheRequestDeadline) {
  HttpLimits limits;
  limits.request_deadline_ms = 1500;
  Start(limits);
  RawClient c(port());
  ASSERT_TRUE(
      c.Send("POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"));
  const auto t0 = Clock::now();
  bool open = true;
  while (open && SecondsSince(t0) < 5) {
    open = c.Send(" ");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(!open || c.ClosedWithin(100));
  EXPECT_LT(SecondsSince(t0), 3.5);
}

TEST_F(ServerConnectionsTest, HeaderFloodIsRefusedWith431AndMemoryReturns) {
  Start(HttpLimits{});
  // Warm up, then take the baseline.
  {
    RawClient c(port());
    ASSERT_TRUE(c.Send(Get("/healthz", false)));
    ASSERT_EQ(StatusOf(c.ReadResponse(5000)), 200);
  }
  const size_t baseline = ResidentBytes();
  for (int round = 0; round < 4; ++round) {
    RawClient c(port());
    std::string flood = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (int i = 0; i < 400'000; ++i) flood += "X-F" + std::to_string(i) + ": a\r\n";
    flood += "\r\n";
    c.Send(flood);  // the server may answer and close before all of it is sent
    std::string r = c.ReadResponse(5000);
    EXPECT_EQ(StatusOf(r), 431) << r.substr(0, 200);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const size_t after = ResidentBytes();
  EXPECT_LT(after, baseline + (size_t{16} << 20))
      << "resident memory grew from " << baseline << " to " << after << " bytes";
  // The server still answers.
  RawClient c(port());
  ASSERT_TRUE(c.Send(Get("/healthz", false)));
  EXPECT_EQ(StatusOf(c.ReadResponse(5000)), 200);
}

TEST_F(ServerConnectionsTest, TooManyHeaderFieldsOrTooLongAUrlGetJsonErrors) {
  HttpLimits limits;
  limits.max_header_fields = 20;
  limits.max_url_bytes = 256;
  Start(limits);
  {
    RawClient c(port());
    std::string head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (int i = 0; i < 21; ++i) head += "X-N" + std::to_string(i) + ": v\r\n";
    ASSERT_TRUE(c.Send(head + "\r\n"));
    std::string r = c.ReadResponse(5000);
    EXPECT_EQ(StatusOf(r), 431) << r;
    EXPECT_NE(r.find("header fields"), std::string::npos) << r;
    EXPECT_NE(r.find("application/json"), std::string::npos) << r;
  }
  {
    RawClient c(port());
    ASSERT_TRUE(c.Send(Get("/healthz?q=" + std::string(300, 'a'), false)));
    std::string r = c.ReadResponse(5000);
    EXPECT_EQ(StatusOf(r), 414) << r;
  }
  {
    RawClient c(port());
    ASSERT_TRUE(c.Send(Get("/" + std::string(300, 'a'), false)));
    EXPECT_EQ(StatusOf(c.ReadResponse(5000)), 414);
  }
}

TEST_F(ServerConnectionsTest, ConnectionsPerAddressAreCapped) {
  HttpLimits limits;
  limits.max_connections_per_address = 4;
  Start(limits);
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(held.back()->Send(Get("/healthz")));
    ASSERT_EQ(StatusOf(held.back()->ReadResponse(5000)), 200);
  }
  RawClient fifth(port());
  fifth.Send(Get("/healthz"));
  EXPECT_TRUE(fifth.ClosedWithin(2000)) << "a fifth connection from one address was served";
  held.pop_back();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  RawClient again(port());
  ASSERT_TRUE(again.Send(Get("/healthz", false)));
  EXPECT_EQ(StatusOf(again.ReadResponse(5000)), 200) << "a slot freed is usable again";
}

TEST_F(ServerConnectionsTest, OversizedBodiesAreRefusedBeforeTheyAreRead) {
  StartServer();  // 2 MiB uploads in tests
  RawClient c(port());
  ASSERT_TRUE(
      c.Send("POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Content-Type: application/json\r\nContent-Length: 900000000\r\n\r\n"));
  std::string r = c.ReadResponse(5000);
  EXPECT_EQ(StatusOf(r), 413) << r;
  EXPECT_NE(r.find("resource_exhausted"), std::string::npos) << r;
}

TEST_F(ServerConnectionsTest, UnknownMethodsAndPathsGetJsonErrors) {
  StartServer();
  Reply r = Send("DELETE", "/healthz", {});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.find("Allow")->second, "GET");
  r = Send("GET", "/no/such/thing", {});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Code(), "not_found");
  // HEAD is GET without the body.
  auto head = client_->Head("/healthz");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
}

// Heavy requests (searches: they wait for one of a few pipelines) run on at most heavy_workers
// workers, and light ones are taken first: a queue of searches from the same address as a
// /healthz probe never delays the probe (the load benchmark saw /healthz wait 1.9 s behind 40
// queued searches before the lanes). The transport alone, with a handler that stands in for a
// 600 ms search.
TEST(HttpTransportLanes, QueuedHeavyRequestsNeverDelayALightOne) {
  HttpLimits limits;
  limits.workers = 4;
  limits.heavy_workers = 2;
  std::atomic<int> running{0}, most{0}, answered{0};
  internal::HttpServer http(
      limits, std::nullopt,
      [&](internal::HttpRequest& req, internal::HttpResponse& res) {
        if (req.path == "/heavy") {
          const int now = ++running;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(600));
          --running;
          ++answered;
        }
        res.set_content("ok", "text/plain");
      },
      [](int status, const std::string& message, internal::HttpResponse& res) {
        res.status = status;
        res.set_content(message, "text/plain");
      },
      [](const internal::HttpRequest& req) { return req.path == "/heavy"; });
  ASSERT_TRUE(http.Bind("127.0.0.1", 0).ok());
  std::thread serving([&] { (void)http.Serve(); });
  std::vector<std::unique_ptr<RawClient>> heavy;
  for (int i = 0; i < 12; ++i) {
    heavy.push_back(std::make_unique<RawClient>(http.port()));
    ASSERT_TRUE(heavy.back()->Send("POST /heavy HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int probe = 0; probe < 3; ++probe) {
    RawClient light(http.port());
    const auto start = Clock::now();
    ASSERT_TRUE(light.Send("GET /light HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_NE(light.ReadResponse(2000).find("200"), std::string::npos);
    EXPECT_LT(SecondsSince(start), 0.3) << "a light request waited behind queued heavy ones";
  }
  for (auto& c : heavy) EXPECT_NE(c->ReadResponse(8000).find("200"), std::string::npos);
  EXPECT_EQ(answered.load(), 12);
  EXPECT_EQ(most.load(), 2) << "more heavy requests ran at once than heavy_workers";
  http.Stop();
  serving.join();
}

}  // namespace
}  // namespace facetrail::server::testing
