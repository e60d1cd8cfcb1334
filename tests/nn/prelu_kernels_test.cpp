// The AVX-512 PReLU kernel gives exactly the scalar one's floats (one multiply per negative
// value, the rest untouched), for channel counts around the 16-lane width and its tails.
#include "nn/internal/prelu_kernels.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace facetrail::nn::internal {
namespace {

TEST(PReluKernelsTest, Avx512EqualsScalarBitForBit) {
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "no AVX-512F on this CPU";
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-2.f, 2.f);
  for (size_t channels : {1, 3, 15, 16, 17, 31, 32, 33, 64, 100, 512}) {
    SCOPED_TRACE(channels);
    const size_t rows = 7;
    std::vector<float> slopes(channels), data;
    for (float& s : slopes) s = dist(rng);
    data.push_back(-0.f);  // a signed zero stays as it is
    while (data.size() < rows * channels) data.push_back(dist(rng));
    std::vector<float> scalar = data, avx = data;
    PReluScalar(scalar.data(), rows, slopes.data(), channels);
    PReluAvx512(avx.data(), rows, slopes.data(), channels);
    ASSERT_EQ(std::memcmp(scalar.data(), avx.data(), data.size() * sizeof(float)), 0);
    for (size_t i = 0; i < data.size(); ++i) {
      const float want = data[i] < 0 ? data[i] * slopes[i % channels] : data[i];
      ASSERT_EQ(scalar[i], want) << i;
    }
  }
}

TEST(PReluKernelsTest, KernelIsTheFastestTheCpuRuns) {
  EXPECT_EQ(PReluKernel(), __builtin_cpu_supports("avx512f") ? &PReluAvx512 : &PReluScalar);
}

}  // namespace
}  // namespace facetrail::nn::internal
