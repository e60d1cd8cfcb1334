// Decoding real photos and every supported pixel layout, byte parity with djpeg, and the
// writers. Hostile input is in image_hostile_test.cpp, EXIF orientation in image_exif_test.cpp.
#include "vision/image.h"

#include <png.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "vision/image_test_util.h"

namespace facetrail::vision {
namespace {

using testing::Bytes;

const std::string kLfw = FACETRAIL_SHARED_DIR "/data/lfw-deepfunneled-dev/images/";
const std::string kDlib = FACETRAIL_SHARED_DIR "/data/dlib-faces-detection/images/";

DecodedImage MustDecode(std::span<const uint8_t> bytes, const DecodeOptions& options = {}) {
  Expected<DecodedImage> decoded = DecodeImage(bytes, options);
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() ? *decoded : DecodedImage{};
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ft_image_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(ImageFormatTest, SniffsMagicNumbers) {
  const Image image = testing::PatternImage(4, 3);
  EXPECT_EQ(SniffImageFormat(testing::EncodeRgbJpeg(image)), ImageFormat::kJpeg);
  EXPECT_EQ(SniffImageFormat(testing::EncodeRgbPng(image)), ImageFormat::kPng);
  EXPECT_EQ(SniffImageFormat(testing::EncodeWebpLossless(image)), ImageFormat::kWebp);
  EXPECT_EQ(SniffImageFormat(testing::EncodeBmp(image, {})), ImageFormat::kBmp);
  EXPECT_EQ(SniffImageFormat(testing::MakePnm("P6\n1 1\n255\n", Bytes(3))), ImageFormat::kPnm);
  EXPECT_EQ(SniffImageFormat(testing::MakePnm("P5#c\n1 1\n255\n", Bytes(1))), ImageFormat::kPnm);
  EXPECT_EQ(SniffImageFormat({}), ImageFormat::kUnknown);
  const Bytes gif = {'G', 'I', 'F', '8', '9', 'a'};
  EXPECT_EQ(SniffImageFormat(gif), ImageFormat::kUnknown);
  const Bytes riff_wave = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E'};
  EXPECT_EQ(SniffImageFormat(riff_wave), ImageFormat::kUnknown);
  EXPECT_EQ(ImageFormatName(ImageFormat::kJpeg), "JPEG");
  EXPECT_EQ(ImageFormatName(ImageFormat::kPng), "PNG");
  EXPECT_EQ(ImageFormatName(ImageFormat::kWebp), "WebP");
  EXPECT_EQ(ImageFormatName(ImageFormat::kBmp), "BMP");
  EXPECT_EQ(ImageFormatName(ImageFormat::kPnm), "PNM");
  EXPECT_EQ(ImageFormatName(ImageFormat::kUnknown), "unknown");
}

// ---------------------------------------------------------------------------------------------
// Real photos.

TEST(RealImageTest, LoadsLfwJpeg) {
  auto decoded = LoadImageFile(kLfw + "Aaron_Sorkin/Aaron_Sorkin_0001.jpg");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->format, ImageFormat::kJpeg);
  EXPECT_EQ(decoded->image.width, 250);
  EXPECT_EQ(decoded->image.height, 250);
  EXPECT_EQ(decoded->image.rgb.size(), 250u * 250 * 3);
  EXPECT_EQ(decoded->exif_orientation, 1);
}

TEST(RealImageTest, LoadsDlibJpegs) {
  const struct {
    const char* name;
    int width, height;
  } kCases[] = {
      {"2008_002079.jpg", 500, 375}, {"2008_001009.jpg", 360, 480}, {"2009_004587.jpg", 400, 500}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    auto decoded = LoadImageFile(kDlib + c.name);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->image.width, c.width);
    EXPECT_EQ(decoded->image.height, c.height);
  }
}

// Runs `djpeg -pnm` on `path` and returns its pixels as an RGB image (PGM expanded).
bool RunDjpeg(const std::string& path, Image* out) {
  FILE* pipe = ::popen(("/usr/bin/djpeg -pnm '" + path + "'").c_str(), "r");
  if (pipe == nullptr) return false;
  Bytes data;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) data.insert(data.end(), buf, buf + n);
  if (::pclose(pipe) != 0) return false;
  char kind = 0;
  int width = 0, height = 0, maxval = 0, header_bytes = 0;
  data.push_back(0);
  if (std::sscanf(reinterpret_cast<const char*>(data.data()), "P%c %d %d %d%n", &kind, &width,
                  &height, &maxval, &header_bytes) != 4) {
    return false;
  }
  data.pop_back();
  const size_t channels = kind == '6' ? 3 : 1;
  const uint8_t* samples = data.data() + header_bytes + 1;
  if (data.size() != header_bytes + 1 + channels * width * height) return false;
  out->width = width;
  out->height = height;
  out->rgb.resize(size_t{3} * width * height);
  for (size_t i = 0; i < size_t{1} * width * height; ++i) {
    for (size_t c = 0; c < 3; ++c) out->rgb[3 * i + c] = samples[i * channels + c % channels];
  }
  return true;
}

