// libmicrohttpd in its epoll mode with suspend/resume: the epoll thread reads every connection,
// a complete request suspends its connection and goes to the worker queue, and the worker queues
// the response and resumes the connection. A watchdog thread closes connections past their
// deadlines (libmicrohttpd's own timeout is per read, not per request).
#include "server/internal/http_transport.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace facetrail::server::internal {

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return ::strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::string HttpRequest::get_header_value(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpRequest::get_param_value(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

bool HttpRequest::is_multipart_form_data() const {
  std::string type = get_header_value("Content-Type");
  return ::strncasecmp(type.c_str(), "multipart/form-data", 19) == 0;
}

std::optional<std::string> CanonicalAddress(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string z(text);  // NUL-terminated for inet_pton
  char out[INET6_ADDRSTRLEN] = {};
  in_addr v4{};
  if (::inet_pton(AF_INET, z.c_str(), &v4) == 1) {
    ::inet_ntop(AF_INET, &v4, out, sizeof out);
    return std::string(out);
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, z.c_str(), &v6) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, &v6.s6_addr[12], sizeof v4);
    ::inet_ntop(AF_INET, &v4, out, sizeof out);
  } else {
    ::inet_ntop(AF_INET6, &v6, out, sizeof out);
  }
  return std::string(out);
}

Expected<std::string> ClientBehindProxies(const std::string& peer,
                                          const std::vector<std::string>& forwarded_for,
                                          const std::set<std::string>& trusted) {
  if (forwarded_for.empty()) return peer;
  std::string joined;  // the header lines as one list, in order
  for (size_t i = 0; i < forwarded_for.size(); ++i) {
    joined += (i > 0 ? "," : "") + forwarded_for[i];
  }
  std::vector<std::string_view> entries;  // spaces and tabs around each removed
  for (size_t begin = 0;;) {
    const size_t comma = joined.find(',', begin);
    std::string_view entry(joined.data() + begin,
                           (comma == std::string::npos ? joined.size() : comma) - begin);
    const size_t first = entry.find_first_not_of(" \t");
    entry = first == std::string_view::npos
                ? std::string_view()
                : entry.substr(first, entry.find_last_not_of(" \t") - first + 1);
    entries.push_back(entry);
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  std::string client;
  std::reverse(entries.begin(), entries.end());  // read from the right
  for (std::string_view entry : entries) {
    std::optional<std::string> address = CanonicalAddress(entry);
    if (!address) {
      return InvalidArgument("X-Forwarded-For from the trusted proxy " + peer +
                             ": an entry is not an IP address");
    }
    client = std::move(*address);
    if (trusted.count(client) == 0) break;  // else a proxy in the chain: the next one left
  }
  return client;  // when every entry is a trusted proxy: the left-most
}

const FormPart& HttpRequest::get_file_value(const std::string& name) const {
  static const FormPart kEmpty;
  auto it = files.find(name);
  return it == files.end() ? kEmpty : it->second;
}

void HttpResponse::set_content(std::string content, const std::string& content_type) {
  body = std::move(content);
  set_header("Content-Type", content_type);
}

void HttpResponse::set_header(const std::string& name, const std::string& value) {
  for (auto& [k, v] : headers) {
    if (::strcasecmp(k.c_str(), name.c_str()) == 0) {
      v = value;
      return;
    }
  }
  headers.emplace_back(name, value);
}

std::string HttpResponse::get_header_value(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (::strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return "";
}

namespace {

using Clock = std::chrono::steady_clock;

// Complete requests, served round-robin among client addresses: a client with many requests
// waiting is served once per round, like every other client. Two lanes: heavy requests (probe
// analyses and searches, which wait for one of a few pipelines) run on at most `max_heavy`
// workers at once and light ones (sign-in, pages, reviews, /healthz) are taken first, so a
// queue of searches never delays them.
class FairQueue {
 public:
  using Job = std::function<void()>;
  explicit FairQueue(int max_heavy) : max_heavy_(std::max(1, max_heavy)) {}
  // False when closed (the job is not taken).
  bool Push(const std::string& client, bool heavy, Job job) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return false;
      lanes_[heavy ? 1 : 0].Push(client, std::move(job));
    }
    cv_.notify_one();
    return true;
  }
  // Blocks for the next job; false once closed and empty. Call Done(heavy) after running it.
  bool Pop(Job& job, bool& heavy) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] {
      return closed_ || !lanes_[0].Empty() || (!lanes_[1].Empty() && heavy_running_ < max_heavy_);
    });
    heavy = lanes_[0].Empty() && !lanes_[1].Empty() && heavy_running_ < max_heavy_;
    Lane& lane = lanes_[heavy ? 1 : 0];
    if (lane.Empty()) return false;  // closed; heavy jobs beyond the cap are still waiting
    if (heavy) ++heavy_running_;
    job = lane.Pop();
    return true;
  }
  void Done(bool heavy) {
    if (!heavy) return;
    {
      std::lock_guard lock(mu_);
      --heavy_running_;
    }
    cv_.notify_all();
  }
  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  struct Lane {
    std::deque<std::string> turns;
    std::map<std::string, std::deque<Job>> waiting;
    bool Empty() const { return turns.empty(); }
    void Push(const std::string& client, Job job) {
      auto& q = waiting[client];
      if (q.empty()) turns.push_back(client);
      q.push_back(std::move(job));
    }
    Job Pop() {
      std::string client = std::move(turns.front());
      turns.pop_front();
      auto it = waiting.find(client);
      Job job = std::move(it->second.front());
      it->second.pop_front();
      if (it->second.empty()) {
        waiting.erase(it);
      } else {
        turns.push_back(std::move(client));
      }
      return job;
    }
  };
  const int max_heavy_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;    // guarded by mu_
  int heavy_running_ = 0;  // guarded by mu_
  Lane lanes_[2];          // guarded by mu_: light, heavy
};

