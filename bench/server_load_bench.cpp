// facetrail-bench-server-load: holds C concurrent accountable search requests against
// `facetrail serve` (a second process on loopback) over a gallery of N synthetic templates plus
// one real mate, for S seconds; then counts the "search.request" audit entries against the 201
// answers (no lost entry) and reports p50/p99 latency (docs/SERVER.md, "Load"). Meanwhile, K
// slow clients dribble request heads (a byte every 100 ms, reconnecting when cut off), I idle
// keep-alive clients hold their connections open, and one prober asks /healthz every 200 ms.
//
// Several servers on one database (issue 15): --servers N starts N `facetrail serve` processes on
// consecutive ports over the same database and spreads the clients over them round-robin (client
// c always talks to server c % N, so its session stays where it signed in); --cpus-per-server K
// pins server i to CPUs [i*K, (i+1)*K) with sched_setaffinity, to show what each server having
// its own cores gives on a machine that has few.
//
// Usage: facetrail-bench-server-load [--gallery N=1000000] [--clients C=50] [--seconds S=60]
//          [--slow-clients K=16] [--idle-clients I=50] [--servers N=1] [--cpus-per-server K=0]
//          [--db URI=DIR/facetrail.db] [--serve-arg ARG]...  (extra arguments for every server;
//          "{server}" in one becomes the server's number: --snapshot-dir /var/snap-{server})
//          [--dir DIR=/tmp/ft-server-load] [--reuse]   (--reuse keeps an existing database)
// Besides the rates, server_cpu_s is the CPU time (user + system, /proc/PID/stat) the server
// processes used during the run, and server_cpu_ms_per_search that over the 201 answers: whether
// a search costs a server the same with one server or two (the database's own processes are
// not counted).
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "common/file.h"
#include "gallery/gallery_store.h"
#include "service/context.h"
#include "service/user_admin.h"
#include "vision/face_pipeline.h"
#include "vision/image.h"

namespace ft = facetrail;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kAgency = "Metro PD";

