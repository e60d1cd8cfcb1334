// Metrics against hand-computed small cases (ties, all genuine, no impostors, missing scores,
// all scores equal) and against brute-force computations on random scores.
#include "eval/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

namespace facetrail::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

PairScore G(double s, int fold = 1) {
  return {s, true, fold};
}
PairScore I(double s, int fold = 1) {
  return {s, false, fold};
}

// ---------------------------------------------------------------------------------- accuracy

TEST(AccuracyTest, MissingIsAnErrorAndScoreAtThresholdIsAccepted) {
  const std::vector<PairScore> pairs = {G(0.9), G(0.5), I(0.4), I(0.6), G(kNaN), I(kNaN)};
  EXPECT_DOUBLE_EQ(AccuracyAtThreshold(pairs, 0.55), 2.0 / 6);
  EXPECT_DOUBLE_EQ(AccuracyAtThreshold(pairs, 0.5), 3.0 / 6);  // 0.5 >= 0.5: accepted
  EXPECT_TRUE(std::isnan(AccuracyAtThreshold({}, 0.5)));
}

TEST(AccuracyTest, BestThresholdPrefersLowestAmongTies) {
  // Sorted: 1 I, 2 G, 2 I, 3 G. Candidates: −inf → 2/4, 1.5 → 3/4, 2.5 → 3/4, +inf → 2/4.
  const std::vector<PairScore> pairs = {G(2), G(3), I(2), I(1)};
  const ThresholdAccuracy best = BestAccuracyThreshold(pairs);
  EXPECT_DOUBLE_EQ(best.threshold, 1.5);
  EXPECT_DOUBLE_EQ(best.accuracy, 0.75);
}

TEST(AccuracyTest, BestThresholdSeparable) {
  const ThresholdAccuracy best = BestAccuracyThreshold(std::vector{G(3), G(4), I(1), I(2)});
  EXPECT_DOUBLE_EQ(best.threshold, 2.5);
  EXPECT_DOUBLE_EQ(best.accuracy, 1.0);
}

TEST(AccuracyTest, AllGenuineAcceptsEverything) {
  const ThresholdAccuracy best = BestAccuracyThreshold(std::vector{G(1), G(2), G(3)});
  EXPECT_EQ(best.threshold, -kInf);
  EXPECT_DOUBLE_EQ(best.accuracy, 1.0);
}

TEST(AccuracyTest, AllImpostorRejectsEverything) {
  const ThresholdAccuracy best = BestAccuracyThreshold(std::vector{I(1), I(2)});
  EXPECT_EQ(best.threshold, kInf);
  EXPECT_DOUBLE_EQ(best.accuracy, 1.0);
}

TEST(AccuracyTest, AllScoresEqual) {
  // Nothing separates them: −inf accepts all (2 genuine right of 3).
  const ThresholdAccuracy best = BestAccuracyThreshold(std::vector{G(0.5), G(0.5), I(0.5)});
  EXPECT_EQ(best.threshold, -kInf);
  EXPECT_DOUBLE_EQ(best.accuracy, 2.0 / 3);
}

TEST(AccuracyTest, MissingLowersAccuracyButNotTheThreshold) {
  const ThresholdAccuracy best =
      BestAccuracyThreshold(std::vector{G(3), G(4), I(1), I(2), G(kNaN), I(kNaN)});
  EXPECT_DOUBLE_EQ(best.threshold, 2.5);
  EXPECT_DOUBLE_EQ(best.accuracy, 4.0 / 6);
  const ThresholdAccuracy none = BestAccuracyThreshold(std::vector{G(kNaN)});
  EXPECT_EQ(none.threshold, -kInf);
  EXPECT_DOUBLE_EQ(none.accuracy, 0.0);
}

TEST(AccuracyTest, InfiniteScoresGetAThresholdBetweenThem) {
  const ThresholdAccuracy best = BestAccuracyThreshold(std::vector{G(kInf), I(-kInf), I(0)});
  EXPECT_DOUBLE_EQ(best.accuracy, 1.0);
  EXPECT_GT(best.threshold, 0);
}

