// facetrail-bench-retemplate: what migrating a live gallery to another model costs. A gallery of
// N real LFW photos enrolled with the face-api ResNet is served by `facetrail serve` (a second
// process on loopback) while C clients send accountable searches: first for S seconds alone
// (baseline), then while `facetrail gallery retemplate --model fr_feature` (a third process, one
// worker) computes the new model's templates of every photo. Reports retemplate photos/s and the
// searches' p50/p99 before and during, and checks that every search during the migration still
// used the active model (the old one).
//
// Usage: facetrail-bench-retemplate [--photos N=1000] [--clients C=4] [--seconds S=30]
//          [--dir DIR=/tmp/ft-retemplate-bench]
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/db.h"
#include "common/file.h"
#include "gallery/enroll.h"
#include "gallery/face_search.h"
#include "gallery/gallery_store.h"
#include "service/context.h"
#include "service/user_admin.h"

namespace ft = facetrail;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kAgency = "Metro PD";

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "retemplate-bench: " << what << '\n';
  std::exit(1);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Users (certified searchers sam0.., a supervisor), then N LFW photos (one booking each) enrolled
// with the face-api ResNet.
void BuildDatabase(const std::string& dir, const std::string& db_path, int photos, int clients) {
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
    auto sue = ft::service::AddUser(
        **ctx, *admin, {"sue", "sue", kAgency, {ft::policy::Role::kSupervisor}, "sue-password-1"});
    if (!sue.ok()) Die(sue.status().ToString());
  }
  const std::string lfw = std::string(FACETRAIL_SHARED_DIR) + "/data/lfw-deepfunneled-dev";
  std::ifstream ids(lfw + "/identities.csv");
  std::string line;
  std::getline(ids, line);
  std::ofstream m(dir + "/manifest.csv");
  m << "booking_number,photo,name\n";
  for (int i = 0; i < photos && std::getline(ids, line); ++i) {
    const std::string path = line.substr(0, line.find(','));
    m << "B-" << i << "," << lfw << "/" << path << ",person " << i << "\n";
  }
  m.close();
  auto store = ft::gallery::GalleryStore::Open(db_path);
  if (!store.ok()) Die(store.status().ToString());
  ft::vision::PipelineOptions po;
  po.models_dir = FACETRAIL_MODELS_DIR;
  po.model = "faceapi-resnet";
  ft::gallery::EnrollOptions eo;
  eo.manifest_path = dir + "/manifest.csv";
  eo.rejects_path = dir + "/rejects.csv";
  auto s = ft::gallery::Enroll(**store, ft::gallery::PipelineExtractorFactory(po), eo);
  if (!s.ok()) Die(s.status().ToString());
  std::cerr << "gallery: " << s->enrolled << " photos enrolled in " << s->seconds << " s\n";
}

