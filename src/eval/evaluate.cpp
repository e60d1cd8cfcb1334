// The protocols: official pairs, all pairs, 1:N with one gallery image per identity, groups.
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>

#include "eval/evaluation.h"

namespace facetrail::eval {
namespace {

constexpr int kHistogramBins = 60;

ScoreHistogram MakeHistogram(std::span<const double> positive, std::span<const double> negative) {
  ScoreHistogram h;
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (std::span<const double> part : {positive, negative}) {
    for (double s : part) {
      if (std::isfinite(s)) {
        lo = std::min(lo, s);
        hi = std::max(hi, s);
      }
    }
  }
  if (!(lo < hi)) {  // no finite scores, or all equal
    lo = std::isfinite(lo) ? lo - 0.5 : 0;
    hi = lo + 1;
  }
  h.lo = lo;
  h.hi = hi;
  h.positive = Histogram(positive, lo, hi, kHistogramBins);
  h.negative = Histogram(negative, lo, hi, kHistogramBins);
  return h;
}

// Descending, NaN (missing) last. The metric functions sort their own copies; handing them
// sorted input makes those sorts cheap (14 million impostor scores on LFW dev's all pairs).
std::vector<double> SortedForMetrics(std::vector<double> v) {
  std::sort(v.begin(), v.end(), [](double a, double b) {
    if (IsMissing(a)) return false;
    return IsMissing(b) || a > b;
  });
  return v;
}

VerificationFigures MakeVerification(const std::vector<double>& unsorted_genuine,
                                     const std::vector<double>& unsorted_impostor,
                                     const EvalOptions& o) {
  const std::vector<double> genuine = SortedForMetrics(unsorted_genuine);
  const std::vector<double> impostor = SortedForMetrics(unsorted_impostor);
  VerificationFigures v;
  v.roc = ComputeRoc(genuine, impostor);
  v.num_genuine = v.roc.num_genuine;
  v.num_impostor = v.roc.num_impostor;
  v.num_genuine_missing = v.roc.num_genuine_missing;
  v.num_impostor_missing = v.roc.num_impostor_missing;
  v.roc_scored = ComputeRoc(WithoutMissing(genuine), WithoutMissing(impostor));
  for (double target : o.target_fars) v.tar_at_far.push_back(TarAtFar(genuine, impostor, target));
  v.genuine_summary = Summarize(genuine);
  v.impostor_summary = Summarize(impostor);
  v.histogram = MakeHistogram(genuine, impostor);
  return v;
}

// Visits every unordered pair of images i < j with its score (NaN when either has no vector).
void ForAllPairs(const SystemResults& s,
                 const std::function<void(size_t i, size_t j, double score)>& visit) {
  const size_t n = s.image_vectors.size();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      visit(i, j, CompareVectors(s.image_vectors[i], s.image_vectors[j], s.kind));
    }
  }
}

// The outcome of one probe: its mated search, and the same search with its mate left out
// (the non-mated search; docs/EVAL.md explains why this is how non-mated searches are made).
struct SearchOutcome {
  size_t probe = 0;
  MatedSearch mated;
  double non_mated_top = kMissingScore;
};

struct IdentificationRun {
  size_t gallery_size = 0, gallery_without_template = 0;
  std::vector<SearchOutcome> outcomes;
};

std::map<std::string, size_t> GalleryOf(const Dataset& d) {
  std::map<std::string, size_t> gallery_of;  // identity → image
  for (size_t i = 0; i < d.images.size(); ++i) {
    const auto [it, inserted] = gallery_of.emplace(d.images[i].identity, i);
    if (!inserted && d.images[i].path < d.images[it->second].path) it->second = i;
  }
  return gallery_of;
}

