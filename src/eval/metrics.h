// Accuracy metrics for face verification (1:1) and identification (1:N): pure functions on
// score arrays. docs/EVAL.md gives the protocols that feed them and the reasons for each rule.
//
// CONVENTIONS (every function below)
//   - A score is a double; a higher score means "more alike". Distance-based results (face-api.js
//     reports Euclidean distances) are converted with score = −distance before they get here.
//   - A comparison is a match at threshold t iff score >= t. (face-api.js decides "same" iff
//     distance < t; the two agree except for a distance exactly equal to t.)
//   - A missing score (no face found in one of the images, so nothing could be compared) is NaN
//     (kMissingScore). It is never accepted at any threshold: a missing genuine comparison is a
//     false non-match, a missing impostor comparison is a correct non-match. ISO/IEC 19795-1
//     calls the rates that include such failures "generalised" FMR/FNMR. Callers who want figures
//     on scored comparisons only (as face-api.js's run.mjs reports them) drop NaNs first
//     (WithoutMissing). The LFW accuracy protocol is the exception: there a pair with a missing
//     score is an error whatever its label (issue 2), see LeaveOneFoldOutAccuracy.
//   - Infinite scores are legal (±inf sort as expected); NaN is only ever "missing".
//   - A rate whose denominator is zero (no genuine scores, no impostors, an empty group) is NaN,
//     never 0 or 1: "not measurable" must not read as "perfect".
//
// THREAD SAFETY
//   Pure functions on their arguments; safe to call concurrently.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "common/status.h"

