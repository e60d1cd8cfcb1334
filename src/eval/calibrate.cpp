// DeriveCalibration: the thresholds and quality limits a report's figures support.
#include <cmath>
#include <filesystem>
#include <sstream>

#include "eval/evaluation.h"

namespace facetrail::eval {

Expected<DerivedCalibration> DeriveCalibration(const Report& report, const SystemReport& s) {
  if (!s.identification) {
    return FailedPrecondition("a calibration needs the 1:N figures (eval report, not verify)");
  }
  const IdentificationFigures& id = *s.identification;
  const std::optional<VerificationFigures>& one_to_one = s.all_pairs ? s.all_pairs : s.pairs;
  if (!one_to_one) return FailedPrecondition("a calibration needs 1:1 figures (pairs)");
  if (id.error_vs_discard.size() != 2) {
    return FailedPrecondition("a calibration needs the probes' quality figures");
  }
  const OperatingPoint* compare = nullptr;
  for (size_t k = 0; k < report.options.target_fars.size(); ++k) {
    if (report.options.target_fars[k] == report.options.group_far) {
      compare = &one_to_one->tar_at_far[k];
    }
  }
  if (!compare) {
    return FailedPrecondition("the 1:1 threshold at FAR " +
                              std::to_string(report.options.group_far) + " was not computed");
  }
  if (id.num_mated == id.probes_without_template ||
      !std::isfinite(id.recommendation.point.threshold) || !std::isfinite(compare->threshold)) {
    return FailedPrecondition(
        "no threshold can be derived: the probes have no face or no score above the others "
        "(check that the data's images were read: see the report's images without a face)");
  }
  if (!id.recommendation.point.resolved || !compare->resolved) {
    return FailedPrecondition(
        "the data has too few non-mated searches or impostor pairs to measure the target rates");
  }
  DerivedCalibration c;
  std::ostringstream source;
  source << std::filesystem::path(report.dataset_root).filename().string() << ": "
         << report.num_images << " images, " << report.num_identities
         << " identities; facetrail eval (1:N: first image of each identity enrolled, every "
            "other image a probe; 1:1: "
         << (s.all_pairs ? "all pairs" : "official pairs") << ")";
  c.source = source.str();
  c.candidate_score = id.recommendation.point.threshold;
  c.candidate_fpir = id.recommendation.point.rate;
  c.candidate_fnir = id.recommendation.fnir;
  c.gallery_size = static_cast<int64_t>(id.gallery_size);
  c.compare_score = compare->threshold;
  c.compare_far = compare->rate;
  c.compare_fnmr = 1 - compare->hit;
  // Quality limits: from the degradation ladder when the report has one (the probes a gate is
  // for), else from the clean probes.
  const bool from_ladder = s.ladder_error_vs_discard.size() == 2;
  std::ostringstream basis;
  if (from_ladder) {
    basis << "degradation ladder (";
    for (size_t k = 0; k < s.ladder.size(); ++k) basis << (k ? ", " : "") << s.ladder[k].rung;
    basis << "; every rung's probes together, at the candidate threshold): ";
  }
  for (const ErrorVsDiscard& e : from_ladder ? s.ladder_error_vs_discard : id.error_vs_discard) {
    const bool eye = e.measure == "eye_distance_px" || e.measure == "effective_eye_distance_px";
    (eye ? c.min_eye_distance_px : c.min_sharpness) = e.suggested_limit;
    basis << (eye ? "" : "; ") << e.measure << " " << e.suggested_limit << ": "
          << (e.worst_band_fnir > e.max_fnir
                  ? "the middle of the highest band of " + std::to_string(e.band) +
                        " mated probes with FNIR above " + std::to_string(e.max_fnir)
                  : "the lowest value measured (no band of " + std::to_string(e.band) +
                        " mated probes had FNIR above " + std::to_string(e.max_fnir) +
                        "; below it accuracy was not measured)");
  }
  if (from_ladder) {
    basis << ". The gate applies the eye-distance limit to the plain and the effective eye "
             "distance, the sharpness limit to the sharpness and the detail";
  }
  c.quality_basis = basis.str();
  // The expected FNIR per bin of the blur-aware figures, at the candidate threshold.
  if (from_ladder && !s.ladder_quality_bins.empty()) {
    c.bin_eye_edges = QualityBinEyeEdges();
    c.bin_detail_edges = QualityBinDetailEdges();
    const size_t cols = c.bin_detail_edges.size();
    if (s.ladder_quality_bins.size() != c.bin_eye_edges.size() * cols) {
      return Internal("ladder quality bins do not match the bin edges");
    }
    c.bin_fnir.assign(c.bin_eye_edges.size(), std::vector<double>(cols, std::nan("")));
    c.bin_mated.assign(c.bin_eye_edges.size(), std::vector<int64_t>(cols, 0));
    for (size_t i = 0; i < s.ladder_quality_bins.size(); ++i) {
      const QualityBin& b = s.ladder_quality_bins[i];
      if (b.per_rung.size() != b.per_rung_fnir.size()) {
        return Internal("ladder quality bin without its per-rung FNIRs");
      }
      c.bin_mated[i / cols][i % cols] = static_cast<int64_t>(b.mated);
      // Not the pooled FNIR (an average over whichever degradations fill the bin, which tells
      // the worse ones less than they miss): the worst rung with enough searches to measure it.
      double worst = std::nan("");
      for (size_t k = 0; k < b.per_rung.size(); ++k) {
        if (b.per_rung[k] >= DerivedCalibration::kMinBinMated && !(worst >= b.per_rung_fnir[k])) {
          worst = b.per_rung_fnir[k];
        }
      }
      c.bin_fnir[i / cols][i % cols] = worst;
    }
    std::ostringstream bins;
    bins << "mated searches of the degradation ladder (";
    for (size_t k = 0; k < s.ladder.size(); ++k) bins << (k ? ", " : "") << s.ladder[k].rung;
    bins << ") against the clean gallery of " << id.gallery_size
         << ", binned by the probe's effective eye distance and detail; per bin the highest FNIR "
            "(rank "
         << report.options.fnir_rank
         << ") at the candidate threshold among the rungs with at least "
         << DerivedCalibration::kMinBinMated
         << " searches in it (not the bins' pooled average: no rung is told less than it "
            "misses there); bins where no rung has that many are not stated";
    c.bin_source = bins.str();
  }
  return c;
}

}  // namespace facetrail::eval
