// JPEG deblocking on a real face: it removes block edges (the pipeline's own blockiness figure
// falls) and brings a q30 image closer to what was compressed, and leaves an image without
// blocks almost untouched.
#include "vision/enhance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "vision/degrade.h"
#include "vision/internal/evidence.h"

namespace facetrail::vision {
namespace {

Image Photo() {
  auto img = LoadImageFile(std::string(FACETRAIL_SHARED_DIR) +
                           "/data/lfw-deepfunneled-dev/images/Aaron_Sorkin/Aaron_Sorkin_0001.jpg");
  EXPECT_TRUE(img.ok()) << img.status().ToString();
  return img.ok() ? std::move(img->image) : Image{};
}

double Rmse(const Image& a, const Image& b) {
  double sum = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) {
    const double d = double(a.rgb[i]) - double(b.rgb[i]);
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(a.rgb.size()));
}

double Blockiness(const Image& img) {
  return internal::Blockiness(internal::GreyCrop(img, 0, 0, img.width, img.height), 0, 0);
}

TEST(EnhanceTest, DeblockingRemovesJpegBlockEdges) {
  const Image photo = Photo();
  ASSERT_FALSE(photo.empty());
  auto half = Degrade(photo, Degradation{0.5, 0, 0});
  auto q30 = Degrade(photo, Degradation{0.5, 0, 30});
  ASSERT_TRUE(half.ok() && q30.ok());
  auto deblocked = DeblockJpeg(*q30);
  ASSERT_TRUE(deblocked.ok()) << deblocked.status().ToString();
  EXPECT_EQ(deblocked->width, q30->width);
  EXPECT_EQ(deblocked->height, q30->height);
  const double before = Blockiness(*q30), after = Blockiness(*deblocked);
  EXPECT_GT(before, 1.3);
  EXPECT_LT(after, before - 0.2) << before << " → " << after;
  EXPECT_LT(Rmse(*deblocked, *half), Rmse(*q30, *half));
}

TEST(EnhanceTest, DeblockingLeavesAnUncompressedImageAlmostAlone) {
  const Image photo = Photo();
  ASSERT_FALSE(photo.empty());
  auto half = Degrade(photo, Degradation{0.5, 0, 0});
  ASSERT_TRUE(half.ok());
  auto deblocked = DeblockJpeg(*half);
  ASSERT_TRUE(deblocked.ok());
  // It smooths across every 8th column and row whatever the image, but without block steps
  // the ramps are small.
  EXPECT_LT(Rmse(*deblocked, *half), 2.0);
}

TEST(EnhanceTest, DeblockingRefusesBadInput) {
  EXPECT_FALSE(DeblockJpeg(Image{}).ok());
  const Image tiny{3, 2, std::vector<uint8_t>(3 * 2 * 3, 9)};
  auto t = DeblockJpeg(tiny);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->rgb, tiny.rgb);  // no block edge inside
  EXPECT_FALSE(DeblockJpeg(tiny, 0).ok());
  EXPECT_FALSE(DeblockJpeg(tiny, std::nan("")).ok());
  EXPECT_FALSE(DeblockJpeg(tiny, 300).ok());
}

}  // namespace
}  // namespace facetrail::vision