TEST(LeaveOneFoldOutTest, HandComputed) {
  // Fold 2 picks 0.4 for fold 1 (first of the 3/4 candidates); fold 1 picks 0.75 for fold 2.
  const std::vector<PairScore> pairs = {G(0.9, 1), G(0.8, 1),  I(0.1, 1), I(0.7, 1),
                                        G(0.6, 2), G(0.95, 2), I(0.2, 2), I(0.65, 2)};
  Expected<LeaveOneFoldOut> r = LeaveOneFoldOutAccuracy(pairs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->folds.size(), 2u);
  EXPECT_DOUBLE_EQ(r->folds[0].threshold, 0.4);
  EXPECT_DOUBLE_EQ(r->folds[0].accuracy, 0.75);
  EXPECT_DOUBLE_EQ(r->folds[1].threshold, 0.75);
  EXPECT_DOUBLE_EQ(r->folds[1].accuracy, 0.75);
  EXPECT_DOUBLE_EQ(r->mean, 0.75);
  EXPECT_DOUBLE_EQ(r->std_dev, 0.0);
  EXPECT_EQ(r->num_correct, 6u);
}

TEST(LeaveOneFoldOutTest, MissingPairIsAnErrorInItsFold) {
  std::vector<PairScore> pairs = {G(0.9, 1),  G(0.8, 1), I(0.1, 1),  I(0.7, 1), G(0.6, 2),
                                  G(0.95, 2), I(0.2, 2), I(0.65, 2), I(kNaN, 2)};
  Expected<LeaveOneFoldOut> r = LeaveOneFoldOutAccuracy(pairs);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->folds[0].threshold, 0.4);  // unchanged by the missing pair
  EXPECT_DOUBLE_EQ(r->folds[1].accuracy, 3.0 / 5);
  EXPECT_EQ(r->folds[1].num_missing, 1u);
  EXPECT_EQ(r->num_missing, 1u);
  EXPECT_DOUBLE_EQ(r->mean, (0.75 + 0.6) / 2);
  EXPECT_DOUBLE_EQ(r->std_dev, std::sqrt(2 * 0.075 * 0.075));
  EXPECT_DOUBLE_EQ(r->std_error, r->std_dev / std::sqrt(2.0));
}

