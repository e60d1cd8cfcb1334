// Decoded images and the image decoders (JPEG, PNG, WebP, BMP, PPM/PGM).
//
// WHAT THIS REPRESENTS
//   Image is an 8-bit RGB raster, row-major, 3 bytes a pixel, no row padding, already rotated
//   into its upright orientation when the file carried an EXIF orientation tag.
//   Grey, grey+alpha, RGBA, CMYK/YCCK (Adobe inverted JPEGs included), palette and 16-bit inputs
//   are all converted to RGB8 (alpha dropped; 16-bit samples scaled with rounding to 8 bits).
//
// ERRORS
//   Corrupt, truncated or unsupported data: kInvalidArgument with the format and the reason
//   ("JPEG: premature end of data"); a header that declares a zero width or height is corrupt
//   too. More pixels than DecodeOptions::max_pixels, or a side above 65535:
//   kResourceExhausted, detected from the header before any pixel memory is allocated
//   (decompression bombs). Nothing is ever partially returned. See docs/IMAGES.md.
//
// THREAD SAFETY
//   All functions are reentrant; decoding different images on different threads is safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace facetrail::vision {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // height × width × 3 bytes, row-major, RGB order

  bool empty() const { return width == 0 || height == 0; }
  const uint8_t* row(int y) const { return rgb.data() + static_cast<size_t>(y) * width * 3; }
  uint8_t* row(int y) { return rgb.data() + static_cast<size_t>(y) * width * 3; }
};

enum class ImageFormat { kUnknown, kJpeg, kPng, kWebp, kBmp, kPnm, kJpeg2000 };
std::string_view ImageFormatName(ImageFormat format);
// Guesses the format from the first bytes (magic numbers); kUnknown when none matches.
ImageFormat SniffImageFormat(std::span<const uint8_t> bytes);

struct DecodeOptions {
  // Largest accepted width × height, checked from the header before decoding.
  uint64_t max_pixels = 64'000'000;
  // Largest accepted file, checked before reading (LoadImageFile only).
  size_t max_file_bytes = size_t{64} << 20;
  // Rotate/flip by the EXIF Orientation tag (JPEG APP1, WebP EXIF chunk, PNG eXIf).
  bool apply_exif_orientation = true;
};

struct DecodedImage {
  Image image;
  ImageFormat format = ImageFormat::kUnknown;
  int exif_orientation = 1;  // 1..8 as found in the file (1 when absent); already applied
};

Expected<DecodedImage> DecodeImage(std::span<const uint8_t> bytes,
                                   const DecodeOptions& options = {});
// Reads and decodes a file; errors are prefixed with the path.
Expected<DecodedImage> LoadImageFile(const std::string& path, const DecodeOptions& options = {});

// Writes a binary PPM (P6) / PNG; used by tools and tests. kIoError on failure.
Status WritePpm(const Image& image, const std::string& path);
Status WritePng(const Image& image, const std::string& path);
// The image as PNG bytes (8-bit RGB, no colour profile: read as sRGB, decoded exactly).
// kInvalidArgument for an empty image.
Expected<std::vector<uint8_t>> EncodePng(const Image& image);

}  // namespace facetrail::vision
