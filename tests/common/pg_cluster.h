// A throw-away PostgreSQL cluster for the storage tests (issue 15): initdb + pg_ctl in a temporary
// folder, a free port on 127.0.0.1, trust authentication for one test role, fsync off.
//
// Two ways a test process gets one (docs/DATABASE.md, "Tests on a real PostgreSQL"):
//   - Shared, under ctest: the fixture test `pg_cluster_start`
//   (tests/common/pg_cluster_fixture.cpp)
//     starts ONE cluster for the whole ctest run and writes where it is to a state file;
//     `pg_cluster_stop` stops it. Every test binary that uses PostgreSQL requires that fixture
//     and gets the state file's path in $FACETRAIL_PG_CLUSTER (tests/CMakeLists.txt). Get()
//     then attaches to it: each test still gets its own fresh database (CREATE DATABASE), which
//     is dropped when the test process exits.
//   - Private: without $FACETRAIL_PG_CLUSTER (a test binary run by hand), Get() starts the
//     process's own cluster on first use, stopped (and its folder removed) when the process
//     exits; a watcher process stops it too if the test process dies without cleaning up.
//   Tests that restart or stop the server (PgCtl) must not do it to the shared cluster, which
//   other test processes are using: they call GetOwn(), which always starts a private one.
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
// A restart test, on a cluster of its own:
//   std::string uri;
//   ::facetrail::testing::PgCluster* cluster = nullptr;
//   FT_PG_OWN_CLUSTER_DATABASE_OR_SKIP(cluster, uri);
//   cluster->PgCtl("-w -m fast restart");
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
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "common/db.h"

namespace facetrail::testing {

// The environment variable naming the shared cluster's state file (set by ctest).
inline constexpr const char* kSharedClusterEnv = "FACETRAIL_PG_CLUSTER";

class PgCluster {
 public:
  // The cluster for this process: the shared one when $FACETRAIL_PG_CLUSTER names it, else the
  // process's own, started on first call. nullptr with `why` when it cannot run.
  static PgCluster* Get(std::string* why) {
    const char* shared = std::getenv(kSharedClusterEnv);
    if (shared == nullptr || *shared == '\0') return GetOwn(why);
    static std::mutex mu;
    std::lock_guard lock(mu);
    static PgCluster* cluster = nullptr;
    static std::string reason;
    static bool tried = false;
    if (!tried) {
      tried = true;
      auto* c = new PgCluster();
      reason = c->Attach(shared);
      if (reason.empty()) {
        cluster = c;
        std::atexit([] { cluster->DropCreatedDatabases(); });
      } else {
        delete c;
      }
    }
    if (why) *why = reason;
    return cluster;
  }

  // This process's own cluster, started on first call and stopped at exit (restart tests).
  static PgCluster* GetOwn(std::string* why) {
    static std::mutex mu;
    std::lock_guard lock(mu);
    static PgCluster* cluster = nullptr;
    static std::string reason;
    static bool tried = false;
    if (!tried) {
      tried = true;
      auto* c = new PgCluster();
      reason = c->Start(::getpid());
      if (reason.empty()) {
        cluster = c;
        std::atexit([] {
          // A forked child (a death test) that exits must not stop its parent's cluster.
          if (::getpid() == cluster->owner_pid_) cluster->Stop();
        });
      } else {
        c->Stop();
        delete c;
      }
    }
    if (why) *why = reason;
    return cluster;
  }

  // A new, empty database; its URI ("" when it cannot be created).
  std::string CreateDatabase() {
    static std::atomic<int> counter{0};
    const std::string name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    auto admin = Db::Open(Uri("postgres"));
    if (!admin.ok()) return "";
    if (!admin->Exec("CREATE DATABASE " + name).ok()) return "";
    {
      std::lock_guard lock(created_mu_);
      created_.push_back(name);
    }
    return Uri(name);
  }

