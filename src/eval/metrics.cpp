// Definitions: see metrics.h and docs/EVAL.md.
#include "eval/metrics.h"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <numbers>
#include <string>

namespace facetrail::eval {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Ratio(size_t num, size_t den) {
  return den == 0 ? kNaN : static_cast<double>(num) / static_cast<double>(den);
}

// Finite-or-infinite scores sorted in descending order.
std::vector<double> SortedDescending(std::span<const double> scores) {
  std::vector<double> out = WithoutMissing(scores);
  std::sort(out.begin(), out.end(), std::greater<>());
  return out;
}

// A threshold t with a < t <= b (requires a < b): the midpoint when it separates them.
double Between(double a, double b) {
  const double mid = a / 2 + b / 2;
  return (mid > a && mid <= b) ? mid : std::nextafter(a, b);
}

size_t CountAtLeast(std::span<const double> scores, double threshold) {
  return static_cast<size_t>(std::count_if(scores.begin(), scores.end(),
                                           [threshold](double s) { return s >= threshold; }));
}

struct ChosenThreshold {
  double threshold = -kInf;
  double rate = kNaN;
  bool resolved = false;
};

// The rule documented at OperatingPoint: lowest threshold whose false positive rate over
// `negatives` (NaN = missing, counted in the denominator) is <= target.
ChosenThreshold ThresholdForRate(std::span<const double> negatives,
                                 std::span<const double> positives, double target) {
  ChosenThreshold out;
  const size_t num_negatives = negatives.size();
  const std::vector<double> sorted = SortedDescending(negatives);
  // floor(target·N), with a relative guard so that 0.01 · 1200 counts as 12, not 11.999….
  const double allowed_real = std::max(0.0, target) * static_cast<double>(num_negatives);
  const size_t allowed = allowed_real >= static_cast<double>(num_negatives)
                             ? num_negatives
                             : static_cast<size_t>(std::floor(allowed_real * (1 + 1e-12)));
  out.resolved = num_negatives > 0 && allowed >= 1;
  if (allowed >= sorted.size()) {
    // Every scored negative may be accepted: the lowest observed score accepts all of them.
    double lowest = kInf;
    bool any = false;
    for (std::span<const double> part : {negatives, positives}) {
      for (double s : part) {
        if (!IsMissing(s)) {
          lowest = std::min(lowest, s);
          any = true;
        }
      }
    }
    out.threshold = any ? lowest : -kInf;
  } else {
    const double bar = sorted[allowed];  // the (allowed+1)-th highest negative must be rejected
    double above = kInf;
    bool any = false;
    for (std::span<const double> part : {negatives, positives}) {
      for (double s : part) {
        if (!IsMissing(s) && s > bar && s <= above) {
          above = s;
          any = true;
        }
      }
    }
    out.threshold = any ? above : std::nextafter(bar, kInf);
  }
  out.rate = Ratio(CountAtLeast(negatives, out.threshold), num_negatives);
  return out;
}

}  // namespace

std::vector<double> WithoutMissing(std::span<const double> scores) {
  std::vector<double> out;
  out.reserve(scores.size());
  for (double s : scores) {
    if (!IsMissing(s)) out.push_back(s);
  }
  return out;
}

double AccuracyAtThreshold(std::span<const PairScore> pairs, double threshold) {
  size_t correct = 0;
  for (const PairScore& p : pairs) {
    if (IsMissing(p.score)) continue;
    if ((p.score >= threshold) == p.genuine) ++correct;
  }
  return Ratio(correct, pairs.size());
}

