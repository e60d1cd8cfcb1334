// facetrail-bench-decode: image decoder micro-benchmarks (Google Benchmark).
//
//   build/facetrail-bench-decode [--benchmark_filter=REGEX] [--benchmark_repetitions=N] ...
//
// Workloads, each decoding from memory (no file I/O) with default DecodeOptions:
//   BM_Decode/lfw_jpeg     LFW deep-funneled photo, 250×250 baseline JPEG 4:2:0
//   BM_Decode/dlib_jpeg    dlib face detection photo, 500×375 baseline JPEG
//   BM_Decode/dlib_png     the same photo re-encoded as 8-bit RGB PNG (libpng defaults)
//   BM_Decode/dlib_webp_lossless, BM_Decode/dlib_bmp   the same pixels, for comparison
//   BM_ExifRotate90        ApplyExifOrientation(6) of the 500×375 image
// items_per_second is pixels per second. Library versions and the build type are printed in
// the context block before the figures.
#include <benchmark/benchmark.h>
#include <png.h>
#include <webp/decode.h>
#include <webp/encode.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include "common/file.h"
#include "vision/image.h"
#include "vision/internal/codecs.h"
#include "vision/internal/exif.h"

namespace {

using facetrail::vision::DecodeImage;
using facetrail::vision::Image;
using Bytes = std::vector<uint8_t>;

const std::string kLfwJpeg =
    FACETRAIL_SHARED_DIR "/data/lfw-deepfunneled-dev/images/Aaron_Sorkin/Aaron_Sorkin_0001.jpg";
const std::string kDlibJpeg =
    FACETRAIL_SHARED_DIR "/data/dlib-faces-detection/images/2008_002079.jpg";

Bytes MustRead(const std::string& path) {
  auto bytes = facetrail::ReadFileBytes(path);
  if (!bytes.ok()) {
    std::fprintf(stderr, "%s\n", bytes.status().ToString().c_str());
    std::exit(1);
  }
  return *bytes;
}

Image MustDecode(const Bytes& bytes) {
  auto decoded = DecodeImage(bytes);
  if (!decoded.ok()) {
    std::fprintf(stderr, "%s\n", decoded.status().ToString().c_str());
    std::exit(1);
  }
  return decoded->image;
}

Bytes WebpLossless(const Image& image) {
  uint8_t* out = nullptr;
  const size_t size =
      WebPEncodeLosslessRGB(image.rgb.data(), image.width, image.height, image.width * 3, &out);
  Bytes bytes(out, out + size);
  WebPFree(out);
  return bytes;
}

Bytes Bmp24(const Image& image) {
  const uint32_t stride = (static_cast<uint32_t>(image.width) * 3 + 3) / 4 * 4;
  Bytes b(54 + static_cast<size_t>(stride) * image.height, 0);
  auto le32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  b[0] = 'B', b[1] = 'M';
  le32(2, static_cast<uint32_t>(b.size()));
  le32(10, 54);
  le32(14, 40);
  le32(18, static_cast<uint32_t>(image.width));
  le32(22, static_cast<uint32_t>(image.height));
  b[26] = 1, b[28] = 24;
  for (int y = 0; y < image.height; ++y) {
    uint8_t* dst = b.data() + 54 + static_cast<size_t>(image.height - 1 - y) * stride;
    const uint8_t* src = image.row(y);
    for (int x = 0; x < image.width; ++x) {
      dst[3 * x] = src[3 * x + 2], dst[3 * x + 1] = src[3 * x + 1], dst[3 * x + 2] = src[3 * x];
    }
  }
  return b;
}

void BM_Decode(benchmark::State& state, const Bytes* bytes) {
  int64_t pixels = 0;
  for (auto _ : state) {
    auto decoded = DecodeImage(*bytes);
    if (!decoded.ok()) {
      state.SkipWithError(decoded.status().ToString().c_str());
      return;
    }
    pixels = int64_t{decoded->image.width} * decoded->image.height;
    benchmark::DoNotOptimize(decoded->image.rgb.data());
  }
  state.SetItemsProcessed(state.iterations() * pixels);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes->size()));
}

void BM_ExifRotate90(benchmark::State& state, const Image* image) {
  for (auto _ : state) {
    Image rotated = facetrail::vision::internal::ApplyExifOrientation(*image, 6);
    benchmark::DoNotOptimize(rotated.rgb.data());
  }
  state.SetItemsProcessed(state.iterations() * image->width * image->height);
}

#define FT_STRINGIFY_INNER(x) #x
#define FT_STRINGIFY(x) FT_STRINGIFY_INNER(x)

}  // namespace

int main(int argc, char** argv) {
  static const Bytes lfw_jpeg = MustRead(kLfwJpeg);
  static const Bytes dlib_jpeg = MustRead(kDlibJpeg);
  static const Image dlib = MustDecode(dlib_jpeg);
  static const Bytes dlib_png = *facetrail::vision::internal::EncodePng(dlib);
  static const Bytes dlib_webp = WebpLossless(dlib);
  static const Bytes dlib_bmp = Bmp24(dlib);

  benchmark::RegisterBenchmark("BM_Decode/lfw_jpeg", BM_Decode, &lfw_jpeg);
  benchmark::RegisterBenchmark("BM_Decode/dlib_jpeg", BM_Decode, &dlib_jpeg);
  benchmark::RegisterBenchmark("BM_Decode/dlib_png", BM_Decode, &dlib_png);
  benchmark::RegisterBenchmark("BM_Decode/dlib_webp_lossless", BM_Decode, &dlib_webp);
  benchmark::RegisterBenchmark("BM_Decode/dlib_bmp", BM_Decode, &dlib_bmp);
  benchmark::RegisterBenchmark("BM_ExifRotate90", BM_ExifRotate90, &dlib);

  benchmark::AddCustomContext("libjpeg-turbo", FT_STRINGIFY(LIBJPEG_TURBO_VERSION));
  benchmark::AddCustomContext("libpng", PNG_LIBPNG_VER_STRING);
  const int webp = WebPGetDecoderVersion();
  benchmark::AddCustomContext("libwebp", std::to_string(webp >> 16) + "." +
                                             std::to_string((webp >> 8) & 0xff) + "." +
                                             std::to_string(webp & 0xff));
#ifdef NDEBUG
  benchmark::AddCustomContext("facetrail build", "optimised, assertions off");
#else
  benchmark::AddCustomContext("facetrail build", "WARNING: assertions on (not a Release build)");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
