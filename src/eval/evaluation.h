// The evaluation protocols of `facetrail eval`: a labelled image folder, per-image templates of
// one or more systems (ours, the face-api.js reference), the standard 1:1 and 1:N protocols
// computed with eval/metrics.h, and the report (HTML with inline SVG, JSON, CSV).
// docs/EVAL.md states every protocol choice; this header states the contracts.
//
// WHAT THIS REPRESENTS
//   Dataset: the labels (identities.csv; optional pairs.csv, folds.csv, a groups CSV).
//   SystemResults: what one system produced per image (the chosen face's vector, or nothing),
//     or only per-pair scores (a reference distance CSV).
//   Evaluate(): every figure of the report for each system, by the same code.
//
// THREAD SAFETY
//   Functions are reentrant; TemplateCache is not thread-safe (guard it or use it from one thread).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "eval/metrics.h"

namespace facetrail::eval {

// ------------------------------------------------------------------------------------ dataset

struct LabelledImage {
  std::string path;  // as written in identities.csv, relative to Dataset::root
  std::string identity;
};

struct LabelledPair {
  size_t a = 0, b = 0;  // indices into Dataset::images
  bool genuine = false;
  int fold = 0;  // 0 when neither pairs.csv nor folds.csv gives one
};

struct GroupColumn {
  std::string name;                 // e.g. "sex"
  std::vector<std::string> values;  // distinct values, sorted
  std::vector<int> image_group;     // per image: index into values, -1 when unknown
};

struct Dataset {
  std::string root;                   // the folder; image paths are relative to it
  std::vector<LabelledImage> images;  // identities.csv order
  std::vector<LabelledPair> pairs;    // pairs.csv order; empty without pairs.csv
  std::vector<GroupColumn> groups;    // from LoadGroups
  std::map<std::string, size_t> index_by_path;
  // What was tolerated while loading (e.g. folds.csv rows whose role is not a fold), for the user.
  std::vector<std::string> warnings;