TEST(LeaveOneFoldOutTest, NeedsTwoFolds) {
  Expected<LeaveOneFoldOut> r = LeaveOneFoldOutAccuracy(std::vector{G(1), I(0)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(LeaveOneFoldOutAccuracy({}).ok());
}

// ----------------------------------------------------------------------------------------- ROC

TEST(RocTest, HandComputed) {
  const RocCurve roc = ComputeRoc(std::vector{3.0, 1.0}, std::vector{2.0, 0.0});
  ASSERT_EQ(roc.points.size(), 5u);
  EXPECT_EQ(roc.points[0].threshold, kInf);
  EXPECT_DOUBLE_EQ(roc.points[1].tar, 0.5);
  EXPECT_DOUBLE_EQ(roc.points[2].far, 0.5);
  EXPECT_DOUBLE_EQ(roc.points[4].far, 1.0);
  EXPECT_DOUBLE_EQ(roc.auc, 0.75);
  EXPECT_DOUBLE_EQ(roc.eer, 0.5);
  EXPECT_DOUBLE_EQ(roc.eer_threshold, 2.0);
}

TEST(RocTest, TieBetweenClassesIsOneDiagonalSegment) {
  const RocCurve roc = ComputeRoc(std::vector{1.0}, std::vector{1.0});
  ASSERT_EQ(roc.points.size(), 2u);
  EXPECT_DOUBLE_EQ(roc.points[1].far, 1.0);
  EXPECT_DOUBLE_EQ(roc.points[1].tar, 1.0);
  EXPECT_DOUBLE_EQ(roc.auc, 0.5);
  EXPECT_DOUBLE_EQ(roc.eer, 0.5);
}

TEST(RocTest, AllScoresEqual) {
  const RocCurve roc = ComputeRoc(std::vector{0.5, 0.5, 0.5}, std::vector{0.5, 0.5});
  EXPECT_EQ(roc.points.size(), 2u);
  EXPECT_DOUBLE_EQ(roc.auc, 0.5);
  EXPECT_DOUBLE_EQ(roc.eer, 0.5);
  EXPECT_DOUBLE_EQ(roc.eer_threshold, 0.5);
}

TEST(RocTest, NoImpostorsGivesNaNRates) {
  // A vertical line: the point at 2 lies between (0, 0) and the one at 1 and is dropped.
  const RocCurve roc = ComputeRoc(std::vector{1.0, 2.0}, std::vector<double>{});
  ASSERT_EQ(roc.points.size(), 2u);
  EXPECT_TRUE(std::isnan(roc.points[1].far));
  EXPECT_DOUBLE_EQ(roc.points[1].tar, 1.0);
  EXPECT_TRUE(std::isnan(roc.auc));
  EXPECT_TRUE(std::isnan(roc.eer));
}

TEST(RocTest, NoScoresAtAll) {
  const RocCurve roc = ComputeRoc(std::vector<double>{}, std::vector<double>{});
  EXPECT_EQ(roc.points.size(), 1u);
  EXPECT_TRUE(std::isnan(roc.auc));
}

TEST(RocTest, MissingScoresActAsMinusInfinity) {
  const RocCurve roc = ComputeRoc(std::vector{3.0, kNaN}, std::vector{2.0, kNaN});
  EXPECT_EQ(roc.num_genuine_missing, 1u);
  EXPECT_EQ(roc.num_impostor_missing, 1u);
  ASSERT_EQ(roc.points.size(), 4u);
  EXPECT_EQ(roc.points.back().threshold, -kInf);
  EXPECT_DOUBLE_EQ(roc.points[2].far, 0.5);
  EXPECT_DOUBLE_EQ(roc.points[2].tar, 0.5);
  // Mann–Whitney with −inf: (3>2) + (3>−inf) + 0 + ½ (−inf tie) = 2.5 of 4.
  EXPECT_DOUBLE_EQ(roc.auc, 0.625);
}

TEST(RocTest, KeepsOnlyCorners) {
  const RocCurve roc = ComputeRoc(std::vector{5.0, 4.0, 3.0}, std::vector{1.0});
  ASSERT_EQ(roc.points.size(), 3u);
  EXPECT_DOUBLE_EQ(roc.points[1].threshold, 3.0);
  EXPECT_DOUBLE_EQ(roc.points[1].tar, 1.0);
  EXPECT_DOUBLE_EQ(roc.auc, 1.0);
  EXPECT_DOUBLE_EQ(roc.eer, 0.0);
}

// ---------------------------------------------------------------------------------- TAR @ FAR

const std::vector<double> kImpostors = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0};
const std::vector<double> kGenuine = {0.95, 0.85, 0.75, 0.05};

TEST(TarAtFarTest, HandComputed) {
  OperatingPoint p = TarAtFar(kGenuine, kImpostors, 0.1);  // one false accept allowed
  EXPECT_DOUBLE_EQ(p.threshold, 0.85);                     // lowest observed score above 0.8
  EXPECT_DOUBLE_EQ(p.rate, 0.1);
  EXPECT_DOUBLE_EQ(p.hit, 0.5);
  EXPECT_TRUE(p.resolved);
  p = TarAtFar(kGenuine, kImpostors, 0.25);  // floor(2.5) = 2
  EXPECT_DOUBLE_EQ(p.threshold, 0.75);
  EXPECT_DOUBLE_EQ(p.rate, 0.2);
  EXPECT_DOUBLE_EQ(p.hit, 0.75);
  p = TarAtFar(kGenuine, kImpostors, 1.0);
  EXPECT_DOUBLE_EQ(p.threshold, 0.0);
  EXPECT_DOUBLE_EQ(p.rate, 1.0);
  EXPECT_DOUBLE_EQ(p.hit, 1.0);
}

TEST(TarAtFarTest, TargetBelowOneOverImpostorsIsNotResolved) {
  const OperatingPoint p = TarAtFar(kGenuine, kImpostors, 0.05);
  EXPECT_FALSE(p.resolved);
  EXPECT_DOUBLE_EQ(p.threshold, 0.95);
  EXPECT_DOUBLE_EQ(p.rate, 0.0);
  EXPECT_DOUBLE_EQ(p.hit, 0.25);
}

TEST(TarAtFarTest, TiedImpostorsAreNeverSplit) {
  // Two impostors tie at 0.9 with a genuine score: allowing one false accept must reject both.
  const std::vector<double> impostor = {0.9, 0.9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0, -0.1, -0.2};
  const OperatingPoint p = TarAtFar(std::vector{0.9, 1.0}, impostor, 0.1);
  EXPECT_DOUBLE_EQ(p.threshold, 1.0);
  EXPECT_DOUBLE_EQ(p.rate, 0.0);
  EXPECT_DOUBLE_EQ(p.hit, 0.5);
}

TEST(TarAtFarTest, NoObservedScoreAboveTheBar) {
  // 0.4 · 2 < 1: no false accept allowed, and nothing was observed above 0.9.
  const OperatingPoint p = TarAtFar(std::vector{0.1}, std::vector{0.9, 0.2}, 0.4);
  EXPECT_FALSE(p.resolved);
  EXPECT_GT(p.threshold, 0.9);
  EXPECT_LT(p.threshold, 0.90000001);
  EXPECT_DOUBLE_EQ(p.rate, 0.0);
  EXPECT_DOUBLE_EQ(p.hit, 0.0);
}

TEST(TarAtFarTest, MissingImpostorsCountInTheDenominator) {
  std::vector<double> impostor(10, kNaN);
  impostor[0] = 0.9;
  const OperatingPoint p = TarAtFar(std::vector{0.5, kNaN}, impostor, 0.1);
  EXPECT_DOUBLE_EQ(p.threshold, 0.5);  // every scored impostor may be accepted
  EXPECT_DOUBLE_EQ(p.rate, 0.1);
  EXPECT_DOUBLE_EQ(p.hit, 0.5);  // the missing genuine is a false non-match
}

TEST(TarAtFarTest, NoImpostors) {
  const OperatingPoint p = TarAtFar(std::vector{0.5}, std::vector<double>{}, 0.01);
  EXPECT_FALSE(p.resolved);
  EXPECT_TRUE(std::isnan(p.rate));
  EXPECT_DOUBLE_EQ(p.hit, 1.0);
}

TEST(TarAtFarTest, RoundingOfTheAllowedCount) {
  std::vector<double> impostor(1200);
  for (size_t i = 0; i < impostor.size(); ++i) impostor[i] = static_cast<double>(i);
  const OperatingPoint p = TarAtFar(std::vector{1e9}, impostor, 0.01);  // 12 allowed
  EXPECT_DOUBLE_EQ(p.rate, 12.0 / 1200);
  EXPECT_DOUBLE_EQ(p.threshold, 1188.0);
}

TEST(RatesAtTest, EmptyGroupIsNaN) {
  const RatesAtThreshold r = RatesAt(std::vector<double>{}, std::vector<double>{}, 0.5);
  EXPECT_EQ(r.num_genuine, 0u);
  EXPECT_TRUE(std::isnan(r.fmr));
  EXPECT_TRUE(std::isnan(r.fnmr));
  const RatesAtThreshold s = RatesAt(std::vector{0.4, 0.6, kNaN}, std::vector{0.5, 0.1}, 0.5);
  EXPECT_DOUBLE_EQ(s.fnmr, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s.fmr, 0.5);
}

// --------------------------------------------------------------------------------- 1:N

const std::vector<MatedSearch> kMated = {{1, 0.9}, {2, 0.8}, {1, 0.3}, {kMateNotFound, kNaN}};
const std::vector<double> kNonMated = {0.6, 0.4, kNaN, 0.2};

TEST(IdentificationTest, CmcFnirFpir) {
  const std::vector<double> cmc = Cmc(kMated, 3);
  ASSERT_EQ(cmc.size(), 3u);
  EXPECT_DOUBLE_EQ(cmc[0], 0.5);
  EXPECT_DOUBLE_EQ(cmc[1], 0.75);
  EXPECT_DOUBLE_EQ(cmc[2], 0.75);
  EXPECT_DOUBLE_EQ(Fnir(kMated, 0.5), 0.75);
  EXPECT_DOUBLE_EQ(Fnir(kMated, 0.5, 2), 0.5);
  EXPECT_DOUBLE_EQ(Fnir(kMated, -kInf), 0.5);
  EXPECT_DOUBLE_EQ(Fpir(kNonMated, 0.5), 0.25);
  EXPECT_DOUBLE_EQ(Fpir(kNonMated, 0.6), 0.25);
  EXPECT_DOUBLE_EQ(Fpir(kNonMated, 0.61), 0.0);
}

TEST(IdentificationTest, FnirAtFpir) {
  const IdentificationPoint p = FnirAtFpir(kMated, kNonMated, 0.25);
  EXPECT_DOUBLE_EQ(p.point.threshold, 0.6);
  EXPECT_DOUBLE_EQ(p.point.rate, 0.25);
  EXPECT_DOUBLE_EQ(p.fnir, 0.75);
  EXPECT_DOUBLE_EQ(p.point.hit, 0.25);
  EXPECT_TRUE(p.point.resolved);
  EXPECT_FALSE(FnirAtFpir(kMated, kNonMated, 0.1).point.resolved);
}

TEST(IdentificationTest, EmptyInputs) {
  const std::vector<double> cmc = Cmc({}, 2);
  EXPECT_TRUE(std::isnan(cmc[0]));
  EXPECT_TRUE(std::isnan(Fnir({}, 0)));
  EXPECT_TRUE(std::isnan(Fpir({}, 0)));
  const IdentificationPoint p = FnirAtFpir({}, {}, 0.01);
  EXPECT_TRUE(std::isnan(p.fnir));
  EXPECT_FALSE(p.point.resolved);
}

// ------------------------------------------------------------------------------- helpers

TEST(HelpersTest, SummaryAndHistogram) {
  const ScoreSummary s = Summarize(std::vector{3.0, 1.0, kNaN, 2.0, 4.0});
  EXPECT_EQ(s.num, 4u);
  EXPECT_EQ(s.num_missing, 1u);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_TRUE(std::isnan(Summarize(std::vector{kNaN}).mean));
  const std::vector<size_t> h = Histogram(std::vector{-5.0, 0.1, 0.5, 0.99, 7.0, kNaN}, 0, 1, 2);
  EXPECT_EQ(h, (std::vector<size_t>{2, 3}));
}

TEST(HelpersTest, NormalQuantile) {
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-9);
  EXPECT_NEAR(NormalQuantile(1e-6), -4.753424308822899, 1e-8);
  EXPECT_NEAR(NormalQuantile(0.01), -2.326347874040841, 1e-9);
  EXPECT_EQ(NormalQuantile(0), -kInf);
  EXPECT_EQ(NormalQuantile(1), kInf);
  EXPECT_TRUE(std::isnan(NormalQuantile(1.5)));
}