void ExpectDjpegParity(const std::string& path) {
  SCOPED_TRACE(path);
  Image reference;
  ASSERT_TRUE(RunDjpeg(path, &reference));
  auto decoded = LoadImageFile(path);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->image.width, reference.width);
  ASSERT_EQ(decoded->image.height, reference.height);
  EXPECT_TRUE(decoded->image.rgb == reference.rgb) << "pixels differ from djpeg";
}

// Golden tests compare against face-api.js fed with djpeg pixels: our decode must be identical.
TEST(DjpegParityTest, LfwAndDlibJpegsAreByteIdentical) {
  if (::access("/usr/bin/djpeg", X_OK) != 0) GTEST_SKIP() << "djpeg not installed";
  ExpectDjpegParity(kLfw + "Aaron_Sorkin/Aaron_Sorkin_0001.jpg");
  ExpectDjpegParity(kLfw + "Andy_Graves/Andy_Graves_0001.jpg");
  ExpectDjpegParity(kLfw + "Diego_Armando_Maradona/Diego_Armando_Maradona_0001.jpg");
  ExpectDjpegParity(kDlib + "2008_002079.jpg");
}

TEST(DjpegParityTest, GreyCmykAndProgressiveJpegsAreByteIdentical) {
  if (::access("/usr/bin/djpeg", X_OK) != 0) GTEST_SKIP() << "djpeg not installed";
  TempDir dir;
  const Image rgb = testing::PatternImage(37, 29);
  Bytes grey(37 * 29), cmyk(37 * 29 * 4);
  for (size_t i = 0; i < grey.size(); ++i) {
    grey[i] = rgb.rgb[3 * i];
    for (size_t c = 0; c < 3; ++c) cmyk[4 * i + c] = rgb.rgb[3 * i + c];
    cmyk[4 * i + 3] = static_cast<uint8_t>(200 + i % 50);
  }
  testing::JpegSpec spec;
  spec.width = 37;
  spec.height = 29;
  struct Case {
    const char* name;
    Bytes file;
  };
  spec.components = 1;
  spec.in_space = JCS_GRAYSCALE;
  const Bytes grey_jpeg = testing::EncodeJpeg(spec, grey);
  spec.components = 4;
  spec.in_space = JCS_CMYK;
  const Bytes cmyk_jpeg = testing::EncodeJpeg(spec, cmyk);
  spec.components = 3;
  spec.in_space = JCS_RGB;
  spec.progressive = true;
  const Bytes progressive_jpeg = testing::EncodeJpeg(spec, rgb.rgb);
  const Case cases[] = {
      {"grey.jpg", grey_jpeg}, {"cmyk.jpg", cmyk_jpeg}, {"progressive.jpg", progressive_jpeg}};
  for (const Case& c : cases) {
    const std::string path = dir.File(c.name);
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(c.file.data(), 1, c.file.size(), f);
    std::fclose(f);
    ExpectDjpegParity(path);
  }
}

// ---------------------------------------------------------------------------------------------
// JPEG pixel layouts.

TEST(JpegTest, RgbIsCloseToSource) {
  const Image source = testing::PatternImage(48, 32);
  const DecodedImage decoded = MustDecode(testing::EncodeRgbJpeg(source, 100, true));
  EXPECT_EQ(decoded.format, ImageFormat::kJpeg);
  EXPECT_LE(testing::MaxAbsDiff(decoded.image, source), 8);
}