// Gallery: IdentificationGallery; identities with one image are distractors.
IdentificationRun RunIdentification(const Dataset& d, const SystemResults& s) {
  const std::map<std::string, size_t> gallery_of = GalleryOf(d);
  IdentificationRun run;
  run.gallery_size = gallery_of.size();
  std::vector<size_t> gallery;  // images with a template
  for (const auto& [identity, image] : gallery_of) {
    if (s.image_vectors[image].empty()) {
      ++run.gallery_without_template;
    } else {
      gallery.push_back(image);
    }
  }
  for (size_t p = 0; p < d.images.size(); ++p) {
    const size_t mate = gallery_of.at(d.images[p].identity);
    if (mate == p) continue;
    SearchOutcome o;
    o.probe = p;
    if (!s.image_vectors[p].empty()) {
      const double mate_score =
          s.image_vectors[mate].empty()
              ? kMissingScore
              : CompareVectors(s.image_vectors[p], s.image_vectors[mate], s.kind);
      int above = 0;
      double top = -std::numeric_limits<double>::infinity();
      bool any = false;
      for (size_t g : gallery) {
        if (g == mate) continue;
        const double score = CompareVectors(s.image_vectors[p], s.image_vectors[g], s.kind);
        any = true;
        top = std::max(top, score);
        if (!IsMissing(mate_score) && score >= mate_score) ++above;
      }
      if (any) o.non_mated_top = top;
      if (!IsMissing(mate_score)) o.mated = {1 + above, mate_score};
    }
    run.outcomes.push_back(o);
  }
  return run;
}

IdentificationFigures MakeIdentification(const IdentificationRun& run,
                                         const std::function<bool(size_t probe)>& keep,
                                         const std::optional<double>& fixed_threshold,
                                         const EvalOptions& o) {
  IdentificationFigures f;
  f.gallery_size = run.gallery_size;
  f.gallery_without_template = run.gallery_without_template;
  std::vector<MatedSearch> mated;
  std::vector<double> non_mated, mate_scores;
  for (const SearchOutcome& so : run.outcomes) {
    if (!keep(so.probe)) continue;
    mated.push_back(so.mated);
    mate_scores.push_back(so.mated.mate_score);
    non_mated.push_back(so.non_mated_top);
    if (IsMissing(so.non_mated_top) && so.mated.mate_rank == kMateNotFound) {
      ++f.probes_without_template;
    }
  }
  f.num_mated = mated.size();
  f.num_non_mated = non_mated.size();
  f.cmc = Cmc(mated, o.max_rank);
  for (double target : o.target_fpirs) {
    f.fnir_at_fpir.push_back(FnirAtFpir(mated, non_mated, target, o.fnir_rank));
  }
  f.recommendation = FnirAtFpir(mated, non_mated, o.recommend_fpir, o.fnir_rank);
  if (fixed_threshold) {
    f.fpir_at_fixed = Fpir(non_mated, *fixed_threshold);
    f.fnir_at_fixed = Fnir(mated, *fixed_threshold, o.fnir_rank);
  }
  f.histogram = MakeHistogram(mate_scores, non_mated);
  return f;
}