// ------------------------------------------------------------------ brute force, random scores

struct RandomCase {
  std::vector<double> genuine, impostor;
};

// Scores on a coarse grid so that ties within and across classes are common; some missing.
RandomCase MakeCase(std::mt19937& rng, int num_genuine, int num_impostor) {
  std::normal_distribution<double> gen(0.6, 0.2), imp(0.2, 0.2);
  std::uniform_real_distribution<double> u(0, 1);
  auto grid = [](double x) { return std::round(x * 40) / 40; };
  RandomCase c;
  for (int i = 0; i < num_genuine; ++i) c.genuine.push_back(u(rng) < 0.05 ? kNaN : grid(gen(rng)));
  for (int i = 0; i < num_impostor; ++i) {
    c.impostor.push_back(u(rng) < 0.05 ? kNaN : grid(imp(rng)));
  }
  return c;
}

double RateAtLeast(const std::vector<double>& v, double t) {
  if (v.empty()) return kNaN;
  return static_cast<double>(std::count_if(v.begin(), v.end(), [t](double s) { return s >= t; })) /
         static_cast<double>(v.size());
}

// Every threshold that gives a different accept set: each observed score and −inf/+inf.
std::vector<double> AllThresholds(const RandomCase& c) {
  std::set<double> s = {-kInf, kInf};
  for (const auto* v : {&c.genuine, &c.impostor}) {
    for (double x : *v) {
      if (!std::isnan(x)) s.insert(x);
    }
  }
  return {s.begin(), s.end()};
}