TEST(JpegTest, GreyBecomesEqualChannels) {
  testing::JpegSpec spec;
  spec.width = 16;
  spec.height = 8;
  spec.components = 1;
  spec.in_space = JCS_GRAYSCALE;
  spec.quality = 100;
  const Bytes grey(16 * 8, 77);  // flat: the DCT reproduces it exactly
  const DecodedImage decoded = MustDecode(testing::EncodeJpeg(spec, grey));
  ASSERT_EQ(decoded.image.width, 16);
  ASSERT_EQ(decoded.image.height, 8);
  for (uint8_t v : decoded.image.rgb) ASSERT_EQ(v, 77);
}

// Adobe CMYK stores inverted ink; R = C * K / 255 on the stored values.
TEST(JpegTest, AdobeInvertedCmykConvertsToRgb) {
  testing::JpegSpec spec;
  spec.width = 8;
  spec.height = 8;
  spec.components = 4;
  spec.in_space = JCS_CMYK;
  spec.quality = 100;
  spec.full_chroma = true;
  const struct {
    uint8_t c, m, y, k;
  } kCases[] = {{255, 255, 255, 255}, {200, 100, 50, 255}, {200, 100, 50, 128}, {0, 0, 0, 255}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(::testing::Message()
                 << int{c.c} << "," << int{c.m} << "," << int{c.y} << "," << int{c.k});
    Bytes samples;
    for (int i = 0; i < 64; ++i) samples.insert(samples.end(), {c.c, c.m, c.y, c.k});
    const DecodedImage decoded = MustDecode(testing::EncodeJpeg(spec, samples));
    ASSERT_EQ(decoded.image.rgb.size(), 64u * 3);
    // YCCK coding is lossy by a unit or two even at quality 100.
    EXPECT_NEAR(decoded.image.rgb[0], c.c * c.k / 255.0, 3);
    EXPECT_NEAR(decoded.image.rgb[1], c.m * c.k / 255.0, 3);
    EXPECT_NEAR(decoded.image.rgb[2], c.y * c.k / 255.0, 3);
  }
}

TEST(JpegTest, CmykWithoutAdobeMarkerIsNotInverted) {
  testing::JpegSpec spec;
  spec.width = 8;
  spec.height = 8;
  spec.components = 4;
  spec.in_space = JCS_CMYK;
  spec.quality = 100;
  spec.adobe_marker = false;
  Bytes samples;
  for (int i = 0; i < 64; ++i) samples.insert(samples.end(), {0, 255, 55, 0});
  const DecodedImage decoded = MustDecode(testing::EncodeJpeg(spec, samples));
  ASSERT_EQ(decoded.image.rgb.size(), 64u * 3);
  EXPECT_NEAR(decoded.image.rgb[0], 255, 3);  // no cyan ink
  EXPECT_NEAR(decoded.image.rgb[1], 0, 3);    // full magenta ink
  EXPECT_NEAR(decoded.image.rgb[2], 200, 3);
}

// ---------------------------------------------------------------------------------------------
// PNG pixel layouts.

TEST(PngTest, RgbIsExact) {
  const Image source = testing::PatternImage(33, 17, 5);
  const DecodedImage decoded = MustDecode(testing::EncodeRgbPng(source));
  EXPECT_EQ(decoded.format, ImageFormat::kPng);
  EXPECT_EQ(decoded.image.rgb, source.rgb);
}

TEST(PngTest, InterlacedIsExact) {
  const Image source = testing::PatternImage(19, 23, 9);
  testing::PngSpec spec;
  spec.width = 19;
  spec.height = 23;
  spec.interlaced = true;
  EXPECT_EQ(MustDecode(testing::EncodePngRaw(spec, source.rgb)).image.rgb, source.rgb);
}

