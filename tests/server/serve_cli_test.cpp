// `facetrail serve` option checks as an operator meets them: refused before anything is opened,
// with the reason. Skipped when build/facetrail has not been built.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/command.h"
#include "vision/models.h"

namespace {

const std::string kBinary = std::string(FACETRAIL_BINARY_DIR) + "/facetrail";

using facetrail::testing::CommandRun;

CommandRun Facetrail(const std::string& args) {
  return facetrail::testing::RunCommand(kBinary + " " + args + " 2>&1");
}

class ServeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kBinary)) GTEST_SKIP() << kBinary << " not built";
  }
};

TEST_F(ServeCliTest, IdleTimeoutLongerThanTheSessionIsRefused) {
  const CommandRun r =
      Facetrail("serve --db /nonexistent/ft.db --session-minutes 60 --idle-minutes 90");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("--idle-minutes (90) must not exceed --session-minutes (60)"),
            std::string::npos)
      << r.out;
}

TEST_F(ServeCliTest, SessionLimitsOutOfRangeAreRefused) {
  for (const char* args : {"--idle-minutes 0", "--session-minutes 2", "--session-minutes 5000",
                           "--idle-minutes abc"}) {
    const CommandRun r = Facetrail(std::string("serve --db /nonexistent/ft.db ") + args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_TRUE(r.out.find("minutes") != std::string::npos) << args << ": " << r.out;
  }
}

TEST_F(ServeCliTest, ValidLimitsReachTheDatabaseCheck) {
  // Accepted limits get as far as opening the database, which does not exist.
  const CommandRun r =
      Facetrail("serve --db /nonexistent/ft.db --session-minutes 60 --idle-minutes 15");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out.find("minutes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/ft.db"), std::string::npos) << r.out;
}

TEST_F(ServeCliTest, AutomaticCheckpointIntervalsOutOfRangeAreRefused) {
  for (const char* args : {"--audit-checkpoint-entries 0", "--audit-checkpoint-minutes 0",
                           "--audit-checkpoint-minutes 1441", "--audit-checkpoint-entries x"}) {
    const CommandRun r = Facetrail(std::string("serve --db /nonexistent/ft.db ") + args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.out.find("--audit-checkpoint-"), std::string::npos) << args << ": " << r.out;
  }
}

TEST_F(ServeCliTest, ATrustedProxyThatIsNotAnAddressIsRefused) {
  for (const char* bad : {"10.0.0.x", "10.0.0.5:8080", "proxy.example", "10.0.0.0/8"}) {
    const CommandRun r = Facetrail(std::string("serve --db /nonexistent/ft.db --trusted-proxy ") +
                                   "10.0.0.1 --trusted-proxy " + bad);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.out.find("--trusted-proxy"), std::string::npos) << bad << ": " << r.out;
    EXPECT_NE(r.out.find(std::string("'") + bad + "'"), std::string::npos) << bad << ": " << r.out;
    EXPECT_EQ(r.out.find("/nonexistent/ft.db"), std::string::npos)
        << "not refused first: " << r.out;
  }
  // Addresses, IPv4 and IPv6, get as far as opening the database.
  const CommandRun r = Facetrail(
      "serve --db /nonexistent/ft.db --trusted-proxy 10.0.0.5 --trusted-proxy 2001:db8::5");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("/nonexistent/ft.db"), std::string::npos) << r.out;
}

