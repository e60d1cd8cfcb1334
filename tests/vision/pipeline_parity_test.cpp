// Parity with face-api.js: our faceapi alignment mode must reproduce the reference's boxes,
// scores, landmarks and descriptors on identical decoded pixels. Golden values were produced by
// the real face-api.js 1.7.15 (tests/golden/faceapi/README.md says how); the decoded pixels are
// checked against the golden's SHA-256 first, so a mismatch there is a decoder difference, not a
// network one.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "vision/face_pipeline.h"

namespace facetrail::vision {
namespace {

namespace fs = std::filesystem;

struct Golden {
  std::string name;
  nlohmann::json json;
};

std::vector<Golden> LoadGoldens() {
  std::vector<Golden> out;
  fs::path dir = fs::path(FACETRAIL_SOURCE_DIR) / "tests/golden/faceapi";
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    out.push_back({entry.path().stem().string(), nlohmann::json::parse(in)});
  }
  std::sort(out.begin(), out.end(),
            [](const Golden& a, const Golden& b) { return a.name < b.name; });
  return out;
}

std::string SourcePath(const nlohmann::json& g) {
  std::string s = g.at("source");
  if (s.rfind("models/", 0) == 0) {
    return std::string(FACETRAIL_MODELS_DIR) + "/" + s.substr(std::string("models/").size());
  }
  return std::string(FACETRAIL_SHARED_DIR) + "/data/" + s;
}

class ParityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PipelineOptions o;
    o.models_dir = FACETRAIL_MODELS_DIR;
    o.model = "faceapi-resnet";
    o.align = AlignMode::kFaceApi;
    auto p = FacePipeline::Create(o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pipeline_ = std::move(*p).release();
  }
  static void TearDownTestSuite() {
    delete pipeline_;
    pipeline_ = nullptr;
  }
  static FacePipeline* pipeline_;
};
FacePipeline* ParityTest::pipeline_ = nullptr;

TEST_F(ParityTest, MatchesFaceApiOnIdenticalPixels) {
  auto goldens = LoadGoldens();
  ASSERT_GE(goldens.size(), 15u);
  int faces_checked = 0;
  for (const auto& g : goldens) {
    SCOPED_TRACE(g.name);
    auto img = LoadImageFile(SourcePath(g.json));
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    ASSERT_EQ(img->image.width, g.json.at("width").get<int>());
    ASSERT_EQ(img->image.height, g.json.at("height").get<int>());
    ASSERT_EQ(Sha256Hex(img->image.rgb), g.json.at("pixels_sha256").get<std::string>())
        << "decoded pixels differ from djpeg's";
    auto faces = pipeline_->Process(img->image);
    ASSERT_TRUE(faces.ok()) << faces.status().ToString();
    const auto& gf = g.json.at("faces");
    ASSERT_EQ(faces->size(), gf.size());
    for (size_t i = 0; i < gf.size(); ++i) {
      const Face& f = (*faces)[i];
      const auto& e = gf[i];
      EXPECT_NEAR(f.score, e.at("score").get<double>(), 1e-3);
      EXPECT_NEAR(f.box.x, e["box"]["x"].get<double>(), 0.5);
      EXPECT_NEAR(f.box.y, e["box"]["y"].get<double>(), 0.5);
      EXPECT_NEAR(f.box.width, e["box"]["width"].get<double>(), 0.5);
      EXPECT_NEAR(f.box.height, e["box"]["height"].get<double>(), 0.5);
      double worst_landmark = 0;
      for (size_t k = 0; k < kNumLandmarks; ++k) {
        worst_landmark = std::max(
            worst_landmark, std::hypot(f.landmarks[k].x - e["landmarks"][k][0].get<double>(),
                                       f.landmarks[k].y - e["landmarks"][k][1].get<double>()));
      }
      EXPECT_LT(worst_landmark, 0.5);
      ASSERT_EQ(f.descriptor.size(), size_t{128});
      double d2 = 0;
      for (size_t k = 0; k < 128; ++k) {
        const double diff = f.descriptor[k] - e["descriptor"][k].get<double>();
        d2 += diff * diff;
      }
      EXPECT_LT(std::sqrt(d2), 1e-3) << "face " << i;
      ++faces_checked;
    }
  }
  EXPECT_GE(faces_checked, 40);
}

}  // namespace
}  // namespace facetrail::vision
