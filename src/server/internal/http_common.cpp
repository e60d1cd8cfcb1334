#include "server/internal/http_common.h"

#include <openssl/crypto.h>

#include <iostream>

namespace facetrail::server::internal {

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kResourceExhausted:
      return status.message().rfind("rate_limited", 0) == 0 ? 429 : 413;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
    case StatusCode::kIoError: return 500;
  }
  return 500;
}

nlohmann::json ErrorBody(const Status& status) {
  int http = HttpStatusFor(status);
  std::string code, message;
  if (http >= 500) {
    std::cerr << "facetrail serve: " << status.ToString() << '\n';
    code = std::string(StatusCodeName(status.code()));
    message = http == 503 ? "the service is temporarily unavailable (busy, or its search index "
                            "cannot be written); try again later"
                          : "internal error; the details are in the server's log";
  } else if (service::IsRefusal(status)) {
    service::RefusalParts parts = service::SplitRefusal(status);
    code = parts.code;
    message = parts.reason;
  } else {
    code = std::string(StatusCodeName(status.code()));
    message = status.message();
  }
  return {{"error", {{"code", code}, {"message", message}}}};
}

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool RateLimiter::Take(const std::string& key) {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  if (buckets_.size() >= kMaxKeys) {
    std::erase_if(buckets_, [&](const auto& item) {
      double elapsed = std::chrono::duration<double>(now - item.second.last).count();
      return item.second.tokens + elapsed * per_second_ >= burst_;
    });
    if (buckets_.size() >= kMaxKeys) return false;
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
  b.last = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

}  // namespace facetrail::server::internal