// Issue 17: the models and web files are found without being told, and never in the current
// working directory by accident; a server that could not search does not start.
class ServeLookupTest : public ServeCliTest {
 protected:
  void SetUp() override {
    ServeCliTest::SetUp();
    if (IsSkipped()) return;
    if (std::filesystem::exists("/usr/share/facetrail")) {
      GTEST_SKIP() << "/usr/share/facetrail exists (the package is installed): the lookup would "
                      "find it";
    }
    std::string templ = (std::filesystem::temp_directory_path() / "ft-lookup-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    // The binary outside any checkout; the current folder holds models/ and web/ that must not
    // be picked up.
    std::filesystem::create_directories(dir_ + "/bin");
    std::filesystem::create_directories(dir_ + "/work");
    std::filesystem::copy_file(kBinary, dir_ + "/bin/facetrail");
    std::filesystem::create_directory_symlink(kModels, dir_ + "/work/models");
    std::filesystem::create_directory_symlink(kWeb, dir_ + "/work/web");
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  CommandRun Moved(const std::string& env_and_args) {
    return facetrail::testing::RunCommand("cd '" + dir_ + "/work' && " + env_and_args +
                                          " 2>&1 </dev/null");
  }
  std::string Bin() const { return "'" + dir_ + "/bin/facetrail'"; }

  const std::string kModels = std::string(FACETRAIL_SOURCE_DIR) + "/models";
  const std::string kWeb = std::string(FACETRAIL_SOURCE_DIR) + "/web";
  std::string dir_;
};

TEST_F(ServeLookupTest, OutsideACheckoutTheCurrentFolderIsNeverUsed) {
  // No web folder: refused before anything else, naming where it looked.
  CommandRun r = Moved(Bin() + " serve --db x.db");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("no web folder found: looked in /usr/share/facetrail/web"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("never the current folder"), std::string::npos) << r.out;
  // The web folder given: the models folder is looked for the same way.
  r = Moved(Bin() + " serve --db x.db --web '" + kWeb + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("no models folder found: looked in /usr/share/facetrail/models"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("--models or FACETRAIL_MODELS"), std::string::npos) << r.out;
  // Every other command too.
  r = Moved(Bin() + " models list");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("no models folder found"), std::string::npos) << r.out;
  // Told where: the models are found and the next check (the database) is reached.
  r = Moved("FACETRAIL_MODELS='" + kModels + "' " + Bin() + " models list");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("fr_feature"), std::string::npos) << r.out;
  r = Moved("FACETRAIL_MODELS='" + kModels + "' " + Bin() + " serve --db x.db --web '" + kWeb +
            "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("x.db: no such database"), std::string::npos) << r.out;
}

TEST_F(ServeLookupTest, InACheckoutTheCheckoutsFoldersAreFound) {
  // build/facetrail itself, run from an unrelated folder: the checkout's models/ are found.
  const CommandRun r =
      facetrail::testing::RunCommand("cd / && '" + kBinary + "' models list 2>&1 </dev/null");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("fr_feature"), std::string::npos) << r.out;
}

TEST_F(ServeLookupTest, AServerWhoseModelFilesAreMissingDoesNotStart) {
  // A real database, and a models folder without the landmark network: refused at start-up
  // (before, the server reported healthy and the first search failed with a 404).
  const std::string db = dir_ + "/work/f.db";
  CommandRun r = Moved("FACETRAIL_PASSWORD=admin-password-1 " + Bin() +
                       " admin init --db f.db --name admin --agency 'Metro PD'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string partial = dir_ + "/partial-models";
  std::filesystem::create_directories(partial);
  for (const auto& e : std::filesystem::directory_iterator(kModels)) {
    if (e.path().filename().string().rfind("face_landmark_68", 0) == 0) continue;
    std::filesystem::create_symlink(e.path(), partial + "/" + e.path().filename().string());
  }
  r = Moved(Bin() + " serve --db f.db --listen 127.0.0.1:0 --web '" + kWeb + "' --models '" +
            partial + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find(partial + "/face_landmark_68_model-weights_manifest.json: missing model "
                                 "file"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("Ctrl-C stops"), std::string::npos) << r.out;
  // An empty models folder: the gallery's model is named.
  std::filesystem::create_directories(dir_ + "/empty");
  r = Moved(Bin() + " serve --db f.db --listen 127.0.0.1:0 --web '" + kWeb + "' --models '" + dir_ +
            "/empty'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("no model '" + std::string(facetrail::vision::kDefaultModelName) + "'"),
            std::string::npos)
      << r.out;
}

}  // namespace
