// EXIF orientation: each of the eight values in JPEG APP1, PNG eXIf and WebP EXIF must give the
// upright pixel layout the EXIF specification describes, and hostile EXIF blocks must neither
// crash nor read out of bounds (run under FACETRAIL_SANITIZE to check the latter).
#include <random>

#include "gtest/gtest.h"
#include "vision/image.h"
#include "vision/image_test_util.h"
#include "vision/internal/exif.h"

namespace facetrail::vision {
namespace {

using testing::Bytes;

// EXIF 2.3, tag 0x0112: where the stored image's 0th row and 0th column are shown.
struct Sides {
  char row0;  // 'T'op, 'B'ottom, 'L'eft or 'R'ight of the upright image
  char col0;
};
constexpr Sides kSides[9] = {{},         {'T', 'L'}, {'T', 'R'}, {'B', 'R'}, {'B', 'L'},
                             {'L', 'T'}, {'R', 'T'}, {'R', 'B'}, {'L', 'B'}};

// The upright image, derived from the table above independently of ApplyExifOrientation.
Image ExpectedUpright(const Image& stored, int orientation) {
  const Sides s = kSides[orientation];
  const bool swaps = s.row0 == 'L' || s.row0 == 'R';
  Image out;
  out.width = swaps ? stored.height : stored.width;
  out.height = swaps ? stored.width : stored.height;
  out.rgb.resize(stored.rgb.size());
  for (int y_up = 0; y_up < out.height; ++y_up) {
    for (int x_up = 0; x_up < out.width; ++x_up) {
      auto distance_from = [&](char side) {
        switch (side) {
          case 'T': return y_up;
          case 'B': return out.height - 1 - y_up;
          case 'L': return x_up;
          default: return out.width - 1 - x_up;
        }
      };
      const int y = distance_from(s.row0);
      const int x = distance_from(s.col0);
      std::copy_n(stored.row(y) + x * 3, 3, out.row(y_up) + x_up * 3);
    }
  }
  return out;
}

// 48 × 32 of flat 8 × 8 blocks, each a different colour: a 4:4:4 quality-100 JPEG keeps flat
// blocks within a unit or two, and a wrong layout moves whole blocks of a very different colour.
Image BlockImage() {
  Image image = testing::PatternImage(48, 32);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 48; ++x) {
      uint8_t* p = image.row(y) + x * 3;
      p[0] = static_cast<uint8_t>(x / 8 * 40 + 10);
      p[1] = static_cast<uint8_t>(y / 8 * 60 + 10);
      p[2] = static_cast<uint8_t>((x / 8 + y / 8) % 2 * 200 + 20);
    }
  }
  return image;
}

TEST(ExifOrientationTest, JpegApp1GivesTheUprightLayout) {
  const Image stored = BlockImage();
  for (bool big_endian : {false, true}) {
    for (int orientation = 1; orientation <= 8; ++orientation) {
      SCOPED_TRACE(::testing::Message()
                   << "orientation " << orientation << (big_endian ? " MM" : " II"));
      testing::JpegSpec spec;
      spec.width = stored.width;
      spec.height = stored.height;
      spec.quality = 100;
      spec.full_chroma = true;
      spec.app1 = testing::ExifApp1(orientation, big_endian);
      const Bytes jpeg = testing::EncodeJpeg(spec, stored.rgb);

      auto upright = DecodeImage(jpeg);
      ASSERT_TRUE(upright.ok()) << upright.status().ToString();
      EXPECT_EQ(upright->exif_orientation, orientation);
      const Image expected = ExpectedUpright(stored, orientation);
      ASSERT_EQ(upright->image.width, expected.width);
      ASSERT_EQ(upright->image.height, expected.height);
      EXPECT_LE(testing::MaxAbsDiff(upright->image, expected), 3);

      DecodeOptions as_stored;
      as_stored.apply_exif_orientation = false;
      auto raw = DecodeImage(jpeg, as_stored);
      ASSERT_TRUE(raw.ok());
      EXPECT_EQ(raw->exif_orientation, orientation);
      EXPECT_LE(testing::MaxAbsDiff(raw->image, stored), 3);
    }
  }
}

TEST(ExifOrientationTest, PngExifGivesTheExactUprightLayout) {
  const Image stored = testing::PatternImage(7, 4, 2);
  for (int orientation = 1; orientation <= 8; ++orientation) {
    SCOPED_TRACE(orientation);
    testing::PngSpec spec;
    spec.width = stored.width;
    spec.height = stored.height;
    spec.exif = testing::ExifWithOrientation(orientation);
    auto upright = DecodeImage(testing::EncodePngRaw(spec, stored.rgb));
    ASSERT_TRUE(upright.ok()) << upright.status().ToString();
    EXPECT_EQ(upright->exif_orientation, orientation);
    const Image expected = ExpectedUpright(stored, orientation);
    EXPECT_EQ(upright->image.width, expected.width);
    EXPECT_EQ(upright->image.rgb, expected.rgb);
  }
}

