// The degradation ladder's instrument: exact area averaging, blur, JPEG round trip, the rung
// grammar, and the same bytes on every run.
#include "vision/degrade.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "vision/image.h"

namespace facetrail::vision {
namespace {

Image Gradient(int w, int h) {
  Image img{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.row(y) + x * 3;
      p[0] = static_cast<uint8_t>(x * 255 / (w - 1));
      p[1] = static_cast<uint8_t>(y * 255 / (h - 1));
      p[2] = static_cast<uint8_t>((x + y) % 2 ? 200 : 40);  // a checkerboard: pure detail
    }
  }
  return img;
}

TEST(DegradeTest, AreaAverageKeepsTheMeanAndHalvesExactly) {
  const Image src = Gradient(100, 60);
  auto half = Degrade(src, {0.5, 0, 0});
  ASSERT_TRUE(half.ok()) << half.status().ToString();
  EXPECT_EQ(half->width, 50);
  EXPECT_EQ(half->height, 30);
  // At exactly half, each pixel is the mean of a 2 × 2 block: the checkerboard becomes 120.
  for (int y = 0; y < half->height; ++y) {
    for (int x = 0; x < half->width; ++x) {
      EXPECT_EQ(half->row(y)[x * 3 + 2], 120) << x << "," << y;
      const int expect_r =
          static_cast<int>(std::lround((src.row(2 * y)[6 * x] + src.row(2 * y)[6 * x + 3]) / 2.0));
      EXPECT_NEAR(half->row(y)[x * 3], expect_r, 1);
    }
  }
  // A fractional scale: sides rounded, a constant image stays constant.
  Image flat{37, 23, std::vector<uint8_t>(37 * 23 * 3, 77)};
  auto small = Degrade(flat, {0.35, 0, 0});
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->width, 13);  // round(12.95)
  EXPECT_EQ(small->height, 8);  // round(8.05)
  for (uint8_t v : small->rgb) EXPECT_EQ(v, 77);
}

TEST(DegradeTest, BlurSmoothsDetailAndJpegLosesSome) {
  const Image src = Gradient(64, 64);
  auto blurred = Degrade(src, {1, 0.8, 0});
  ASSERT_TRUE(blurred.ok());
  // The checkerboard (40/200) is pulled towards its mean 120.
  const int v = blurred->row(32)[32 * 3 + 2];
  EXPECT_GT(v, 70);
  EXPECT_LT(v, 170);
  auto jpeg = Degrade(src, {1, 0, 30});
  ASSERT_TRUE(jpeg.ok());
  ASSERT_EQ(jpeg->rgb.size(), src.rgb.size());
  EXPECT_NE(jpeg->rgb, src.rgb);
  double err = 0;
  for (size_t i = 0; i < src.rgb.size(); i += 3) err += std::abs(jpeg->rgb[i] - src.rgb[i]);
  EXPECT_LT(err / (64.0 * 64.0), 20);  // the smooth red gradient survives
}

TEST(DegradeTest, SameBytesEveryRun) {
  const Image src = Gradient(250, 250);
  const Degradation d{0.35, 0.8, 30};
  auto a = Degrade(src, d);
  auto b = Degrade(src, d);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->rgb, b->rgb);
  EXPECT_EQ(a->width, 88);
}

TEST(DegradeTest, RealPhotoAtEveryStandardRung) {
  const std::string full = std::string(FACETRAIL_SHARED_DIR) +
                           "/data/lfw-deepfunneled-dev/images/Aaron_Patterson/"
                           "Aaron_Patterson_0001.jpg";
  if (!std::filesystem::exists(full)) GTEST_SKIP() << "LFW images missing";
  auto img = LoadImageFile(full);
  ASSERT_TRUE(img.ok());
  auto ladder = ParseDegradationLadder("standard");
  ASSERT_TRUE(ladder.ok());
  for (const Degradation& d : *ladder) {
    auto out = Degrade(img->image, d);
    ASSERT_TRUE(out.ok()) << d.Name();
    EXPECT_EQ(out->width, static_cast<int>(std::lround(250 * d.scale))) << d.Name();
  }
}

TEST(DegradeTest, LadderGrammar) {
  auto standard = ParseDegradationLadder("standard");
  ASSERT_TRUE(standard.ok());
  ASSERT_EQ(standard->size(), 8u);
  EXPECT_TRUE((*standard)[0].identity());
  EXPECT_EQ((*standard)[3].Name(), "0.5+blur0.8+jpeg30");
  auto custom = ParseDegradationLadder("0.5+jpeg50,0.25+blur1.5,1+blur");
  ASSERT_TRUE(custom.ok()) << custom.status().ToString();
  EXPECT_EQ((*custom)[0], (Degradation{0.5, 0, 50}));
  EXPECT_EQ((*custom)[1], (Degradation{0.25, 1.5, 0}));
  EXPECT_EQ((*custom)[2].Name(), "1+blur0.8");
  // Names read back to the same rung.
  for (const Degradation& d : *standard) {
    auto again = ParseDegradation(d.Name());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, d);
  }
  for (const char* bad :
       {"", "0", "1.5", "-0.5", "abc", "0.5+blur0", "0.5+jpeg0", "0.5+jpeg101", "0.5+jpeg30.5",
        "0.5+sharpen", "0.5+blur+blur", "0.5,0.5", "0.5,,1", "nan", "0.5+blur99"}) {
    auto r = ParseDegradationLadder(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
  EXPECT_FALSE(Degrade(Image{}, Degradation{0.5, 0, 0}).ok());
  EXPECT_FALSE(Degrade(Gradient(8, 8), Degradation{2, 0, 0}).ok());
}

}  // namespace
}  // namespace facetrail::vision