ThresholdAccuracy BestAccuracyThreshold(std::span<const PairScore> pairs) {
  std::vector<std::pair<double, bool>> scored;  // (score, genuine), ascending by score
  scored.reserve(pairs.size());
  for (const PairScore& p : pairs) {
    if (!IsMissing(p.score)) scored.emplace_back(p.score, p.genuine);
  }
  std::sort(scored.begin(), scored.end());
  ThresholdAccuracy best;
  if (scored.empty()) {
    best.accuracy = Ratio(0, pairs.size());
    return best;
  }
  // At −inf every scored pair is accepted: the genuine ones are right.
  size_t correct = static_cast<size_t>(
      std::count_if(scored.begin(), scored.end(), [](const auto& s) { return s.second; }));
  size_t best_correct = correct;
  best.threshold = -kInf;
  for (size_t i = 0; i < scored.size();) {
    size_t j = i;
    for (; j < scored.size() && scored[j].first == scored[i].first; ++j) {
      correct += scored[j].second ? size_t{0} : size_t{1};  // impostor now rejected: right
      correct -= scored[j].second ? size_t{1} : size_t{0};  // genuine now rejected: wrong
    }
    const double low = scored[i].first;
    i = j;
    double candidate;
    if (j < scored.size()) {
      candidate = Between(low, scored[j].first);
    } else if (low < kInf) {
      candidate = kInf;
    } else {
      break;  // the highest scores are +inf: no threshold rejects them
    }
    if (correct > best_correct) {
      best_correct = correct;
      best.threshold = candidate;
    }
  }
  best.accuracy = Ratio(best_correct, pairs.size());
  return best;
}

Expected<LeaveOneFoldOut> LeaveOneFoldOutAccuracy(std::span<const PairScore> pairs) {
  std::map<int, std::vector<PairScore>> by_fold;
  for (const PairScore& p : pairs) by_fold[p.fold].push_back(p);
  if (by_fold.size() < 2) {
    return InvalidArgument("leave-one-fold-out accuracy needs pairs from at least two folds, got " +
                           std::to_string(by_fold.size()));
  }
  LeaveOneFoldOut out;
  for (const auto& [fold, held_out] : by_fold) {
    std::vector<PairScore> training;
    training.reserve(pairs.size());
    for (const PairScore& p : pairs) {
      if (p.fold != fold) training.push_back(p);
    }
    FoldAccuracy f;
    f.fold = fold;
    f.num_pairs = held_out.size();
    f.threshold = BestAccuracyThreshold(training).threshold;
    for (const PairScore& p : held_out) {
      if (IsMissing(p.score)) {
        ++f.num_missing;
      } else if ((p.score >= f.threshold) == p.genuine) {
        ++f.num_correct;
      }
    }
    f.accuracy = Ratio(f.num_correct, f.num_pairs);
    out.num_pairs += f.num_pairs;
    out.num_missing += f.num_missing;
    out.num_correct += f.num_correct;
    out.folds.push_back(f);
  }
  const double n = static_cast<double>(out.folds.size());
  double sum = 0;
  for (const FoldAccuracy& f : out.folds) sum += f.accuracy;
  out.mean = sum / n;
  double squares = 0;
  for (const FoldAccuracy& f : out.folds)
    squares += (f.accuracy - out.mean) * (f.accuracy - out.mean);
  out.std_dev = std::sqrt(squares / (n - 1));
  out.std_error = out.std_dev / std::sqrt(n);
  return out;
}

