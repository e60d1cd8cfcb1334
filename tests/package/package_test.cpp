// Issue 17: the Debian package as a county's IT staff meet it. Builds it with scripts/package
// (reusing this build folder), installs it with dpkg -i, checks what it installed (the binary,
// the models against SHA256SUMS, the web files, the configuration, the hardened unit, the
// facetrail user and /var/lib/facetrail), creates an admin and a certified searcher with the
// command line as the facetrail user, starts `facetrail serve --config
// /etc/facetrail/facetrail.conf` as that user, signs in and searches over HTTP with another LFW
// photo of an enrolled person (the mate must come first), then
// purges the package and checks that the data folder is still there.
//
// It changes the machine (a package, a system user), so it runs only as root (CI is a fresh
// Debian machine, as root) and when dpkg is free; otherwise it is skipped and says why. It
// removes what it created at the end, except a facetrail user that existed before it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/command.h"

namespace {

namespace fs = std::filesystem;
using facetrail::testing::CommandRun;
using facetrail::testing::RunCommand;
using nlohmann::json;

const std::string kSource = FACETRAIL_SOURCE_DIR;
const std::string kBuild = FACETRAIL_BINARY_DIR;
constexpr const char* kDb = "/var/lib/facetrail/db/facetrail.db";
constexpr const char* kAgency = "Metro PD";
const std::string kLfwImages =
    std::string(FACETRAIL_SHARED_DIR) + "/data/lfw-deepfunneled-dev/images";

CommandRun Sh(const std::string& cmd) {
  return RunCommand(cmd + " 2>&1 </dev/null");
}

// As the facetrail user (no login shell, no systemd: setpriv), with the given environment.
CommandRun AsFacetrail(const std::string& env, const std::string& args) {
  return Sh("cd / && env " + env +
            " setpriv --reuid=facetrail --regid=facetrail --init-groups /usr/bin/facetrail " +
            args);
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class PackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (dpkg -i, a system user); CI runs as root";
    for (const char* tool : {"dpkg", "cpack", "setpriv", "sha256sum"}) {
      if (Sh(std::string("command -v ") + tool).exit_code != 0) {
        GTEST_SKIP() << tool << " is not installed";
      }
    }
    if (Sh("dpkg-query -W -f='${Status}' facetrail | grep -q 'install ok'").exit_code == 0) {
      GTEST_SKIP() << "a facetrail package is installed already: not replacing or purging it";
    }
    if (fs::exists("/var/lib/facetrail")) {
      GTEST_SKIP() << "/var/lib/facetrail exists (someone's data): not touching it";
    }
    user_existed_ = Sh("getent passwd facetrail").exit_code == 0;
  }
  void TearDown() override {
    if (server_pid_ > 0) {
      ::kill(server_pid_, SIGTERM);
      for (int i = 0; i < 100 && ::kill(server_pid_, 0) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (installed_) {
      (void)Sh("dpkg --purge facetrail");
      std::error_code ec;
      fs::remove_all("/var/lib/facetrail", ec);  // this test's own data
      if (!user_existed_) (void)Sh("deluser --system facetrail || userdel facetrail");
    }
  }

  bool installed_ = false, user_existed_ = false;
  pid_t server_pid_ = 0;
};

TEST_F(PackageTest, BuildsInstallsServesASearchAndPurgesLeavingTheData) {
  // Build (the binary is already built: only the package is made).
  const auto t0 = std::chrono::steady_clock::now();
  CommandRun built = Sh("BUILD_DIR='" + kBuild + "' '" + kSource + "/scripts/package'");
  ASSERT_EQ(built.exit_code, 0) << built.out;
  std::string deb = built.out.substr(built.out.rfind('\n', built.out.size() - 2) + 1);
  while (!deb.empty() && deb.back() == '\n') deb.pop_back();
  ASSERT_TRUE(fs::exists(deb)) << built.out;
  std::cout << "package built in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s: " << deb << " (" << fs::file_size(deb) / 1000000 << " MB)\n";

  // The maintainer is the build's setting (scripts/package MAINTAINER=…), in the control file
  // and, below, in the installed changelog.
  CommandRun cached =
      Sh("sed -n 's/^FACETRAIL_PACKAGE_MAINTAINER:STRING=//p' '" + kBuild + "/CMakeCache.txt'");
  ASSERT_EQ(cached.exit_code, 0);
  const std::string maintainer = cached.out.substr(0, cached.out.find('\n'));
  ASSERT_FALSE(maintainer.empty()) << "no FACETRAIL_PACKAGE_MAINTAINER in the build's cache";
  EXPECT_EQ(Sh("dpkg-deb -f '" + deb + "' Maintainer").out, maintainer + "\n");

  // Install.
  CommandRun in = Sh("dpkg -i '" + deb + "'");
  if (in.exit_code != 0 && in.out.find("lock") != std::string::npos) {
    GTEST_SKIP() << "dpkg is locked (another package manager is running): " << in.out;
  }
  installed_ = true;
  ASSERT_EQ(in.exit_code, 0) << in.out;

  EXPECT_NE(Sh("zcat /usr/share/doc/facetrail/changelog.gz").out.find(" -- " + maintainer),
            std::string::npos);
  // What it installed.
  for (const char* f :
       {"/usr/bin/facetrail", "/usr/share/facetrail/web/index.html",
        "/usr/share/facetrail/models/fr_feature.model.json", "/etc/facetrail/facetrail.conf",
        "/lib/systemd/system/facetrail.service", "/usr/share/man/man1/facetrail.1.gz",
        "/usr/share/doc/facetrail/copyright"}) {
    EXPECT_TRUE(fs::exists(f)) << f;
  }
  CommandRun sums = Sh("cd /usr/share/facetrail/models && sha256sum --strict -c SHA256SUMS");
  EXPECT_EQ(sums.exit_code, 0) << sums.out;
  EXPECT_EQ(
      Sh("dpkg-query -W -f='${Conffiles}' facetrail").out.find("/etc/facetrail/facetrail.conf") ==
          std::string::npos,
      false);
  struct stat st {};
  ASSERT_EQ(::stat("/var/lib/facetrail", &st), 0);
  EXPECT_EQ(Sh("stat -c %U:%G:%a /var/lib/facetrail").out, "facetrail:facetrail:750\n");
  CommandRun shell = Sh("getent passwd facetrail");
  EXPECT_NE(shell.out.find(":/usr/sbin/nologin"), std::string::npos) << shell.out;
  const std::string unit = ReadText("/lib/systemd/system/facetrail.service");
  for (const char* line :
       {"User=facetrail", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes",
        "ReadWritePaths=/var/lib/facetrail", "ProtectHome=yes", "CapabilityBoundingSet=\n",
        "ExecStart=/usr/bin/facetrail serve --config /etc/facetrail/facetrail.conf"}) {
    EXPECT_NE(unit.find(line), std::string::npos) << line;
  }
  if (Sh("command -v systemd-analyze").exit_code == 0) {
    CommandRun verify = Sh("systemd-analyze verify /lib/systemd/system/facetrail.service");
    EXPECT_EQ(verify.exit_code, 0) << verify.out;
    EXPECT_EQ(verify.out.find("facetrail.service:"), std::string::npos) << verify.out;
  }

  // An admin, a certified searcher and a small gallery, with the command line, as the
  // facetrail user (what the administrator does once, docs/PACKAGING.md).
  const std::string admin_env = "FACETRAIL_PASSWORD=admin-password-1";
  CommandRun r = AsFacetrail(admin_env, std::string("admin init --db ") + kDb +
                                            " --name admin --agency 'Metro PD'"
                                            " --key /var/lib/facetrail/audit/audit-key");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = AsFacetrail(admin_env + " FACETRAIL_NEW_PASSWORD=sam-password-1",
                  std::string("admin user add --db ") + kDb +
                      " --user admin --name sam --agency 'Metro PD' --roles searcher");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = AsFacetrail(admin_env, std::string("admin cert add --db ") + kDb +
                                 " --user admin --name sam --course 'Facial comparison'"
                                 " --number FC-1 --issued 2026-01-01 --expires 2099-12-31"
                                 " --issued-by 'State Academy'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // Four LFW people, one booking photo each (real faces, so the search below has a real mate).
  const std::vector<std::pair<std::string, std::string>> people = {
      {"LFW-0001", "Abdullah_Gul/Abdullah_Gul_0001.jpg"},
      {"LFW-0002", "Abdoulaye_Wade/Abdoulaye_Wade_0001.jpg"},
      {"LFW-0003", "Abel_Pacheco/Abel_Pacheco_0001.jpg"},
      {"LFW-0004", "Aaron_Sorkin/Aaron_Sorkin_0001.jpg"}};
  {
    std::ofstream m("/var/lib/facetrail/manifest.csv");
    m << "booking_number,photo,name,agency,charge\n";
    for (const auto& [booking, photo] : people) {
      m << booking << "," << fs::path(photo).filename().string() << ","
        << photo.substr(0, photo.find('/')) << "," << kAgency << ",test only\n";
    }
  }
  fs::create_directories("/var/lib/facetrail/photos");
  for (const auto& [booking, photo] : people) {
    fs::copy_file(kLfwImages + "/" + photo,
                  "/var/lib/facetrail/photos/" + fs::path(photo).filename().string());
  }
  (void)Sh(
      "chown -R facetrail:facetrail /var/lib/facetrail/manifest.csv "
      "/var/lib/facetrail/photos");
  r = AsFacetrail(admin_env, std::string("enroll --db ") + kDb +
                                 " --user admin --manifest /var/lib/facetrail/manifest.csv"
                                 " --images /var/lib/facetrail/photos"
                                 " --rejects /var/lib/facetrail/rejects.csv");
  ASSERT_EQ(r.exit_code, 0) << r.out;

  // The server, as configured by the package (only the port is the test's: the command line
  // wins over the file), as the facetrail user, from / (no checkout, no models in the cwd).
  const std::string log = "/var/lib/facetrail/serve.log";
  r =
      Sh("cd / && setpriv --reuid=facetrail --regid=facetrail --init-groups "
         "/usr/bin/facetrail serve --config /etc/facetrail/facetrail.conf --listen "
         "127.0.0.1:0 >" +
         log + " 2>&1 & echo $!");
  server_pid_ = std::stoi(r.out);
  int port = 0;
  for (int i = 0; i < 300 && port == 0; ++i) {
    std::smatch m;
    const std::string text = ReadText(log);
    static const std::regex kUrl("http://127\\.0\\.0\\.1:([0-9]+)/");
    if (std::regex_search(text, m, kUrl)) port = std::stoi(m[1].str());
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(port, 0) << ReadText(log);
  EXPECT_NE(ReadText(log).find(kDb), std::string::npos) << "not the configured database";

  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(120, 0);
  auto login =
      http.Post("/api/v1/login", json{{"name", "sam"}, {"password", "sam-password-1"}}.dump(),
                "application/json");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200) << login->body;
  httplib::Headers headers{
      {"Cookie", login->get_header_value("Set-Cookie")
                     .substr(0, login->get_header_value("Set-Cookie").find(';'))},
      {"X-CSRF-Token", json::parse(login->body).value("csrf_token", "")}};
  // The probe: another photo of the first person (not the enrolled one); the face the analysis
  // says passes the quality gate.
  const std::string probe = ReadText(kLfwImages + "/Abdullah_Gul/Abdullah_Gul_0010.jpg");
  httplib::MultipartFormDataItems analyze_items = {{"probe", probe, "probe.jpg", "image/jpeg"}};
  auto analysis = http.Post("/api/v1/probes/analyze", headers, analyze_items);
  ASSERT_TRUE(analysis);
  ASSERT_EQ(analysis->status, 200) << analysis->body;
  int face = -1;
  const json analysed = json::parse(analysis->body);
  for (const json& f : analysed["faces"]) {
    if (f["quality_ok"].get<bool>()) {
      face = f["index"].get<int>();
      break;
    }
  }
  ASSERT_GE(face, 0) << analysis->body;
  httplib::MultipartFormDataItems items = {
      {"probe", probe, "probe.jpg", "image/jpeg"},
      {"case", "MPD-2026-0042", "", ""},
      {"purpose", "criminal investigation", "", ""},
      {"offense", "robbery", "", ""},
      {"justification", "CCTV still from the bank robbery of 2026-11-02", "", ""},
      {"agency", kAgency, "", ""},
      {"face", std::to_string(face), "", ""}};
  auto search = http.Post("/api/v1/searches", headers, items);
  ASSERT_TRUE(search);
  ASSERT_EQ(search->status, 201) << search->body;
  const json body = json::parse(search->body);
  ASSERT_TRUE(body["candidates"].is_array()) << search->body;
  EXPECT_EQ(body["status"], "pending_review") << search->body;
  // The installed binary found its models (no checkout, cwd /) and the mate comes first.
  ASSERT_FALSE(body["candidates"].empty()) << search->body;
  EXPECT_EQ(body["candidates"][0]["booking_number"], "LFW-0001") << search->body;
  EXPECT_EQ(body["candidates"][0]["rank"], 1) << search->body;

  // The access log went to the server's stderr (the journal under systemd), without the
  // password.
  ::kill(server_pid_, SIGTERM);
  for (int i = 0; i < 100 && ::kill(server_pid_, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  server_pid_ = 0;
  const std::string served = ReadText(log);
  EXPECT_NE(served.find("\"route\":\"/api/v1/searches\""), std::string::npos) << served;
  EXPECT_EQ(served.find("sam-password-1"), std::string::npos) << served;

  // Purge: the package's files go, the data stays.
  CommandRun purged = Sh("dpkg --purge facetrail");
  ASSERT_EQ(purged.exit_code, 0) << purged.out;
  EXPECT_FALSE(fs::exists("/usr/bin/facetrail"));
  EXPECT_FALSE(fs::exists("/usr/share/facetrail"));
  EXPECT_FALSE(fs::exists("/etc/facetrail/facetrail.conf"));
  EXPECT_TRUE(fs::exists(kDb)) << "purge removed the database";
  EXPECT_TRUE(fs::exists("/var/lib/facetrail/audit/audit-key"));
  EXPECT_EQ(Sh("stat -c %U /var/lib/facetrail").out, "facetrail\n");
}

}  // namespace
