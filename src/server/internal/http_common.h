// Helpers of the HTTP server that only server/ sees: the one Status → HTTP mapping, the JSON
// error body, sessions and API tokens, the per-user rate limiter, and random tokens.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "service/context.h"

namespace facetrail::server::internal {

// The HTTP status for a non-OK Status — the only place this mapping is made.
//   kInvalidArgument 400, kUnauthenticated 401, kPermissionDenied 403 (policy refusals),
//   kNotFound 404, kAlreadyExists/kFailedPrecondition 409, kResourceExhausted 429 when the
//   message starts with "rate_limited" else 413, kUnavailable 503, everything else 500.
int HttpStatusFor(const Status& status);

// {"error": {"code", "message"}}. Refusals carry the policy's code ("outside_agency"); other
// errors StatusCodeName. Server-side failures (500) get a generic message: the detail goes to
// the server's log only, never into a response (no SQL, no paths).
nlohmann::json ErrorBody(const Status& status);

// 32 random bytes (OpenSSL RAND_bytes) as 64 hex characters.
std::string RandomToken();

// Constant-time comparison of two strings.
bool SameSecret(const std::string& a, const std::string& b);

struct SessionInfo {
  service::Actor actor;
  std::string csrf_token;
  std::chrono::steady_clock::time_point expires;
};

// Sessions and API tokens, keyed by the SHA-256 of the secret (a memory dump or log never holds a
// usable secret). Thread-safe.
class SessionStore {
 public:
  explicit SessionStore(std::chrono::seconds ttl) : ttl_(ttl) {}
  // Returns the session id (the cookie value); info.csrf_token is set.
  std::string Create(const service::Actor& actor, SessionInfo& info);
  std::optional<SessionInfo> Find(const std::string& session_id);
  void Remove(const std::string& session_id);
  // A bearer token for scripts; valid until the server stops or the user signs it out.
  std::string CreateToken(const service::Actor& actor);
  std::optional<service::Actor> FindToken(const std::string& token);
  size_t num_sessions();

 private:
  std::chrono::seconds ttl_;
  std::mutex mu_;
  std::map<std::string, SessionInfo> sessions_;   // guarded by mu_
  std::map<std::string, service::Actor> tokens_;  // guarded by mu_
};

// A token bucket per user id. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(double burst, double per_minute) : burst_(burst), per_second_(per_minute / 60) {}
  bool Take(int64_t user_id);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double burst_, per_second_;
  std::mutex mu_;
  std::map<int64_t, Bucket> buckets_;  // guarded by mu_
};

}  // namespace facetrail::server::internal
