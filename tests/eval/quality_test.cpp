// Error versus discard, the quality gate's effect and the calibration derived from a report, on a
// synthetic set where the small-faced probes are exactly the ones that fail.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "eval/evaluation.h"

namespace facetrail::eval {
namespace {

namespace fs = std::filesystem;

// 100 identities with 3 images each: image 0 is the gallery image, images 1 and 2 probes. Each
// identity has its own direction in 100 dimensions; a probe either sits on it (found at rank 1
// with score 0.9) or, for the 40 probes with the smallest faces (eye distance < 20 px), points
// halfway between two other identities (score 0 with its mate: a miss). Eye distances run from 10
// to 69.5 px; sharpness is the same for all (it predicts nothing).
struct Fixture {
  Dataset dataset;
  SystemResults system;
};

Fixture Make() {
  const std::string dir =
      (fs::temp_directory_path() / ("ft_quality_" + std::to_string(getpid()))).string();
  fs::create_directories(dir);
  std::ofstream ids(dir + "/identities.csv");
  ids << "path,identity\n";
  constexpr int kPeople = 100, kDim = 100;
  for (int p = 0; p < kPeople; ++p) {
    for (int i = 0; i < 3; ++i) ids << "p" << p << "_" << i << ".jpg,person" << p << "\n";
  }
  ids.close();
  Fixture f;
  auto d = LoadDataset(dir);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  f.dataset = std::move(*d);
  fs::remove_all(dir);
  f.system.name = "synthetic";
  f.system.image_vectors.resize(f.dataset.images.size());
  f.system.image_quality.resize(f.dataset.images.size());
  int probe_number = 0;
  for (size_t k = 0; k < f.dataset.images.size(); ++k) {
    const std::string& path = f.dataset.images[k].path;
    const int person = std::stoi(path.substr(1, path.find('_') - 1));
    const bool gallery = path.ends_with("_0.jpg");
    std::vector<double> v(kDim, 0.0);
    double eye = 80;
    if (gallery) {
      v[static_cast<size_t>(person)] = 1;
    } else {
      eye = 10 + 0.3 * probe_number;  // 200 probes: 10 .. 69.7 px
      ++probe_number;
      if (eye < 22) {  // the 40 smallest: misses
        v[static_cast<size_t>((person + 1) % kPeople)] = std::sqrt(0.5);
        v[static_cast<size_t>((person + 2) % kPeople)] = std::sqrt(0.5);
      } else {
        v[static_cast<size_t>(person)] = 0.9;
        v[static_cast<size_t>((person + 50) % kPeople)] = std::sqrt(1 - 0.81);
      }
    }
    f.system.image_vectors[k] = v;
    f.system.image_quality[k] = {eye, 50.0};
  }
  return f;
}

TEST(QualityTest, ErrorVersusDiscardFindsTheFailingBandAndTheGateEffect) {
  Fixture f = Make();
  EvalOptions o;
  o.all_pairs = false;
  o.gate = QualityGate{30, 0};
  auto r = Evaluate(f.dataset, {f.system}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const IdentificationFigures& id = *r->systems[0].identification;
  EXPECT_EQ(id.num_mated, 200u);
  EXPECT_NEAR(id.recommendation.fnir, 0.2, 1e-9);  // the 40 small faces
  ASSERT_EQ(id.error_vs_discard.size(), 2u);
  const ErrorVsDiscard& eye = id.error_vs_discard[0];
  ASSERT_EQ(eye.measure, "eye_distance_px");
  // Discarding the smallest 20 % removes every miss; the curve falls linearly to it.
  for (const DiscardPoint& p : eye.points) {
    SCOPED_TRACE(p.fraction);
    const double misses_left = std::max(0.0, 40.0 - p.fraction * 200);
    EXPECT_NEAR(p.fnir, misses_left / (200 - p.fraction * 200), 1e-9);
  }
  // Bands of 50 mated probes (the first holds the 40 misses); the last band with FNIR above
  // 2 × 0.2 + 0.05 = 0.45 starts at probe 17 (23 misses of 50); its middle, probe 42, is at
  // 22.6 px, just above the last miss (21.7 px).
  EXPECT_NEAR(eye.max_fnir, 0.45, 1e-9);
  EXPECT_EQ(eye.band, 50u);
  EXPECT_DOUBLE_EQ(eye.worst_band_fnir, 0.8);  // the first band: 40 misses of 50
  EXPECT_NEAR(eye.suggested_limit, 22.6, 1e-9);
  // Sharpness is the same everywhere: discarding by it cannot help, and its limit is the edge.
  const ErrorVsDiscard& sharp = id.error_vs_discard[1];
  EXPECT_DOUBLE_EQ(sharp.suggested_limit, 50.0);
  // The gate at 30 px refuses the 67 probes below it, every miss among them.
  ASSERT_TRUE(id.gate);
  EXPECT_EQ(id.gate->probes, 200u);
  EXPECT_EQ(id.gate->refused, 67u);
  EXPECT_NEAR(id.gate->fnir_all, 0.2, 1e-9);
  EXPECT_NEAR(id.gate->fnir_passed, 0.0, 1e-9);
}

TEST(QualityTest, CalibrationComesFromTheFigures) {
  Fixture f = Make();
  EvalOptions o;
  auto r = Evaluate(f.dataset, {f.system}, o);
  ASSERT_TRUE(r.ok());
  auto c = DeriveCalibration(*r, r->systems[0]);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const IdentificationFigures& id = *r->systems[0].identification;
  EXPECT_EQ(c->candidate_score, id.recommendation.point.threshold);
  EXPECT_EQ(c->candidate_fnir, id.recommendation.fnir);
  EXPECT_EQ(c->gallery_size, 100);
  EXPECT_EQ(c->min_eye_distance_px, id.error_vs_discard[0].suggested_limit);
  EXPECT_NE(c->quality_basis.find("eye_distance_px"), std::string::npos);
  EXPECT_FALSE(c->source.empty());
  // Without 1:N figures, or without quality figures, there is nothing to calibrate from.
  EvalOptions verify_only;
  verify_only.identification = false;
  auto v = Evaluate(f.dataset, {f.system}, verify_only);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(DeriveCalibration(*v, v->systems[0]).status().code(), StatusCode::kFailedPrecondition);
  // No face anywhere: no threshold (never an infinite one written into a manifest).
  SystemResults faceless = f.system;
  for (auto& vectors : faceless.image_vectors) vectors.clear();
  auto fl = Evaluate(f.dataset, {faceless}, o);
  ASSERT_TRUE(fl.ok());
  EXPECT_EQ(DeriveCalibration(*fl, fl->systems[0]).status().code(),
            StatusCode::kFailedPrecondition);
  SystemResults no_quality = f.system;
  no_quality.image_quality.clear();
  auto nq = Evaluate(f.dataset, {no_quality}, o);
  ASSERT_TRUE(nq.ok());
  EXPECT_EQ(DeriveCalibration(*nq, nq->systems[0]).status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace facetrail::eval