// Error versus discard for one quality figure (`quality(probe)`, NaN unknown) at threshold `t`.
ErrorVsDiscard MakeErrorVsDiscard(const IdentificationRun& run, const std::string& measure,
                                  const std::function<double(size_t)>& quality, double t,
                                  double overall_fnir, const EvalOptions& o) {
  ErrorVsDiscard e;
  e.measure = measure;
  // Probes with a known figure, lowest first; probes without one (no face) are never discarded
  // and count as what they are (misses, never false positives).
  std::vector<size_t> order;
  for (size_t k = 0; k < run.outcomes.size(); ++k) {
    if (!std::isnan(quality(run.outcomes[k].probe))) order.push_back(k);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return quality(run.outcomes[a].probe) < quality(run.outcomes[b].probe);
  });
  std::vector<bool> discarded(run.outcomes.size(), false);
  size_t next = 0;
  for (double fraction : o.discard_fractions) {
    const auto target =
        static_cast<size_t>(std::floor(fraction * static_cast<double>(order.size())));
    while (next < target && next < order.size()) discarded[order[next++]] = true;
    // Ties: every probe with the same figure as the last discarded one goes too (a gate cannot
    // tell them apart).
    const double limit = next > 0 ? quality(run.outcomes[order[next - 1]].probe)
                                  : -std::numeric_limits<double>::infinity();
    while (next < order.size() && quality(run.outcomes[order[next]].probe) <= limit) {
      discarded[order[next++]] = true;
    }
    std::vector<MatedSearch> mated;
    std::vector<double> non_mated;
    for (size_t k = 0; k < run.outcomes.size(); ++k) {
      if (discarded[k]) continue;
      mated.push_back(run.outcomes[k].mated);
      non_mated.push_back(run.outcomes[k].non_mated_top);
    }
    DiscardPoint p;
    p.fraction = static_cast<double>(run.outcomes.size() - mated.size()) /
                 static_cast<double>(std::max<size_t>(1, run.outcomes.size()));
    p.limit = next > 0 ? limit : (order.empty() ? 0 : quality(run.outcomes[order[0]].probe));
    p.kept = mated.size();
    p.fnir = Fnir(mated, t, o.fnir_rank);
    p.fpir = Fpir(non_mated, t);
    e.points.push_back(p);
  }
  // Suggested limit: scan bands of mated probes from the lowest quality up.
  e.max_fnir =
      std::isnan(o.gate_max_fnir) ? std::min(1.0, 2 * overall_fnir + 0.05) : o.gate_max_fnir;
  e.band = std::max<size_t>(50, order.size() / 20);
  e.suggested_limit = order.empty() ? 0 : quality(run.outcomes[order[0]].probe);
  if (order.size() >= e.band) {
    size_t misses = 0;
    auto miss = [&](size_t k) {
      const MatedSearch& m = run.outcomes[order[k]].mated;
      return m.mate_rank == kMateNotFound || m.mate_rank > o.fnir_rank || m.mate_score < t;
    };
    for (size_t k = 0; k < e.band; ++k) misses += miss(k) ? 1 : 0;
    for (size_t start = 0;; ++start) {
      const double fnir = static_cast<double>(misses) / static_cast<double>(e.band);
      e.worst_band_fnir = std::max(e.worst_band_fnir, fnir);
      const size_t end = start + e.band;  // one past the band
      // A band's FNIR stands for the quality at its middle.
      if (fnir > e.max_fnir)
        e.suggested_limit = quality(run.outcomes[order[start + e.band / 2]].probe);
      if (end >= order.size()) break;
      misses += (miss(end) ? 1 : 0);
      misses -= (miss(start) ? 1 : 0);
    }
  }
  return e;
}

// The threshold of `v` at target FAR `far` (computed afresh when `far` is not in the list).
double ThresholdAtFar(const VerificationFigures& v, const std::vector<double>& genuine,
                      const std::vector<double>& impostor, double far, const EvalOptions& o) {
  for (size_t k = 0; k < o.target_fars.size(); ++k) {
    if (o.target_fars[k] == far) return v.tar_at_far[k].threshold;
  }
  return TarAtFar(genuine, impostor, far).threshold;
}

struct PairSource {
  std::vector<double> genuine, impostor;
  // Within-group scores per group column and value.
  std::vector<std::vector<std::vector<double>>> group_genuine, group_impostor;
};

void AddToGroups(const Dataset& d, size_t a, size_t b, bool genuine, double score,
                 PairSource& src) {
  for (size_t c = 0; c < d.groups.size(); ++c) {
    const int ga = d.groups[c].image_group[a];
    if (ga < 0 || ga != d.groups[c].image_group[b]) continue;
    auto& bucket = genuine ? src.group_genuine[c] : src.group_impostor[c];
    bucket[static_cast<size_t>(ga)].push_back(score);
  }
}

PairSource MakePairSource(const Dataset& d) {
  PairSource src;
  for (const GroupColumn& g : d.groups) {
    src.group_genuine.emplace_back(g.values.size());
    src.group_impostor.emplace_back(g.values.size());
  }
  return src;
}

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

constexpr size_t kLandmarkFloats = 136;  // 68 points
constexpr size_t kLandmarkPoints = kLandmarkFloats / 2;
constexpr double kLandmarkFailureNme = 0.10;

// One face's landmark error: `got` in a rung's pixels against `clean` in the original image's,
// mapped to the rung's pixels (area downscaling maps u to (u + 0.5)·scale − 0.5), over the clean
// outer-eye-corner distance (points 36 and 45) at the rung's scale.
double LandmarkNme(const std::vector<float>& clean, const std::vector<float>& got, double scale) {
  const auto mapped = [&](size_t k) { return (clean[k] + 0.5) * scale - 0.5; };
  constexpr size_t kLeft = 2 * size_t{36}, kRight = 2 * size_t{45};  // outer eye corners, x
  const double iod =
      std::hypot(mapped(kRight) - mapped(kLeft), mapped(kRight + 1) - mapped(kLeft + 1));
  if (!(iod > 0)) return std::nan("");
  double sum = 0;
  for (size_t p = 0; p < kLandmarkPoints; ++p) {
    sum += std::hypot(got[2 * p] - mapped(2 * p), got[2 * p + 1] - mapped(2 * p + 1));
  }
  return sum / static_cast<double>(kLandmarkPoints) / iod;
}

