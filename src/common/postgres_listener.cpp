// DbListener (common/db_listener.h) on PostgreSQL: LISTEN on a connection of its own, then wait on
// its socket with poll() and drain PQnotifies.
#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <memory>
#include <string>

#include "common/db_listener.h"
#include "common/db_uri.h"

namespace facetrail {

namespace {

bool IsChannelName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string Trimmed(const char* m) {
  std::string s = m ? m : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class PgListener final : public DbListener {
 public:
  PgListener(std::string uri, std::string description, std::string channel)
      : uri_(std::move(uri)), description_(std::move(description)), channel_(std::move(channel)) {}
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;
  ~PgListener() override { Close(); }

  // Connects and listens; kUnavailable naming the server when it cannot.
  Status Connect() {
    Close();
    conn_ = PQconnectdb(uri_.c_str());
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      Status s = Unavailable(description_ + ": listening for changes: cannot connect: " +
                             Trimmed(conn_ ? PQerrorMessage(conn_) : "out of memory"));
      Close();
      return s;
    }
    // The channel name was checked to be a plain identifier: it can be written into the SQL.
    PGresult* r = PQexec(conn_, ("LISTEN " + channel_).c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
      Status s = Unavailable(description_ + ": LISTEN " + channel_ + ": " +
                             Trimmed(PQerrorMessage(conn_)));
      Close();
      return s;
    }
    return Status::Ok();
  }

  Expected<int> Wait(std::chrono::milliseconds timeout) override {
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) FT_RETURN_IF_ERROR(Connect());
    int count = Drain();
    if (count > 0) return count;
    pollfd p{PQsocket(conn_), POLLIN, 0};
    if (p.fd < 0) return Lost("no socket");
    const int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (rc < 0) {
      if (errno == EINTR) return 0;
      return Lost(ErrnoMessage(errno));
    }
    if (rc == 0) return 0;
    if (PQconsumeInput(conn_) == 0) return Lost(Trimmed(PQerrorMessage(conn_)));
    return Drain();
  }

 private:
  int Drain() {
    int count = 0;
    PQconsumeInput(conn_);
    while (PGnotify* n = PQnotifies(conn_)) {
      ++count;
      PQfreemem(n);
    }
    return count;
  }

  Status Lost(const std::string& why) {
    Close();
    return Unavailable(description_ + ": listening for changes: connection lost: " + why);
  }

  void Close() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
  }

  std::string uri_;
  std::string description_;
  std::string channel_;
  PGconn* conn_ = nullptr;
};

}  // namespace

Expected<std::unique_ptr<DbListener>> DbListener::Open(const std::string& uri,
                                                       std::string_view channel) {
  if (!IsChannelName(channel)) {
    return InvalidArgument("notification channel '" + std::string(channel) +
                           "' is not a lower-case SQL identifier");
  }
  if (!IsPostgresUri(uri)) {
    return FailedPrecondition("a SQLite database has no change notifications (one machine)");
  }
  FT_ASSIGN_OR_RETURN(std::string description, PostgresUriDescription(uri));
  auto listener = std::make_unique<PgListener>(uri, description, std::string(channel));
  FT_RETURN_IF_ERROR(listener->Connect());
  return std::unique_ptr<DbListener>(std::move(listener));
}

}  // namespace facetrail