void Die(const std::string& what) {
  std::cerr << "server-load: " << what << '\n';
  std::exit(1);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::vector<float> RandomUnit(std::mt19937& rng, int dim) {
  std::normal_distribution<float> n;
  std::vector<float> t(static_cast<size_t>(dim));
  double norm = 0;
  for (float& v : t) {
    v = n(rng);
    norm += double{v} * v;
  }
  for (float& v : t) v = static_cast<float>(v / std::sqrt(norm));
  return t;
}

// Users sam0..samC-1 (certified searchers) and an auditor, then N synthetic bookings and the mate.
void BuildDatabase(const std::string& db_path, int gallery, int clients, const std::string& mate) {
  {
    auto db = ft::Db::Open(db_path, true);
    if (!db.ok()) Die(db.status().ToString());
    ft::service::ContextOptions co;
    co.password_cost = ft::policy::PasswordCost::Minimum();
    auto ctx = ft::service::Context::Open(*db, co);
    if (!ctx.ok()) Die(ctx.status().ToString());
    auto admin = ft::service::InitAdmin(**ctx, {"admin", "Admin", "admin-password-1", kAgency, ""});
    if (!admin.ok()) Die(admin.status().ToString());
    for (int i = 0; i < clients; ++i) {
      std::string name = "sam" + std::to_string(i);
      auto u = ft::service::AddUser(
          **ctx, *admin,
          {name, name, kAgency, {ft::policy::Role::kSearcher}, name + "-password-1"});
      if (!u.ok()) Die(u.status().ToString());
      auto c = ft::service::AddCertificate(
          **ctx, *admin, name, {"FC", "FC-" + name, "2026-01-01", "2030-12-31", "Academy"});
      if (!c.ok()) Die(c.status().ToString());
    }
    auto al = ft::service::AddUser(
        **ctx, *admin, {"al", "al", kAgency, {ft::policy::Role::kAuditor}, "al-password-1"});
    if (!al.ok()) Die(al.status().ToString());
  }
  ft::vision::PipelineOptions po;
  po.models_dir = FACETRAIL_MODELS_DIR;
  auto pipeline = ft::vision::FacePipeline::Create(po);
  if (!pipeline.ok()) Die(pipeline.status().ToString());
  const ft::vision::TemplateModel& tm = (*pipeline)->template_model();
  const ft::gallery::ModelRef model{tm.id, tm.version, tm.dim};
  auto store = ft::gallery::GalleryStore::Open(db_path);
  if (!store.ok()) Die(store.status().ToString());
  auto mate_bytes = ft::ReadFileBytes(mate, size_t{64} << 20);
  if (!mate_bytes.ok()) Die(mate_bytes.status().ToString());
  auto decoded = ft::vision::DecodeImage(*mate_bytes, {});
  if (!decoded.ok()) Die(decoded.status().ToString());
  auto faces = (*pipeline)->Process(decoded->image);
  if (!faces.ok() || faces->empty()) Die("no face in the mate photo");
  std::mt19937 rng(42);
  auto t0 = Clock::now();
  std::vector<ft::gallery::PhotoToAdd> batch;  // AddPhotos, 10,000 photos a transaction
  for (int i = 0; i <= gallery; ++i) {
    ft::gallery::PhotoToAdd& p = batch.emplace_back();
    ft::gallery::NewTemplate t;
    if (i == 0) {
      p.booking.booking_number = "MATE-0001";
      p.booking.name = "the mate";
      p.photo.bytes = *mate_bytes;
      t.templ = (*faces)[0].templ;
    } else {
      p.booking.booking_number = "SYN-" + std::to_string(i);
      p.booking.name = "synthetic " + std::to_string(i);
      std::string bytes = "synthetic photo " + std::to_string(i);
      p.photo.bytes.assign(bytes.begin(), bytes.end());
      t.templ = RandomUnit(rng, model.dim);
    }
    p.photo.source = "server_load_bench";
    p.templates = {std::move(t)};
    if (batch.size() < 10000 && i < gallery) continue;
    auto added = (*store)->AddPhotos(model, batch);
    if (!added.ok()) Die(added.status().ToString());
    for (const auto& one : *added) {
      if (!one.ok()) Die(one.status().ToString());
    }
    batch.clear();
    if (i % 100000 < 10000) {
      std::cerr << "gallery: " << i + 1 << " templates, "
                << std::chrono::duration<double>(Clock::now() - t0).count() << " s\n";
    }
  }
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// CPU seconds (user + system) process `pid` has used so far; 0 when it cannot be read.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);                // one line
  const size_t close = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // field 3 is the state; 14 utime, 15 stime
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

// A raw loopback connection (for slow and idle clients); -1 when refused.
int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int main(int argc, char** argv) {
  int gallery = 1000000, clients = 50, seconds = 60, slow_clients = 16, idle_clients = 50;
  std::string dir = "/tmp/ft-server-load";
  std::string db_uri;
  int servers = 1, cpus_per_server = 0;
  std::vector<std::string> serve_args;
  bool reuse = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--gallery")
      gallery = std::stoi(next());
    else if (a == "--clients")
      clients = std::stoi(next());
    else if (a == "--seconds")
      seconds = std::stoi(next());
    else if (a == "--slow-clients")
      slow_clients = std::stoi(next());
    else if (a == "--idle-clients")
      idle_clients = std::stoi(next());
    else if (a == "--dir")
      dir = next();
    else if (a == "--db")
      db_uri = next();
    else if (a == "--servers")
      servers = std::max(1, std::stoi(next()));
    else if (a == "--cpus-per-server")
      cpus_per_server = std::stoi(next());
    else if (a == "--serve-arg")
      serve_args.push_back(next());
    else if (a == "--reuse")
      reuse = true;
    else
      Die("unknown option " + a);
  }
  const std::string lfw = std::string(FACETRAIL_SHARED_DIR) + "/data/lfw-deepfunneled-dev/images/";
  const bool is_file = db_uri.empty();
  const std::string db_path = is_file ? dir + "/facetrail.db" : db_uri;
  std::filesystem::create_directories(dir);
  bool build = !reuse;
  if (is_file) {
    build = build || !std::filesystem::exists(db_path);
    if (build) std::filesystem::remove(db_path);
  } else if (reuse) {
    // A server database: build it unless it already has the bench's users.
    auto db = ft::Db::Open(db_path, false);
    if (!db.ok()) Die(db.status().ToString());
    auto users = db->TableExists("policy_users");
    build = !users.ok() || !*users;
  }
  if (build) BuildDatabase(db_path, gallery, clients, lfw + "Abdullah_Gul/Abdullah_Gul_0001.jpg");
  auto probe = ft::ReadFileBytes(lfw + "Abdullah_Gul/Abdullah_Gul_0010.jpg", size_t{64} << 20);
  if (!probe.ok()) Die(probe.status().ToString());
  const std::string probe_text(probe->begin(), probe->end());

  int64_t first_seq = 0;  // entries after this one are this run's
  int64_t num_templates = 0;
  {
    auto store = ft::gallery::GalleryStore::Open(db_path);
    if (!store.ok()) Die(store.status().ToString());
    auto stats = (*store)->Stats();
    if (!stats.ok()) Die(stats.status().ToString());
    num_templates = stats->searchable_templates;
  }
  {
    auto db = ft::Db::Open(db_path, false);
    if (!db.ok()) Die(db.status().ToString());
    auto ctx = ft::service::Context::Open(*db);
    if (!ctx.ok()) Die(ctx.status().ToString());
    auto head = (*ctx)->log().Head();
    if (!head.ok()) Die(head.status().ToString());
    first_seq = head->first;
  }
  const int base_port = 18000 + static_cast<int>(::getpid() % 1000) * 4;
  std::vector<pid_t> server_pids;
  for (int k = 0; k < servers; ++k) {
    const int port = base_port + k;
    pid_t pid = ::fork();
    if (pid == 0) {
      if (cpus_per_server > 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int c = k * cpus_per_server; c < (k + 1) * cpus_per_server; ++c) CPU_SET(c, &set);
        if (::sched_setaffinity(0, sizeof set, &set) != 0) std::perror("sched_setaffinity");
      }
      std::string listen = "127.0.0.1:" + std::to_string(port);
      std::string bin = std::string(FACETRAIL_BINARY_DIR) + "/facetrail";
      std::vector<std::string> args = {bin,
                                       "serve",
                                       "--db",
                                       db_path,
                                       "--listen",
                                       listen,
                                       "--models",
                                       FACETRAIL_MODELS_DIR,
                                       "--searches-per-minute",
                                       "1000000",
                                       "--search-burst",
                                       "1000000",
                                       "--login-burst",
                                       "1000000",
                                       "--max-connections-per-address",
                                       "10000"};  // every client is on loopback
      for (std::string arg : serve_args) {        // "{server}" becomes the server's number
        for (size_t at; (at = arg.find("{server}")) != std::string::npos;) {
          arg.replace(at, 8, std::to_string(k));
        }
        args.push_back(arg);
      }
      std::vector<char*> argv_c;
      for (std::string& arg : args) argv_c.push_back(arg.data());
      argv_c.push_back(nullptr);
      ::execv(bin.c_str(), argv_c.data());
      std::perror(bin.c_str());
      std::_Exit(127);
    }
    server_pids.push_back(pid);
  }
  for (int k = 0; k < servers; ++k) {
    httplib::Client probe_client("127.0.0.1", base_port + k);
    for (int i = 0; i < 1200 && !probe_client.Get("/healthz"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  const int port = base_port;  // slow, idle and health clients talk to the first server

  std::mutex mu;
  std::vector<double> latencies_ms;
  std::map<int, int64_t> statuses;
  std::atomic<int64_t> transport_errors{0};
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  auto t0 = Clock::now();
  double server_cpu_s = 0;
  for (pid_t pid : server_pids) server_cpu_s -= ProcessCpuSeconds(pid);
  std::vector<std::thread> threads;
  // Slow clients: a request head a byte every 100 ms; a new connection when the server cuts one.
  std::atomic<int64_t> slow_cut_off{0};
  for (int k = 0; k < slow_clients; ++k) {
    threads.emplace_back([&] {
      const std::string head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
      int fd = Connect(port);
      for (size_t i = 0; Clock::now() < deadline; ++i) {
        char byte = i < head.size() ? head[i] : 'x';
        if (fd < 0 || ::send(fd, &byte, 1, MSG_NOSIGNAL) != 1) {
          if (fd >= 0) ::close(fd);
          ++slow_cut_off;
          fd = Connect(port);
          i = 0;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (fd >= 0) ::close(fd);
    });
  }
  // Idle keep-alive clients: one request, then the connection is held open (asking again every
  // 5 s, within the server's keep-alive timeout).
  std::atomic<int64_t> idle_answers{0}, idle_failures{0};
  for (int k = 0; k < idle_clients; ++k) {
    threads.emplace_back([&] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      while (Clock::now() < deadline) {
        auto r = cli.Get("/healthz");
        ++(r && r->status == 200 ? idle_answers : idle_failures);
        for (int i = 0; i < 50 && Clock::now() < deadline; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }
  // The prober: how long a newcomer waits for /healthz during all of this.
  std::vector<double> health_ms;
  threads.emplace_back([&] {
    while (Clock::now() < deadline) {
      httplib::Client cli("127.0.0.1", port);
      cli.set_read_timeout(60, 0);
      auto start = Clock::now();
      auto r = cli.Get("/healthz");
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      {
        std::lock_guard lock(mu);
        if (r && r->status == 200) {
          health_ms.push_back(ms);
        } else {
          ++transport_errors;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", base_port + c % servers);
      cli.set_read_timeout(300, 0);
      std::string name = "sam" + std::to_string(c);
      auto login =
          cli.Post("/api/v1/login", json{{"name", name}, {"password", name + "-password-1"}}.dump(),
                   "application/json");
      if (!login || login->status != 200) {
        std::lock_guard lock(mu);
        std::cerr << name << ": login failed: "
                  << (login ? std::to_string(login->status) + " " + login->body
                            : httplib::to_string(login.error()))
                  << '\n';
        ++transport_errors;
        return;
      }
      std::string cookie = login->get_header_value("Set-Cookie");
      cookie = cookie.substr(0, cookie.find(';'));
      std::string csrf = json::parse(login->body)["csrf_token"];
      httplib::Headers h{{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
      httplib::MultipartFormDataItems items = {
          {"probe", probe_text, "probe.jpg", "image/jpeg"}, {"case", "MPD-2026-0042", "", ""},
          {"purpose", "criminal investigation", "", ""},    {"offense", "robbery", "", ""},
          {"justification", "load benchmark", "", ""},      {"agency", kAgency, "", ""}};
      while (Clock::now() < deadline) {
        auto start = Clock::now();
        auto r = cli.Post("/api/v1/searches", h, items);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        std::lock_guard lock(mu);
        if (!r) {
          ++transport_errors;
          continue;
        }
        ++statuses[r->status];
        if (r->status == 201) latencies_ms.push_back(ms);
      }
    });
  }
  for (auto& t : threads) t.join();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  for (pid_t pid : server_pids) server_cpu_s += ProcessCpuSeconds(pid);
  for (pid_t pid : server_pids) ::kill(pid, SIGTERM);
  for (pid_t pid : server_pids) ::waitpid(pid, nullptr, 0);

  // Count the audit entries the searches left.
  int64_t audited = 0;
  {
    auto db = ft::Db::Open(db_path, false);
    if (!db.ok()) Die(db.status().ToString());
    auto ctx = ft::service::Context::Open(*db);
    if (!ctx.ok()) Die(ctx.status().ToString());
    auto entries = (*ctx)->log().Read(first_seq + 1);
    if (!entries.ok()) Die(entries.status().ToString());
    for (const auto& e : *entries) audited += e.action == "search.request" ? 1 : 0;
  }
  int64_t ok = statuses.count(201) ? statuses[201] : 0;
  json status_json = json::object();
  for (auto& [s, n] : statuses) status_json[std::to_string(s)] = n;
  json out{{"cpu", CpuModel()},
           {"threads", std::thread::hardware_concurrency()},
           {"gallery_templates", num_templates},
           {"database", is_file ? "sqlite" : "postgresql"},
           {"servers", servers},
           {"cpus_per_server", cpus_per_server},
           {"clients", clients},
           {"seconds", wall},
           {"responses_by_status", status_json},
           {"transport_errors", transport_errors.load()},
           {"searches_ok", ok},
           {"searches_per_second", static_cast<double>(ok) / wall},
           {"server_cpu_s", server_cpu_s},
           {"server_cpu_ms_per_search", ok > 0 ? 1e3 * server_cpu_s / static_cast<double>(ok) : 0},
           {"latency_ms_p50", Percentile(latencies_ms, 0.5)},
           {"latency_ms_p99", Percentile(latencies_ms, 0.99)},
           {"slow_clients", slow_clients},
           {"slow_connections_cut_off", slow_cut_off.load()},
           {"idle_keepalive_clients", idle_clients},
           {"idle_keepalive_answers", idle_answers.load()},
           {"idle_keepalive_failures", idle_failures.load()},
           {"healthz_probes", health_ms.size()},
           {"healthz_ms_p50", Percentile(health_ms, 0.5)},
           {"healthz_ms_p99", Percentile(health_ms, 0.99)},
           {"healthz_ms_max",
            health_ms.empty() ? 0.0 : *std::max_element(health_ms.begin(), health_ms.end())},
           {"audit_search_request_entries", audited},
           {"audit_matches_requests", audited == ok}};
  std::cout << out.dump(2) << '\n';
  return audited == ok && transport_errors == 0 ? 0 : 1;
}