RocCurve ComputeRoc(std::span<const double> genuine, std::span<const double> impostor) {
  RocCurve roc;
  roc.num_genuine = genuine.size();
  roc.num_impostor = impostor.size();
  const std::vector<double> g = SortedDescending(genuine);
  const std::vector<double> im = SortedDescending(impostor);
  roc.num_genuine_missing = genuine.size() - g.size();
  roc.num_impostor_missing = impostor.size() - im.size();

  struct Corner {
    double threshold;
    size_t tp, fp;
  };
  std::vector<Corner> corners{{kInf, 0, 0}};
  auto add = [&corners](Corner c) {
    const size_t n = corners.size();
    if (n >= 2) {
      const Corner& a = corners[n - 2];
      const Corner& b = corners[n - 1];
      if ((a.tp == b.tp && b.tp == c.tp) || (a.fp == b.fp && b.fp == c.fp)) {
        corners.back() = c;
        return;
      }
    }
    corners.push_back(c);
  };
  size_t gi = 0, ii = 0;
  while (gi < g.size() || ii < im.size()) {
    const double v = std::max(gi < g.size() ? g[gi] : -kInf, ii < im.size() ? im[ii] : -kInf);
    while (gi < g.size() && g[gi] == v) ++gi;
    while (ii < im.size() && im[ii] == v) ++ii;
    add({v, gi, ii});
  }
  if (roc.num_genuine_missing + roc.num_impostor_missing > 0) {
    add({-kInf, genuine.size(), impostor.size()});
  }

  roc.points.reserve(corners.size());
  for (const Corner& c : corners) {
    roc.points.push_back({c.threshold, Ratio(c.fp, impostor.size()), Ratio(c.tp, genuine.size())});
  }
  if (genuine.empty() || impostor.empty()) {
    roc.auc = roc.eer = roc.eer_threshold = kNaN;
    return roc;
  }
  double twice_area = 0;  // in units of (1/num_genuine)·(1/num_impostor)
  for (size_t k = 1; k < corners.size(); ++k) {
    twice_area += static_cast<double>(corners[k].fp - corners[k - 1].fp) *
                  static_cast<double>(corners[k].tp + corners[k - 1].tp);
  }
  roc.auc =
      twice_area / 2 / static_cast<double>(genuine.size()) / static_cast<double>(impostor.size());

  roc.eer = roc.eer_threshold = kNaN;
  for (size_t k = 1; k < roc.points.size(); ++k) {
    const RocPoint& a = roc.points[k - 1];
    const RocPoint& b = roc.points[k];
    const double fa = a.far + a.tar - 1;
    const double fb = b.far + b.tar - 1;
    if (fb >= 0) {
      const double lambda = fb > fa ? -fa / (fb - fa) : 0;
      roc.eer = a.far + lambda * (b.far - a.far);
      roc.eer_threshold = b.threshold;
      break;
    }
  }
  return roc;
}

OperatingPoint TarAtFar(std::span<const double> genuine, std::span<const double> impostor,
                        double target_far) {
  const ChosenThreshold chosen = ThresholdForRate(impostor, genuine, target_far);
  OperatingPoint p;
  p.target = target_far;
  p.threshold = chosen.threshold;
  p.rate = chosen.rate;
  p.resolved = chosen.resolved;
  p.hit = Ratio(CountAtLeast(genuine, chosen.threshold), genuine.size());
  return p;
}

RatesAtThreshold RatesAt(std::span<const double> genuine, std::span<const double> impostor,
                         double threshold) {
  RatesAtThreshold r;
  r.num_genuine = genuine.size();
  r.num_impostor = impostor.size();
  r.fnmr = Ratio(genuine.size() - CountAtLeast(genuine, threshold), genuine.size());
  r.fmr = Ratio(CountAtLeast(impostor, threshold), impostor.size());
  return r;
}

std::vector<double> Cmc(std::span<const MatedSearch> mated, int max_rank) {
  std::vector<size_t> at_rank(static_cast<size_t>(std::max(0, max_rank)), 0);
  for (const MatedSearch& m : mated) {
    if (m.mate_rank >= 1 && m.mate_rank <= max_rank)
      ++at_rank[static_cast<size_t>(m.mate_rank - 1)];
  }
  std::vector<double> cmc(at_rank.size());
  size_t cumulative = 0;
  for (size_t r = 0; r < at_rank.size(); ++r) {
    cumulative += at_rank[r];
    cmc[r] = Ratio(cumulative, mated.size());
  }
  return cmc;
}

double Fnir(std::span<const MatedSearch> mated, double threshold, int max_rank) {
  size_t misses = 0;
  for (const MatedSearch& m : mated) {
    const bool hit = m.mate_rank >= 1 && m.mate_rank <= max_rank && !IsMissing(m.mate_score) &&
                     m.mate_score >= threshold;
    if (!hit) ++misses;
  }
  return Ratio(misses, mated.size());
}