class BruteForceTest : public ::testing::TestWithParam<std::tuple<int, int, int>> {};

TEST_P(BruteForceTest, RocAucEerTarAtFar) {
  const auto [seed, num_genuine, num_impostor] = GetParam();
  std::mt19937 rng(static_cast<unsigned>(seed));
  const RandomCase c = MakeCase(rng, num_genuine, num_impostor);
  const RocCurve roc = ComputeRoc(c.genuine, c.impostor);

  // AUC: Mann–Whitney over all pairs, missing = −inf, ties ½.
  double wins = 0;
  for (double g : c.genuine) {
    for (double i : c.impostor) {
      const double gg = std::isnan(g) ? -kInf : g;
      const double ii = std::isnan(i) ? -kInf : i;
      wins += gg > ii ? 1 : (gg == ii ? 0.5 : 0);
    }
  }
  const double auc = wins / static_cast<double>(c.genuine.size() * c.impostor.size());
  EXPECT_NEAR(roc.auc, auc, 1e-12);

  // Each kept point is the exact rate pair at its threshold; the full curve has them all.
  std::vector<RocPoint> full;
  std::vector<double> thresholds = AllThresholds(c);
  std::reverse(thresholds.begin(), thresholds.end());
  for (double t : thresholds) {
    if (t == -kInf && roc.num_genuine_missing + roc.num_impostor_missing == 0) continue;
    const double far = t == -kInf ? 1.0 : RateAtLeast(c.impostor, t);
    const double tar = t == -kInf ? 1.0 : RateAtLeast(c.genuine, t);
    full.push_back({t, far, tar});
  }
  for (const RocPoint& p : roc.points) {
    if (p.threshold == -kInf) continue;
    EXPECT_DOUBLE_EQ(p.far, RateAtLeast(c.impostor, p.threshold));
    EXPECT_DOUBLE_EQ(p.tar, RateAtLeast(c.genuine, p.threshold));
  }
  EXPECT_LE(roc.points.size(), full.size());

  // EER: the same linear crossing on the unpruned curve.
  double eer = kNaN;
  for (size_t k = 1; k < full.size(); ++k) {
    const double fa = full[k - 1].far + full[k - 1].tar - 1;
    const double fb = full[k].far + full[k].tar - 1;
    if (fb >= 0) {
      eer = full[k - 1].far + (-fa / (fb - fa)) * (full[k].far - full[k - 1].far);
      break;
    }
  }
  EXPECT_NEAR(roc.eer, eer, 1e-12);

  // TAR at FAR: the best TAR over all thresholds whose FAR is within target.
  for (double target : {0.5, 0.1, 0.05, 0.01, 0.001}) {
    SCOPED_TRACE(target);
    double best_tar = -1, best_far = 0;
    for (double t : AllThresholds(c)) {
      const double far = RateAtLeast(c.impostor, t);
      const double tar = RateAtLeast(c.genuine, t);
      if (far <= target && tar > best_tar) {
        best_tar = tar;
        best_far = far;
      }
    }
    const OperatingPoint p = TarAtFar(c.genuine, c.impostor, target);
    EXPECT_DOUBLE_EQ(p.hit, best_tar);
    EXPECT_DOUBLE_EQ(p.rate, best_far);
    EXPECT_LE(p.rate, target);
    EXPECT_EQ(p.resolved, target * static_cast<double>(c.impostor.size()) >= 1);
  }
}

