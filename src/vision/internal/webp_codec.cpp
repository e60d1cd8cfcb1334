// WebP decoding with libwebp: WebPGetFeatures for the size, then WebPDecodeRGBInto straight
// into the Image buffer. Animated files are refused (a probe photo is one frame).
//
// The EXIF chunk of the extended format is found by walking the RIFF chunks here rather than
// through libwebpdemux, which would be one more library for a dozen lines.
#include <webp/decode.h>

#include <cstring>
#include <string>

#include "vision/internal/codecs.h"
#include "vision/internal/exif.h"

namespace facetrail::vision::internal {

namespace {

uint32_t ReadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

const char* VP8StatusText(VP8StatusCode code) {
  switch (code) {
    case VP8_STATUS_OK: return "ok";
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "corrupt bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "premature end of data";
  }
  return "unknown error";
}

// Returns the orientation from the first EXIF chunk of a RIFF/WEBP container, 1 if none.
// Chunks are FourCC, little-endian size, payload, one pad byte when the size is odd.
int FindExifOrientation(std::span<const uint8_t> bytes) {
  constexpr size_t kRiffHeaderBytes = 12;
  constexpr size_t kChunkHeaderBytes = 8;
  size_t pos = kRiffHeaderBytes;
  while (bytes.size() >= kChunkHeaderBytes && pos <= bytes.size() - kChunkHeaderBytes) {
    const uint8_t* chunk = bytes.data() + pos;
    const uint64_t size = ReadLe32(chunk + 4);
    const uint64_t available = bytes.size() - pos - kChunkHeaderBytes;
    if (size > available) return 1;
    if (std::memcmp(chunk, "EXIF", 4) == 0) {
      return ParseExifOrientation({chunk + kChunkHeaderBytes, static_cast<size_t>(size)});
    }
    pos += kChunkHeaderBytes + size + (size & 1);
  }
  return 1;
}

}  // namespace

Expected<DecodedImage> DecodeWebp(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  WebPBitstreamFeatures features;
  const VP8StatusCode code = WebPGetFeatures(bytes.data(), bytes.size(), &features);
  if (code != VP8_STATUS_OK) {
    return InvalidArgument(std::string("WebP: ") + VP8StatusText(code));
  }
  FT_RETURN_IF_ERROR(CheckDimensions("WebP", static_cast<uint64_t>(features.width),
                                     static_cast<uint64_t>(features.height), options));
  if (features.has_animation) return InvalidArgument("WebP: animated images are not supported");

  DecodedImage out;
  out.image = AllocateImage(features.width, features.height);
  const int stride = features.width * 3;
  if (WebPDecodeRGBInto(bytes.data(), bytes.size(), out.image.rgb.data(), out.image.rgb.size(),
                        stride) == nullptr) {
    // WebPDecodeRGBInto gives no reason; the full decoder API would, at the price of a config.
    return InvalidArgument("WebP: corrupt or truncated data");
  }
  out.exif_orientation = FindExifOrientation(bytes);
  return out;
}

}  // namespace facetrail::vision::internal
