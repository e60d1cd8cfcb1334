// Acceptance (issue 6): the report's figures for the face-api.js reference equal what its own
// run.mjs prints, computed through the same code path as `facetrail eval` (LoadDataset →
// reader → Evaluate).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/command.h"
#include "eval/evaluation.h"

namespace facetrail::eval {
namespace {

namespace fs = std::filesystem;

const std::string kShared = FACETRAIL_SHARED_DIR;
const std::string kLfw = kShared + "/data/lfw-deepfunneled-dev";
const std::string kFaceApi = fs::weakly_canonical(kShared + "/peers/faceapi").string();

double Round4(double x) {
  return std::round(x * 1e4) / 1e4;
}

// RESULTS.md, "Same vs different person": 2,448 of 3,000 pairs scored; 97.55 % right at 0.6
// (52 same-person pairs >= 0.6, 8 different pairs < 0.6); per fold 96.9–98.4 %; AUC 0.9945.
TEST(ReferenceParityTest, LfwDevPairDistancesMatchRunMjs) {
  if (!fs::exists(kLfw + "/pairs.csv")) GTEST_SKIP() << "no " << kLfw;
  Expected<Dataset> d = LoadDataset(kLfw);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->images.size(), 5373u);
  ASSERT_EQ(d->pairs.size(), 3000u);
  Expected<SystemResults> ref =
      ReadPairDistancesCsv(kFaceApi + "/reference/lfw-dev-pairs-distances.csv", *d);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  Expected<Report> report = Evaluate(*d, {*ref}, EvalOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const SystemReport& s = report->systems.at(0);
  ASSERT_TRUE(s.pairs.has_value());
  const VerificationFigures& v = *s.pairs;
  EXPECT_EQ(v.num_genuine + v.num_impostor, 3000u);
  EXPECT_EQ(v.num_genuine_missing + v.num_impostor_missing, 552u);
  EXPECT_EQ(v.genuine_summary.num, 1247u);
  EXPECT_EQ(v.impostor_summary.num, 1201u);
  EXPECT_DOUBLE_EQ(Round4(s.accuracy_scored_at_fixed), 0.9755);
  EXPECT_DOUBLE_EQ(Round4(v.roc_scored.auc), 0.9945);
  // 52 same-person pairs at or above distance 0.6, 8 different pairs below it.
  std::vector<double> genuine, impostor;
  for (size_t k = 0; k < d->pairs.size(); ++k) {
    if (!IsMissing(ref->pair_scores[k])) {
      (d->pairs[k].genuine ? genuine : impostor).push_back(ref->pair_scores[k]);
    }
  }
  const double t = std::nextafter(-0.6, 0.0);  // run.mjs: same iff distance < 0.6
  const RatesAtThreshold rates = RatesAt(genuine, impostor, t);
  EXPECT_EQ(std::lround(rates.fnmr * 1247), 52);
  EXPECT_EQ(std::lround(rates.fmr * 1201), 8);
  EXPECT_NEAR(v.genuine_summary.mean, -0.444, 5e-4);
  EXPECT_NEAR(v.impostor_summary.mean, -0.822, 5e-4);
  // The LFW protocol on all 3,000 pairs (missing = error) is what ACCURACY.md quotes.
  ASSERT_TRUE(s.lfw.has_value());
  EXPECT_EQ(s.lfw->folds.size(), 5u);
  EXPECT_EQ(s.lfw->num_missing, 552u);
  EXPECT_LT(s.lfw->mean, 0.80);  // at most (3000 − 552) / 3000 = 81.6 %
}

// Runs `cmd` and returns its standard output.
std::string RunCommand(const std::string& cmd) {
  return facetrail::testing::RunCommand(cmd).out;
}

// The JSON-lines reader (faces[0], −Euclidean distance) against run.mjs's own `score` mode on
// the reference's saved output for its six demo photos (22 faces, no inference needed).
TEST(ReferenceParityTest, JsonlReaderMatchesRunMjsScore) {
  const std::string jsonl = kFaceApi + "/reference/samples-wasm.jsonl";
  if (!fs::exists(jsonl) || std::system("node --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "needs node and " << jsonl;
  }
  const fs::path dir = fs::temp_directory_path() / ("ft_eval_parity_" + std::to_string(getpid()));
  fs::create_directories(dir);
  // A dataset whose image paths are written exactly as run.mjs wrote them (relative to its
  // folder); identities make (1,2), (3,4), (5,6) "same" so both classes exist.
  const std::string rel = "node_modules/@vladmandic/face-api/demo/sample";
  std::ofstream(dir / "identities.csv") << "path,identity\n"
                                        << rel << "1.jpg,A\n"
                                        << rel << "2.jpg,A\n"
                                        << rel << "3.jpg,B\n"
                                        << rel << "4.jpg,B\n"
                                        << rel << "5.jpg,C\n"
                                        << rel << "6.jpg,C\n";
  std::ofstream ours(dir / "pairs.csv");
  std::ofstream theirs(dir / "pairs-abs.csv");
  ours << "path_a,path_b,same,fold\n";
  theirs << "path_a,path_b,same\n";
  for (int a = 1; a <= 6; ++a) {
    for (int b = a + 1; b <= 6; ++b) {
      const int same = (a + 1) / 2 == (b + 1) / 2 ? 1 : 0;
      ours << rel << a << ".jpg," << rel << b << ".jpg," << same << "," << 1 + (a + b) % 2 << "\n";
      theirs << kFaceApi << "/" << rel << a << ".jpg," << kFaceApi << "/" << rel << b << ".jpg,"
             << same << "\n";
    }
  }
  ours.close();
  theirs.close();
  const std::string out =
      RunCommand("cd '" + kFaceApi + "' && node run.mjs score --threshold 0.75 '" +
                 (dir / "pairs-abs.csv").string() + "' '" + jsonl + "' 2>/dev/null");
  nlohmann::json summary;
  for (size_t start = 0; start < out.size();) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    nlohmann::json j = nlohmann::json::parse(out.substr(start, end - start), nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == "pairs_summary") summary = j;
    start = end + 1;
  }
  ASSERT_FALSE(summary.is_null()) << "run.mjs printed no pairs_summary:\n" << out;

  // Our side runs from the dataset folder's point of view, not run.mjs's folder.
  fs::create_directory_symlink(kFaceApi + "/node_modules", dir / "node_modules");
  Expected<Dataset> d = LoadDataset(dir.string());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  Expected<SystemResults> ref = ReadFaceApiJsonl(jsonl, *d);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ref->fixed_threshold = -0.75;
  Expected<Report> report = Evaluate(*d, {*ref}, EvalOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const SystemReport& s = report->systems.at(0);
  EXPECT_EQ(summary["scored"].get<size_t>(), 15u);
  EXPECT_EQ(s.pairs->num_genuine_missing + s.pairs->num_impostor_missing, 0u);
  EXPECT_DOUBLE_EQ(Round4(s.accuracy_scored_at_fixed),
                   summary["accuracy_at_threshold"].get<double>());
  EXPECT_DOUBLE_EQ(Round4(s.pairs->roc_scored.auc), summary["roc_auc"].get<double>());
  EXPECT_DOUBLE_EQ(Round4(-s.pairs->genuine_summary.mean), summary["same"]["mean"].get<double>());
  EXPECT_DOUBLE_EQ(Round4(-s.pairs->impostor_summary.mean),
                   summary["different"]["mean"].get<double>());
  EXPECT_DOUBLE_EQ(Round4(-s.pairs->impostor_summary.max),
                   summary["different"]["min"].get<double>());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace facetrail::eval