  // The image's path: as written when absolute, else relative to the folder.
  std::string AbsolutePath(size_t image) const {
    const std::string& p = images[image].path;
    return !p.empty() && p[0] == '/' ? p : root + "/" + p;
  }
};

// Reads DIR/identities.csv (columns path,identity), DIR/pairs.csv if present (path_a,path_b,same
// and optionally fold; same is 1/0/true/false), DIR/folds.csv if present (identity,role with
// role "foldN" or N; gives a pair the fold of its first image's identity when pairs.csv has no
// fold column; other roles, and a folds.csv that cannot be read, are Dataset::warnings, never
// errors: the file is optional). Errors (kInvalidArgument) name the file, line and column: a
// duplicate path, a pair naming an image not in identities.csv, a bad `same` or fold value.
Expected<Dataset> LoadDataset(const std::string& dir);

// Adds group columns from a CSV whose first column is `path` (an image path as in
// identities.csv) or `identity`, and whose other columns are group labels (e.g. sex,age_group).
// Empty cells mean unknown. Rows naming no image of the dataset are ignored and counted in
// `num_unmatched` (a groups file may cover a larger archive). Malformed CSV: kInvalidArgument.
Status LoadGroups(const std::string& csv_path, Dataset& dataset, size_t* num_unmatched = nullptr);

// -------------------------------------------------------------------------------- results

enum class ScoreKind {
  kDotProduct,         // unit-norm templates: score = cosine similarity
  kNegativeEuclidean,  // raw descriptors (face-api.js): score = −‖a − b‖₂
};

// The quality figures of the face that represents an image (vision::FaceQuality); NaN unknown.
// The blur-aware figures (docs/PIPELINE.md, "Quality figures that cannot be faked") separate what
// the face carries from its size in pixels and from noise: `effective_eye_distance_px` is the eye
// distance over the enlargement the image's own pixels show (blur reads as enlargement), and
// `detail` is the sharpness without the noise's share.
struct ImageQuality {
  double eye_distance_px = std::numeric_limits<double>::quiet_NaN();
  double sharpness = std::numeric_limits<double>::quiet_NaN();
  double noise_sigma = std::numeric_limits<double>::quiet_NaN();
  double detail = std::numeric_limits<double>::quiet_NaN();
  double effective_scale = std::numeric_limits<double>::quiet_NaN();
  double effective_eye_distance_px = std::numeric_limits<double>::quiet_NaN();
  double blockiness = std::numeric_limits<double>::quiet_NaN();
  // The figures the gate reads: the blur-aware ones, the plain ones where those are unknown.
  double GateEyeDistance() const {
    return std::isnan(effective_eye_distance_px) ? eye_distance_px : effective_eye_distance_px;
  }
  double GateDetail() const { return std::isnan(detail) ? sharpness : detail; }
};

// One rung of the degradation ladder (vision/degrade.h): what a system produced for each probe
// image degraded this way. Gallery images (each identity's first) are never degraded: their
// entries are ignored and the clean results used.
struct LadderResults {
  std::string rung;  // vision::Degradation::Name(), e.g. "0.5+blur0.8+jpeg30"
  double scale = 1;  // maps landmarks back to the original image's pixels
  // The gallery degraded the same way too (an upper bound: a gallery matched to each probe's
  // degradation), when true; else the gallery images' entries are ignored.
  bool gallery_degraded = false;
  std::vector<std::vector<double>> image_vectors;  // as SystemResults::image_vectors
  std::vector<ImageQuality> image_quality;
  std::vector<std::vector<float>> image_landmarks;  // as SystemResults::image_landmarks
};

struct SystemResults {
  std::string name;  // shown in the report, e.g. "facetrail similarity"
  std::string description;
  ScoreKind kind = ScoreKind::kDotProduct;
  // Per dataset image: the vector of the face that represents the image, empty when no face was
  // found (or the image failed). Empty outer vector: only pair_scores are known.
  std::vector<std::vector<double>> image_vectors;
  // Per Dataset::pairs entry, used only when image_vectors is empty: the score, NaN = missing.
  std::vector<double> pair_scores;
  // Per dataset image (or empty: unknown): quality figures for the error-versus-discard curves.
  std::vector<ImageQuality> image_quality;
  // Per dataset image (or empty: unknown): the chosen face's 68 landmarks, x0 y0 x1 y1 …, in the
  // image's pixels; empty for an image without a face. For the ladder's landmark error.
  std::vector<std::vector<float>> image_landmarks;
  // The degradation ladder's rungs (EvalOptions has no say: a system has them or not).
  std::vector<LadderResults> ladder;
  // A threshold the system ships with, in score units (face-api.js: distance 0.6 → −0.6); the
  // report adds accuracy at it on scored pairs (run.mjs's "accuracy_at_threshold").
  std::optional<double> fixed_threshold;

