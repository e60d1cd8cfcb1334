// fr_feature.onnx on nn's layers against onnxruntime: the inputs and onnxruntime's outputs are
// in tests/golden/onnx (tools/golden/onnx/make_golden.sh). fp32 must agree to L2 ≤ 1e-4 over
// the 512 raw numbers; bf16 must stay close to fp32 in direction (cosine).
#include "nn/onnx.h"

#include <gtest/gtest.h>
#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/sha256.h"

namespace facetrail::nn {
namespace {

const std::string kModel = std::string(FACETRAIL_MODELS_DIR) + "/fr_feature.onnx";
const std::string kGolden = std::string(FACETRAIL_SOURCE_DIR) + "/tests/golden/onnx";

// The PNG's pixels as the network input: NHWC {112, 112, 3}, channels B, G, R, (v − 127) / 128
// (exact in float, as in the golden generator).
Tensor LoadInput(const std::string& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  Tensor t;
  if (png_image_begin_read_from_file(&image, path.c_str()) == 0) {
    ADD_FAILURE() << path << ": " << image.message;
    return t;
  }
  image.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> rgb(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, rgb.data(), 0, nullptr) == 0) {
    ADD_FAILURE() << path << ": " << image.message;
    return t;
  }
  t.Resize({static_cast<int>(image.height), static_cast<int>(image.width), 3});
  for (size_t i = 0; i < t.shape.size() / 3; ++i) {
    for (size_t c = 0; c < 3; ++c) {
      t.data[i * 3 + c] = (static_cast<float>(rgb[i * 3 + (2 - c)]) - 127.f) / 128.f;
    }
  }
  return t;
}

nlohmann::json LoadGolden() {
  std::ifstream in(kGolden + "/fr_feature.json");
  return nlohmann::json::parse(in);
}

double L2(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
  return std::sqrt(s);
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += double{a[i]} * b[i];
    aa += double{a[i]} * a[i];
    bb += double{b[i]} * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

TEST(OnnxFrFeatureTest, InspectReportsTheModel) {
  auto info = InspectOnnx(kModel);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->producer, "pytorch 1.10");
  EXPECT_EQ(info->opset, 9);
  EXPECT_EQ(info->num_parameters, 1190338);
  ASSERT_EQ(info->inputs.size(), 1u);
  EXPECT_EQ(info->inputs[0].name, "input");
  EXPECT_EQ(info->inputs[0].dims, (std::vector<int64_t>{1, 3, 112, 112}));
  ASSERT_EQ(info->outputs.size(), 1u);
  EXPECT_EQ(info->outputs[0].dims, (std::vector<int64_t>{1, 512}));
  EXPECT_EQ(info->operators, (std::vector<std::string>{"Conv", "PRelu", "Add", "Reshape"}));
  EXPECT_TRUE(info->unsupported_operators.empty());
}

TEST(OnnxFrFeatureTest, LoadsAndFusesEverythingIntoConvolutions) {
  auto net = OnnxNetwork::Load(kModel);
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  EXPECT_EQ((*net)->input_shape(), (Shape{112, 112, 3}));
  EXPECT_EQ((*net)->output_dims(), (std::vector<int64_t>{1, 512}));
  EXPECT_EQ((*net)->output_size(), 512u);
  // 221,161,984 multiply-adds per face over the 50 convolutions (kh·kw·cin/groups per output).
  EXPECT_EQ((*net)->flops(), 2 * 221161984.0);
  // 50 steps: every PRelu and Add fused into a convolution, the Reshape free.
  const std::string summary = (*net)->Summary();
  EXPECT_EQ(std::count(summary.begin(), summary.end(), '\n'), 51) << summary;
  EXPECT_EQ(summary.find("'PRelu"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("'Add"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Reshape (no copy)"), std::string::npos) << summary;
}

TEST(OnnxFrFeatureTest, Fp32MatchesOnnxruntime) {
  const nlohmann::json golden = LoadGolden();
  auto digest = Sha256FileHex(kModel);
  ASSERT_TRUE(digest.ok());
  ASSERT_EQ(*digest, golden["model_sha256"].get<std::string>())
      << "the golden file is for another model";
  auto net = OnnxNetwork::Load(kModel);
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  ASSERT_GE(golden["cases"].size(), 4u);
  for (const auto& c : golden["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const Tensor input = LoadInput(kGolden + "/" + c["image"].get<std::string>());
    std::vector<float> out;
    ASSERT_TRUE((*net)->Run(input, out).ok());
    const auto expected = c["output"].get<std::vector<float>>();
    ASSERT_EQ(out.size(), expected.size());
    const double l2 = L2(out, expected);
    double norm = 0, worst = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      norm += double{expected[i]} * expected[i];
      worst = std::max(worst, std::fabs(double{out[i]} - expected[i]));
    }
    EXPECT_LE(l2, 1e-4) << "max |diff| " << worst;
    std::printf("  %-22s fp32 vs onnxruntime: L2 %.3g (output norm %.3g), max |diff| %.3g\n",
                c["name"].get<std::string>().c_str(), l2, std::sqrt(norm), worst);
  }
}

// bf16 rounds inputs and weights of every convolution to 8 mantissa bits; over 50 layers the
// template keeps its direction: cosine to fp32 ≥ 0.999 on every input (measured 0.9997 to
// 0.9999 on AVX512-BF16, 2026-12).
TEST(OnnxFrFeatureTest, Bf16StaysCloseToFp32) {
  const nlohmann::json golden = LoadGolden();
  OnnxLoadOptions bf16;
  bf16.precision = Precision::kBf16;
  auto f32 = OnnxNetwork::Load(kModel);
  auto b16 = OnnxNetwork::Load(kModel, bf16);
  ASSERT_TRUE(f32.ok() && b16.ok());
  for (const auto& c : golden["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const Tensor input = LoadInput(kGolden + "/" + c["image"].get<std::string>());
    std::vector<float> a, b;
    ASSERT_TRUE((*f32)->Run(input, a).ok());
    ASSERT_TRUE((*b16)->Run(input, b).ok());
    const double cosine = Cosine(a, b);
    EXPECT_GE(cosine, 0.999);
    std::printf("  %-22s bf16 vs fp32: cosine %.6f, L2 %.3g\n",
                c["name"].get<std::string>().c_str(), cosine, L2(a, b));
  }
}

TEST(OnnxFrFeatureTest, RunRefusesAWrongInputShape) {
  auto net = OnnxNetwork::Load(kModel);
  ASSERT_TRUE(net.ok());
  std::vector<float> out = {1, 2, 3};
  const Status s = (*net)->Run(Tensor({112, 112, 4}), out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("112x112x3"), std::string::npos) << s.message();
  EXPECT_EQ(out.size(), 3u);
}

TEST(OnnxFrFeatureTest, MissingFileIsNotFound) {
  auto net = OnnxNetwork::Load(std::string(FACETRAIL_MODELS_DIR) + "/no_such_model.onnx");
  EXPECT_EQ(net.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(InspectOnnx("/nonexistent/x.onnx").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace facetrail::nn
