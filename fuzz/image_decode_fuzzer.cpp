// libFuzzer target for the image decoders: DecodeImage on arbitrary bytes must return an
// error or a well-formed image, never crash, hang, leak or read out of bounds (address and
// undefined-behaviour sanitizers on). Build and run with scripts/fuzz.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "vision/image.h"
#include "vision/internal/exif.h"

namespace {

// A lower pixel limit than the product's keeps every input fast and within -rss_limit_mb;
// the limit check itself is the same code at any value.
constexpr uint64_t kFuzzMaxPixels = 4'000'000;

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace facetrail::vision;
  using facetrail::Expected;
  const std::span<const uint8_t> bytes(data, size);

  DecodeOptions options;
  options.max_pixels = kFuzzMaxPixels;
  // One bit of the input decides whether EXIF rotation runs, so both paths are explored.
  options.apply_exif_orientation = size == 0 || (data[size - 1] & 1) == 0;
  Expected<DecodedImage> decoded = DecodeImage(bytes, options);
  if (decoded.ok()) {
    const Image& image = decoded->image;
    Check(image.width > 0 && image.height > 0);
    Check(static_cast<uint64_t>(image.width) * image.height <= kFuzzMaxPixels);
    Check(image.rgb.size() == static_cast<size_t>(image.width) * image.height * 3);
    Check(decoded->exif_orientation >= 1 && decoded->exif_orientation <= 8);
    Check(decoded->format == SniffImageFormat(bytes));
  } else {
    Check(!decoded.status().message().empty());
  }

  const int orientation = internal::ParseExifOrientation(bytes);
  Check(orientation >= 1 && orientation <= 8);
  return 0;
}
