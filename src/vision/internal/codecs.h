// The per-format decoders behind DecodeImage, and the checks they share. Only image.cpp and the
// codec files include this header.
//
// Every decoder
//   - reads the dimensions from the header and calls CheckDimensions before it allocates pixels;
//   - returns an RGB8 Image in stored (not yet EXIF-rotated) orientation and the EXIF orientation
//     it found (1 when absent or invalid), leaving the rotation to DecodeImage;
//   - reports corrupt or truncated data as kInvalidArgument, "<FORMAT>: <reason>".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "vision/image.h"

namespace facetrail::vision::internal {

// The largest accepted width or height, whatever max_pixels says (many decoders and the EXIF
// rotation index pixels with int; 65535 is also the JPEG format's own limit).
inline constexpr uint64_t kMaxDimension = 65535;

// OK when 1 <= width, height <= kMaxDimension and width * height <= options.max_pixels.
// Else kInvalidArgument for a zero dimension (a corrupt header: no such image exists), and
// kResourceExhausted otherwise, "<format>: image is <w>x<h> (<n> pixels), more than ...".
Status CheckDimensions(std::string_view format, uint64_t width, uint64_t height,
                       const DecodeOptions& options);

// Allocates width × height × 3 bytes; requires CheckDimensions to have passed.
Image AllocateImage(int width, int height);

// Each returns the image in stored orientation; DecodedImage::format is left for the caller.
Expected<DecodedImage> DecodeJpeg(std::span<const uint8_t> bytes, const DecodeOptions& options);
Expected<DecodedImage> DecodePng(std::span<const uint8_t> bytes, const DecodeOptions& options);
Expected<DecodedImage> DecodeWebp(std::span<const uint8_t> bytes, const DecodeOptions& options);
Expected<DecodedImage> DecodeBmp(std::span<const uint8_t> bytes, const DecodeOptions& options);
Expected<DecodedImage> DecodePnm(std::span<const uint8_t> bytes, const DecodeOptions& options);
// JPEG 2000: a JP2 file or a raw J2K codestream (OpenJPEG; jp2_codec.cpp says what is accepted).
Expected<DecodedImage> DecodeJpeg2000(std::span<const uint8_t> bytes, const DecodeOptions& options);

// Encodes `image` (non-empty, rgb.size() == width*height*3) as an 8-bit RGB PNG.
Expected<std::vector<uint8_t>> EncodePng(const Image& image);
// Encodes `image` as a baseline JPEG of `quality` (1..100) with libjpeg's defaults (4:2:0 chroma,
// integer DCT, no optimised tables): the same bytes for the same pixels on every machine.
Expected<std::vector<uint8_t>> EncodeJpeg(const Image& image, int quality);

}  // namespace facetrail::vision::internal