TEST(ExifOrientationTest, WebpExifChunkGivesTheExactUprightLayout) {
  const Image stored = testing::PatternImage(5, 3, 4);
  const Bytes simple = testing::EncodeWebpLossless(stored);
  for (int orientation = 1; orientation <= 8; ++orientation) {
    SCOPED_TRACE(orientation);
    // Odd-sized payload (with "Exif\0\0" and one spare byte) checks the RIFF padding rule.
    Bytes exif = testing::ExifApp1(orientation);
    exif.push_back(0);
    ASSERT_EQ(exif.size() % 2, 1u);
    auto upright = DecodeImage(testing::AddWebpExif(simple, 5, 3, exif));
    ASSERT_TRUE(upright.ok()) << upright.status().ToString();
    EXPECT_EQ(upright->exif_orientation, orientation);
    EXPECT_EQ(upright->image.rgb, ExpectedUpright(stored, orientation).rgb);
  }
}

TEST(ExifOrientationTest, ApplyIsConsistentWithItsInverses) {
  const Image image = testing::PatternImage(6, 4, 8);
  using internal::ApplyExifOrientation;
  // 6 and 8 are inverse rotations; 2, 3, 4, 5, 7 are their own inverses.
  EXPECT_EQ(ApplyExifOrientation(ApplyExifOrientation(image, 6), 8).rgb, image.rgb);
  for (int o : {2, 3, 4, 5, 7}) {
    EXPECT_EQ(ApplyExifOrientation(ApplyExifOrientation(image, o), o).rgb, image.rgb) << o;
  }
  for (int invalid : {0, 9, -1}) EXPECT_EQ(ApplyExifOrientation(image, invalid).rgb, image.rgb);
}

TEST(ExifParseTest, ReadsValidBlocks) {
  for (int o = 1; o <= 8; ++o) {
    EXPECT_EQ(internal::ParseExifOrientation(testing::ExifWithOrientation(o)), o);
    EXPECT_EQ(internal::ParseExifOrientation(testing::ExifWithOrientation(o, true)), o);
    EXPECT_EQ(internal::ParseExifOrientation(testing::ExifApp1(o)), o);
  }
  Bytes as_long = testing::ExifWithOrientation(6);
  as_long[12] = 4;  // type LONG; the value's low half is still first in little-endian
  EXPECT_EQ(internal::ParseExifOrientation(as_long), 6);
}

TEST(ExifParseTest, InvalidBlocksMeanNoRotation) {
  const Bytes valid = testing::ExifWithOrientation(6);
  auto with = [&](size_t offset, std::initializer_list<uint8_t> patch) {
    Bytes b = valid;
    std::copy(patch.begin(), patch.end(), b.begin() + offset);
    return internal::ParseExifOrientation(b);
  };
  EXPECT_EQ(with(18, {0}), 1);                      // value 0
  EXPECT_EQ(with(18, {9}), 1);                      // value 9
  EXPECT_EQ(with(12, {2}), 1);                      // type ASCII
  EXPECT_EQ(with(14, {2}), 1);                      // count 2
  EXPECT_EQ(with(4, {0xff, 0xff, 0xff, 0xff}), 1);  // IFD far beyond the block
  EXPECT_EQ(with(4, {0xfa, 0xff, 0xff, 0xff}), 1);  // offset + 2 wraps in 32 bits
  EXPECT_EQ(with(8, {0xff, 0xff}), 1);              // 65535 entries in a 26-byte block
  EXPECT_EQ(with(0, {'I', 'M'}), 1);                // bad byte order mark
  EXPECT_EQ(with(2, {43}), 1);                      // bad magic (BigTIFF)
  EXPECT_EQ(internal::ParseExifOrientation({}), 1);
  for (size_t n = 0; n < valid.size(); ++n) {
    const int o = internal::ParseExifOrientation(std::span(valid).first(n));
    EXPECT_TRUE(n >= 22 ? o == 6 : o == 1) << "truncated to " << n << " bytes gave " << o;
  }
}

TEST(ExifParseTest, RandomMutationsStayInRange) {
  std::mt19937 rng(1234);
  const Bytes valid = testing::ExifApp1(3, true);
  for (int i = 0; i < 20000; ++i) {
    Bytes b = valid;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<uint8_t>(rng());
    b.resize(rng() % (b.size() + 1));
    const int o = internal::ParseExifOrientation(b);
    ASSERT_GE(o, 1);
    ASSERT_LE(o, 8);
  }
}

}  // namespace
}  // namespace facetrail::vision