// 16-bit samples become round(v * 255 / 65535): check every boundary of the rounding.
TEST(PngTest, SixteenBitRoundsToEightBits) {
  std::vector<uint16_t> values = {0, 1, 128, 129, 65535, 65534, 32767, 32768};
  for (uint32_t k = 0; k < 255; k += 17) {
    values.push_back(static_cast<uint16_t>(257 * k + 128));
    values.push_back(static_cast<uint16_t>(257 * k + 129));
  }
  testing::PngSpec spec;
  spec.width = static_cast<int>(values.size());
  spec.height = 1;
  spec.bit_depth = 16;
  spec.color_type = PNG_COLOR_TYPE_GRAY;
  Bytes row;
  for (uint16_t v : values) testing::PutBe16(&row, v);
  const DecodedImage grey = MustDecode(testing::EncodePngRaw(spec, row));
  ASSERT_EQ(grey.image.width, spec.width);
  for (size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE(values[i]);
    const int expected = (values[i] * 255 + 32767) / 65535;
    EXPECT_EQ(grey.image.rgb[3 * i], expected);
    EXPECT_EQ(grey.image.rgb[3 * i + 1], expected);
    EXPECT_EQ(grey.image.rgb[3 * i + 2], expected);
  }
  // RGBA 16: the same per channel, alpha dropped.
  spec.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  spec.width = 1;
  Bytes pixel;
  for (uint16_t v : {uint16_t{65535}, uint16_t{128}, uint16_t{129}, uint16_t{7}}) {
    testing::PutBe16(&pixel, v);
  }
  const DecodedImage rgba = MustDecode(testing::EncodePngRaw(spec, pixel));
  EXPECT_EQ(rgba.image.rgb, (Bytes{255, 0, 1}));
}

TEST(PngTest, PaletteWithTransparencyExpandsToRgb) {
  testing::PngSpec spec;
  spec.width = 4;
  spec.height = 2;
  spec.color_type = PNG_COLOR_TYPE_PALETTE;
  spec.palette = {{10, 20, 30}, {40, 50, 60}, {70, 80, 90}};
  spec.trns = {0, 128};
  const Bytes indexes = {0, 1, 2, 1, 2, 2, 0, 0};
  const DecodedImage decoded = MustDecode(testing::EncodePngRaw(spec, indexes));
  const Bytes expected = {10, 20, 30, 40, 50, 60, 70, 80, 90, 40, 50, 60,
                          70, 80, 90, 70, 80, 90, 10, 20, 30, 10, 20, 30};
  EXPECT_EQ(decoded.image.rgb, expected);
}

TEST(PngTest, RgbaAndGreyAlphaDropAlpha) {
  testing::PngSpec spec;
  spec.width = 2;
  spec.height = 1;
  spec.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  EXPECT_EQ(MustDecode(testing::EncodePngRaw(spec, Bytes{1, 2, 3, 0, 4, 5, 6, 255})).image.rgb,
            (Bytes{1, 2, 3, 4, 5, 6}));
  spec.color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
  EXPECT_EQ(MustDecode(testing::EncodePngRaw(spec, Bytes{9, 0, 200, 17})).image.rgb,
            (Bytes{9, 9, 9, 200, 200, 200}));
}

TEST(PngTest, OneBitGreyExpandsToBlackAndWhite) {
  testing::PngSpec spec;
  spec.width = 10;
  spec.height = 1;
  spec.bit_depth = 1;
  spec.color_type = PNG_COLOR_TYPE_GRAY;
  const DecodedImage decoded =
      MustDecode(testing::EncodePngRaw(spec, Bytes{0b10100000, 0b01000000}));
  const int expected[10] = {255, 0, 255, 0, 0, 0, 0, 0, 0, 255};
  for (int x = 0; x < 10; ++x) EXPECT_EQ(decoded.image.rgb[3 * x], expected[x]) << x;
}

// ---------------------------------------------------------------------------------------------
// WebP, BMP, PNM.

TEST(WebpTest, LosslessIsExact) {
  const Image source = testing::PatternImage(31, 21, 3);
  const DecodedImage decoded = MustDecode(testing::EncodeWebpLossless(source));
  EXPECT_EQ(decoded.format, ImageFormat::kWebp);
  EXPECT_EQ(decoded.image.rgb, source.rgb);
}

