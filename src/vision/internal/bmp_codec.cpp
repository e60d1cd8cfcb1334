// A small BMP reader: BITMAPINFOHEADER and its V2..V5 extensions, uncompressed 24-bit and
// 32-bit (BI_RGB, or BI_BITFIELDS with byte-aligned 8-bit masks), and 8-bit palette; bottom-up
// (positive height) and top-down (negative height). Everything else (RLE, 1/4/16-bit, OS/2
// headers, embedded JPEG/PNG) is refused with its name.
//
// Every offset comes from the file, so every one is checked against the buffer in 64-bit
// arithmetic before it is used.
#include <string>

#include "vision/internal/codecs.h"

namespace facetrail::vision::internal {

namespace {

constexpr size_t kFileHeaderBytes = 14;
constexpr uint32_t kBiRgb = 0;
constexpr uint32_t kBiBitfields = 3;

uint16_t Le16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}
uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// The shift of an 8-bit-wide contiguous mask (0xff << shift), or -1.
int ByteMaskShift(uint32_t mask) {
  for (int shift = 0; shift <= 24; shift += 8) {
    if (mask == (uint32_t{0xff} << shift)) return shift;
  }
  return -1;
}

Status Bad(const std::string& reason) {
  return InvalidArgument("BMP: " + reason);
}

}  // namespace

Expected<DecodedImage> DecodeBmp(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  if (bytes.size() < kFileHeaderBytes + 4) return Bad("premature end of data in header");
  const uint8_t* data = bytes.data();
  if (data[0] != 'B' || data[1] != 'M') return Bad("bad signature");
  const uint64_t pixel_offset = Le32(data + 10);
  const uint64_t info_size = Le32(data + kFileHeaderBytes);
  if (info_size != 40 && info_size != 52 && info_size != 56 && info_size != 108 &&
      info_size != 124) {
    return Bad("unsupported header size " + std::to_string(info_size) +
               " (only BITMAPINFOHEADER and its V2-V5 extensions)");
  }
  if (bytes.size() < kFileHeaderBytes + info_size) return Bad("premature end of data in header");
  const uint8_t* info = data + kFileHeaderBytes;
  const int64_t width = static_cast<int32_t>(Le32(info + 4));
  const int64_t signed_height = static_cast<int32_t>(Le32(info + 8));
  const uint16_t planes = Le16(info + 12);
  const uint16_t bits = Le16(info + 14);
  const uint32_t compression = Le32(info + 16);
  const uint32_t colors_used = Le32(info + 32);

  const bool top_down = signed_height < 0;
  const int64_t height = top_down ? -signed_height : signed_height;
  if (width < 0) return Bad("negative width " + std::to_string(width));
  FT_RETURN_IF_ERROR(
      CheckDimensions("BMP", static_cast<uint64_t>(width), static_cast<uint64_t>(height), options));
  if (planes != 1) return Bad("number of planes is " + std::to_string(planes) + ", not 1");
  if (bits != 8 && bits != 24 && bits != 32) {
    return Bad("unsupported bit depth " + std::to_string(bits) + " (only 8, 24 and 32)");
  }

  // Channel shifts for 32-bit pixels, read as little-endian words: BGRX by default.
  int red_shift = 16, green_shift = 8, blue_shift = 0;
  uint64_t palette_offset = kFileHeaderBytes + info_size;
  if (compression == kBiBitfields && bits == 32) {
    // Masks follow a 40-byte header; larger headers hold them at the same offset.
    const uint64_t masks_offset = kFileHeaderBytes + 40;
    if (bytes.size() < masks_offset + 12) return Bad("premature end of data in bit masks");
    red_shift = ByteMaskShift(Le32(data + masks_offset));
    green_shift = ByteMaskShift(Le32(data + masks_offset + 4));
    blue_shift = ByteMaskShift(Le32(data + masks_offset + 8));
    if (red_shift < 0 || green_shift < 0 || blue_shift < 0) {
      return Bad("unsupported BI_BITFIELDS masks (only 8-bit byte-aligned channels)");
    }
    if (info_size == 40) palette_offset += 12;
  } else if (compression != kBiRgb) {
    return Bad("unsupported compression " + std::to_string(compression) +
               " (only uncompressed BI_RGB and 32-bit BI_BITFIELDS)");
  }

  uint64_t num_colors = 0;
  if (bits == 8) {
    num_colors = colors_used == 0 ? 256 : colors_used;
    if (num_colors > 256) return Bad("palette has " + std::to_string(num_colors) + " colours");
    if (bytes.size() < palette_offset + num_colors * 4) {
      return Bad("premature end of data in palette");
    }
  }

  const uint64_t stride = (static_cast<uint64_t>(width) * bits + 31) / 32 * 4;
  if (pixel_offset < palette_offset + num_colors * 4 || pixel_offset > bytes.size()) {
    return Bad("pixel data offset " + std::to_string(pixel_offset) + " is out of range");
  }
  // The last row need not be padded: some writers stop at the last pixel.
  const uint64_t last_row_bytes = (static_cast<uint64_t>(width) * bits + 7) / 8;
  if (bytes.size() - pixel_offset < stride * (static_cast<uint64_t>(height) - 1) + last_row_bytes) {
    return Bad("premature end of data in pixels");
  }

  DecodedImage out;
  out.image = AllocateImage(static_cast<int>(width), static_cast<int>(height));
  const uint8_t* palette = data + palette_offset;
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* src = data + pixel_offset + static_cast<uint64_t>(y) * stride;
    const int64_t out_y = top_down ? y : height - 1 - y;
    uint8_t* dst = out.image.row(static_cast<int>(out_y));
    for (int64_t x = 0; x < width; ++x, dst += 3) {
      if (bits == 8) {
        const uint8_t index = src[x];
        if (index >= num_colors) return Bad("palette index out of range");
        const uint8_t* bgr = palette + size_t{index} * 4;
        dst[0] = bgr[2], dst[1] = bgr[1], dst[2] = bgr[0];
      } else if (bits == 24) {
        const uint8_t* bgr = src + x * 3;
        dst[0] = bgr[2], dst[1] = bgr[1], dst[2] = bgr[0];
      } else {
        const uint32_t word = Le32(src + x * 4);
        dst[0] = static_cast<uint8_t>(word >> red_shift);
        dst[1] = static_cast<uint8_t>(word >> green_shift);
        dst[2] = static_cast<uint8_t>(word >> blue_shift);
      }
    }
  }
  return out;
}

}  // namespace facetrail::vision::internal
