// Status and Expected<T>: how facetrail reports failure across subsystem boundaries.
//
// WHAT THIS REPRESENTS
//   A Status is either OK (costs one null pointer) or a code plus a human message that says what
//   failed, where, and if possible what the caller can do ("photo.jpg: not a JPEG file (bad SOI
//   marker)"). When an error crosses a layer, the layer prefixes what it was doing with
//   WithContext("enroll booking B-123").
//   Expected<T> holds a T or a non-OK Status, never neither and never an OK status without value.
//
// CHOOSING A CODE (after absl::StatusCode)
//   kInvalidArgument    the caller's input is wrong (bad image, malformed CSV row, bad JSON type)
//   kNotFound           a named thing does not exist (file, booking, user)
//   kAlreadyExists      a unique thing is there already (duplicate photo hash, user name)
//   kUnauthenticated    who is asking is not established (bad password, locked account)
//   kPermissionDenied   who is asking may not do this (no certificate, wrong role, outside agency)
//   kFailedPrecondition the system is not in the state the request needs (review missing)
//   kResourceExhausted  an input limit was hit (pixel limit, upload size, rate)
//   kDataLoss           stored data is damaged (audit chain, snapshot, model file)
//   kUnavailable        a resource is temporarily unavailable (database busy); retrying may help
//   kInternal           a bug: an invariant did not hold
//   kIoError            the operating system refused an I/O operation
//
// THREAD SAFETY
//   Values; const methods are safe to call concurrently.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace facetrail {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kUnauthenticated,
  kPermissionDenied,
  kFailedPrecondition,
  kResourceExhausted,
  kDataLoss,
  kUnavailable,
  kInternal,
  kIoError,
};

// A stable lower-case name for `code` ("invalid_argument"), used in JSON and logs.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return {}; }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // The message without the code name; empty when OK.
  const std::string& message() const;
  // "Invalid argument: <message>" or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;  // null when OK; immutable, so copies may share it
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status AlreadyExists(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status DataLoss(std::string m) {
  return {StatusCode::kDataLoss, std::move(m)};
}
inline Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}
inline Status IoError(std::string m) {
  return {StatusCode::kIoError, std::move(m)};
}

// The C library's message for the errno value `err` ("No such file or directory"), as strerror
// gives it, but thread-safe on any C library (strerror_r).
std::string ErrnoMessage(int err);

// A value of type T, or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  // requires: !status.ok()  (an OK status without a value becomes kInternal)
  Expected(Status status)  // NOLINT(google-explicit-constructor)
      : v_(status.ok() ? Internal("Expected constructed from an OK status without a value")
                       : std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

  // requires: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace facetrail

// Evaluates `expr` (a Status); returns it from the enclosing function when not OK.
#define FT_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::facetrail::Status ft_status_ = (expr); \
    if (!ft_status_.ok()) return ft_status_; \
  } while (false)

#define FT_CONCAT_INNER_(a, b) a##b
#define FT_CONCAT_(a, b) FT_CONCAT_INNER_(a, b)
// `FT_ASSIGN_OR_RETURN(auto x, Foo());` declares x from Foo()'s value or returns its status.
#define FT_ASSIGN_OR_RETURN(lhs, expr) \
  FT_ASSIGN_OR_RETURN_IMPL_(FT_CONCAT_(ft_expected_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): lhs is a declaration, tmp a name
#define FT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
