#include "server/internal/http_common.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <iostream>

#include "common/sha256.h"

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
    message = http == 503 ? "the service is busy; try again"
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

std::string RandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    std::cerr << "facetrail serve: RAND_bytes failed\n";
    std::abort();
  }
  return ToHex(std::span<const uint8_t>(bytes, sizeof bytes));
}

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string SessionStore::Create(const service::Actor& actor, SessionInfo& info) {
  std::string id = RandomToken();
  info.actor = actor;
  info.csrf_token = RandomToken();
  info.expires = std::chrono::steady_clock::now() + ttl_;
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  std::erase_if(sessions_, [now](const auto& kv) { return kv.second.expires < now; });
  sessions_[Sha256Hex(id)] = info;
  return id;
}

std::optional<SessionInfo> SessionStore::Find(const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(Sha256Hex(session_id));
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires < std::chrono::steady_clock::now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::Remove(const std::string& session_id) {
  std::lock_guard lock(mu_);
  sessions_.erase(Sha256Hex(session_id));
}

std::string SessionStore::CreateToken(const service::Actor& actor) {
  std::string token = RandomToken();
  std::lock_guard lock(mu_);
  tokens_[Sha256Hex(token)] = actor;
  return token;
}

std::optional<service::Actor> SessionStore::FindToken(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(Sha256Hex(token));
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

size_t SessionStore::num_sessions() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

bool RateLimiter::Take(int64_t user_id) {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(user_id, Bucket{burst_, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
  b.last = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

}  // namespace facetrail::server::internal
