// `facetrail serve` option checks as an operator meets them: refused before anything is opened,
// with the reason. Skipped when build/facetrail has not been built.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/command.h"

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

}  // namespace
