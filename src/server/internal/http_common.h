// Helpers of the HTTP server that only server/ sees: the one Status → HTTP mapping, the JSON
// error body, the per-user rate limiter, and a constant-time comparison. Sessions and API tokens
// are a use case (service/sessions.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
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

// Constant-time comparison of two strings (CSRF tokens).
bool SameSecret(const std::string& a, const std::string& b);

// A token bucket per key (a user id for searches, a client address for POST /api/v1/login):
// `burst` requests at once, refilled at `per_minute`. Thread-safe; at most kMaxKeys buckets (the
// refilled ones are forgotten first, as if never seen; when all are in use, Take refuses).
class RateLimiter {
 public:
  RateLimiter(double burst, double per_minute) : burst_(burst), per_second_(per_minute / 60) {}
  bool Take(const std::string& key);
  static constexpr size_t kMaxKeys = 100000;

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double burst_, per_second_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace facetrail::server::internal
