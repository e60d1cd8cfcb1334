// The examiner's aligned view (vision/aligned_face.h): the five-point similarity onto the
// viewing frame, checked on synthetic faces whose five points are an exact similarity of the
// template (so the fit is exact and every number is known), and hostile input.
#include "vision/aligned_face.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace facetrail::vision {
namespace {

// 68 landmarks whose five alignment points (eye means 36–41 / 42–47, 30, 48, 54) are the
// template's points under x → s·R(θ)·x + t. The other points sit on the nose tip.
std::vector<Point> SyntheticFace(double s, double theta, double tx, double ty) {
  auto map = [&](const std::array<double, 2>& p) {
    return Point{static_cast<float>(s * (std::cos(theta) * p[0] - std::sin(theta) * p[1]) + tx),
                 static_cast<float>(s * (std::sin(theta) * p[0] + std::cos(theta) * p[1]) + ty)};
  };
  const auto& t = kViewingTemplate.points;
  std::vector<Point> pts(kNumLandmarks, map(t[2]));
  for (int i = 36; i < 42; ++i) pts[i] = map(t[0]);
  for (int i = 42; i < 48; ++i) pts[i] = map(t[1]);
  pts[48] = map(t[3]);
  pts[54] = map(t[4]);
  return pts;
}

// A smooth image whose value at (x, y) is known: R = x / 2, G = y / 2, B = 100.
Image Ramp(int w, int h) {
  Image img{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.row(y) + static_cast<size_t>(x) * 3;
      p[0] = static_cast<uint8_t>(x / 2);
      p[1] = static_cast<uint8_t>(y / 2);
      p[2] = 100;
    }
  }
  return img;
}

TEST(AlignedFaceTest, EyesAndMouthLandOnTheFrameLinesWhateverTheRotationAndScale) {
  const Image img = Ramp(500, 500);
  const AlignedFaceOptions o;
  const double offset = (o.size - o.scale * o.chip_size) / 2;
  for (double theta : {0.0, 0.3, -0.5}) {
    for (double s : {0.7, 1.5, 2.5}) {
      SCOPED_TRACE("theta " + std::to_string(theta) + " scale " + std::to_string(s));
      auto a = AlignFaceForViewing(img, SyntheticFace(s, theta, 200, 150));
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      EXPECT_EQ(a->image.width, 512);
      EXPECT_EQ(a->image.height, 512);
      ASSERT_EQ(a->image.rgb.size(), 512u * 512u * 3u);
      const auto& t = kViewingTemplate.points;
      // Eye means, nose, mouth corners: exactly on the scaled, centred template.
      auto mean = [&](int b, int e, int k) {
        double m = 0;
        for (int i = b; i < e; ++i) m += k == 0 ? a->landmarks[i].x : a->landmarks[i].y;
        return m / (e - b);
      };
      EXPECT_NEAR(mean(36, 42, 0), t[0][0] * o.scale + offset, 0.01);
      EXPECT_NEAR(mean(36, 42, 1), t[0][1] * o.scale + offset, 0.01);
      EXPECT_NEAR(mean(42, 48, 0), t[1][0] * o.scale + offset, 0.01);
      EXPECT_NEAR(a->landmarks[54].y, t[4][1] * o.scale + offset, 0.01);
      EXPECT_NEAR(a->eye_line_y, (t[0][1] + t[1][1]) / 2 * o.scale + offset, 1e-9);
      EXPECT_NEAR(a->mouth_line_y, (t[3][1] + t[4][1]) / 2 * o.scale + offset, 1e-9);
      // The transform's scale is the face's scale over the frame's.
      EXPECT_NEAR(std::hypot(a->a, a->cc), s / o.scale, 1e-6);
      // Pixels: where the output samples inside the source, it holds the ramp's value there.
      int checked = 0;
      for (int r = 0; r < 512; r += 37) {
        for (int c = 0; c < 512; c += 41) {
          const double x = a->a * c + a->b * r + a->tx, y = a->cc * c + a->d * r + a->ty;
          if (x < 2 || y < 2 || x > 497 || y > 497) continue;
          const uint8_t* p = a->image.row(r) + static_cast<size_t>(c) * 3;
          EXPECT_NEAR(p[0], x / 2, 1.6) << c << "," << r;
          EXPECT_NEAR(p[1], y / 2, 1.6) << c << "," << r;
          EXPECT_EQ(p[2], 100);
          ++checked;
        }
      }
      EXPECT_GT(checked, 20);
    }
  }
}

TEST(AlignedFaceTest, OutsideTheSourceIsBlackAndThePngDecodesToTheSamePixels) {
  const Image img = Ramp(120, 120);
  auto a = AlignFaceForViewing(img, SyntheticFace(0.8, 0.1, 10, 5));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const uint8_t* corner = a->image.row(511) + 511 * 3;  // far beyond the 120-pixel source
  EXPECT_EQ(corner[0] + corner[1] + corner[2], 0);
  auto png = EncodePng(a->image);
  ASSERT_TRUE(png.ok());
  auto back = DecodeImage(*png);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->image.rgb, a->image.rgb);
}

TEST(AlignedFaceTest, RefusesWhatCannotBeAligned) {
  const Image img = Ramp(64, 64);
  auto face = SyntheticFace(1, 0, 0, 0);
  EXPECT_EQ(AlignFaceForViewing(Image{}, face).status().code(), StatusCode::kInvalidArgument);
  std::vector<Point> short_list(face.begin(), face.begin() + 67);
  EXPECT_EQ(AlignFaceForViewing(img, short_list).status().code(), StatusCode::kInvalidArgument);
  auto nan = face;
  nan[10].x = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(AlignFaceForViewing(img, nan).status().code(), StatusCode::kInvalidArgument);
  auto inf = face;
  inf[40].y = std::numeric_limits<float>::infinity();
  EXPECT_EQ(AlignFaceForViewing(img, inf).status().code(), StatusCode::kInvalidArgument);
  std::vector<Point> same(kNumLandmarks, Point{30, 30});  // every point in one place
  EXPECT_EQ(AlignFaceForViewing(img, same).status().code(), StatusCode::kInvalidArgument);
  AlignedFaceOptions tiny;
  tiny.size = 8;
  EXPECT_EQ(AlignFaceForViewing(img, face, tiny).status().code(), StatusCode::kInvalidArgument);
  AlignedFaceOptions huge;
  huge.size = 4096;
  EXPECT_EQ(AlignFaceForViewing(img, face, huge).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace facetrail::vision
