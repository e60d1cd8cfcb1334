// A throw-away PostgreSQL cluster for the storage tests (issue 15): initdb + pg_ctl in a temporary
// folder, a free port on 127.0.0.1, trust authentication for one test role, fsync off. Started on
// first use in a test process, stopped (and the folder removed) when the process exits; a watcher
// process stops it too if the test process dies without cleaning up.
//
// PostgreSQL refuses to run as root (CI runs as root): then the server runs as the `postgres`
// system user (Debian's postgresql package creates it), else as `nobody`, via runuser.
//
// Binaries: $FACETRAIL_PG_BIN, else the newest /usr/lib/postgresql/N/bin. Tests that need the
// cluster GTEST_SKIP with the reason when they are absent (scripts/deps installs them, so CI runs
// them); set FACETRAIL_REQUIRE_POSTGRES=1 to make their absence a failure instead.
//
// Usage (one fresh database per test):
//   std::string uri;
//   FT_PG_DATABASE_OR_SKIP(uri);   // postgresql://facetrail@127.0.0.1:PORT/t_N
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "common/db.h"

namespace facetrail::testing {

class PgCluster {
 public:
  // The process-wide cluster, started on first call. nullptr with `why` when it cannot run.
  static PgCluster* Get(std::string* why) {
    static std::mutex mu;
    std::lock_guard lock(mu);
    static PgCluster* cluster = nullptr;
    static std::string reason;
    static bool tried = false;
    if (!tried) {
      tried = true;
      auto* c = new PgCluster();
      reason = c->Start();
      if (reason.empty()) {
        cluster = c;
        std::atexit([] { cluster->Stop(); });
      } else {
        c->Stop();
        delete c;
      }
    }
    if (why) *why = reason;
    return cluster;
  }

  // A new, empty database; its URI.
  std::string CreateDatabase() {
    static std::atomic<int> counter{0};
    const std::string name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    auto admin = Db::Open(Uri("postgres"));
    if (!admin.ok()) return "";
    if (!admin->Exec("CREATE DATABASE " + name).ok()) return "";
    return Uri(name);
  }

  std::string Uri(const std::string& db) const {
    return "postgresql://facetrail@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }

  // Runs pg_ctl with `args` as the cluster's user (restart tests); the exit status.
  int PgCtl(const std::string& args) const {
    return Run(bin_ + "/pg_ctl -D '" + dir_ + "/data' -l '" + dir_ + "/log' " + args);
  }
  int port() const { return port_; }

 private:
  PgCluster() = default;

  static std::string FindBin() {
    if (const char* e = std::getenv("FACETRAIL_PG_BIN"); e && *e) return e;
    std::string best;
    int best_version = 0;
    std::error_code ec;
    for (const auto& d : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      const int v = std::atoi(d.path().filename().c_str());
      if (v > best_version && std::filesystem::exists(d.path() / "bin" / "initdb")) {
        best_version = v;
        best = (d.path() / "bin").string();
      }
    }
    return best;
  }

  static int FreePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    ::close(fd);
    return port;
  }

  // `cmd` (a shell command line) as the unprivileged user when we are root; the exit status.
  // The command goes through a script file, so that it is quoted once, the same way either way.
  int Run(const std::string& cmd) const {
    static std::atomic<int> n{0};
    const std::string script = dir_ + "/run-" + std::to_string(++n) + ".sh";
    {
      std::ofstream f(script);
      f << cmd << '\n';
      if (!f) return -1;
    }
    const std::string sh = "sh '" + script + "'";
    const std::string full = user_.empty() ? sh : "runuser -u " + user_ + " -- " + sh;
    const int rc = std::system((full + " >>'" + dir_ + "/ctl.log' 2>&1 </dev/null").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  std::string Start() {
    bin_ = FindBin();
    if (bin_.empty()) {
      return "PostgreSQL server binaries not found (no /usr/lib/postgresql/N/bin/initdb; "
             "install the postgresql package: scripts/deps does)";
    }
    char tmpl[] = "/tmp/facetrail-pg-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return "cannot create a temporary folder";
    dir_ = tmpl;
    if (::geteuid() == 0) {
      user_ = ::getpwnam("postgres") ? "postgres" : "nobody";
      const passwd* pw = ::getpwnam(user_.c_str());
      if (!pw || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        return "cannot hand " + dir_ + " to user " + user_;
      }
    }
    port_ = FreePort();
    if (port_ == 0) return "no free port on 127.0.0.1";
    if (Run(bin_ + "/initdb -D '" + dir_ + "/data' -U facetrail -A trust -E UTF8 --locale=C " +
            "--no-sync --no-instructions") != 0) {
      return "initdb failed (" + dir_ + "/ctl.log)";
    }
    // The watcher: stops the server and removes the folder once this process is gone.
    const std::string stop = bin_ + "/pg_ctl -D '" + dir_ + "/data' stop -m immediate";
    const std::string watcher = "(while kill -0 " + std::to_string(::getpid()) +
                                " 2>/dev/null; do sleep 1; done; " +
                                (user_.empty() ? stop : "runuser -u " + user_ + " -- " + stop) +
                                "; rm -rf '" + dir_ + "') >/dev/null 2>&1 </dev/null &";
    if (std::system(watcher.c_str()) != 0) return "cannot start the cluster watcher";
    started_ = true;
    const std::string opts = "-p " + std::to_string(port_) +
                             " -c listen_addresses=127.0.0.1 -c unix_socket_directories='" + dir_ +
                             "' -c fsync=off -c full_page_writes=off";
    if (PgCtl("-w -t 60 -o \"" + opts + "\" start") != 0) {
      return "pg_ctl start failed (" + dir_ + "/log)";
    }
    return "";
  }

  void Stop() {
    if (started_) (void)PgCtl("-m immediate stop");
    started_ = false;
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::string bin_;
  std::string dir_;
  std::string user_;
  int port_ = 0;
  bool started_ = false;
};

inline bool PostgresRequired() {
  const char* e = std::getenv("FACETRAIL_REQUIRE_POSTGRES");
  return e && std::string(e) == "1";
}

}  // namespace facetrail::testing

// Sets `uri` to a fresh database on the test cluster, or skips (fails, when PostgreSQL is
// required) with the reason.
#define FT_PG_DATABASE_OR_SKIP(uri)                                                           \
  do {                                                                                        \
    std::string why_;                                                                         \
    auto* cluster_ = ::facetrail::testing::PgCluster::Get(&why_);                             \
    if (!cluster_) {                                                                          \
      if (::facetrail::testing::PostgresRequired()) FAIL() << why_;                           \
      GTEST_SKIP() << "PostgreSQL tests skipped: " << why_;                                   \
    }                                                                                         \
    (uri) = cluster_->CreateDatabase();                                                       \
    ASSERT_FALSE((uri).empty()) << "cannot create a test database on the PostgreSQL cluster"; \
  } while (0)
