// The HTTP transport under `facetrail serve`: an event-driven server (GNU libmicrohttpd, one epoll
// thread) that reads requests, and a small pool of workers that runs complete requests only.
//
// WHY (docs/SERVER.md, "Connections and limits")
//   A connection never holds a worker while it is idle or slow: the epoll thread reads the request
//   head and body of every connection side by side, and a request reaches a worker only when it
//   is complete. Each connection has a deadline for the whole head (and a longer one for the
//   body), not per read; keep-alive connections close after an idle timeout; connections are
//   capped in total and per peer address (trusted proxies exempt); complete requests are served
//   round-robin among client addresses, so one greedy client cannot starve the others; heavy
//   requests (searches) run on at most heavy_workers workers and light ones are taken first, so a
//   queue of searches never delays a sign-in or /healthz.
//
// CONTRACT
//   The handler sees a complete, size-checked request and fills the response; it runs on a worker
//   thread, several at once. Requests the transport itself refuses (too large, too many header
//   fields, URL too long, malformed multipart body) never reach the handler: `refuse` builds
//   their response from an HTTP status and a message.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/server.h"

namespace facetrail::server::internal {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

// One part of a multipart/form-data body (a file or a plain field).
struct FormPart {
  std::string filename, content_type, content;
};

struct HttpRequest {
  std::string method, path, version;
  // The client's address as text ("127.0.0.1", "::1"): the TCP peer's, or, when the peer is a
  // trusted proxy, the client it names in X-Forwarded-For (see ClientBehindProxies).
  std::string remote_addr;
  // The trusted proxy's address when remote_addr came from X-Forwarded-For; else empty.
  std::string proxy_addr;
  std::multimap<std::string, std::string, CaseInsensitiveLess> headers;
  std::multimap<std::string, std::string> params;  // the query string, percent-decoded
  std::string body;                                // empty for multipart/form-data
  std::map<std::string, FormPart> files;           // multipart/form-data parts by field name
  std::smatch matches;                             // the route's captures over `path`

  bool has_header(const std::string& name) const { return headers.count(name) > 0; }
  std::string get_header_value(const std::string& name) const;  // "" when absent
  bool has_param(const std::string& name) const { return params.count(name) > 0; }
  std::string get_param_value(const std::string& name) const;  // "" when absent
  bool is_multipart_form_data() const;
  bool has_file(const std::string& name) const { return files.count(name) > 0; }
  const FormPart& get_file_value(const std::string& name) const;  // an empty part when absent
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // What the access log records that only the router knows (server.cpp): the request's id, the
  // route template ("/api/v1/reviews/{id}", never the raw path or query), the signed-in user.
  std::string request_id, log_route, log_user;

  void set_content(std::string content, const std::string& content_type);
  void set_header(const std::string& name, const std::string& value);  // replaces
  std::string get_header_value(const std::string& name) const;
};

using server::HttpLimits;  // server/server.h

// `text` as one IP address in canonical form (inet_ntop's: "2001:db8::1", an IPv4-mapped IPv6
// address as plain IPv4); nullopt when it is not exactly one IPv4 or IPv6 address (no port, no
// brackets, no name, no surrounding space).
std::optional<std::string> CanonicalAddress(std::string_view text);

// The client of a request whose TCP peer is the trusted proxy `peer` (canonical), from the
// values of its X-Forwarded-For header lines in order (joined with ","; none: the peer itself).
// The entries are read from the right, skipping those that are trusted proxies themselves; the
// first other one is the client (canonical); when all are trusted proxies, the left-most. The
// entries left of the client are what the client itself sent and are not looked at.
// kInvalidArgument when an entry read is not an IP address (an empty one included): a trusted
// proxy that sends that is misconfigured, and the request is refused rather than guessed at.
Expected<std::string> ClientBehindProxies(const std::string& peer,
                                          const std::vector<std::string>& forwarded_for,
                                          const std::set<std::string>& trusted);

struct TlsPem {
  std::string cert, key;  // PEM text
};

// Runs complete requests; called on worker threads, concurrently.
using HttpHandler = std::function<void(HttpRequest&, HttpResponse&)>;
// The response for a request the transport refused (status 400/413/414/431/503).
using HttpRefusal = std::function<void(int status, const std::string& message, HttpResponse&)>;
// True for a heavy request (one that waits for a scarce resource: a pipeline). At most
// HttpLimits::heavy_workers of them run at once, and light requests are taken first, so a queue
// of heavy ones never delays a light one. Called on the event thread with the complete request.
using HttpClassifier = std::function<bool(const HttpRequest&)>;

class HttpServer {
 public:
  // `trusted_proxies`: addresses (CanonicalAddress) whose X-Forwarded-For is believed and that
  // the per-address connection cap does not apply to (docs/SERVER.md, "Behind a reverse proxy").
  HttpServer(HttpLimits limits, std::optional<TlsPem> tls, HttpHandler handler, HttpRefusal refuse,
             HttpClassifier is_heavy = {}, std::set<std::string> trusted_proxies = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Opens the listening socket on host:port (port 0: an ephemeral one) and starts accepting.
  // kUnavailable when the address is taken or not local; kInvalidArgument when the TLS
  // certificate or key cannot be used.
  Status Bind(const std::string& host, int port);
  int port() const { return port_; }
  // Blocks until Stop(); then lets requests being run finish, and closes every connection.
  Status Serve();
  void Stop();

  // Open connections now (for /metrics).
  size_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace facetrail::server::internal