// One connection, as the watchdog sees it.
struct Connection {
  enum class Phase { kHead, kBody, kBusy };
  int fd = -1;
  Phase phase = Phase::kHead;
  Clock::time_point since;  // start of the connection, or end of its previous response
  bool closed_by_watchdog = false;
  std::string address;  // the peer's (CanonicalAddress), counted in Impl::per_address
};

// One request on its way through the transport.
struct Exchange {
  HttpRequest request;
  Connection* connection = nullptr;
  MHD_PostProcessor* form = nullptr;
  size_t received = 0;
  size_t max_parts = 0;
  int refusal_status = 0;  // nonzero: answer this once the body has been read, don't run it
  std::string refusal_message;
  bool dispatched = false;
  ~Exchange() {
    if (form != nullptr) MHD_destroy_post_processor(form);
  }
};

std::string AddressText(const sockaddr* addr) {
  if (addr == nullptr) return "";
  char host[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
  } else if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
  }
  return host;
}

}  // namespace

struct HttpServer::Impl {
  HttpLimits limits;
  std::optional<TlsPem> tls;
  HttpHandler handler;
  HttpRefusal refuse;

  int listen_fd = -1;
  MHD_Daemon* daemon = nullptr;
  HttpClassifier is_heavy;
  std::set<std::string> trusted_proxies;  // canonical addresses
  std::unique_ptr<FairQueue> queue;
  std::vector<std::thread> workers;
  std::thread watchdog;

  std::mutex shutdown_mu;  // one Shutdown at a time (Serve's and the destructor's)
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop_requested = false;  // guarded by stop_mu

  std::mutex log_mu;
  Clock::time_point last_log;    // guarded by log_mu
  uint64_t suppressed_logs = 0;  // guarded by log_mu

  mutable std::mutex conn_mu;
  std::unordered_set<Connection*> connections;  // guarded by conn_mu
  // Open connections per peer address, for limits.max_connections_per_address (guarded by
  // conn_mu). Counted at NOTIFY_STARTED and checked at accept, both on the event thread.
  std::map<std::string, unsigned> per_address;

  // Accepts a new connection unless its peer already has max_connections_per_address open. A
  // trusted proxy is exempt: it carries many clients' connections (libmicrohttpd's own
  // per-address limit would count them as one client's).
  static MHD_Result OnAccept(void* cls, const sockaddr* addr, socklen_t /*len*/) {
    auto* self = static_cast<Impl*>(cls);
    const std::string address = CanonicalAddress(AddressText(addr)).value_or("");
    if (self->trusted_proxies.count(address) > 0) return MHD_YES;
    std::lock_guard lock(self->conn_mu);
    auto it = self->per_address.find(address);
    const unsigned open = it == self->per_address.end() ? 0 : it->second;
    return open < self->limits.max_connections_per_address ? MHD_YES : MHD_NO;
  }

