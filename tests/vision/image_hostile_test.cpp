// Hostile input: truncated files, flipped bytes, lying headers, decompression bombs, garbage,
// and both sides of the pixel limit, for every format. Each must fail with the format's name and
// the right code, never crash, and never allocate the pixels a lying header asks for.
#include <cstdlib>
#include <random>

#include "gtest/gtest.h"
#include "vision/image.h"
#include "vision/image_test_util.h"

namespace facetrail::vision {
namespace {

using testing::Bytes;

struct Sample {
  const char* prefix;  // the format's name as error messages start with it
  Bytes file;
  int width, height;
};

// One small valid file of each format (and of the main variants), 24 × 16 pixels.
std::vector<Sample> Samples() {
  const Image image = testing::PatternImage(24, 16, 7);
  testing::JpegSpec progressive;
  progressive.width = 24;
  progressive.height = 16;
  progressive.progressive = true;
  testing::PngSpec interlaced;
  interlaced.width = 24;
  interlaced.height = 16;
  interlaced.interlaced = true;
  Bytes ppm16;
  for (uint8_t v : image.rgb) testing::PutBe16(&ppm16, v * 257u);
  return {
      {"JPEG: ", testing::EncodeRgbJpeg(image), 24, 16},
      {"JPEG: ", testing::EncodeJpeg(progressive, image.rgb), 24, 16},
      {"PNG: ", testing::EncodeRgbPng(image), 24, 16},
      {"PNG: ", testing::EncodePngRaw(interlaced, image.rgb), 24, 16},
      {"WebP: ", testing::EncodeWebpLossless(image), 24, 16},
      {"WebP: ", testing::EncodeWebpLossy(image), 24, 16},
      {"BMP: ", testing::EncodeBmp(image, {24, false, false, 40}), 24, 16},
      {"BMP: ", testing::EncodeBmp(image, {32, true, false, 40}), 24, 16},
      {"PNM: ", testing::MakePnm("P6\n24 16\n255\n", image.rgb), 24, 16},
      {"PNM: ", testing::MakePnm("P6\n24 16\n65535\n", ppm16), 24, 16},
  };
}

// Fails the test unless `status` is kInvalidArgument and starts with `prefix`.
void ExpectCorrupt(const Status& status, const std::string& prefix) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_EQ(status.message().rfind(prefix, 0), 0u) << status.ToString();
}

TEST(HostileImageTest, SamplesDecode) {
  for (const Sample& s : Samples()) {
    auto decoded = DecodeImage(s.file);
    ASSERT_TRUE(decoded.ok()) << s.prefix << decoded.status().ToString();
    EXPECT_EQ(decoded->image.width, s.width);
    EXPECT_EQ(decoded->image.height, s.height);
  }
}

TEST(HostileImageTest, EmptyInput) {
  auto decoded = DecodeImage({});
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
}

TEST(HostileImageTest, RandomGarbageIsUnrecognised) {
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    Bytes garbage(1 + rng() % 300);
    for (uint8_t& b : garbage) b = static_cast<uint8_t>(rng());
    if (SniffImageFormat(garbage) != ImageFormat::kUnknown) continue;
    auto decoded = DecodeImage(garbage);
    ASSERT_EQ(
        decoded.status(),
        InvalidArgument("unrecognised image format (not JPEG, PNG, WebP, BMP, PPM or JPEG 2000)"));
  }
}

TEST(HostileImageTest, GarbageAfterTheMagicNumberIsCorrupt) {
  std::mt19937 rng(7);
  const struct {
    const char* prefix;
    Bytes magic;
  } kMagics[] = {{"JPEG: ", {0xFF, 0xD8, 0xFF}},
                 {"PNG: ", {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}},
                 {"WebP: ", {'R', 'I', 'F', 'F', 0x40, 0, 0, 0, 'W', 'E', 'B', 'P'}},
                 {"BMP: ", {'B', 'M'}},
                 {"PNM: ", {'P', '6', ' '}}};
  for (const auto& m : kMagics) {
    for (int i = 0; i < 300; ++i) {
      Bytes file = m.magic;
      const size_t n = rng() % 200;
      for (size_t k = 0; k < n; ++k) file.push_back(static_cast<uint8_t>(rng()));
      auto decoded = DecodeImage(file);
      ASSERT_FALSE(decoded.ok());
      // Random header fields may also declare a too large image: that is refused too.
      if (decoded.status().code() == StatusCode::kResourceExhausted) continue;
      ExpectCorrupt(decoded.status(), m.prefix);
    }
  }
}

