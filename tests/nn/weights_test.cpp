// TF.js weight manifests: dequantisation, shapes, and damaged files.
#include "nn/weights.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace facetrail::nn {
namespace {

namespace fs = std::filesystem;

class WeightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("facetrail_weights_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& data) {
    std::ofstream(dir_ / name, std::ios::binary) << data;
  }
  fs::path dir_;
};

TEST_F(WeightsTest, DequantisesUint8AndReadsFloat32) {
  Write("m-weights_manifest.json",
        R"([{"paths":["m.bin"],"weights":[
          {"name":"q","shape":[2,2],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1.0}},
          {"name":"f","shape":[1],"dtype":"float32"}]}])");
  float f = 3.25f;
  std::string bin = {char(0), char(1), char(2), char(255)};
  bin.append(reinterpret_cast<const char*>(&f), 4);
  Write("m.bin", bin);
  auto w = WeightMap::Load(dir_.string(), "m");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto q = w->Get("q", {2, 2});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)->values, (std::vector<float>{-1.0f, -0.5f, 0.0f, 126.5f}));
  auto fl = w->Get("f");
  ASSERT_TRUE(fl.ok());
  EXPECT_EQ((*fl)->values[0], 3.25f);
  EXPECT_EQ(w->Get("q", {4}).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(w->Get("missing").status().code(), StatusCode::kNotFound);
}

TEST_F(WeightsTest, ShortAndLongDataAreDataLoss) {
  Write("m-weights_manifest.json",
        R"([{"paths":["m.bin"],"weights":[{"name":"f","shape":[4],"dtype":"float32"}]}])");
  Write("m.bin", std::string(8, '\0'));
  auto w = WeightMap::Load(dir_.string(), "m");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(w.status().message().find("shorter"), std::string::npos);
  Write("m.bin", std::string(20, '\0'));
  EXPECT_EQ(WeightMap::Load(dir_.string(), "m").status().code(), StatusCode::kDataLoss);
}

TEST_F(WeightsTest, MalformedManifestIsDataLoss) {
  Write("m-weights_manifest.json", "{not json");
  EXPECT_EQ(WeightMap::Load(dir_.string(), "m").status().code(), StatusCode::kDataLoss);
  Write("m-weights_manifest.json", R"([{"paths":[],"weights":[{"name":1}]}])");
  EXPECT_EQ(WeightMap::Load(dir_.string(), "m").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(WeightMap::Load(dir_.string(), "absent").status().code(), StatusCode::kNotFound);
}

TEST(RealWeightsTest, FaceApiModelsLoadWithDocumentedCounts) {
  auto ssd = WeightMap::Load(FACETRAIL_MODELS_DIR, "ssd_mobilenetv1_model");
  ASSERT_TRUE(ssd.ok()) << ssd.status().ToString();
  EXPECT_EQ(ssd->size(), 151u);
  auto lm = WeightMap::Load(FACETRAIL_MODELS_DIR, "face_landmark_68_model");
  ASSERT_TRUE(lm.ok());
  EXPECT_EQ(lm->size(), 49u);
  auto rec = WeightMap::Load(FACETRAIL_MODELS_DIR, "face_recognition_model");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->size(), 117u);
}

}  // namespace
}  // namespace facetrail::nn
