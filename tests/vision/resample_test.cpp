// Resampling edge cases (the face pipeline itself rejects empty images before it gets here).
#include "vision/internal/resample.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace facetrail::vision::internal {
namespace {

// A chip that shrinks the image (one chip pixel spans 4 image pixels) box-filters it first;
// an empty image has nothing to filter and must give a black chip, not divide by zero.
TEST(ResampleTest, ShrinkingWarpOfAnEmptyImageIsBlack) {
  const Affine shrink{4, 0, 0, 0, 4, 0};
  for (const Image& empty : {Image{}, Image{0, 5, {}}, Image{5, 0, {}}}) {
    const FloatImage chip = WarpAffine(empty, shrink, 8);
    ASSERT_EQ(chip.width, 8);
    ASSERT_EQ(chip.height, 8);
    ASSERT_EQ(chip.data.size(), 8u * 8 * 3);
    EXPECT_TRUE(std::all_of(chip.data.begin(), chip.data.end(), [](float v) { return v == 0.f; }));
  }
}

}  // namespace
}  // namespace facetrail::vision::internal