  std::string Uri(const std::string& db) const {
    return "postgresql://facetrail@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }

  // Runs pg_ctl with `args` as the cluster's user (restart tests); the exit status. Refused
  // (-1, with a message) on the shared cluster: other test processes are using it.
  int PgCtl(const std::string& args) const {
    if (shared_) {
      std::fprintf(stderr,
                   "PgCluster::PgCtl refused on the shared cluster; use PgCluster::GetOwn\n");
      return -1;
    }
    return Run(bin_ + "/pg_ctl -D '" + dir_ + "/data' -l '" + dir_ + "/log' " + args);
  }
  int port() const { return port_; }
  bool shared() const { return shared_; }

  // ---- for the ctest fixture (pg_cluster_fixture.cpp) ----

  // Starts a cluster that outlives this process (a watcher stops it once `watch_pid` is gone)
  // and writes its state file (mode 0644, written whole then renamed). When the cluster cannot
  // run, the file says so (status=unavailable) and the reason is returned.
  // A cluster left by an interrupted run is stopped by its own watcher, not here: a second ctest
  // in the same build tree may still be using it.
  static std::string StartShared(const std::string& state_file, pid_t watch_pid) {
    PgCluster c;
    std::string reason = c.Start(watch_pid);
    std::map<std::string, std::string> state;
    if (reason.empty()) {
      state = {{"status", "ready"},
               {"port", std::to_string(c.port_)},
               {"dir", c.dir_},
               {"bin", c.bin_},
               {"user", c.user_},
               {"uri", c.Uri("postgres")},
               {"run", std::to_string(watch_pid)}};
    } else {
      c.Stop();
      state = {{"status", "unavailable"}, {"reason", reason}};
    }
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(state_file).parent_path(), ec);
    const std::string tmp = state_file + ".tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      for (const auto& [k, v] : state) f << k << '=' << v << '\n';
      if (!f) return "cannot write " + tmp;
    }
    std::filesystem::rename(tmp, state_file, ec);
    if (ec) return "cannot write " + state_file + ": " + ec.message();
    return reason;
  }

  // Stops the cluster a state file describes and removes its folder and the file, when it is
  // the one run `run` started (another ctest may have started the file's cluster since).
  static void StopShared(const std::string& state_file, pid_t run) {
    auto state = ReadState(state_file);
    if (state["status"] == "ready" && state["run"] != std::to_string(run)) return;
    if (state["status"] == "ready" && !state["dir"].empty()) {
      PgCluster c;
      c.bin_ = state["bin"];
      c.dir_ = state["dir"];
      c.user_ = state["user"];
      c.port_ = std::atoi(state["port"].c_str());
      c.started_ = true;
      c.Stop();
    }
    std::error_code ec;
    std::filesystem::remove(state_file, ec);
  }

 private:
  PgCluster() = default;

