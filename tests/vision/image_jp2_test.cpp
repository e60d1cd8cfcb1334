// JPEG 2000 (vision/internal/jp2_codec.cpp, OpenJPEG): a real photo converted with Debian's
// opj_compress (libopenjp2-tools) at test time decodes to exactly the pixels it was made from
// (lossless JP2 and J2K), a lossy one to nearly them; hostile files (truncated, flipped bytes,
// a SIZ marker claiming a huge image, garbage after the signature) are refused with the format's
// name, never a crash, and the pixel limit is checked before OpenJPEG allocates the image.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "common/file.h"
#include "gtest/gtest.h"
#include "vision/image.h"

namespace facetrail::vision {
namespace {

namespace fs = std::filesystem;

class Jpeg2000Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v opj_compress >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "opj_compress missing (scripts/deps installs libopenjp2-tools)";
    }
    dir_ = fs::temp_directory_path() /
           ("ft_jp2_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(dir_);
    // A real photo: an LFW JPEG decoded by our JPEG decoder, written as a PPM for opj_compress.
    auto jpeg = LoadImageFile(FACETRAIL_SHARED_DIR
                              "/data/lfw-deepfunneled-dev/images/Aaron_Sorkin/"
                              "Aaron_Sorkin_0001.jpg");
    ASSERT_TRUE(jpeg.ok()) << jpeg.status().ToString();
    original_ = jpeg->image;
    std::ofstream ppm(dir_ / "face.ppm", std::ios::binary);
    ppm << "P6\n" << original_.width << " " << original_.height << "\n255\n";
    ppm.write(reinterpret_cast<const char*>(original_.rgb.data()),
              static_cast<std::streamsize>(original_.rgb.size()));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // opj_compress's output for `args` (e.g. "-r 20"), as bytes.
  std::vector<uint8_t> Compress(const std::string& out, const std::string& args = "") {
    const std::string cmd = "opj_compress -i '" + (dir_ / "face.ppm").string() + "' -o '" +
                            (dir_ / out).string() + "' " + args + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    auto bytes = ReadFileBytes(dir_ / out);
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? *bytes : std::vector<uint8_t>();
  }

  fs::path dir_;
  Image original_;
};

TEST_F(Jpeg2000Test, LosslessJp2AndJ2kDecodeToTheExactPixels) {
  for (const std::string name : {"face.jp2", "face.j2k"}) {
    SCOPED_TRACE(name);
    const auto bytes = Compress(name);  // opj_compress's default: reversible 5/3, lossless
    ASSERT_EQ(SniffImageFormat(bytes), ImageFormat::kJpeg2000);
    auto d = DecodeImage(bytes);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->format, ImageFormat::kJpeg2000);
    EXPECT_EQ(d->image.width, original_.width);
    EXPECT_EQ(d->image.height, original_.height);
    EXPECT_EQ(d->image.rgb, original_.rgb);
  }
  // Lossy (20:1): close to the original, not equal.
  const auto lossy = Compress("lossy.jp2", "-r 20");
  auto d = DecodeImage(lossy);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->image.rgb.size(), original_.rgb.size());
  double diff = 0;
  for (size_t i = 0; i < original_.rgb.size(); ++i) {
    diff += std::abs(int{d->image.rgb[i]} - int{original_.rgb[i]});
  }
  diff /= static_cast<double>(original_.rgb.size());
  EXPECT_GT(diff, 0.0);
  EXPECT_LT(diff, 6.0);
}

TEST_F(Jpeg2000Test, PixelLimitCheckedFromTheHeader) {
  const auto bytes = Compress("face.jp2");
  DecodeOptions exact;
  exact.max_pixels = static_cast<uint64_t>(original_.width) * original_.height;
  EXPECT_TRUE(DecodeImage(bytes, exact).ok());
  DecodeOptions below = exact;
  below.max_pixels -= 1;
  auto refused = DecodeImage(bytes, below);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message().rfind("JPEG 2000: ", 0), 0u) << refused.status().message();

  // A SIZ marker (0xFF51) claiming 60000 x 60000: refused before any pixel is decoded.
  std::vector<uint8_t> bomb = bytes;
  for (size_t i = 0; i + 14 < bomb.size(); ++i) {
    if (bomb[i] == 0xFF && bomb[i + 1] == 0x51) {
      for (size_t k : {i + 6, i + 10}) {  // Xsiz, Ysiz (big-endian, after Lsiz and Rsiz)
        bomb[k] = 0x00;
        bomb[k + 1] = 0x00;
        bomb[k + 2] = 0xEA;
        bomb[k + 3] = 0x60;
      }
      break;
    }
  }
  auto b = DecodeImage(bomb);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message().rfind("JPEG 2000: ", 0), 0u) << b.status().message();
}

TEST_F(Jpeg2000Test, TruncatedFlippedAndGarbageFilesAreRefused) {
  for (const std::string name : {"face.jp2", "face.j2k"}) {
    SCOPED_TRACE(name);
    const auto bytes = Compress(name, "-r 40");
    ASSERT_TRUE(DecodeImage(bytes).ok());
    // Cut: at every 1/50th of the file and around the start.
    for (size_t n = 1; n < bytes.size(); n += std::max<size_t>(1, bytes.size() / 50)) {
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      auto d = DecodeImage(cut);
      if (d.ok()) continue;  // OpenJPEG may decode a truncated codestream's first layers
      EXPECT_NE(d.status().message().find("JPEG 2000"), std::string::npos) << n;
    }
    // Flipped bytes: an error or an image of the header's size, never a crash.
    std::mt19937 rng(7);
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<uint8_t> bad = bytes;
      for (int k = 0; k < 4; ++k)
        bad[rng() % bad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      auto d = DecodeImage(bad);
      if (d.ok()) {
        EXPECT_EQ(d->image.rgb.size(), static_cast<size_t>(d->image.width) * d->image.height * 3);
      }
    }
  }
  std::vector<uint8_t> garbage = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
  garbage.resize(300, 0xAB);
  auto g = DecodeImage(garbage);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g.status().message().rfind("JPEG 2000: ", 0), 0u) << g.status().message();
}

}  // namespace
}  // namespace facetrail::vision