// LadderFigures::fnir/fpir_at_quality_bin_thresholds of every rung in r.ladder, from the searches
// of every rung pooled (probe index = rung · n + image).
void AddQualityBinThresholds(const IdentificationRun& pooled,
                             const std::vector<ImageQuality>& quality, size_t n,
                             const EvalOptions& o, SystemReport& r) {
  std::vector<double> eyes, sharp;
  for (const SearchOutcome& so : pooled.outcomes) {
    const ImageQuality& q = quality[so.probe];
    if (std::isnan(q.eye_distance_px) || std::isnan(q.sharpness)) continue;
    eyes.push_back(q.eye_distance_px);
    sharp.push_back(q.sharpness);
  }
  if (eyes.size() < 9) return;
  // Tertile edges.
  auto edges = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return std::array<double, 2>{v[v.size() / 3], v[2 * v.size() / 3]};
  };
  const std::array<double, 2> eye_edges = edges(std::move(eyes));
  const std::array<double, 2> sharp_edges = edges(std::move(sharp));
  constexpr size_t kNoFace = 9;  // probes without quality figures: their own bin
  auto bin_of = [&](size_t probe) -> size_t {
    const ImageQuality& q = quality[probe];
    if (std::isnan(q.eye_distance_px) || std::isnan(q.sharpness)) return kNoFace;
    auto third = [](double v, const std::array<double, 2>& e) -> size_t {
      return v < e[0] ? 0 : (v < e[1] ? 1 : 2);
    };
    return third(q.eye_distance_px, eye_edges) * 3 + third(q.sharpness, sharp_edges);
  };
  std::array<std::vector<MatedSearch>, kNoFace + 1> mated;
  std::array<std::vector<double>, kNoFace + 1> non_mated;
  for (const SearchOutcome& so : pooled.outcomes) {
    const size_t b = bin_of(so.probe);
    mated[b].push_back(so.mated);
    non_mated[b].push_back(so.non_mated_top);
  }
  std::array<double, kNoFace + 1> threshold{};
  for (size_t b = 0; b <= kNoFace; ++b) {
    threshold[b] =
        mated[b].empty()
            ? 0
            : FnirAtFpir(mated[b], non_mated[b], o.recommend_fpir, o.fnir_rank).point.threshold;
  }
  std::vector<size_t> false_positives(r.ladder.size()), searches(r.ladder.size());
  std::vector<size_t> misses(r.ladder.size());
  for (const SearchOutcome& so : pooled.outcomes) {
    const size_t k = so.probe / n;
    if (k >= r.ladder.size()) continue;
    const double t = threshold[bin_of(so.probe)];
    // One-element FNIR/FPIR at the probe's own threshold, summed per rung.
    misses[k] += Fnir(std::span<const MatedSearch>(&so.mated, 1), t, o.fnir_rank) > 0.5 ? 1 : 0;
    const double fp = Fpir(std::span<const double>(&so.non_mated_top, 1), t);
    false_positives[k] += fp > 0.5 ? 1 : 0;
    ++searches[k];
  }
  for (size_t k = 0; k < r.ladder.size(); ++k) {
    if (searches[k] == 0) continue;
    const auto total = static_cast<double>(searches[k]);
    r.ladder[k].fnir_at_quality_bin_thresholds = static_cast<double>(misses[k]) / total;
    r.ladder[k].fpir_at_quality_bin_thresholds = static_cast<double>(false_positives[k]) / total;
  }
}