TEST_P(BruteForceTest, LeaveOneFoldOut) {
  const auto [seed, num_genuine, num_impostor] = GetParam();
  std::mt19937 rng(static_cast<unsigned>(seed) + 1000);
  const RandomCase c = MakeCase(rng, num_genuine, num_impostor);
  std::vector<PairScore> pairs;
  for (size_t i = 0; i < c.genuine.size(); ++i) pairs.push_back({c.genuine[i], true, int(i % 4)});
  for (size_t i = 0; i < c.impostor.size(); ++i) {
    pairs.push_back({c.impostor[i], false, int(i % 4)});
  }
  Expected<LeaveOneFoldOut> r = LeaveOneFoldOutAccuracy(pairs);
  if (c.genuine.size() < 2 && c.impostor.size() < 2) {
    EXPECT_FALSE(r.ok());  // everything is in fold 0
    return;
  }
  ASSERT_TRUE(r.ok());
  for (const FoldAccuracy& f : r->folds) {
    // Brute force: accuracy at every threshold between distinct training scores; keep the
    // lowest best; compare its training accuracy and the held-out accuracy.
    std::vector<PairScore> train, test;
    for (const PairScore& p : pairs) (p.fold == f.fold ? test : train).push_back(p);
    std::set<double> distinct;
    for (const PairScore& p : train) {
      if (!std::isnan(p.score)) distinct.insert(p.score);
    }
    std::vector<double> candidates = {-kInf};
    for (auto it = distinct.begin(); it != distinct.end(); ++it) {
      auto next = std::next(it);
      candidates.push_back(next == distinct.end() ? kInf : (*it + *next) / 2);
    }
    double best_t = -kInf, best_acc = -1;
    for (double t : candidates) {
      size_t correct = 0;
      for (const PairScore& p : train) {
        if (!std::isnan(p.score) && (p.score >= t) == p.genuine) ++correct;
      }
      const double acc = static_cast<double>(correct) / static_cast<double>(train.size());
      if (acc > best_acc) {
        best_acc = acc;
        best_t = t;
      }
    }
    EXPECT_DOUBLE_EQ(f.threshold, best_t);
    EXPECT_DOUBLE_EQ(f.accuracy, AccuracyAtThreshold(test, best_t));
  }
}

