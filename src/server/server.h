// facetrail::server — `facetrail serve`: the JSON API (/api/v1/…, docs/SERVER.md) and the web
// application (web/), a thin layer over service/: every rule and every audit entry is in the
// use cases; this layer authenticates the HTTP request, parses it, maps the Status to HTTP.
//
// WHAT THIS OBJECT REPRESENTS
//   One HTTP(S) server bound to one address and one database. Sessions (cookie) and API tokens
//   (Bearer) are rows of that database (service/sessions.h, only their SHA-256 kept): they
//   survive a restart and can be revoked; several server processes on one file share them.
//
// THREAD SAFETY
//   Create, then Bind, then Serve (blocks) on one thread; Stop() from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace facetrail::server {

// Connections and requests (docs/SERVER.md, "Connections and limits"). A connection never holds
// a worker while it is idle or slow; these bound what it may hold.
struct HttpLimits {
  size_t max_body_bytes = size_t{20} << 20;    // larger request bodies: 413 (serve sets it)
  size_t max_header_bytes = size_t{16} << 10;  // request line and header fields together: 431
  size_t max_header_fields = 64;               // more header fields: 431
  size_t max_url_bytes = 4096;                 // longer request targets: 414
  size_t max_form_parts = 16;                  // more multipart/form-data parts: 400
  // From the connection's start (or the end of its previous response) to the end of the request
  // head, and to the end of the body: past them the connection is closed, however slowly it is
  // still sending.
  int head_deadline_ms = 20'000;
  int request_deadline_ms = 120'000;
  unsigned idle_timeout_s = 10;  // a connection that sends nothing for this long is closed
  unsigned max_connections = 1000;
  unsigned max_connections_per_address = 64;  // trusted proxies are exempt
  int workers = 8;                            // threads that run complete requests
  // Of those, at most this many run heavy requests (probe analyses and searches) at once; 0:
  // workers - 2 (at least 1). The rest stay free for light requests, taken first.
  int heavy_workers = 0;
};

struct ServerOptions {
  // A SQLite file or a postgresql://USER@HOST:PORT/DB URI (common/db_uri.h: ResolveDatabaseUri).
  std::string db_path;
  // This server's search-index snapshot folder (gallery::StoreOptions::snapshot_dir). Empty:
  // beside a SQLite file; with PostgreSQL the index is then built from the rows at start.
  std::string snapshot_dir;
  // Empty: the default lookups (common/install_paths.h): /usr/share/facetrail/{models,web}, else
  // the binary's checkout; never the current working directory.
  std::string models_dir;
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: an ephemeral port (see Server::port())
  // Both or neither: HTTPS with this PEM certificate and key.
  std::string tls_cert_path, tls_key_path;
  std::string web_dir;
  std::string openapi_path;                    // default: the description built into the binary
  size_t max_upload_bytes = size_t{20} << 20;  // request bodies larger than this: 413
  HttpLimits http;                             // its max_body_bytes follows max_upload_bytes
  // Reverse proxies (exact IPv4/IPv6 addresses, docs/SERVER.md, "Behind a reverse proxy"): only
  // from these peers is X-Forwarded-For believed for the client's address (sign-in limits,
  // request fairness, access log, audit), and their connections are not capped per address.
  // Create refuses a value that is not an IP address.
  std::vector<std::string> trusted_proxies;
  uint64_t max_pixels = 40'000'000;  // decoded probe images larger than this: 413
  // Token bucket per user for probe analyses and searches.
  double search_burst = 10;
  double searches_per_minute = 30;
  // Token bucket per client address for POST /api/v1/login (failed sign-ins are throttled
  // further by the policy, docs/POLICY.md).
  double login_burst = 10;
  double logins_per_minute = 30;
  // Sessions end this long after sign-in (also the cookie's Max-Age), or after this long unused.
  int session_ttl_s = 8 * 3600;
  int session_idle_s = 30 * 60;
  int num_pipelines = 2;  // FacePipeline instances (each used by one request at a time)
  bool fast_password_hashing = false;  // tests only: minimum Argon2id cost for new passwords

  // The audit log's trust (docs/AUDIT.md, "Threat model"). Pinned public keys, files outside the
  // database's folder: GET /api/v1/audit/verify checks checkpoints against them and nothing else
  // (never a key file beside the database). Without any, a log with checkpoints is "unverified".
  std::vector<std::string> audit_public_key_paths;
  // The secret key for automatic checkpoints (audit::Checkpointer); its public key must be pinned.
  // Empty: no automatic checkpoints.
  std::string audit_signing_key_path;
  // The append-only external checkpoint log, outside the database's folder: automatic
  // checkpoints are appended to it, and verification reads it.
  std::string audit_checkpoint_log_path;
  int64_t audit_checkpoint_entries = 100;  // automatic checkpoint every this many new entries,
  int64_t audit_checkpoint_seconds = 300;  // or this often when anything is new
  int64_t audit_checkpoint_poll_ms = 1000;

  // The access log (docs/SERVER.md, "Access log"): one JSON line per request. Null: stderr (the
  // journal under systemd). Called from worker threads, one line at a time.
  std::function<void(const std::string& line)> access_log;
  bool access_log_enabled = true;
};

class Server {
 public:
  // Checks the options and opens the database (kNotFound when it does not exist, or when the
  // models folder, the gallery's model files or the web application are not found, naming every
  // place looked at: a server that cannot search does not start; kInvalidArgument
  // for half a TLS configuration, a pinned key or checkpoint log inside the database's folder, or
  // a signing key that is not pinned), loads the audit keys and starts the automatic checkpoints.
  // Writes start-up warnings to stderr: database files open to group or others, no pinned key,
  // checkpoints kept in the database only, an external log that is not append-only. Models are
  // loaded at the first request that needs them.
  static Expected<std::unique_ptr<Server>> Create(const ServerOptions& options);
  virtual ~Server() = default;

  // Binds the listening socket. kUnavailable when the address is taken.
  virtual Status Bind() = 0;
  // The bound port (after Bind).
  virtual int port() const = 0;
  // Serves until Stop(). requires: Bind() succeeded.
  virtual Status Serve() = 0;
  virtual void Stop() = 0;

  // "METHOD /path/{param}" for every API route, as written in the OpenAPI description.
  virtual std::vector<std::string> RegisteredRoutes() const = 0;
};

// True when `text` is exactly one IPv4 or IPv6 address ("10.0.0.5", "2001:db8::1"; no port).
bool IsIpAddress(const std::string& text);

// True when `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool IsLoopback(const std::string& host);

}  // namespace facetrail::server