// Every proper prefix of every sample is refused: a truncated image is never half-returned.
TEST(HostileImageTest, EveryTruncationIsRefused) {
  for (const Sample& s : Samples()) {
    for (size_t n = 1; n < s.file.size(); ++n) {
      SCOPED_TRACE(::testing::Message()
                   << s.prefix << "truncated to " << n << " of " << s.file.size() << " bytes");
      auto decoded = DecodeImage(std::span(s.file).first(n));
      ASSERT_FALSE(decoded.ok());
      if (SniffImageFormat(std::span(s.file).first(n)) == ImageFormat::kUnknown) continue;
      ExpectCorrupt(decoded.status(), s.prefix);
    }
  }
}

TEST(HostileImageTest, TruncatedJpegSaysPrematureEnd) {
  Bytes jpeg = testing::EncodeRgbJpeg(testing::PatternImage(64, 64));
  jpeg.resize(jpeg.size() * 2 / 3);
  auto decoded = DecodeImage(jpeg);
  EXPECT_EQ(decoded.status(), InvalidArgument("JPEG: Premature end of JPEG file"));
}

// A byte flipped anywhere after the magic number: the decoders may return different pixels
// (BMP and PNM carry no checksum, JPEG's entropy data may stay decodable) but must never crash
// or return a wrong size; an error names the format. PNG checks CRCs, so it always fails in
// IDAT.
TEST(HostileImageTest, FlippedBytesNeverCrash) {
  for (const Sample& s : Samples()) {
    for (size_t pos = 2; pos < s.file.size(); pos += 1 + s.file.size() / 300) {
      for (uint8_t mask : {0x01, 0x80, 0xFF}) {
        Bytes file = s.file;
        file[pos] ^= mask;
        SCOPED_TRACE(::testing::Message() << s.prefix << "byte " << pos << " ^ " << int{mask});
        auto decoded = DecodeImage(file);
        if (decoded.ok()) {
          EXPECT_EQ(decoded->image.rgb.size(),
                    size_t{3} * decoded->image.width * decoded->image.height);
          continue;
        }
        if (decoded.status().code() == StatusCode::kResourceExhausted) continue;
        if (SniffImageFormat(file) == ImageFormat::kUnknown) continue;
        ExpectCorrupt(decoded.status(), s.prefix);
      }
    }
  }
}

TEST(HostileImageTest, PngChecksumCatchesAFlippedPixelByte) {
  Bytes png = testing::EncodeRgbPng(testing::PatternImage(24, 16));
  png[png.size() / 2] ^= 0x10;  // inside IDAT
  auto decoded = DecodeImage(png);
  ExpectCorrupt(decoded.status(), "PNG: ");
}

// ---------------------------------------------------------------------------------------------
// Lying headers and limits.