namespace facetrail::eval {

inline constexpr double kMissingScore = std::numeric_limits<double>::quiet_NaN();
inline bool IsMissing(double score) {
  return std::isnan(score);
}
// The finite-or-infinite scores of `scores`, in order, NaNs dropped.
std::vector<double> WithoutMissing(std::span<const double> scores);

// ---------------------------------------------------------------------------------------------
// Verification (1:1)

// One labelled comparison of the LFW pair protocol.
struct PairScore {
  double score = kMissingScore;
  bool genuine = false;  // true: both images show the same person ("matched pair")
  int fold = 0;          // protocol fold (LFW View 2: 1..10)
};

// Fraction of `pairs` decided correctly at `threshold` (genuine and score >= threshold, or
// impostor and score < threshold). A missing score is an error. NaN when `pairs` is empty.
double AccuracyAtThreshold(std::span<const PairScore> pairs, double threshold);

// The threshold with the highest AccuracyAtThreshold on `pairs`. Candidates are −inf and the
// midpoints between consecutive distinct finite scores and +inf above the highest; among equally
// accurate candidates the lowest wins. Missing scores are errors at every candidate, so they never
// change which threshold wins (they only lower its accuracy). Empty or all-missing `pairs`: −inf.
struct ThresholdAccuracy {
  double threshold = -std::numeric_limits<double>::infinity();
  double accuracy = std::numeric_limits<double>::quiet_NaN();
};
ThresholdAccuracy BestAccuracyThreshold(std::span<const PairScore> pairs);

struct FoldAccuracy {
  int fold = 0;
  size_t num_pairs = 0;
  size_t num_missing = 0;  // pairs without a score (errors)
  size_t num_correct = 0;
  double threshold = 0;  // chosen on the other folds
  double accuracy = 0;   // num_correct / num_pairs
};

// LFW View-2 protocol ("unrestricted, labelled outside data" reporting): for each fold k, the
// threshold is BestAccuracyThreshold of the pairs of all other folds, and fold k's accuracy is
// AccuracyAtThreshold of its own pairs at that threshold (missing score = error).
struct LeaveOneFoldOut {
  std::vector<FoldAccuracy> folds;  // ascending fold number
  double mean = 0;                  // mean of the fold accuracies (the figure LFW papers quote)
  double std_dev = 0;               // sample standard deviation over folds (n − 1)
  double std_error = 0;             // std_dev / sqrt(number of folds), LFW's "± S_E"
  size_t num_pairs = 0;
  size_t num_missing = 0;
  size_t num_correct = 0;  // summed over folds
};
// InvalidArgument when `pairs` has fewer than two distinct folds.
Expected<LeaveOneFoldOut> LeaveOneFoldOutAccuracy(std::span<const PairScore> pairs);

struct RocPoint {
  double threshold = 0;  // accept iff score >= threshold
  double far = 0;        // false accept rate (FMR): accepted impostors / all impostors
  double tar = 0;        // true accept rate (1 − FNMR): accepted genuine / all genuine
};

// The ROC curve of `genuine` vs `impostor` (NaN entries = missing, counted in the denominators).
// points[0] is threshold +inf at (0, 0); then one point per distinct finite score, descending,
// keeping only corners (a point between two others on the same horizontal or vertical line is
// dropped: the curve is unchanged and stays small for millions of scores); when scores are
// missing, a last point at threshold −inf reaches (1, 1) as if missing scores were −inf. Tied
// genuine and impostor scores give one diagonal segment.
// auc: area under these points (trapezoids) = P(genuine > impostor) + ½ P(genuine = impostor),
//   with missing scores as −inf (tied with each other). On scores without NaN this is the
//   Mann–Whitney statistic run.mjs reports.
// eer: the rate where the curve, joined linearly between points, crosses FAR = 1 − TAR (FMR =
//   FNMR); eer_threshold is the threshold of the first point at or past the crossing.
// No genuine or no impostor scores: tar or far NaN throughout, auc and eer NaN.
struct RocCurve {
  size_t num_genuine = 0;  // including missing
  size_t num_impostor = 0;
  size_t num_genuine_missing = 0;
  size_t num_impostor_missing = 0;
  std::vector<RocPoint> points;
  double auc = 0;
  double eer = 0;
  double eer_threshold = 0;
};
RocCurve ComputeRoc(std::span<const double> genuine, std::span<const double> impostor);

// An operating point chosen for a target false positive rate (FAR in 1:1, FPIR in 1:N).
// The threshold is the lowest one whose false positive rate is <= target: with N negatives
// (missing included) at most k = floor(target·N) of them may be accepted, so the threshold must
// lie above the (k+1)-th highest negative score; the reported threshold is the lowest observed
// score (positive or negative) above it, or the next double above it when there is none. When
// negatives tie at that place none of the tied ones is accepted, so `rate` (the achieved false
// positive rate) can be below target; it is never above. When every finite negative may be
// accepted, the threshold is the lowest observed score (−inf when there is none).
// resolved is false when target·N < 1: the data cannot measure that rate (it would need at least
// 1/target negatives) and the point shown is the one at rate 0; reports print it as not
// measurable. No negatives: rate NaN, resolved false.
struct OperatingPoint {
  double target = 0;
  double threshold = 0;
  double rate = 0;  // achieved FAR or FPIR
  double hit = 0;   // TAR (1:1) or 1 − FNIR (1:N) at the threshold; NaN without positives
  bool resolved = false;
};
OperatingPoint TarAtFar(std::span<const double> genuine, std::span<const double> impostor,
                        double target_far);

// FNMR and FMR at a fixed threshold (missing genuine = non-match, missing impostor = no match).
struct RatesAtThreshold {
  size_t num_genuine = 0;  // including missing
  size_t num_impostor = 0;
  double fnmr = 0;  // NaN when num_genuine == 0
  double fmr = 0;   // NaN when num_impostor == 0
};
RatesAtThreshold RatesAt(std::span<const double> genuine, std::span<const double> impostor,
                         double threshold);

// ---------------------------------------------------------------------------------------------
// Identification (1:N), NIST FRTE 1:N definitions (NISTIR 8271 §3):
//   a mated search has the searched person in the gallery; a non-mated search does not.
//   FNIR(T, R) = mated searches whose mate is not among the top R candidates with score >= T,
//                over all mated searches;
//   FPIR(T)    = non-mated searches with at least one candidate scoring >= T, over all
//                non-mated searches — i.e. whose top candidate's score is >= T.

inline constexpr int kMateNotFound = 0;
struct MatedSearch {
  // 1-based rank of the mate in the candidate list. Ties go against the mate: rank = 1 + number
  // of non-mate candidates scoring >= the mate. kMateNotFound when the probe or the mate has no
  // template (a failure to acquire or to enrol: a miss at every rank and threshold).
  int mate_rank = kMateNotFound;
  double mate_score = kMissingScore;
};

// Cumulative match characteristic: cmc[r − 1] = fraction of `mated` with 1 <= mate_rank <= r,
// r = 1..max_rank, no threshold. Empty `mated`: max_rank NaNs.
std::vector<double> Cmc(std::span<const MatedSearch> mated, int max_rank);

// FNIR(T, R) as defined above. NaN when `mated` is empty.
double Fnir(std::span<const MatedSearch> mated, double threshold, int max_rank = 1);
// FPIR(T) from the top candidate score of each non-mated search (NaN = the search returned no
// candidate, e.g. no face in the probe: never a false positive). NaN when empty.
double Fpir(std::span<const double> non_mated_top, double threshold);

// The operating point for a target FPIR, chosen exactly as in TarAtFar with the non-mated top
// scores as negatives and the mates' scores as positives; `hit` is 1 − FNIR(threshold, max_rank)
// and `fnir` repeats it as FNIR. This is also the threshold recommendation for a target FPIR: the
// fnir is its cost.
struct IdentificationPoint {
  OperatingPoint point;
  double fnir = 0;
};
IdentificationPoint FnirAtFpir(std::span<const MatedSearch> mated,
                               std::span<const double> non_mated_top, double target_fpir,
                               int max_rank = 1);

// ---------------------------------------------------------------------------------------------
// Descriptive helpers for reports.

struct ScoreSummary {
  size_t num = 0;                                 // finite or infinite scores (NaN excluded)
  size_t num_missing = 0;                         // NaN scores
  double mean = 0, median = 0, min = 0, max = 0;  // NaN when num == 0
};
ScoreSummary Summarize(std::span<const double> scores);

// Counts of non-missing scores in `num_bins` equal bins over [lo, hi]; scores outside are
// clamped into the first/last bin. requires: num_bins >= 1, lo < hi.
std::vector<size_t> Histogram(std::span<const double> scores, double lo, double hi, int num_bins);

// Φ⁻¹(p), the standard normal quantile, for DET axes. ±inf at p = 0 or 1, NaN outside [0, 1].
// Accurate to about 1e-9 (Acklam's rational approximation plus one Halley step).
double NormalQuantile(double p);

}  // namespace facetrail::eval
