// `facetrail eval` as a user runs it (reference-only, so no models are needed): exit codes, the
// terminal summary, the report files and the cached re-run. Skipped when build/facetrail has not
// been built.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/command.h"

namespace {

namespace fs = std::filesystem;

const std::string kBinary = std::string(FACETRAIL_BINARY_DIR) + "/facetrail";
const std::string kLfw = std::string(FACETRAIL_SHARED_DIR) + "/data/lfw-deepfunneled-dev";
const std::string kDistances =
    std::string(FACETRAIL_SHARED_DIR) + "/peers/faceapi/reference/lfw-dev-pairs-distances.csv";

using facetrail::testing::CommandRun;

CommandRun Facetrail(const std::string& args) {
  return facetrail::testing::RunCommand(kBinary + " " + args + " 2>&1");
}

class EvalCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kBinary)) GTEST_SKIP() << kBinary << " not built";
    if (!fs::exists(kDistances)) GTEST_SKIP() << "no " << kDistances;
    out_ = fs::temp_directory_path() / ("ft_eval_cli_" + std::to_string(getpid()));
  }
  void TearDown() override { fs::remove_all(out_); }
  fs::path out_;
};

TEST_F(EvalCliTest, ReferenceOnlyReport) {
  const CommandRun r = Facetrail("eval verify --data '" + kLfw + "' --reference '" + kDistances +
                                 "' --reference-only --out '" + out_.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("accuracy at its threshold -0.6 on scored pairs: 97.55 % of 2448"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("AUC on scored pairs 0.9945"), std::string::npos) << r.out;
  for (const char* f : {"report.html", "report.json", "lfw_folds.csv", "roc.csv"}) {
    EXPECT_TRUE(fs::exists(out_ / f)) << f;
  }
}

TEST_F(EvalCliTest, BadInputsExitWithAClearMessage) {
  const fs::path data = out_ / "data";
  fs::create_directories(data);
  std::ofstream(data / "identities.csv") << "path,identity\na.jpg,A\na.jpg,B\n";
  CommandRun r =
      Facetrail("eval verify --data '" + data.string() + "' --reference-only --reference '" +
                kDistances + "' --out '" + (out_ / "o").string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("identities.csv line 3, column path: 'a.jpg' is listed twice"),
            std::string::npos)
      << r.out;
  r = Facetrail("eval verify --data '" + kLfw + "' --reference-only --out '" +
                (out_ / "o").string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("--reference-only needs at least one --reference"), std::string::npos);
  r = Facetrail("eval report");
  EXPECT_EQ(r.exit_code, 2) << r.out;  // --data is required
}

// The ladder's undegraded rung `1` with --probe-enhance gets its own pass of enhanced probes,
// cached under its own id: it used to reuse the clean pass's unenhanced templates (the cache id
// of rung 1 ignored the enhancement). Real pipeline on four LFW images (two identities).
TEST_F(EvalCliTest, ProbeEnhanceAppliesToTheUndegradedRungToo) {
  const std::string models = FACETRAIL_MODELS_DIR;
  if (!fs::exists(fs::path(models) / "fr_feature.onnx")) GTEST_SKIP() << "no models";
  const fs::path data = out_ / "data";
  fs::create_directories(data);
  {
    std::ofstream ids(data / "identities.csv");
    ids << "path,identity\n";
    for (const char* who : {"Aaron_Sorkin", "Aitor_Gonzalez"}) {
      for (const char* k : {"0001", "0002"}) {
        ids << kLfw << "/images/" << who << "/" << who << "_" << k << ".jpg," << who << "\n";
      }
    }
  }
  const std::string base = "eval identify --data '" + data.string() + "' --models '" + models +
                           "' --out '" + (out_ / "o").string() + "' --threads 1 " +
                           "--degrade-probes 1,0.5+blur+jpeg";
  // Without an enhancement rung 1 is the clean pass: no pass of its own.
  CommandRun r = Facetrail(base);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("probes degraded 1:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("probes degraded 0.5+blur0.8+jpeg30: 0 of 2 templates from the cache"),
            std::string::npos)
      << r.out;
  // With one, rung 1's two probes are computed enhanced (nothing cached under that id yet),
  // then found in the cache on the next run.
  r = Facetrail(base + " --probe-enhance deblock");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("probes degraded 1: 0 of 2 templates from the cache"), std::string::npos)
      << r.out;
  r = Facetrail(base + " --probe-enhance deblock");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("probes degraded 1: 2 of 2 templates from the cache"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("templates: 4 of 4 templates from the cache"), std::string::npos) << r.out;
}

// --expected-fnir-only rewrites a manifest's table only: it needs --calibrate and a ladder, and
// --ladder-at-model-threshold is refused beside a full --calibrate (whose new thresholds would
// not be the ones the table was read at).
TEST_F(EvalCliTest, ExpectedFnirOnlyNeedsCalibrateAndALadder) {
  const std::string models = FACETRAIL_MODELS_DIR;
  if (!fs::exists(fs::path(models) / "fr_feature.model.json")) GTEST_SKIP() << "no models";
  const std::string base = "eval report --data '" + kLfw + "' --models '" + models + "' --out '" +
                           (out_ / "o").string() + "' ";
  CommandRun r = Facetrail(base + "--expected-fnir-only --degrade-probes standard");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("--expected-fnir-only needs --calibrate and --degrade-probes"),
            std::string::npos)
      << r.out;
  r = Facetrail(base + "--calibrate --expected-fnir-only");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("--expected-fnir-only needs --calibrate and --degrade-probes"),
            std::string::npos)
      << r.out;
  r = Facetrail(base + "--calibrate --ladder-at-model-threshold --degrade-probes standard");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("would write a table read at the old threshold"), std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(out_ / "o" / "templates.cache"));  // refused before any work
}

}  // namespace