uint32_t Crc32(std::span<const uint8_t> data) {
  uint32_t crc = 0xFFFFFFFF;
  for (uint8_t byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

// Rewrites the dimensions a header declares, leaving the (small) pixel data as it is.
Bytes JpegClaiming(uint32_t width, uint32_t height) {
  Bytes jpeg = testing::EncodeRgbJpeg(testing::PatternImage(24, 16));
  for (size_t i = 2; i + 9 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {  // SOF0: length, precision, height, width
      jpeg[i + 5] = static_cast<uint8_t>(height >> 8), jpeg[i + 6] = static_cast<uint8_t>(height);
      jpeg[i + 7] = static_cast<uint8_t>(width >> 8), jpeg[i + 8] = static_cast<uint8_t>(width);
      return jpeg;
    }
  }
  ADD_FAILURE() << "no SOF0";
  return jpeg;
}

Bytes PngClaiming(uint32_t width, uint32_t height) {
  Bytes png = testing::EncodeRgbPng(testing::PatternImage(24, 16));
  Bytes fields;
  testing::PutBe32(&fields, width);
  testing::PutBe32(&fields, height);
  std::copy(fields.begin(), fields.end(), png.begin() + 16);
  Bytes crc;
  testing::PutBe32(&crc, Crc32(std::span(png).subspan(12, 17)));  // "IHDR" and its 13 bytes
  std::copy(crc.begin(), crc.end(), png.begin() + 29);
  return png;
}

Bytes WebpClaiming(uint32_t width, uint32_t height) {
  Bytes webp = testing::EncodeWebpLossless(testing::PatternImage(24, 16));
  // VP8L header after the chunk header: 0x2f, then 14 bits width-1, 14 bits height-1, ...
  uint32_t bits = uint32_t{webp[21]} | uint32_t{webp[22]} << 8 | uint32_t{webp[23]} << 16 |
                  uint32_t{webp[24]} << 24;
  bits = (bits & 0xF0000000u) | ((height - 1) << 14) | (width - 1);
  for (int k = 0; k < 4; ++k) webp[21 + k] = static_cast<uint8_t>(bits >> (8 * k));
  return webp;
}

Bytes BmpClaiming(int32_t width, int32_t height) {
  Bytes bmp = testing::EncodeBmp(testing::PatternImage(24, 16), {});
  Bytes fields;
  testing::PutLe32(&fields, static_cast<uint32_t>(width));
  testing::PutLe32(&fields, static_cast<uint32_t>(height));
  std::copy(fields.begin(), fields.end(), bmp.begin() + 18);
  return bmp;
}

Bytes PnmClaiming(uint64_t width, uint64_t height) {
  return testing::MakePnm("P6\n" + std::to_string(width) + " " + std::to_string(height) + "\n255\n",
                          Bytes(24 * 16 * 3));
}

struct Bomb {
  const char* name;
  Bytes file;
};

TEST(HostileImageTest, BombsAreRefusedFromTheHeaderBeforeAllocating) {
  const Bomb kBombs[] = {
      {"JPEG", JpegClaiming(60000, 60000)}, {"PNG", PngClaiming(60000, 60000)},
      {"WebP", WebpClaiming(16384, 16384)}, {"BMP", BmpClaiming(60000, -60000)},
      {"PNM", PnmClaiming(60000, 60000)},
  };
  for (const Bomb& b : kBombs) {
    SCOPED_TRACE(b.name);
    testing::StartTrackingAllocations();
    auto decoded = DecodeImage(b.file);
    const size_t largest_allocation = testing::StopTrackingAllocations();
    EXPECT_EQ(decoded.status().code(), StatusCode::kResourceExhausted)
        << decoded.status().ToString();
    EXPECT_EQ(decoded.status().message().rfind(std::string(b.name) + ": image is ", 0), 0u);
    EXPECT_NE(decoded.status().message().find("more than the limit of 64000000 pixels"),
              std::string::npos)
        << decoded.status().message();
    EXPECT_LT(largest_allocation, size_t{1} << 20);
  }
  EXPECT_EQ(DecodeImage(PnmClaiming(60000, 60000)).status().message(),
            "PNM: image is 60000x60000 (3600000000 pixels), more than the limit of 64000000 "
            "pixels");
}

TEST(HostileImageTest, SidesAboveTheFormatLimitAreRefused) {
  DecodeOptions unlimited;
  unlimited.max_pixels = UINT64_MAX;
  const Bomb kWide[] = {{"PNG", PngClaiming(65536, 1)},
                        {"BMP", BmpClaiming(1, 70000)},
                        {"BMP", BmpClaiming(INT32_MAX, INT32_MIN)},
                        {"PNM", PnmClaiming(1, 65536)},
                        {"PNM", PnmClaiming(99999999999999, 99999999999999)}};
  for (const Bomb& b : kWide) {
    SCOPED_TRACE(b.name);
    auto decoded = DecodeImage(b.file, unlimited);
    EXPECT_EQ(decoded.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(decoded.status().message().find("longer than the limit of 65535"), std::string::npos)
        << decoded.status().message();
  }
  // libjpeg's own limit is a little lower (JPEG_MAX_DIMENSION); it is reported the same way.
  auto jpeg = DecodeImage(JpegClaiming(65501, 16), unlimited);
  EXPECT_EQ(jpeg.status(), ResourceExhausted("JPEG: image is 65501x16, a side longer than the "
                                             "limit of 65500 pixels"));
}

TEST(HostileImageTest, ZeroDimensionsAreCorrupt) {
  const Bomb kEmpty[] = {{"JPEG", JpegClaiming(0, 16)}, {"JPEG", JpegClaiming(24, 0)},
                         {"PNG", PngClaiming(0, 16)},   {"BMP", BmpClaiming(0, 16)},
                         {"BMP", BmpClaiming(24, 0)},   {"PNM", PnmClaiming(0, 16)},
                         {"BMP", BmpClaiming(-24, 16)}};
  for (const Bomb& b : kEmpty) {
    SCOPED_TRACE(b.name);
    ExpectCorrupt(DecodeImage(b.file).status(), std::string(b.name) + ": ");
  }
}

// max_pixels exactly at the image's size is accepted; one pixel less refuses it.
TEST(HostileImageTest, PixelLimitBothSides) {
  for (const Sample& s : Samples()) {
    SCOPED_TRACE(s.prefix);
    DecodeOptions at;
    at.max_pixels = uint64_t{24} * 16;
    EXPECT_TRUE(DecodeImage(s.file, at).ok());
    DecodeOptions over = at;
    over.max_pixels -= 1;
    auto refused = DecodeImage(s.file, over);
    EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(refused.status().message().find("24x16 (384 pixels), more than the limit of 383"),
              std::string::npos)
        << refused.status().message();
  }
}

// After EXIF rotation the image is 16 × 24: the limit is on pixels, the same either way.
TEST(HostileImageTest, PixelLimitHoldsForRotatedImages) {
  testing::JpegSpec spec;
  spec.width = 24;
  spec.height = 16;
  spec.app1 = testing::ExifApp1(6);
  const Bytes jpeg = testing::EncodeJpeg(spec, testing::PatternImage(24, 16).rgb);
  DecodeOptions at;
  at.max_pixels = 384;
  auto decoded = DecodeImage(jpeg, at);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->image.width, 16);
  at.max_pixels = 383;
  EXPECT_EQ(DecodeImage(jpeg, at).status().code(), StatusCode::kResourceExhausted);
}

// The most scans a valid progressive script allows for `components`: a DC scan, then for every
// component and AC coefficient a first scan at Al = 10 and ten refinements (libjpeg's limit).
std::vector<jpeg_scan_info> LongestScanScript(int components) {
  std::vector<jpeg_scan_info> scans;
  jpeg_scan_info dc{};
  dc.comps_in_scan = components;
  for (int c = 0; c < components; ++c) dc.component_index[c] = c;
  scans.push_back(dc);
  for (int c = 0; c < components; ++c) {
    for (int k = 1; k < 64; ++k) {
      for (int ah = 0; ah <= 10; ++ah) {
        jpeg_scan_info ac{};
        ac.comps_in_scan = 1;
        ac.component_index[0] = c;
        ac.Ss = ac.Se = k;
        ac.Ah = ah == 0 ? 0 : 11 - ah;
        ac.Al = 10 - ah;
        scans.push_back(ac);
      }
    }
  }
  return scans;
}

// Thousands of scans are a CPU denial of service; the decoder stops after 1000.
TEST(HostileImageTest, TooManyProgressiveScansAreRefused) {
  testing::JpegSpec spec;
  spec.width = 8;
  spec.height = 8;
  spec.components = 1;
  spec.in_space = JCS_GRAYSCALE;
  spec.scans = LongestScanScript(1);
  ASSERT_EQ(spec.scans.size(), 694u);
  const Bytes grey(64, 99);
  auto below = DecodeImage(testing::EncodeJpeg(spec, grey));
  ASSERT_TRUE(below.ok()) << below.status().ToString();

  spec.components = 3;
  spec.in_space = JCS_RGB;
  spec.full_chroma = true;
  spec.scans = LongestScanScript(3);
  ASSERT_EQ(spec.scans.size(), 2080u);
  auto above = DecodeImage(testing::EncodeJpeg(spec, testing::PatternImage(8, 8).rgb));
  EXPECT_EQ(above.status(), InvalidArgument("JPEG: more than 1000 progressive scans"));
}

TEST(HostileImageTest, UnsupportedVariantsAreNamed) {
  EXPECT_EQ(DecodeImage(testing::MakePnm("P3\n1 1\n255\n1 2 3\n", {})).status(),
            InvalidArgument("PNM: unsupported variant P3 (only binary P5 and P6)"));
  Bytes bmp16 = testing::EncodeBmp(testing::PatternImage(4, 4), {});
  bmp16[28] = 16;
  EXPECT_EQ(DecodeImage(bmp16).status(),
            InvalidArgument("BMP: unsupported bit depth 16 (only 8, 24 and 32)"));
  Bytes rle = testing::EncodeBmp(testing::PatternImage(4, 4), {8, false, false, 40});
  rle[30] = 1;  // BI_RLE8
  ExpectCorrupt(DecodeImage(rle).status(), "BMP: unsupported compression 1");
  Bytes palette_overflow = testing::EncodeBmp(testing::PatternImage(4, 4), {8, false, false, 40});
  const size_t pixels = palette_overflow.size() - 16;  // 4 rows of 4 indexes
  palette_overflow[pixels] = 255;
  EXPECT_EQ(DecodeImage(palette_overflow).status(),
            InvalidArgument("BMP: palette index out of range"));
  EXPECT_EQ(DecodeImage(testing::MakePnm("P5\n1 1\n100\n", Bytes{101})).status(),
            InvalidArgument("PNM: sample value 101 above maxval"));
  EXPECT_EQ(DecodeImage(testing::MakePnm("P5\n1 1\n70000\n", Bytes{1, 2, 3})).status(),
            InvalidArgument("PNM: maxval 70000 is not in 1..65535"));
}

}  // namespace
}  // namespace facetrail::vision