TEST_P(BruteForceTest, Identification) {
  const auto [seed, num_genuine, num_impostor] = GetParam();
  std::mt19937 rng(static_cast<unsigned>(seed) + 2000);
  const RandomCase c = MakeCase(rng, num_genuine, num_impostor);
  std::uniform_int_distribution<int> rank(0, 60);
  std::vector<MatedSearch> mated;
  for (double s : c.genuine) {
    mated.push_back(std::isnan(s) ? MatedSearch{} : MatedSearch{rank(rng) % 7 + 1, s});
  }
  const std::vector<double> cmc = Cmc(mated, 50);
  for (int r = 1; r <= 50; ++r) {
    const auto found = std::count_if(mated.begin(), mated.end(), [r](const MatedSearch& m) {
      return m.mate_rank >= 1 && m.mate_rank <= r;
    });
    EXPECT_DOUBLE_EQ(cmc[size_t(r - 1)], double(found) / double(mated.size()));
  }
  for (double target : {0.1, 0.01}) {
    double best_fnir = 2, best_fpir = 0;
    std::vector<double> all = c.genuine;
    all.insert(all.end(), c.impostor.begin(), c.impostor.end());
    for (double t : AllThresholds({all, {}})) {
      const double fpir = Fpir(c.impostor, t);
      double misses = 0;
      for (const MatedSearch& m : mated) {
        if (!(m.mate_rank == 1 && m.mate_score >= t)) ++misses;
      }
      const double fnir = misses / static_cast<double>(mated.size());
      if (fpir <= target && fnir < best_fnir) {
        best_fnir = fnir;
        best_fpir = fpir;
      }
    }
    const IdentificationPoint p = FnirAtFpir(mated, c.impostor, target);
    EXPECT_DOUBLE_EQ(p.fnir, best_fnir);
    EXPECT_DOUBLE_EQ(p.point.rate, best_fpir);
  }
}

INSTANTIATE_TEST_SUITE_P(Random, BruteForceTest,
                         ::testing::Values(std::make_tuple(1, 50, 50), std::make_tuple(2, 7, 300),
                                           std::make_tuple(3, 300, 20), std::make_tuple(4, 1, 1),
                                           std::make_tuple(5, 200, 1500),
                                           std::make_tuple(6, 40, 4)));

}  // namespace
}  // namespace facetrail::eval