// SystemReport::ladder and ladder_by_eye_distance (needs the clean 1:N figures for their
// threshold).
Status AddLadder(const Dataset& d, const SystemResults& s, const EvalOptions& o, SystemReport& r) {
  if (s.ladder.empty()) return Status::Ok();
  if (!r.identification) {
    return InvalidArgument("the degradation ladder needs the 1:N figures (image vectors)");
  }
  const size_t n = d.images.size();
  const double t = std::isnan(o.ladder_threshold) ? r.identification->recommendation.point.threshold
                                                  : o.ladder_threshold;
  const std::vector<bool> gallery = IdentificationGallery(d);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const std::vector<double> edges = {0, 10, 15, 20, 25, 30, 40, 60, kInf};
  std::vector<std::vector<MatedSearch>> bins(edges.size() - 1);
  const std::vector<double>& eye_edges = QualityBinEyeEdges();
  const std::vector<double>& detail_edges = QualityBinDetailEdges();
  // Row-major (eye bin outer): the mated searches, and the same split by rung.
  std::vector<std::vector<MatedSearch>> qbins(eye_edges.size() * detail_edges.size());
  std::vector<std::vector<std::vector<MatedSearch>>> qbin_rungs(
      qbins.size(), std::vector<std::vector<MatedSearch>>(s.ladder.size()));
  const auto bin_of = [](const std::vector<double>& e, double v) {
    return static_cast<size_t>(std::upper_bound(e.begin(), e.end(), v) - e.begin() - 1);
  };
  const bool clean_landmarks = s.image_landmarks.size() == n;
  // Every rung's searches together; probe index = rung · n + image.
  IdentificationRun pooled;
  std::vector<ImageQuality> pooled_quality;
  for (const LadderResults& rung : s.ladder) {
    if (rung.image_vectors.size() != n ||
        (!rung.image_quality.empty() && rung.image_quality.size() != n) ||
        (!rung.image_landmarks.empty() && rung.image_landmarks.size() != n)) {
      return InvalidArgument("ladder rung " + rung.rung + ": results for " +
                             std::to_string(rung.image_vectors.size()) + " images, the data has " +
                             std::to_string(n));
    }
    SystemResults mixed;
    mixed.kind = s.kind;
    mixed.image_vectors = s.image_vectors;
    for (size_t i = 0; i < n; ++i) {
      if (!gallery[i] || rung.gallery_degraded) mixed.image_vectors[i] = rung.image_vectors[i];
    }
    const IdentificationRun run = RunIdentification(d, mixed);
    const size_t offset = pooled_quality.size();
    for (SearchOutcome so : run.outcomes) {
      so.probe += offset;
      pooled.outcomes.push_back(so);
    }
    if (rung.image_quality.empty()) {
      pooled_quality.resize(offset + n);  // unknown (NaN): never discarded
    } else {
      pooled_quality.insert(pooled_quality.end(), rung.image_quality.begin(),
                            rung.image_quality.end());
    }
    LadderFigures f;
    f.rung = rung.rung;
    f.scale = rung.scale;
    f.identification = MakeIdentification(
        run, [](size_t) { return true; }, std::nullopt, o);
    f.clean_threshold = t;
    std::vector<MatedSearch> mated;
    std::vector<double> non_mated, eyes, nmes;
    for (const SearchOutcome& so : run.outcomes) {
      mated.push_back(so.mated);
      non_mated.push_back(so.non_mated_top);
      ++f.probes;
      if (rung.image_vectors[so.probe].empty()) continue;
      ++f.probes_with_face;
      if (!rung.image_quality.empty()) {
        const ImageQuality& q = rung.image_quality[so.probe];
        const double eye_eff = q.GateEyeDistance(), detail = q.GateDetail();
        if (!std::isnan(eye_eff) && !std::isnan(detail) && eye_eff >= 0 && detail >= 0) {
          const size_t k =
              bin_of(eye_edges, eye_eff) * detail_edges.size() + bin_of(detail_edges, detail);
          qbins[k].push_back(so.mated);
          qbin_rungs[k][r.ladder.size()].push_back(so.mated);
        }
        const double eye = q.eye_distance_px;
        if (!std::isnan(eye)) {
          eyes.push_back(eye);
          const size_t b = static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), eye) -
                                               edges.begin() - 1);
          if (b < bins.size()) bins[b].push_back(so.mated);
        }
      }
      if (clean_landmarks && !rung.image_landmarks.empty() &&
          s.image_landmarks[so.probe].size() == kLandmarkFloats &&
          rung.image_landmarks[so.probe].size() == kLandmarkFloats) {
        const double nme =
            LandmarkNme(s.image_landmarks[so.probe], rung.image_landmarks[so.probe], rung.scale);
        if (!std::isnan(nme)) nmes.push_back(nme);
      }
    }
    if (o.gate) {
      std::vector<MatedSearch> passed, expected;
      double expected_sum = 0;
      for (const SearchOutcome& so : run.outcomes) {
        const ImageQuality q =
            rung.image_quality.empty() ? ImageQuality{} : rung.image_quality[so.probe];
        const bool has_face = !std::isnan(q.eye_distance_px);
        if (has_face && !o.gate->Passes(q)) {
          ++f.gate_refused;
          continue;
        }
        passed.push_back(so.mated);
        if (!has_face) continue;
        ++f.gate_passed_with_face;
        if (!o.expected_fnir) continue;
        const std::optional<double> e = o.expected_fnir(q.GateEyeDistance(), q.GateDetail());
        if (!e) continue;
        expected_sum += *e;
        expected.push_back(so.mated);
      }
      f.gate_fnir_passed = Fnir(passed, t, o.fnir_rank);
      f.gate_passed_with_expectation = expected.size();
      if (!expected.empty()) {
        f.gate_expected_fnir_mean = expected_sum / static_cast<double>(expected.size());
        f.gate_fnir_passed_with_expectation = Fnir(expected, t, o.fnir_rank);
      }
    }
    f.fnir_at_clean_threshold = Fnir(mated, t, o.fnir_rank);
    f.fpir_at_clean_threshold = Fpir(non_mated, t);
    f.median_eye_distance_px = Median(eyes);
    f.landmark_faces = nmes.size();
    if (!nmes.empty()) {
      double sum = 0;
      size_t failures = 0;
      for (double v : nmes) {
        sum += v;
        failures += v > kLandmarkFailureNme ? 1 : 0;
      }
      f.landmark_nme_mean = sum / static_cast<double>(nmes.size());
      f.landmark_failure_rate = static_cast<double>(failures) / static_cast<double>(nmes.size());
      f.landmark_nme_median = Median(std::move(nmes));
    }
    r.ladder.push_back(std::move(f));
  }
  for (size_t b = 0; b < bins.size(); ++b) {
    EyeDistanceBin e;
    e.lo = edges[b];
    e.hi = edges[b + 1];
    e.mated = bins[b].size();
    if (e.mated == 0) continue;
    size_t first = 0;
    for (const MatedSearch& m : bins[b]) first += m.mate_rank == 1 ? 1 : 0;
    e.rank1 = static_cast<double>(first) / static_cast<double>(e.mated);
    e.fnir = Fnir(bins[b], t, o.fnir_rank);
    r.ladder_by_eye_distance.push_back(e);
  }
  AddQualityBinThresholds(pooled, pooled_quality, n, o, r);
  for (size_t e = 0; e < eye_edges.size(); ++e) {
    for (size_t k = 0; k < detail_edges.size(); ++k) {
      const size_t i = e * detail_edges.size() + k;
      QualityBin b;
      b.eye_lo = eye_edges[e];
      b.eye_hi = e + 1 < eye_edges.size() ? eye_edges[e + 1] : kInf;
      b.detail_lo = detail_edges[k];
      b.detail_hi = k + 1 < detail_edges.size() ? detail_edges[k + 1] : kInf;
      b.mated = qbins[i].size();
      for (const std::vector<MatedSearch>& rung : qbin_rungs[i]) {
        b.per_rung.push_back(rung.size());
        b.per_rung_fnir.push_back(rung.empty() ? std::nan("") : Fnir(rung, t, o.fnir_rank));
      }
      if (b.mated > 0) {
        size_t first = 0;
        for (const MatedSearch& m : qbins[i]) first += m.mate_rank == 1 ? 1 : 0;
        b.rank1 = static_cast<double>(first) / static_cast<double>(b.mated);
        b.fnir = Fnir(qbins[i], t, o.fnir_rank);
      }
      r.ladder_quality_bins.push_back(std::move(b));
    }
  }
  // On the blur-aware figures (the plain ones where a probe has none): detail first, over every
  // probe; then the effective eye distance over the probes with detail enough. The plain
  // sharpness confounded size with blur (an enlarged small face reads blurred), so its limit
  // refused clean small faces for the failures of blurred ones (docs/ACCURACY.md).
  const double clean_fnir = r.identification->recommendation.fnir;
  ErrorVsDiscard sharp = MakeErrorVsDiscard(
      pooled, "detail", [&](size_t p) { return pooled_quality[p].GateDetail(); }, t, clean_fnir, o);
  IdentificationRun sharp_enough;
  for (const SearchOutcome& so : pooled.outcomes) {
    const double v = pooled_quality[so.probe].GateDetail();
    if (std::isnan(v) || v >= sharp.suggested_limit) sharp_enough.outcomes.push_back(so);
  }
  r.ladder_error_vs_discard.push_back(MakeErrorVsDiscard(
      sharp_enough, "effective_eye_distance_px",
      [&](size_t p) { return pooled_quality[p].GateEyeDistance(); }, t, clean_fnir, o));
  r.ladder_error_vs_discard.push_back(std::move(sharp));
  return Status::Ok();
}

