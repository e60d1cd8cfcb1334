// Every first-pass kernel against the scalar reference, on random and extreme codes.
#include <gtest/gtest.h>

#include <random>

#include "search/internal/dot_kernels.h"

namespace facetrail::search::internal {
namespace {

TEST(DotKernels, EveryLevelEqualsScalar) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127);
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{4}, size_t{5}, size_t{1000}}) {
    std::vector<uint8_t> codes(n * kDim);
    for (auto& c : codes) c = static_cast<uint8_t>(u8(rng));
    if (n > 0) std::fill(codes.begin(), codes.begin() + kDim, uint8_t{255});  // extremes
    int8_t probe[kDim];
    for (auto& p : probe) p = static_cast<int8_t>(s8(rng));
    probe[0] = -127;
    std::vector<int32_t> want(n), got(n);
    DotU8S8Scalar(codes.data(), n, probe, want.data());
    for (SimdLevel level : SupportedSimdLevels()) {
      SCOPED_TRACE(std::string(SimdLevelName(level)) + " n=" + std::to_string(n));
      std::fill(got.begin(), got.end(), -1);
      DotKernel(level)(codes.data(), n, probe, got.data());
      EXPECT_EQ(got, want);
    }
  }
}

TEST(DotKernels, ReportsAvx512OnThisMachine) {
  // The development machine has VNNI (docs/MACHINE.md); if not, the fast path is untested.
  EXPECT_EQ(DetectSimdLevel(), SimdLevel::kAvx512Vnni);
}

}  // namespace
}  // namespace facetrail::search::internal