  // --- libmicrohttpd callbacks (static trampolines to the members) ---
  static MHD_Result OnAccess(void* cls, MHD_Connection* c, const char* url, const char* method,
                             const char* version, const char* upload, size_t* upload_size,
                             void** state) {
    return static_cast<Impl*>(cls)->Access(c, url, method, version, upload, upload_size, state);
  }
  static void OnCompleted(void* cls, MHD_Connection* /*c*/, void** state,
                          MHD_RequestTerminationCode /*why*/) {
    auto* ex = static_cast<Exchange*>(*state);
    *state = nullptr;
    if (ex == nullptr) return;
    static_cast<Impl*>(cls)->SetPhase(ex->connection, Connection::Phase::kHead);
    delete ex;
  }
  static void OnConnection(void* cls, MHD_Connection* c, void** socket_state,
                           MHD_ConnectionNotificationCode what) {
    auto* self = static_cast<Impl*>(cls);
    std::lock_guard lock(self->conn_mu);
    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
      auto* conn = new Connection;
      const MHD_ConnectionInfo* info =
          MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
      conn->fd = info != nullptr ? info->connect_fd : -1;
      conn->since = Clock::now();
      const MHD_ConnectionInfo* peer =
          MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
      conn->address =
          CanonicalAddress(AddressText(peer != nullptr ? peer->client_addr : nullptr)).value_or("");
      ++self->per_address[conn->address];
      self->connections.insert(conn);
      *socket_state = conn;
    } else {  // closed: the socket is closed after this returns
      auto* conn = static_cast<Connection*>(*socket_state);
      if (conn != nullptr) {
        auto it = self->per_address.find(conn->address);
        if (it != self->per_address.end() && --it->second == 0) self->per_address.erase(it);
      }
      self->connections.erase(conn);
      delete conn;
      *socket_state = nullptr;
    }
  }
  // Copies one header or query argument into `field` of the HttpRequest at `cls`.
  template <auto field>
  static MHD_Result Collect(void* cls, MHD_ValueKind /*kind*/, const char* key, size_t key_size,
                            const char* value, size_t value_size) {
    auto* request = static_cast<HttpRequest*>(cls);
    (request->*field)
        .emplace(std::string(key, key_size),
                 value != nullptr ? std::string(value, value_size) : std::string());
    return MHD_YES;
  }
  static MHD_Result OnFormData(void* cls, MHD_ValueKind /*kind*/, const char* key,
                               const char* filename, const char* content_type,
                               const char* /*transfer_encoding*/, const char* data,
                               uint64_t /*offset*/, size_t size) {
    auto* ex = static_cast<Exchange*>(cls);
    std::string name = key != nullptr ? key : "";
    auto it = ex->request.files.find(name);
    if (it == ex->request.files.end()) {
      if (ex->request.files.size() >= ex->max_parts) return MHD_NO;  // refused in ReceiveBody
      it = ex->request.files.emplace(name, FormPart{}).first;
      if (filename != nullptr) it->second.filename = filename;
      if (content_type != nullptr) it->second.content_type = content_type;
    }
    it->second.content.append(data, size);
    return MHD_YES;
  }
  // libmicrohttpd's messages (mostly clients that went away or were cut off at a deadline): at
  // most one line a second, so hostile or broken clients cannot flood the log.
  static void OnLog(void* cls, const char* fmt, va_list ap) {
    char line[512];
    std::vsnprintf(line, sizeof line, fmt, ap);  // NOLINT(clang-analyzer-valist.Uninitialized)
    auto* self = static_cast<Impl*>(cls);
    const auto now = Clock::now();
    std::lock_guard lock(self->log_mu);
    if (now - self->last_log < std::chrono::seconds(1)) {
      ++self->suppressed_logs;
      return;
    }
    self->last_log = now;
    if (self->suppressed_logs > 0) {
      std::fprintf(stderr, "facetrail serve: http: (%llu similar messages in the last seconds)\n",
                   static_cast<unsigned long long>(self->suppressed_logs));
      self->suppressed_logs = 0;
    }
    std::fprintf(stderr, "facetrail serve: http: %s", line);
  }

  void SetPhase(Connection* conn, Connection::Phase phase) {
    if (conn == nullptr) return;
    std::lock_guard lock(conn_mu);
    conn->phase = phase;
    if (phase == Connection::Phase::kHead) conn->since = Clock::now();
  }

  // Queues the response on `c` (from the epoll thread, or from a worker while it is suspended).
  static MHD_Result Send(MHD_Connection* c, const HttpResponse& res) {
    MHD_Response* r = MHD_create_response_from_buffer(
        res.body.size(), const_cast<char*>(res.body.data()), MHD_RESPMEM_MUST_COPY);
    if (r == nullptr) return MHD_NO;
    for (const auto& [name, value] : res.headers) {
      MHD_add_response_header(r, name.c_str(), value.c_str());
    }
    MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(res.status), r);
    MHD_destroy_response(r);
    return ok;
  }
  MHD_Result Refuse(MHD_Connection* c, int status, const std::string& message) const {
    HttpResponse res;
    refuse(status, message, res);
    res.status = status;
    res.set_header("Connection", "close");
    return Send(c, res);
  }

  MHD_Result Access(MHD_Connection* c, const char* url, const char* method, const char* version,
                    const char* upload, size_t* upload_size, void** state) {
    auto* ex = static_cast<Exchange*>(*state);
    if (ex == nullptr) return BeginRequest(c, url, method, version, state);
    if (*upload_size > 0) {
      ReceiveBody(ex, upload, *upload_size);
      *upload_size = 0;
      return MHD_YES;
    }
    if (ex->dispatched) return MHD_YES;
    if (ex->form != nullptr) {
      MHD_Result complete = MHD_destroy_post_processor(ex->form);
      ex->form = nullptr;
      if (complete != MHD_YES && ex->refusal_status == 0) {
        ex->refusal_status = 400;
        ex->refusal_message = "malformed multipart/form-data body";
      }
    }
    if (ex->refusal_status != 0) return Refuse(c, ex->refusal_status, ex->refusal_message);
    return Dispatch(c, ex);
  }

  // The head is complete: checks it against the limits and prepares for the body.
  MHD_Result BeginRequest(MHD_Connection* c, const char* url, const char* method,
                          const char* version, void** state) {
    auto ex = std::make_unique<Exchange>();
    const MHD_ConnectionInfo* sock = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    ex->connection = sock != nullptr ? static_cast<Connection*>(sock->socket_context) : nullptr;
    SetPhase(ex->connection, Connection::Phase::kBody);
    HttpRequest& req = ex->request;
    req.method = method;
    req.path = url;
    req.version = version;
    const MHD_ConnectionInfo* peer = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    req.remote_addr = AddressText(peer != nullptr ? peer->client_addr : nullptr);
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, &Collect<&HttpRequest::headers>, &req);
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, &Collect<&HttpRequest::params>, &req);
    Exchange* raw = ex.release();
    *state = raw;  // freed in OnCompleted, whatever happens next

    size_t url_bytes = req.path.size();  // the path and the query string (decoded)
    for (const auto& [k, v] : req.params) url_bytes += k.size() + v.size() + 2;
    size_t head_bytes = url_bytes;
    for (const auto& [k, v] : req.headers) head_bytes += k.size() + v.size() + 4;
    if (url_bytes > limits.max_url_bytes) {
      return Refuse(c, 414,
                    "the URL is longer than " + std::to_string(limits.max_url_bytes) + " bytes");
    }
    if (req.headers.size() > limits.max_header_fields) {
      return Refuse(c, 431,
                    "more than " + std::to_string(limits.max_header_fields) + " header fields");
    }
    if (head_bytes > limits.max_header_bytes) {
      return Refuse(
          c, 431,
          "the request head is larger than " + std::to_string(limits.max_header_bytes) + " bytes");
    }
    // Behind a trusted proxy the client is the one it names (within the head limits above).
    const std::string peer_address = CanonicalAddress(req.remote_addr).value_or("");
    if (trusted_proxies.count(peer_address) > 0) {
      std::vector<std::string> forwarded;
      auto [first, last] = req.headers.equal_range("X-Forwarded-For");
      for (auto it = first; it != last; ++it) forwarded.push_back(it->second);
      Expected<std::string> client = ClientBehindProxies(peer_address, forwarded, trusted_proxies);
      if (!client.ok()) return Refuse(c, 400, client.status().message());
      if (!forwarded.empty()) {
        req.proxy_addr = peer_address;
        req.remote_addr = *client;
      }
    }
    std::string length = req.get_header_value("Content-Length");
    if (!length.empty()) {
      errno = 0;
      char* end = nullptr;
      unsigned long long n = std::strtoull(length.c_str(), &end, 10);
      if (errno == 0 && end != nullptr && *end == '\0' && n > limits.max_body_bytes) {
        const std::string message =
            "the request is larger than " + std::to_string(limits.max_body_bytes) + " bytes";
        // Up to twice the limit the body is read and dropped before the answer, so that a
        // client still sending it reads the 413 rather than a reset connection; beyond, the
        // connection is closed after the answer.
        if (n > 2 * limits.max_body_bytes) return Refuse(c, 413, message);
        raw->refusal_status = 413;
        raw->refusal_message = message;
        return MHD_YES;
      }
    }
    if (req.is_multipart_form_data()) {
      raw->max_parts = limits.max_form_parts;
      raw->form = MHD_create_post_processor(c, size_t{64} << 10, &OnFormData, raw);
      if (raw->form == nullptr) {
        return Refuse(c, 400, "multipart/form-data without a usable boundary");
      }
    }
    return MHD_YES;
  }

  void ReceiveBody(Exchange* ex, const char* data, size_t size) const {
    if (ex->refusal_status != 0) return;  // read and dropped until the end, then refused
    ex->received += size;
    if (ex->received > limits.max_body_bytes) {
      ex->refusal_status = 413;
      ex->refusal_message =
          "the request is larger than " + std::to_string(limits.max_body_bytes) + " bytes";
      ex->request.body.clear();
      ex->request.files.clear();
      return;
    }
    if (ex->form == nullptr) {
      ex->request.body.append(data, size);
      return;
    }
    if (MHD_post_process(ex->form, data, size) != MHD_YES) {
      ex->refusal_status = 400;
      ex->refusal_message =
          ex->request.files.size() >= limits.max_form_parts
              ? "more than " + std::to_string(limits.max_form_parts) + " multipart/form-data parts"
              : "malformed multipart/form-data body";
      ex->request.files.clear();
    }
  }

  // The request is complete: suspend the connection and hand the request to a worker.
  MHD_Result Dispatch(MHD_Connection* c, Exchange* ex) {
    ex->dispatched = true;
    SetPhase(ex->connection, Connection::Phase::kBusy);
    MHD_suspend_connection(c);
    const bool heavy = is_heavy && is_heavy(ex->request);
    bool queued = queue->Push(ex->request.remote_addr, heavy, [this, c, ex] {
      HttpResponse res;
      try {
        handler(ex->request, res);
      } catch (const std::exception& e) {
        res = HttpResponse{};
        refuse(500, std::string("uncaught exception: ") + e.what(), res);
        res.status = 500;
      }
      Send(c, res);
      MHD_resume_connection(c);
    });
    if (!queued) {  // stopping
      HttpResponse res;
      refuse(503, "the server is stopping", res);
      res.status = 503;
      res.set_header("Connection", "close");
      Send(c, res);
      MHD_resume_connection(c);
    }
    return MHD_YES;
  }

  // No new connections; requests being run finish and resume their connections (later ones get
  // 503); then the daemon closes every connection. Requires: stop_requested.
  void Shutdown() {
    std::lock_guard lock(shutdown_mu);
    if (daemon == nullptr) return;
    const MHD_socket listening = MHD_quiesce_daemon(daemon);
    queue->Close();
    for (std::thread& t : workers) t.join();
    workers.clear();
    if (watchdog.joinable()) watchdog.join();
    MHD_stop_daemon(daemon);  // no connection is suspended any more
    daemon = nullptr;
    if (listening != MHD_INVALID_SOCKET) ::close(listening);
    listen_fd = -1;
  }

  // Closes connections past their deadlines (every 100 ms).
  void Watch() {
    std::unique_lock stop_lock(stop_mu);
    while (!stop_cv.wait_for(stop_lock, std::chrono::milliseconds(100),
                             [&] { return stop_requested; })) {
      const Clock::time_point now = Clock::now();
      std::lock_guard lock(conn_mu);
      for (Connection* conn : connections) {
        if (conn->closed_by_watchdog || conn->fd < 0 || conn->phase == Connection::Phase::kBusy) {
          continue;
        }
        const int deadline_ms = conn->phase == Connection::Phase::kHead
                                    ? limits.head_deadline_ms
                                    : limits.request_deadline_ms;
        if (now - conn->since > std::chrono::milliseconds(deadline_ms)) {
          // Wakes the epoll thread with an end of stream; it closes the connection. The socket
          // stays open until OnConnection(closed), which takes conn_mu first.
          ::shutdown(conn->fd, SHUT_RDWR);
          conn->closed_by_watchdog = true;
        }
      }
    }
  }
};