Expected<SystemReport> EvaluateSystem(const Dataset& d, const SystemResults& s,
                                      const EvalOptions& o) {
  SystemReport r;
  r.name = s.name;
  r.description = s.description;
  r.kind = s.kind;
  r.fixed_threshold = s.fixed_threshold;
  if (s.has_vectors() && s.image_vectors.size() != d.images.size()) {
    return InvalidArgument(s.name + ": " + std::to_string(s.image_vectors.size()) +
                           " image vectors for " + std::to_string(d.images.size()) + " images");
  }
  if (!s.has_vectors() && s.pair_scores.size() != d.pairs.size()) {
    return InvalidArgument(s.name + ": " + std::to_string(s.pair_scores.size()) +
                           " pair scores for " + std::to_string(d.pairs.size()) + " pairs");
  }
  if (s.has_vectors()) {
    r.num_images = d.images.size();
    for (const auto& v : s.image_vectors) r.num_images_without_face += v.empty() ? 1 : 0;
  }

  // Official pairs.
  PairSource official = MakePairSource(d);
  if (!d.pairs.empty() && o.verification) {
    std::vector<PairScore> scored;
    for (size_t k = 0; k < d.pairs.size(); ++k) {
      const LabelledPair& p = d.pairs[k];
      const double score = s.has_vectors()
                               ? CompareVectors(s.image_vectors[p.a], s.image_vectors[p.b], s.kind)
                               : s.pair_scores[k];
      scored.push_back({score, p.genuine, p.fold});
      (p.genuine ? official.genuine : official.impostor).push_back(score);
      AddToGroups(d, p.a, p.b, p.genuine, score, official);
    }
    Expected<LeaveOneFoldOut> lfw = LeaveOneFoldOutAccuracy(scored);
    if (lfw.ok()) r.lfw = std::move(lfw).value();
    r.pairs = MakeVerification(official.genuine, official.impostor, o);
    if (s.fixed_threshold) {
      std::vector<PairScore> only_scored;
      for (const PairScore& p : scored) {
        if (!IsMissing(p.score)) only_scored.push_back(p);
      }
      r.accuracy_scored_at_fixed = AccuracyAtThreshold(only_scored, *s.fixed_threshold);
      r.accuracy_all_at_fixed = AccuracyAtThreshold(scored, *s.fixed_threshold);
    }
  }

  // All pairs of images.
  PairSource all = MakePairSource(d);
  const PairSource* group_source = &official;
  const VerificationFigures* global = r.pairs ? &*r.pairs : nullptr;
  if (s.has_vectors() && o.verification && o.all_pairs) {
    ForAllPairs(s, [&](size_t i, size_t j, double score) {
      const bool genuine = d.images[i].identity == d.images[j].identity;
      (genuine ? all.genuine : all.impostor).push_back(score);
      AddToGroups(d, i, j, genuine, score, all);
    });
    r.all_pairs = MakeVerification(all.genuine, all.impostor, o);
    group_source = &all;
    global = &*r.all_pairs;
  }
  if (global) {
    r.global_threshold =
        ThresholdAtFar(*global, group_source->genuine, group_source->impostor, o.group_far, o);
  }

  // 1:N.
  std::optional<IdentificationRun> run;
  if (s.has_vectors() && o.identification) {
    run = RunIdentification(d, s);
    r.identification = MakeIdentification(
        *run, [](size_t) { return true; }, s.fixed_threshold, o);
    if (s.image_quality.size() == d.images.size()) {
      const double t = r.identification->recommendation.point.threshold;
      const double fnir = r.identification->recommendation.fnir;
      r.identification->error_vs_discard.push_back(MakeErrorVsDiscard(
          *run, "eye_distance_px", [&](size_t p) { return s.image_quality[p].eye_distance_px; }, t,
          fnir, o));
      r.identification->error_vs_discard.push_back(MakeErrorVsDiscard(
          *run, "sharpness", [&](size_t p) { return s.image_quality[p].sharpness; }, t, fnir, o));
      if (o.gate) {
        GateEffect g;
        g.gate = *o.gate;
        std::vector<MatedSearch> mated, mated_passed;
        std::vector<double> non_mated, non_mated_passed;
        for (const SearchOutcome& so : run->outcomes) {
          const ImageQuality& q = s.image_quality[so.probe];
          const bool has_face = !std::isnan(q.eye_distance_px);
          // A probe without a face never reaches the gate (it is refused as "no face").
          const bool passes = !has_face || o.gate->Passes(q);
          g.probes += has_face ? 1 : 0;
          g.refused += passes ? 0 : 1;
          mated.push_back(so.mated);
          non_mated.push_back(so.non_mated_top);
          if (passes) {
            mated_passed.push_back(so.mated);
            non_mated_passed.push_back(so.non_mated_top);
          }
        }
        g.fnir_all = Fnir(mated, t, o.fnir_rank);
        g.fnir_passed = Fnir(mated_passed, t, o.fnir_rank);
        g.fpir_all = Fpir(non_mated, t);
        g.fpir_passed = Fpir(non_mated_passed, t);
        r.identification->gate = g;
      }
    }
  }

  FT_RETURN_IF_ERROR(AddLadder(d, s, o, r));

  // Groups: each figure within the group; rates at the global thresholds.
  for (size_t c = 0; c < d.groups.size(); ++c) {
    const GroupColumn& col = d.groups[c];
    for (size_t v = 0; v < col.values.size(); ++v) {
      GroupFigures g;
      g.column = col.name;
      g.value = col.values[v];
      g.num_images = static_cast<size_t>(
          std::count(col.image_group.begin(), col.image_group.end(), static_cast<int>(v)));
      if (global) {
        const auto& gen = group_source->group_genuine[c][v];
        const auto& imp = group_source->group_impostor[c][v];
        g.verification = MakeVerification(gen, imp, o);
        g.at_global_threshold = RatesAt(gen, imp, r.global_threshold);
      }
      if (run) {
        const auto in_group = [&col, v](size_t probe) {
          return col.image_group[probe] == static_cast<int>(v);
        };
        g.identification = MakeIdentification(*run, in_group, s.fixed_threshold, o);
        std::vector<MatedSearch> mated;
        std::vector<double> non_mated;
        for (const SearchOutcome& so : run->outcomes) {
          if (!in_group(so.probe)) continue;
          mated.push_back(so.mated);
          non_mated.push_back(so.non_mated_top);
        }
        const double t = r.identification->recommendation.point.threshold;
        g.fpir_at_global = Fpir(non_mated, t);
        g.fnir_at_global = Fnir(mated, t, o.fnir_rank);
      }
      r.groups.push_back(std::move(g));
    }
  }
  return r;
}

}  // namespace

std::vector<bool> IdentificationGallery(const Dataset& dataset) {
  std::vector<bool> gallery(dataset.images.size(), false);
  for (const auto& [identity, image] : GalleryOf(dataset)) gallery[image] = true;
  return gallery;
}

Expected<Report> Evaluate(const Dataset& dataset, const std::vector<SystemResults>& systems,
                          const EvalOptions& options) {
  Report report;
  report.dataset_root = dataset.root;
  report.num_images = dataset.images.size();
  report.num_pairs = dataset.pairs.size();
  std::set<std::string> identities;
  for (const LabelledImage& i : dataset.images) identities.insert(i.identity);
  report.num_identities = identities.size();
  report.options = options;
  for (const SystemResults& s : systems) {
    Expected<SystemReport> r = EvaluateSystem(dataset, s, options);
    if (!r.ok()) return r.status().WithContext("evaluate " + s.name);
    report.systems.push_back(std::move(r).value());
  }
  return report;
}

}  // namespace facetrail::eval