  bool has_vectors() const { return !image_vectors.empty(); }
};

// Reads run.mjs detect/pairs output (JSON lines). For each `"type":"image"` line without an
// "error", the image's face is faces[0] (face-api.js's order: highest detector score first; the
// same face run.mjs's default --pick score uses) and its vector is that face's `descriptor`.
// Paths are matched to the dataset as written, or resolved against the current folder, the
// JSONL's folder or the dataset root. A later line for the same image replaces an earlier one.
// Images never mentioned count as "no face". Malformed JSON or fields: kInvalidArgument with the
// line number. Sets kind = kNegativeEuclidean and fixed_threshold = −0.6.
Expected<SystemResults> ReadFaceApiJsonl(const std::string& path, const Dataset& dataset);

// Reads a pair distance CSV (path_a,path_b,same[,fold],distance; an empty distance = missing),
// e.g. the reference's reference/lfw-dev-pairs-distances.csv. Scores are −distance. Every row
// must name a pair of dataset.pairs with the same label; pairs not in the file are missing.
Expected<SystemResults> ReadPairDistancesCsv(const std::string& path, const Dataset& dataset);

// Score of two image vectors under `kind`; NaN when either is empty.
double CompareVectors(const std::vector<double>& a, const std::vector<double>& b, ScoreKind kind);

// --------------------------------------------------------------------------------- protocols

// A probe quality gate: probes below either limit are refused (policy::QualityGate's figures):
// the eye distance limit applies to the plain and the effective eye distance, the sharpness limit
// to the sharpness and the detail (policy::CheckProbeQuality).
struct QualityGate {
  double min_eye_distance_px = 0;
  double min_sharpness = 0;
  bool Passes(const ImageQuality& q) const {
    return q.eye_distance_px >= min_eye_distance_px && q.sharpness >= min_sharpness &&
           !(q.GateEyeDistance() < min_eye_distance_px) && !(q.GateDetail() < min_sharpness);
  }
};

struct EvalOptions {
  std::vector<double> target_fars = {1e-2, 1e-3, 1e-4};
  std::vector<double> target_fpirs = {0.1, 0.01};
  double recommend_fpir = 0.01;  // threshold recommendation target
  int max_rank = 50;             // CMC length
  int fnir_rank = 1;             // R in FNIR(T, R)
  // The FAR at which each group's FMR/FNMR is read off the global threshold.
  double group_far = 1e-3;
  bool verification = true;    // 1:1 figures (official pairs, and all pairs when enabled)
  bool all_pairs = true;       // 1:1 over every pair of images (needs image vectors)
  bool identification = true;  // 1:N figures (needs image vectors)
  // Error versus discard: the fractions of lowest-quality probes discarded (1:N; needs
  // SystemResults::image_quality).
  std::vector<double> discard_fractions = {0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5};
  // The gate whose effect the report shows (refusals and the FNIR/FPIR they buy), if any.
  std::optional<QualityGate> gate;
  // Suggested gate limits: a band of probes (a sliding window of mated probes sorted by one
  // quality figure) is unacceptable when its FNIR exceeds this; NaN = 2 × the overall FNIR +
  // 0.05 (at the recommended threshold). docs/EVAL.md, "Error versus discard".
  double gate_max_fnir = std::numeric_limits<double>::quiet_NaN();
  // The score the ladder's figures "at the clean threshold" (FNIR and FPIR per rung, the gate's
  // effect, the quality bins, the expected-FNIR comparison) are read at; NaN = the clean
  // recommended threshold of this run. A model's shipped candidate threshold, so that a table
  // is measured at the score it is stated at even where this run's templates (another CPU's
  // rounding) put the recommended threshold a hair away.
  double ladder_threshold = std::numeric_limits<double>::quiet_NaN();
  // The expected FNIR a search would state for a probe (the model's expected-FNIR table,
  // vision::LookupExpectedFnir): (effective eye distance px, detail) → its bin's FNIR, nullopt
  // where the table states none. With `gate`, each ladder rung reports the expectation of the
  // probes the gate lets through beside their measured FNIR (LadderFigures).
  std::function<std::optional<double>(double, double)> expected_fnir;
};

// Score distributions of the positive (genuine / mate) and negative (impostor / non-mated top)
// class over a shared range [lo, hi] (the observed finite scores), for the report's plots.
struct ScoreHistogram {
  double lo = 0, hi = 1;
  std::vector<size_t> positive, negative;
};

struct VerificationFigures {
  size_t num_genuine = 0, num_impostor = 0;
  size_t num_genuine_missing = 0, num_impostor_missing = 0;
  RocCurve roc;                            // missing scores included (as −inf)
  RocCurve roc_scored;                     // missing scores dropped
  std::vector<OperatingPoint> tar_at_far;  // one per EvalOptions::target_fars
  ScoreSummary genuine_summary, impostor_summary;
  ScoreHistogram histogram;
};

// One point of an error-versus-discard curve (ISO/IEC 29794-1): the `fraction` of probes with
// the lowest quality figure discarded (those below `limit`), and the 1:N error rates of the rest
// at the recommended threshold of all probes (FNIR at rank EvalOptions::fnir_rank).
struct DiscardPoint {
  double fraction = 0;
  double limit = 0;  // the quality value below which probes were discarded
  size_t kept = 0;   // probes (searches) kept
  double fnir = 0, fpir = 0;
};

struct ErrorVsDiscard {
  std::string measure;  // "eye_distance_px" or "sharpness"
  std::vector<DiscardPoint> points;
  // The suggested gate limit: the middle of the highest-quality band of mated probes whose FNIR
  // exceeds max_fnir (a band's FNIR stands for its middle), or the lowest value measured when no
  // band does (below it accuracy was not measured). `band` mated probes a band.
  double suggested_limit = 0;
  double max_fnir = 0;
  size_t band = 0;
  double worst_band_fnir = 0;  // the highest band FNIR seen
};

// What EvalOptions::gate does on this data: the probes it refuses and the error rates of the
// rest, at the recommended threshold.
struct GateEffect {
  QualityGate gate;
  size_t probes = 0, refused = 0;  // probes with a face, and of them refused by the gate
  double fnir_all = 0, fnir_passed = 0;
  double fpir_all = 0, fpir_passed = 0;
};

struct IdentificationFigures {
  size_t gallery_size = 0, gallery_without_template = 0;
  size_t num_mated = 0, num_non_mated = 0, probes_without_template = 0;
  std::vector<double> cmc;  // [r-1], r = 1..max_rank
  std::vector<IdentificationPoint> fnir_at_fpir;
  IdentificationPoint recommendation;
  // FPIR and FNIR(·, R) at SystemResults::fixed_threshold; NaN without one.
  double fpir_at_fixed = std::numeric_limits<double>::quiet_NaN();
  double fnir_at_fixed = std::numeric_limits<double>::quiet_NaN();
  ScoreHistogram histogram;                      // mate scores vs non-mated top scores
  std::vector<ErrorVsDiscard> error_vs_discard;  // with image quality: one per figure
  std::optional<GateEffect> gate;                // with EvalOptions::gate
};

// 1:N with the probes of one ladder rung against the clean gallery.
struct LadderFigures {
  std::string rung;
  double scale = 1;
  size_t probes = 0, probes_with_face = 0;
  double median_eye_distance_px = std::numeric_limits<double>::quiet_NaN();
  // Its own figures: CMC, FNIR at each target FPIR with this rung's own thresholds.
  IdentificationFigures identification;
  // At the clean data's recommended threshold (IdentificationFigures::recommendation of the
  // undegraded probes): what a deployment calibrated on good probes sees with these.
  double clean_threshold = 0, fnir_at_clean_threshold = 0, fpir_at_clean_threshold = 0;
  // Landmark error against the same face's landmarks in the clean image (mapped to the same
  // pixels): per face the mean distance over the 68 points divided by the clean outer-eye-corner
  // distance (NME); the mean and median over faces found in both, and the share above 10 %.
  // With EvalOptions::gate: probes it refuses, and FNIR (clean threshold) of those it passes.
  size_t gate_refused = 0;
  double gate_fnir_passed = std::numeric_limits<double>::quiet_NaN();
  // With EvalOptions::expected_fnir too, over the probes the gate passes that have a face: how
  // many of them the table states an FNIR for, the mean of those stated FNIRs (what searchers
  // were told on average), and the measured FNIR (clean threshold) of the same probes. The
  // expectation is read at the table's threshold, the measurement at the clean one: the same
  // score when the model was calibrated on this data.
  size_t gate_passed_with_face = 0, gate_passed_with_expectation = 0;
  double gate_expected_fnir_mean = std::numeric_limits<double>::quiet_NaN();
  double gate_fnir_passed_with_expectation = std::numeric_limits<double>::quiet_NaN();
  // Resolution-aware thresholds, measured only (nothing ships them): the probes of every rung
  // pooled and cut into 3 × 3 bins by the tertiles of their eye distance and sharpness (figures
  // of the probe alone); each bin gets the threshold that holds its own FPIR at
  // EvalOptions::recommend_fpir. This rung's FNIR and FPIR when each probe meets its bin's
  // threshold. NaN without quality figures.
  double fnir_at_quality_bin_thresholds = std::numeric_limits<double>::quiet_NaN();
  double fpir_at_quality_bin_thresholds = std::numeric_limits<double>::quiet_NaN();
  size_t landmark_faces = 0;
  double landmark_nme_mean = std::numeric_limits<double>::quiet_NaN();
  double landmark_nme_median = std::numeric_limits<double>::quiet_NaN();
  double landmark_failure_rate = std::numeric_limits<double>::quiet_NaN();
};

// Mated searches of every rung (clean included) binned by the probe's eye distance.
struct EyeDistanceBin {
  double lo = 0, hi = 0;  // [lo, hi) pixels
  size_t mated = 0;       // mated searches whose probe had a face in the bin
  double rank1 = 0;       // share with the mate first
  double fnir = 0;        // FNIR at the clean recommended threshold (rank EvalOptions::fnir_rank)
};

// Mated searches of every rung (clean included) binned by the probe's blur-aware figures: the
// effective eye distance [eye_lo, eye_hi) and the detail [detail_lo, detail_hi) (hi = +inf for
// the last bin). Every bin of the grid is listed, empty ones with mated = 0 and NaN rates.
struct QualityBin {
  double eye_lo = 0, eye_hi = 0, detail_lo = 0, detail_hi = 0;
  size_t mated = 0;
  double rank1 = std::numeric_limits<double>::quiet_NaN();
  double fnir = std::numeric_limits<double>::quiet_NaN();  // at the clean recommended threshold
  // How many came from each rung (SystemReport::ladder order): which degradations fill the bin,
  // and each rung's own FNIR in the bin (NaN where it put none). A bin's pooled FNIR is the
  // average of its rungs' weighted by their counts: a rung that misses more than the others is
  // understated by it (DeriveCalibration states the worst rung's instead).
  std::vector<size_t> per_rung;
  std::vector<double> per_rung_fnir;
};

// The bin edges of SystemReport::ladder_quality_bins (the last bin of each is open-ended).
inline const std::vector<double>& QualityBinEyeEdges() {
  static const std::vector<double> kEdges = {0, 8, 10, 12, 15, 20, 25, 30, 40};
  return kEdges;
}
inline const std::vector<double>& QualityBinDetailEdges() {
  static const std::vector<double> kEdges = {0, 2, 5, 10, 20, 40};
  return kEdges;
}

struct GroupFigures {
  std::string column, value;
  size_t num_images = 0;
  std::optional<VerificationFigures> verification;  // pairs within the group
  RatesAtThreshold at_global_threshold;             // FMR/FNMR at the global FAR threshold
  std::optional<IdentificationFigures> identification;
  double fpir_at_global = 0, fnir_at_global = 0;  // at the global recommended 1:N threshold
};

struct SystemReport {
  std::string name, description;
  ScoreKind kind = ScoreKind::kDotProduct;
  size_t num_images = 0, num_images_without_face = 0;  // 0/0 for pair-only systems
  // Official pairs (pairs.csv), when present.
  std::optional<LeaveOneFoldOut> lfw;
  std::optional<VerificationFigures> pairs;
  std::optional<double> fixed_threshold;
  double accuracy_scored_at_fixed = 0;  // on scored pairs only, as run.mjs prints it
  double accuracy_all_at_fixed = 0;     // missing = error
  // All pairs of images, and 1:N (need image vectors).
  std::optional<VerificationFigures> all_pairs;
  double global_threshold = 0;  // the all-pairs threshold at EvalOptions::group_far
  std::optional<IdentificationFigures> identification;
  std::vector<GroupFigures> groups;
  std::vector<LadderFigures> ladder;  // one per SystemResults::ladder rung, in its order
  std::vector<EyeDistanceBin> ladder_by_eye_distance;
  // The same searches on the blur-aware figures: effective eye distance × detail, row-major
  // (eye bin outer). What the calibration's expected-FNIR table is made of.
  std::vector<QualityBin> ladder_quality_bins;
  // Error versus discard over the probes of every rung together, at the clean recommended
  // threshold, with the clean FNIR as the reference for the unacceptable bands: the quality
  // limits a ladder supports (DeriveCalibration prefers them to the clean data's), on the
  // blur-aware figures: "effective_eye_distance_px" (first, measured over the probes that pass
  // the detail limit) and "detail" (second).
  std::vector<ErrorVsDiscard> ladder_error_vs_discard;
};

struct Report {
  std::string dataset_root;
  size_t num_images = 0, num_identities = 0, num_pairs = 0;
  EvalOptions options;
  std::vector<SystemReport> systems;
  std::string command_line;
  std::string created_utc;
};

// The 1:N protocol's gallery: per identity its first image in path order (LFW: the lowest
// _NNNN); true at those indices. Every other image is a probe.
std::vector<bool> IdentificationGallery(const Dataset& dataset);

// Computes every figure for each system. kInvalidArgument when a system's vectors or pair scores
// do not match the dataset's sizes.
Expected<Report> Evaluate(const Dataset& dataset, const std::vector<SystemResults>& systems,
                          const EvalOptions& options);

// ------------------------------------------------------------------------------ calibration

// The thresholds and quality limits one system's figures support (what `eval report
// --calibrate` writes into a model's manifest; vision::Calibration holds the same numbers).
struct DerivedCalibration {
  std::string source;  // the data and protocol, in words
  // Candidate lists: the recommended threshold (EvalOptions::recommend_fpir) and its cost.
  double candidate_score = 0, candidate_fpir = 0, candidate_fnir = 0;
  int64_t gallery_size = 0;
  // 1:1: the threshold at FAR = EvalOptions::group_far over all pairs (official pairs when
  // all pairs were not computed) and its FNMR.
  double compare_score = 0, compare_far = 0, compare_fnmr = 0;
  // Quality gate: the error-versus-discard suggestions.
  double min_eye_distance_px = 0, min_sharpness = 0;
  std::string quality_basis;
  // From a ladder: the expected FNIR at candidate_score per bin of the blur-aware figures
  // (SystemReport::ladder_quality_bins), conservative per degradation: the highest FNIR among
  // the rungs with at least kMinBinMated mated searches in the bin (QualityBin::per_rung_fnir),
  // not the bin's pooled FNIR, so that no rung of the ladder is told less than it misses there.
  // Bins where no rung has kMinBinMated searches have none (NaN). Empty without a ladder.
  static constexpr size_t kMinBinMated = 30;
  std::vector<double> bin_eye_edges, bin_detail_edges;
  std::vector<std::vector<double>> bin_fnir;    // [eye bin][detail bin]; NaN = too few searches
  std::vector<std::vector<int64_t>> bin_mated;  // [eye bin][detail bin]
  std::string bin_source;                       // the rungs and the threshold, in words
};
// kFailedPrecondition when the report lacks what a calibration needs (1:N figures, 1:1
// figures, error-versus-discard curves), naming what is missing.
Expected<DerivedCalibration> DeriveCalibration(const Report& report, const SystemReport& system);

// Writes OUT/report.html (self-contained: inline SVG and CSS, no script, no network asset),
// OUT/report.json, and CSVs (lfw_folds.csv, operating_points.csv, roc.csv, cmc.csv, groups.csv).
// Creates OUT. kIoError names the file.
Status WriteReport(const Report& report, const std::string& out_dir);
// The short text summary printed on the terminal.
std::string TextSummary(const Report& report);

// ------------------------------------------------------------------------------ template cache

// A file of per-image vectors and quality figures keyed by (image path, file size, mtime in ns,
// model id, options): a re-run with other thresholds or targets skips the pipeline. Format: magic
// "FTEVCACHE", version, records (docs/EVAL.md). A damaged or foreign file is ignored (Open
// reports it in `warning`) and rewritten by Save.
class TemplateCache {
 public:
  struct Entry {
    bool has_face = false;
    // The chosen face's quality figures (NaN when unknown).
    float eye_distance_px = std::numeric_limits<float>::quiet_NaN();
    float sharpness = std::numeric_limits<float>::quiet_NaN();
    float noise_sigma = std::numeric_limits<float>::quiet_NaN();
    float detail = std::numeric_limits<float>::quiet_NaN();
    float effective_scale = std::numeric_limits<float>::quiet_NaN();
    float effective_eye_distance_px = std::numeric_limits<float>::quiet_NaN();
    float blockiness = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> templ;      // the chosen face's unit template (the model's dimension)
    std::vector<float> landmarks;  // its 68 landmarks, x y per point (image pixels)
  };
  explicit TemplateCache(std::string path) : path_(std::move(path)) {}

  // Loads the file if it exists. Never fails: problems are described in *warning.
  void Open(std::string* warning);
  // Looks up `image_path` for (model_id, align); stats the file for size and mtime.
  std::optional<Entry> Find(const std::string& image_path, const std::string& model_id) const;
  void Put(const std::string& image_path, const std::string& model_id, Entry entry);
  // Writes the whole cache atomically (common/file.h). kIoError on failure.
  Status Save() const;
  size_t size() const { return entries_.size(); }

 private:
  struct Key {
    std::string image_path, model_id;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    // clang-tidy 14 takes the literal 0 that the defaulted <=> compares with for a null pointer
    // (llvm/llvm-project#53961, fixed in clang-tidy 18).
    auto operator<=>(const Key&) const = default;  // NOLINT(modernize-use-nullptr)
  };
  static std::optional<Key> MakeKey(const std::string& image_path, const std::string& model_id);

  std::string path_;
  std::map<Key, Entry> entries_;
};

}  // namespace facetrail::eval