TEST(WebpTest, AlphaIsDropped) {
  const Image rgb = testing::PatternImage(9, 7, 6);
  Bytes rgba;
  for (size_t i = 0; i < rgb.rgb.size(); i += 3) {
    rgba.insert(rgba.end(), {rgb.rgb[i], rgb.rgb[i + 1], rgb.rgb[i + 2], static_cast<uint8_t>(i)});
    if (rgba.back() == 0) rgba.back() = 1;  // fully transparent pixels may lose their colour
  }
  WebPConfig config;
  ASSERT_TRUE(WebPConfigInit(&config));
  config.lossless = 1;
  config.exact = 1;
  WebPPicture picture;
  ASSERT_TRUE(WebPPictureInit(&picture));
  picture.use_argb = 1;
  picture.width = 9;
  picture.height = 7;
  ASSERT_TRUE(WebPPictureImportRGBA(&picture, rgba.data(), 9 * 4));
  WebPMemoryWriter writer;
  WebPMemoryWriterInit(&writer);
  picture.writer = WebPMemoryWrite;
  picture.custom_ptr = &writer;
  ASSERT_TRUE(WebPEncode(&config, &picture));
  const Bytes webp(writer.mem, writer.mem + writer.size);
  WebPMemoryWriterClear(&writer);
  WebPPictureFree(&picture);
  EXPECT_EQ(MustDecode(webp).image.rgb, rgb.rgb);
}

TEST(WebpTest, LossyIsClose) {
  Image source = testing::PatternImage(32, 32);
  for (size_t i = 0; i < source.rgb.size(); ++i)
    source.rgb[i] = static_cast<uint8_t>(i % 3 * 60 + 40);
  const DecodedImage decoded = MustDecode(testing::EncodeWebpLossy(source, 100));
  ASSERT_EQ(decoded.image.width, 32);
  EXPECT_LE(testing::MaxAbsDiff(decoded.image, source), 6);
}

TEST(BmpTest, AllSupportedVariantsAreExact) {
  // Width 5 makes 24-bit rows need padding; the palette image has few colours.
  const Image source = testing::PatternImage(5, 3, 1);
  Image few_colours = source;
  for (size_t i = 0; i < few_colours.rgb.size(); ++i) few_colours.rgb[i] &= 0xC0;
  const struct {
    const char* name;
    testing::BmpSpec spec;
    const Image* image;
  } kCases[] = {
      {"24 bottom-up", {24, false, false, 40}, &source},
      {"24 top-down", {24, true, false, 40}, &source},
      {"24 V5 header", {24, false, false, 124}, &source},
      {"32 BI_RGB", {32, false, false, 40}, &source},
      {"32 BI_BITFIELDS", {32, true, true, 40}, &source},
      {"32 BI_BITFIELDS V5", {32, false, true, 124}, &source},
      {"8 palette", {8, false, false, 40}, &few_colours},
      {"8 palette top-down", {8, true, false, 40}, &few_colours},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    const DecodedImage decoded = MustDecode(testing::EncodeBmp(*c.image, c.spec));
    EXPECT_EQ(decoded.format, ImageFormat::kBmp);
    EXPECT_EQ(decoded.image.width, 5);
    EXPECT_EQ(decoded.image.height, 3);
    EXPECT_EQ(decoded.image.rgb, c.image->rgb);
  }
}

TEST(PnmTest, EightBitPpmAndPgm) {
  const Image source = testing::PatternImage(3, 2);
  const DecodedImage ppm = MustDecode(testing::MakePnm("P6\n# a comment\n3 2\n255\n", source.rgb));
  EXPECT_EQ(ppm.format, ImageFormat::kPnm);
  EXPECT_EQ(ppm.image.rgb, source.rgb);
  const DecodedImage pgm = MustDecode(testing::MakePnm("P5 2 1 255 ", Bytes{0, 200}));
  EXPECT_EQ(pgm.image.rgb, (Bytes{0, 0, 0, 200, 200, 200}));
}

TEST(PnmTest, SixteenBitAndOddMaxvalRound) {
  Bytes samples;
  for (uint16_t v : {uint16_t{0}, uint16_t{128}, uint16_t{129}, uint16_t{65535}}) {
    testing::PutBe16(&samples, v);
  }
  EXPECT_EQ(MustDecode(testing::MakePnm("P5\n4 1\n65535\n", samples)).image.rgb,
            (Bytes{0, 0, 0, 0, 0, 0, 1, 1, 1, 255, 255, 255}));
  // maxval 1023: v -> round(v * 255 / 1023).
  Bytes rgb;
  for (uint16_t v : {uint16_t{1023}, uint16_t{2}, uint16_t{512}}) testing::PutBe16(&rgb, v);
  EXPECT_EQ(MustDecode(testing::MakePnm("P6\n1 1\n1023\n", rgb)).image.rgb, (Bytes{255, 0, 128}));
  // maxval 1: a bilevel PGM in one byte a sample.
  EXPECT_EQ(MustDecode(testing::MakePnm("P5\n2 1\n1\n", Bytes{1, 0})).image.rgb,
            (Bytes{255, 255, 255, 0, 0, 0}));
}