double Fpir(std::span<const double> non_mated_top, double threshold) {
  return Ratio(CountAtLeast(non_mated_top, threshold), non_mated_top.size());
}

IdentificationPoint FnirAtFpir(std::span<const MatedSearch> mated,
                               std::span<const double> non_mated_top, double target_fpir,
                               int max_rank) {
  std::vector<double> mate_scores;
  mate_scores.reserve(mated.size());
  for (const MatedSearch& m : mated) mate_scores.push_back(m.mate_score);
  const ChosenThreshold chosen = ThresholdForRate(non_mated_top, mate_scores, target_fpir);
  IdentificationPoint out;
  out.point.target = target_fpir;
  out.point.threshold = chosen.threshold;
  out.point.rate = chosen.rate;
  out.point.resolved = chosen.resolved;
  out.fnir = Fnir(mated, chosen.threshold, max_rank);
  out.point.hit = 1 - out.fnir;
  return out;
}

ScoreSummary Summarize(std::span<const double> scores) {
  ScoreSummary s;
  std::vector<double> v = WithoutMissing(scores);
  s.num = v.size();
  s.num_missing = scores.size() - v.size();
  if (v.empty()) {
    s.mean = s.median = s.min = s.max = kNaN;
    return s;
  }
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  const size_t m = v.size() / 2;
  s.median = v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  s.min = v.front();
  s.max = v.back();
  return s;
}

std::vector<size_t> Histogram(std::span<const double> scores, double lo, double hi, int num_bins) {
  std::vector<size_t> bins(static_cast<size_t>(std::max(1, num_bins)), 0);
  const double width = (hi - lo) / static_cast<double>(bins.size());
  for (double s : scores) {
    if (IsMissing(s)) continue;
    const double pos = std::floor((s - lo) / width);
    const double clamped = std::clamp(pos, 0.0, static_cast<double>(bins.size() - 1));
    ++bins[static_cast<size_t>(clamped)];
  }
  return bins;
}

double NormalQuantile(double p) {
  if (!(p >= 0 && p <= 1)) return kNaN;
  if (p == 0) return -kInf;
  if (p == 1) return kInf;
  // Peter J. Acklam's rational approximation (relative error < 1.15e-9).
  static constexpr std::array<double, 6> kA = {-3.969683028665376e+01, 2.209460984245205e+02,
                                               -2.759285104469687e+02, 1.383577518672690e+02,
                                               -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr std::array<double, 5> kB = {-5.447609879822406e+01, 1.615858368580409e+02,
                                               -1.556989798598866e+02, 6.680131188771972e+01,
                                               -1.328068155288572e+01};
  static constexpr std::array<double, 6> kC = {-7.784894002430293e-03, -3.223964580411365e-01,
                                               -2.400758277161838e+00, -2.549732539343734e+00,
                                               4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr std::array<double, 4> kD = {7.784695709041462e-03, 3.224671290700398e-01,
                                               2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  auto tail = [](double q) {
    return (((((kC[0] * q + kC[1]) * q + kC[2]) * q + kC[3]) * q + kC[4]) * q + kC[5]) /
           ((((kD[0] * q + kD[1]) * q + kD[2]) * q + kD[3]) * q + 1);
  };
  double x;
  if (p < kLow) {
    x = tail(std::sqrt(-2 * std::log(p)));
  } else if (p <= 1 - kLow) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((kA[0] * r + kA[1]) * r + kA[2]) * r + kA[3]) * r + kA[4]) * r + kA[5]) * q /
        (((((kB[0] * r + kB[1]) * r + kB[2]) * r + kB[3]) * r + kB[4]) * r + 1);
  } else {
    x = -tail(std::sqrt(-2 * std::log1p(-p)));
  }
  // One step of Halley's method on Φ(x) − p.
  const double e = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

}  // namespace facetrail::eval