struct Load {
  std::mutex mu;
  std::vector<double> before_ms, during_ms;
  int64_t errors = 0;
  int64_t wrong_model = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int photos = 1000, clients = 4, seconds = 30;
  std::string dir = "/tmp/ft-retemplate-bench";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--photos") {
      photos = std::stoi(next());
    } else if (a == "--clients") {
      clients = std::stoi(next());
    } else if (a == "--seconds") {
      seconds = std::stoi(next());
    } else if (a == "--dir") {
      dir = next();
    } else {
      Die("unknown option " + a);
    }
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db_path = dir + "/facetrail.db";
  BuildDatabase(dir, db_path, photos, clients);
  const std::string bin = std::string(FACETRAIL_BINARY_DIR) + "/facetrail";
  const std::string lfw = std::string(FACETRAIL_SHARED_DIR) + "/data/lfw-deepfunneled-dev/images/";
  auto probe = ft::ReadFileBytes(lfw + "Abdullah_Gul/Abdullah_Gul_0010.jpg", size_t{64} << 20);
  if (!probe.ok()) Die(probe.status().ToString());
  const std::string probe_text(probe->begin(), probe->end());

  const int port = 19000 + static_cast<int>(::getpid() % 1000);
  pid_t server = ::fork();
  if (server == 0) {
    std::string listen = "127.0.0.1:" + std::to_string(port);
    ::execl(bin.c_str(), bin.c_str(), "serve", "--db", db_path.c_str(), "--listen", listen.c_str(),
            "--models", FACETRAIL_MODELS_DIR, "--searches-per-minute", "1000000", "--search-burst",
            "1000000", static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  httplib::Client health("127.0.0.1", port);
  for (int i = 0; i < 600 && !health.Get("/healthz"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  Load load;
  std::atomic<bool> migrating{false}, stop{false};
  const std::string old_model = "faceapi-1.7.15-resnet29/similarity-flip";
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_read_timeout(300, 0);
      std::string name = "sam" + std::to_string(c);
      auto login =
          cli.Post("/api/v1/login", json{{"name", name}, {"password", name + "-password-1"}}.dump(),
                   "application/json");
      if (!login || login->status != 200) Die(name + ": login failed");
      std::string cookie = login->get_header_value("Set-Cookie");
      cookie = cookie.substr(0, cookie.find(';'));
      const std::string csrf = json::parse(login->body)["csrf_token"];
      httplib::Headers h{{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
      httplib::MultipartFormDataItems items = {
          {"probe", probe_text, "probe.jpg", "image/jpeg"},  {"case", "MPD-2026-0042", "", ""},
          {"purpose", "criminal investigation", "", ""},     {"offense", "robbery", "", ""},
          {"justification", "retemplate benchmark", "", ""}, {"agency", kAgency, "", ""}};
      while (!stop) {
        const bool during = migrating;
        auto start = Clock::now();
        auto r = cli.Post("/api/v1/searches", h, items);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        std::lock_guard lock(load.mu);
        if (!r || r->status != 201) {
          ++load.errors;
          continue;
        }
        auto j = json::parse(r->body, nullptr, false);
        if (!j.is_object() || j["model"]["id"] != old_model) ++load.wrong_model;
        (during ? load.during_ms : load.before_ms).push_back(ms);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  migrating = true;
  auto t0 = Clock::now();
  const std::string cmd = "FACETRAIL_PASSWORD=sue-password-1 '" + bin +
                          "' gallery retemplate --db '" + db_path +
                          "' --model fr_feature --user sue --reason benchmark --workers 1 --json "
                          "--models '" FACETRAIL_MODELS_DIR "' 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = ::pclose(p);
  const double migrate_s = std::chrono::duration<double>(Clock::now() - t0).count();
  stop = true;
  for (auto& t : threads) t.join();
  ::kill(server, SIGTERM);
  ::waitpid(server, nullptr, 0);
  auto summary = json::parse(out, nullptr, false);
  if (rc != 0 || !summary.is_object()) Die("retemplate failed: " + out);
  const double added = summary["added"].get<double>();
  json result{{"cpu", CpuModel()},
              {"photos", photos},
              {"clients", clients},
              {"retemplate_photos", added},
              {"retemplate_seconds", migrate_s},
              {"retemplate_photos_per_second", added / migrate_s},
              {"retemplate_failures", summary["failures"].size()},
              {"searches_before", load.before_ms.size()},
              {"search_ms_p50_before", Percentile(load.before_ms, 0.5)},
              {"search_ms_p99_before", Percentile(load.before_ms, 0.99)},
              {"searches_during", load.during_ms.size()},
              {"search_ms_p50_during", Percentile(load.during_ms, 0.5)},
              {"search_ms_p99_during", Percentile(load.during_ms, 0.99)},
              {"search_errors", load.errors},
              {"searches_not_on_the_active_model", load.wrong_model}};
  std::cout << result.dump(2) << '\n';
  return load.errors == 0 && load.wrong_model == 0 ? 0 : 1;
}