  static std::map<std::string, std::string> ReadState(const std::string& path) {
    std::map<std::string, std::string> state;
    std::ifstream f(path);
    std::string line;
    while (std::getline(f, line)) {
      const size_t eq = line.find('=');
      if (eq != std::string::npos) state[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return state;
  }

  // Attaches to the shared cluster the state file describes; "" or why not.
  std::string Attach(const std::string& state_file) {
    auto state = ReadState(state_file);
    if (state.empty()) {
      return "the shared cluster's state file " + state_file +
             " is missing (did the ctest fixture pg_cluster_start run?)";
    }
    if (state["status"] != "ready") return state["reason"];
    shared_ = true;
    bin_ = state["bin"];
    dir_ = state["dir"];
    user_ = state["user"];
    port_ = std::atoi(state["port"].c_str());
    if (port_ <= 0) return "the shared cluster's state file " + state_file + " names no port";
    auto probe = Db::Open(Uri("postgres"));
    if (!probe.ok()) {
      return "the shared cluster (" + state_file + ") does not answer: " + probe.status().message();
    }
    return "";
  }

  // The databases this process created on the shared cluster go when it exits.
  void DropCreatedDatabases() {
    if (::getpid() != owner_pid_) return;  // a forked child (a death test)
    std::vector<std::string> names;
    {
      std::lock_guard lock(created_mu_);
      names.swap(created_);
    }
    if (names.empty()) return;
    auto admin = Db::Open(Uri("postgres"));
    if (!admin.ok()) return;
    for (const std::string& name : names) {
      (void)admin->Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }
  }

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
    const std::string script =
        dir_ + "/run-" + std::to_string(::getpid()) + "-" + std::to_string(++n) + ".sh";
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

  // Starts a cluster in a new /tmp folder; a watcher stops it and removes the folder once
  // `watch_pid` is gone. "" or why it cannot run.
  std::string Start(pid_t watch_pid) {
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
    // The watcher: stops the server and removes the folder once `watch_pid` is gone.
    const std::string stop = bin_ + "/pg_ctl -D '" + dir_ + "/data' stop -m immediate";
    const std::string watcher = "(while kill -0 " + std::to_string(watch_pid) +
                                " 2>/dev/null; do sleep 1; done; " +
                                (user_.empty() ? stop : "runuser -u " + user_ + " -- " + stop) +
                                "; rm -rf '" + dir_ + "') >/dev/null 2>&1 </dev/null &";
    if (std::system(watcher.c_str()) != 0) return "cannot start the cluster watcher";
    started_ = true;
    // Room for many test processes (ctest -j) and their servers at once.
    const std::string opts = "-p " + std::to_string(port_) +
                             " -c listen_addresses=127.0.0.1 -c unix_socket_directories='" + dir_ +
                             "' -c fsync=off -c full_page_writes=off -c max_connections=300";
    if (PgCtl("-w -t 120 -o \"" + opts + "\" start") != 0) {
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
  bool shared_ = false;
  pid_t owner_pid_ = ::getpid();
  std::mutex created_mu_;
  std::vector<std::string> created_;
};

inline bool PostgresRequired() {
  const char* e = std::getenv("FACETRAIL_REQUIRE_POSTGRES");
  return e && std::string(e) == "1";
}

}  // namespace facetrail::testing

// Sets `uri` to a fresh database on `cluster_` (an expression giving a PgCluster* and setting
// the reason), or skips (fails, when PostgreSQL is required) with the reason.
#define FT_PG_DATABASE_ON_OR_SKIP_(get_cluster, cluster_out, uri)                             \
  do {                                                                                        \
    std::string why_;                                                                         \
    auto* cluster_ = get_cluster(&why_);                                                      \
    if (!cluster_) {                                                                          \
      if (::facetrail::testing::PostgresRequired()) FAIL() << why_;                           \
      GTEST_SKIP() << "PostgreSQL tests skipped: " << why_;                                   \
    }                                                                                         \
    (cluster_out) = cluster_;                                                                 \
    (uri) = cluster_->CreateDatabase();                                                       \
    ASSERT_FALSE((uri).empty()) << "cannot create a test database on the PostgreSQL cluster"; \
  } while (0)

// Sets `uri` to a fresh database on the test cluster (shared under ctest), or skips (fails, when
// PostgreSQL is required) with the reason.
#define FT_PG_DATABASE_OR_SKIP(uri)                                                         \
  do {                                                                                      \
    ::facetrail::testing::PgCluster* unused_cluster_ = nullptr;                             \
    FT_PG_DATABASE_ON_OR_SKIP_(::facetrail::testing::PgCluster::Get, unused_cluster_, uri); \
    (void)unused_cluster_;                                                                  \
  } while (0)

// Sets `cluster` to this process's own cluster (never the shared one: the test may restart or
// stop it) and `uri` to a fresh database on it, or skips/fails like FT_PG_DATABASE_OR_SKIP.
#define FT_PG_OWN_CLUSTER_DATABASE_OR_SKIP(cluster, uri) \
  FT_PG_DATABASE_ON_OR_SKIP_(::facetrail::testing::PgCluster::GetOwn, cluster, uri)
