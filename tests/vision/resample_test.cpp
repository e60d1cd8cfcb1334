// Resampling edge cases (the face pipeline itself rejects empty images before it gets here).
#include "vision/internal/resample.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "vision/degrade.h"

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

Image Photo() {
  auto img = LoadImageFile(std::string(FACETRAIL_SHARED_DIR) +
                           "/data/lfw-deepfunneled-dev/images/Aaron_Sorkin/Aaron_Sorkin_0001.jpg");
  EXPECT_TRUE(img.ok()) << img.status().ToString();
  return img.ok() ? std::move(img->image) : Image{};
}

// Root-mean-square difference between a chip and the image's own pixels at (x0 + c, y0 + r).
double Rmse(const FloatImage& chip, const Image& image, int x0, int y0) {
  double sum = 0;
  for (int r = 0; r < chip.height; ++r) {
    for (int c = 0; c < chip.width; ++c) {
      for (int ch = 0; ch < 3; ++ch) {
        const double d = chip.data[(static_cast<size_t>(r) * chip.width + c) * 3 + ch] -
                         image.row(y0 + r)[(x0 + c) * 3 + ch];
        sum += d * d;
      }
    }
  }
  return std::sqrt(sum / (chip.width * chip.height * 3.0));
}

// A real face halved (area averaging) and enlarged back 2× by the warp: the sharper kernels
// come closer to the original pixels than bilinear (what they are for: small faces enlarged to
// the network's chip), Lanczos-3 at least as close as bicubic.
TEST(ResampleTest, SharperKernelsRestoreAHalvedFaceBetter) {
  const Image photo = Photo();
  ASSERT_FALSE(photo.empty());
  auto half = Degrade(photo, Degradation{0.5, 0, 0});
  ASSERT_TRUE(half.ok());
  // Chip pixel (c, r) ↔ original pixel (60 + c, 60 + r): half-size pixel (u + 0.5)/2 − 0.5.
  const Affine up{0.5, 0, (60 + 0.5) / 2 - 0.5, 0, 0.5, (60 + 0.5) / 2 - 0.5};
  const double bilinear = Rmse(WarpAffine(*half, up, 128), photo, 60, 60);
  const double bicubic = Rmse(WarpAffine(*half, up, 128, Interpolation::kBicubic), photo, 60, 60);
  const double lanczos = Rmse(WarpAffine(*half, up, 128, Interpolation::kLanczos3), photo, 60, 60);
  EXPECT_LT(bicubic, bilinear * 0.97) << bicubic << " vs " << bilinear;
  EXPECT_LE(lanczos, bicubic * 1.01) << lanczos << " vs " << bicubic;
}

// The kernels interpolate: where the chip samples a pixel centre exactly, it gets that pixel;
// a flat image stays flat (weights sum to one) away from the border.
TEST(ResampleTest, SharperKernelsInterpolateAndKeepFlatAreasFlat) {
  const Image photo = Photo();
  ASSERT_FALSE(photo.empty());
  const Affine up{0.5, 0, 40, 0, 0.5, 50};
  for (Interpolation kind : {Interpolation::kBicubic, Interpolation::kLanczos3}) {
    const FloatImage chip = WarpAffine(photo, up, 64, kind);
    for (int r = 0; r < 64; r += 2) {
      for (int c = 0; c < 64; c += 2) {
        for (int ch = 0; ch < 3; ++ch) {
          ASSERT_NEAR(chip.data[(static_cast<size_t>(r) * 64 + c) * 3 + ch],
                      photo.row(50 + r / 2)[(40 + c / 2) * 3 + ch], 1e-3);
        }
      }
    }
    Image flat{40, 40, std::vector<uint8_t>(40 * 40 * 3, 77)};
    const FloatImage f = WarpAffine(flat, Affine{0.37, 0.1, 8, -0.1, 0.37, 9}, 50, kind);
    for (float v : f.data) ASSERT_NEAR(v, 77.f, 1e-3);
  }
}

// Where the chip does not enlarge (one chip pixel spans ≥ 1 image pixel) every kernel gives the
// bilinear chip: large faces, booking photos among them, get the same templates as before.
TEST(ResampleTest, KernelIsOnlyUsedWhereTheChipEnlarges) {
  const Image photo = Photo();
  ASSERT_FALSE(photo.empty());
  for (const Affine& m : {Affine{1.0, 0, 30, 0, 1.0, 30}, Affine{1.3, 0.2, 20, -0.2, 1.3, 40},
                          Affine{2.5, 0, 0, 0, 2.5, 0}}) {
    const FloatImage bilinear = WarpAffine(photo, m, 80);
    EXPECT_EQ(WarpAffine(photo, m, 80, Interpolation::kBicubic).data, bilinear.data);
    EXPECT_EQ(WarpAffine(photo, m, 80, Interpolation::kLanczos3).data, bilinear.data);
  }
  // Enlarging: they differ.
  const Affine up{0.5, 0, 40, 0, 0.5, 50};
  EXPECT_NE(WarpAffine(photo, up, 64, Interpolation::kBicubic).data,
            WarpAffine(photo, up, 64).data);
}

// Hostile geometry: a chip entirely outside the image, or hugging its corner, is black there
// and never reads outside the pixels.
TEST(ResampleTest, SharperKernelsOutsideTheImageAreBlack) {
  const Image photo = Photo();
  ASSERT_FALSE(photo.empty());
  for (Interpolation kind : {Interpolation::kBicubic, Interpolation::kLanczos3}) {
    const FloatImage far = WarpAffine(photo, Affine{0.5, 0, 1e6, 0, 0.5, -1e6}, 16, kind);
    EXPECT_TRUE(std::all_of(far.data.begin(), far.data.end(), [](float v) { return v == 0.f; }));
    const FloatImage corner = WarpAffine(photo, Affine{0.5, 0, -4, 0, 0.5, -4}, 32, kind);
    EXPECT_EQ(corner.data[0], 0.f);
    EXPECT_GT(corner.data.back(), 0.f);
    EXPECT_TRUE(WarpAffine(Image{}, Affine{0.5, 0, 0, 0, 0.5, 0}, 8, kind).data ==
                std::vector<float>(8 * 8 * 3, 0.f));
  }
}

}  // namespace
}  // namespace facetrail::vision::internal
