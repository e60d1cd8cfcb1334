// Quality figures that cannot be faked (vision/internal/evidence.h), on real LFW faces and on
// probes manipulated from them: noise added to a blurred face, a tiny face enlarged, heavy JPEG.
#include "vision/internal/evidence.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "vision/degrade.h"
#include "vision/image.h"

namespace facetrail::vision::internal {
namespace {

Image Lfw(const std::string& rel) {
  auto img =
      LoadImageFile(std::string(FACETRAIL_SHARED_DIR) + "/data/lfw-deepfunneled-dev/images/" + rel);
  EXPECT_TRUE(img.ok()) << img.status().ToString();
  return img.ok() ? img->image : Image{};
}

// The inner face of an LFW deep-funneled image (250 × 250, face centred), scaled with the image.
Grey InnerFace(const Image& image) {
  const double s = image.width / 250.0;
  return GreyCrop(image, static_cast<int>(80 * s), static_cast<int>(85 * s),
                  static_cast<int>(170 * s), static_cast<int>(185 * s));
}

Image AddNoise(const Image& image, double sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, sigma);
  Image out = image;
  for (uint8_t& v : out.rgb) v = static_cast<uint8_t>(std::clamp(v + noise(rng), 0.0, 255.0));
  return out;
}

// Enlarged `factor` times: bilinear (as image editors do), or by pixel replication.
Image Enlarge(const Image& image, int factor, bool replicate) {
  Image out;
  out.width = image.width * factor;
  out.height = image.height * factor;
  out.rgb.resize(static_cast<size_t>(out.width) * out.height * 3);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        double v = 0;
        if (replicate) {
          v = image.row(y / factor)[(x / factor) * 3 + c];
        } else {
          const double fx = std::clamp((x + 0.5) / factor - 0.5, 0.0, image.width - 1.0);
          const double fy = std::clamp((y + 0.5) / factor - 0.5, 0.0, image.height - 1.0);
          const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
          const int x1 = std::min(x0 + 1, image.width - 1), y1 = std::min(y0 + 1, image.height - 1);
          const double ax = fx - x0, ay = fy - y0;
          v = (1 - ay) * ((1 - ax) * image.row(y0)[x0 * 3 + c] + ax * image.row(y0)[x1 * 3 + c]) +
              ay * ((1 - ax) * image.row(y1)[x0 * 3 + c] + ax * image.row(y1)[x1 * 3 + c]);
        }
        out.row(y)[x * 3 + c] = static_cast<uint8_t>(std::lround(v));
      }
    }
  }
  return out;
}

Image Apply(const Image& image, const std::string& rung) {
  auto d = ParseDegradation(rung);
  EXPECT_TRUE(d.ok()) << rung;
  auto out = Degrade(image, *d);
  EXPECT_TRUE(out.ok()) << rung;
  return out.ok() ? *out : Image{};
}

const char* const kFaces[] = {"Colin_Powell/Colin_Powell_0001.jpg",
                              "Abdullah_Gul/Abdullah_Gul_0001.jpg",
                              "Dalai_Lama/Dalai_Lama_0001.jpg"};

TEST(EvidenceTest, NoiseIsMeasuredAndTextureIsNot) {
  for (const char* name : kFaces) {
    SCOPED_TRACE(name);
    const Image face = Lfw(name);
    const double clean = NoiseSigma(InnerFace(face));
    EXPECT_LT(clean, 3.0);
    for (double sigma : {4.0, 10.0}) {
      // Independent noise in R, G and B reaches the grey levels (0.299 R + 0.587 G + 0.114 B)
      // with 0.668 of its deviation.
      const double grey_sigma = 0.668 * sigma;
      const double seen = NoiseSigma(InnerFace(AddNoise(face, sigma, 7)));
      EXPECT_NEAR(seen, std::hypot(grey_sigma, clean), 0.15 * grey_sigma) << "added " << sigma;
    }
  }
}

TEST(EvidenceTest, AFaceAtItsOwnResolutionIsNotEnlarged) {
  for (const char* name : kFaces) {
    SCOPED_TRACE(name);
    const Image face = Lfw(name);
    const Grey g = InnerFace(face);
    // LFW's faces were themselves resized from news photos: some are a little soft.
    EXPECT_LE(EffectiveScale(g, NoiseSigma(g)), 2.0);
    // Half size, then measured as it is: its own resolution.
    const Grey half = InnerFace(Apply(face, "0.5"));
    EXPECT_LE(EffectiveScale(half, NoiseSigma(half)), 1.5);
  }
}

TEST(EvidenceTest, AnEnlargedSmallFaceReadsAsItsTrueSize) {
  for (const char* name : kFaces) {
    SCOPED_TRACE(name);
    const Image small = Apply(Lfw(name), "0.25");
    for (bool replicate : {false, true}) {
      SCOPED_TRACE(replicate ? "pixel replication" : "bilinear");
      const Image big = Enlarge(small, 4, replicate);
      const Grey g = InnerFace(big);
      EXPECT_GE(EffectiveScale(g, NoiseSigma(g)), 2.5);
      // Noise added after enlarging does not bring the detail back.
      const Grey noisy = InnerFace(AddNoise(big, 6, 11));
      EXPECT_GE(EffectiveScale(noisy, NoiseSigma(noisy)), 2.5);
    }
    // Enlarged twice from half size: about 2.
    const Image twice = Enlarge(Apply(Lfw(name), "0.5"), 2, false);
    const Grey g2 = InnerFace(twice);
    const double k2 = EffectiveScale(g2, NoiseSigma(g2));
    EXPECT_GE(k2, 1.5);
    EXPECT_LE(k2, 3.0);
  }
}

TEST(EvidenceTest, HeavyJpegShowsItsBlocks) {
  for (const char* name : kFaces) {
    SCOPED_TRACE(name);
    const Image face = Lfw(name);
    const double s = face.width / 250.0;
    const int x0 = static_cast<int>(80 * s), y0 = static_cast<int>(85 * s);
    const double clean = Blockiness(InnerFace(face), x0, y0);
    const double heavy = Blockiness(InnerFace(Apply(face, "1+jpeg10")), x0, y0);
    EXPECT_LT(clean, 1.3);
    EXPECT_GT(heavy, 1.4);
    EXPECT_GT(heavy, clean + 0.2);
  }
}

TEST(EvidenceTest, DegenerateInputsGiveNeutralFigures) {
  Grey empty;
  EXPECT_EQ(NoiseSigma(empty), 0);
  EXPECT_EQ(EffectiveScale(empty, 0), 1);
  EXPECT_EQ(Blockiness(empty, 0, 0), 1);
  Grey flat{32, 32, std::vector<float>(32 * 32, 128.f)};
  EXPECT_EQ(NoiseSigma(flat), 0);
  EXPECT_EQ(EffectiveScale(flat, 0), 1);
  Image tiny{2, 2, std::vector<uint8_t>(12, 9)};
  EXPECT_EQ(GreyCrop(tiny, 5, 5, 9, 9).width, 0);  // outside the image
  EXPECT_EQ(GreyCrop(tiny, -3, -3, 1, 1).width, 1);
}

}  // namespace
}  // namespace facetrail::vision::internal