// The decoders keep no shared state: decoding on several threads at once gives each the same
// pixels as decoding alone (run under FACETRAIL_SANITIZE for memory errors).
TEST(ConcurrencyTest, ParallelDecodesAgree) {
  const Bytes jpeg = testing::ReadAll(kDlib + "2008_002079.jpg");
  const Bytes png = testing::EncodeRgbPng(testing::PatternImage(200, 100));
  const Bytes webp = testing::EncodeWebpLossy(testing::PatternImage(200, 100));
  const std::vector<const Bytes*> files = {&jpeg, &png, &webp};
  std::vector<Bytes> reference;
  for (const Bytes* f : files) reference.push_back(MustDecode(*f).image.rgb);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 10; ++round) {
        for (size_t i = 0; i < files.size(); ++i) {
          auto decoded = DecodeImage(*files[i]);
          if (!decoded.ok() || decoded->image.rgb != reference[i]) ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

// ---------------------------------------------------------------------------------------------
// Files and writers.

TEST(ImageFileTest, PngAndPpmRoundTripsAreExact) {
  TempDir dir;
  auto photo = LoadImageFile(kLfw + "Aaron_Sorkin/Aaron_Sorkin_0002.jpg");
  ASSERT_TRUE(photo.ok()) << photo.status().ToString();
  ASSERT_TRUE(WritePng(photo->image, dir.File("a.png")).ok());
  ASSERT_TRUE(WritePpm(photo->image, dir.File("a.ppm")).ok());
  for (const char* name : {"a.png", "a.ppm"}) {
    SCOPED_TRACE(name);
    auto back = LoadImageFile(dir.File(name));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->image.width, 250);
    EXPECT_EQ(back->image.height, 250);
    EXPECT_TRUE(back->image.rgb == photo->image.rgb);
  }
  const Bytes ppm = testing::ReadAll(dir.File("a.ppm"));
  EXPECT_EQ(std::string(ppm.begin(), ppm.begin() + 15), "P6\n250 250\n255\n");
  EXPECT_EQ(ppm.size(), 15u + 250 * 250 * 3);
}

TEST(ImageFileTest, ErrorsNameThePath) {
  TempDir dir;
  auto missing = LoadImageFile(dir.File("missing.jpg"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message().rfind(dir.File("missing.jpg"), 0), 0u);

  const std::string bad = dir.File("bad.png");
  {
    Bytes truncated = testing::EncodeRgbPng(testing::PatternImage(8, 8));
    truncated.resize(truncated.size() / 2);
    FILE* f = std::fopen(bad.c_str(), "wb");
    std::fwrite(truncated.data(), 1, truncated.size(), f);
    std::fclose(f);
  }
  auto corrupt = LoadImageFile(bad);
  EXPECT_EQ(corrupt.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(corrupt.status().message().rfind(bad + ": PNG: ", 0), 0u) << corrupt.status().message();

  // The file size limit: the file itself is exactly at it, then one byte over.
  const size_t size = std::filesystem::file_size(bad);
  DecodeOptions options;
  options.max_file_bytes = size;
  EXPECT_EQ(LoadImageFile(bad, options).status().code(), StatusCode::kInvalidArgument);
  options.max_file_bytes = size - 1;
  auto too_big = LoadImageFile(bad, options);
  EXPECT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(too_big.status().message().rfind(bad, 0), 0u);
}

TEST(ImageFileTest, WritersRefuseBadImagesAndPaths) {
  TempDir dir;
  EXPECT_EQ(WritePng(Image{}, dir.File("x.png")).code(), StatusCode::kInvalidArgument);
  Image wrong_size = testing::PatternImage(4, 4);
  wrong_size.rgb.pop_back();
  EXPECT_EQ(WritePpm(wrong_size, dir.File("x.ppm")).code(), StatusCode::kInvalidArgument);
  const Image image = testing::PatternImage(4, 4);
  EXPECT_FALSE(WritePng(image, dir.File("no/such/folder/x.png")).ok());
  EXPECT_FALSE(WritePpm(image, dir.File("no/such/folder/x.ppm")).ok());
}

}  // namespace
}  // namespace facetrail::vision
