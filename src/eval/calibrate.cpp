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
    (e.measure == "eye_distance_px" ? c.min_eye_distance_px : c.min_sharpness) = e.suggested_limit;
    basis << (e.measure == "sharpness" ? "; " : "") << e.measure << " " << e.suggested_limit << ": "
          << (e.worst_band_fnir > e.max_fnir
                  ? "the middle of the highest band of " + std::to_string(e.band) +
                        " mated probes with FNIR above " + std::to_string(e.max_fnir)
                  : "the lowest value measured (no band of " + std::to_string(e.band) +
                        " mated probes had FNIR above " + std::to_string(e.max_fnir) +
                        "; below it accuracy was not measured)");
  }
  c.quality_basis = basis.str();
  return c;
}

}  // namespace facetrail::eval