HttpServer::HttpServer(HttpLimits limits, std::optional<TlsPem> tls, HttpHandler handler,
                       HttpRefusal refuse, HttpClassifier is_heavy,
                       std::set<std::string> trusted_proxies)
    : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  impl_->trusted_proxies = std::move(trusted_proxies);
  impl_->is_heavy = std::move(is_heavy);
  const int workers = std::max(1, limits.workers);
  impl_->queue =
      std::make_unique<FairQueue>(limits.heavy_workers > 0 ? std::min(limits.heavy_workers, workers)
                                                           : std::max(1, workers - 2));
  impl_->tls = std::move(tls);
  impl_->handler = std::move(handler);
  impl_->refuse = std::move(refuse);
}

HttpServer::~HttpServer() {
  Stop();
  impl_->Shutdown();
}

Status HttpServer::Bind(const std::string& host, int port) {
  Impl& m = *impl_;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string where = host + ":" + std::to_string(port);
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return Unavailable("cannot listen on " + where + ": unknown address");
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 256) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return Unavailable("cannot listen on " + where + " (address in use or not local?)");
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (m.tls) flags |= MHD_USE_TLS;
  // Memory per connection: the request head must fit (libmicrohttpd answers 431 beyond), with
  // room for the read buffer of the body and the response head.
  const size_t pool = m.limits.max_header_bytes * 2 + (size_t{32} << 10);
  const auto sweep = static_cast<unsigned>(m.limits.idle_timeout_s);
  if (m.tls) {
    m.daemon = MHD_start_daemon(
        flags, 0, &Impl::OnAccept, &m, &Impl::OnAccess, &m, MHD_OPTION_EXTERNAL_LOGGER,
        &Impl::OnLog, &m, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
        m.limits.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, sweep,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_NOTIFY_COMPLETED, &Impl::OnCompleted,
        &m, MHD_OPTION_NOTIFY_CONNECTION, &Impl::OnConnection, &m, MHD_OPTION_HTTPS_MEM_CERT,
        m.tls->cert.c_str(), MHD_OPTION_HTTPS_MEM_KEY, m.tls->key.c_str(), MHD_OPTION_END);
  } else {
    m.daemon = MHD_start_daemon(
        flags, 0, &Impl::OnAccept, &m, &Impl::OnAccess, &m, MHD_OPTION_EXTERNAL_LOGGER,
        &Impl::OnLog, &m, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
        m.limits.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, sweep,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_NOTIFY_COMPLETED, &Impl::OnCompleted,
        &m, MHD_OPTION_NOTIFY_CONNECTION, &Impl::OnConnection, &m, MHD_OPTION_END);
  }
  if (m.daemon == nullptr) {
    ::close(fd);
    return m.tls ? InvalidArgument("cannot start HTTPS with the given certificate and key")
                 : Unavailable("cannot start the HTTP server on " + where);
  }
  m.listen_fd = fd;  // closed by Shutdown
  for (int i = 0; i < std::max(1, m.limits.workers); ++i) {
    m.workers.emplace_back([&m] {
      FairQueue::Job job;
      bool heavy = false;
      while (m.queue->Pop(job, heavy)) {
        job();
        job = nullptr;
        m.queue->Done(heavy);
      }
    });
  }
  m.watchdog = std::thread([&m] { m.Watch(); });
  return Status::Ok();
}

Status HttpServer::Serve() {
  Impl& m = *impl_;
  if (m.daemon == nullptr) return FailedPrecondition("Serve() before a successful Bind()");
  {
    std::unique_lock lock(m.stop_mu);
    m.stop_cv.wait(lock, [&] { return m.stop_requested; });
  }
  m.Shutdown();
  return Status::Ok();
}

void HttpServer::Stop() {
  {
    std::lock_guard lock(impl_->stop_mu);
    impl_->stop_requested = true;
  }
  impl_->stop_cv.notify_all();
}

size_t HttpServer::open_connections() const {
  std::lock_guard lock(impl_->conn_mu);
  return impl_->connections.size();
}

}  // namespace facetrail::server::internal
