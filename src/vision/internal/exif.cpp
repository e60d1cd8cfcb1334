#include "vision/internal/exif.h"

#include <cstddef>
#include <cstring>

namespace facetrail::vision::internal {

namespace {

constexpr uint16_t kOrientationTag = 0x0112;
constexpr uint16_t kTypeShort = 3;
constexpr uint16_t kTypeLong = 4;
constexpr size_t kIfdEntryBytes = 12;

// Reads integers in the byte order the TIFF header declares. Callers check bounds first.
class TiffReader {
 public:
  TiffReader(std::span<const uint8_t> data, bool big_endian)
      : data_(data), big_endian_(big_endian) {}

  [[nodiscard]] bool Has(uint64_t offset, uint64_t length) const {
    return offset <= data_.size() && length <= data_.size() - offset;
  }
  [[nodiscard]] uint16_t U16(size_t offset) const {
    const uint8_t* p = data_.data() + offset;
    return big_endian_ ? static_cast<uint16_t>(p[0] << 8 | p[1])
                       : static_cast<uint16_t>(p[1] << 8 | p[0]);
  }
  [[nodiscard]] uint32_t U32(size_t offset) const {
    const uint8_t* p = data_.data() + offset;
    return big_endian_ ? (uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3])
                       : (uint32_t{p[3]} << 24 | uint32_t{p[2]} << 16 | uint32_t{p[1]} << 8 | p[0]);
  }

 private:
  std::span<const uint8_t> data_;
  bool big_endian_;
};

}  // namespace

int ParseExifOrientation(std::span<const uint8_t> exif) {
  static constexpr uint8_t kExifId[6] = {'E', 'x', 'i', 'f', 0, 0};
  if (exif.size() >= sizeof(kExifId) && std::memcmp(exif.data(), kExifId, sizeof(kExifId)) == 0) {
    exif = exif.subspan(sizeof(kExifId));
  }
  if (exif.size() < 8) return 1;
  bool big_endian;
  if (exif[0] == 'I' && exif[1] == 'I' && exif[2] == 42 && exif[3] == 0) {
    big_endian = false;
  } else if (exif[0] == 'M' && exif[1] == 'M' && exif[2] == 0 && exif[3] == 42) {
    big_endian = true;
  } else {
    return 1;
  }
  TiffReader tiff(exif, big_endian);
  const uint64_t ifd = tiff.U32(4);
  if (!tiff.Has(ifd, 2)) return 1;
  const uint64_t num_entries = tiff.U16(ifd);
  if (!tiff.Has(ifd + 2, num_entries * kIfdEntryBytes)) return 1;
  for (uint64_t i = 0; i < num_entries; ++i) {
    const size_t entry = ifd + 2 + i * kIfdEntryBytes;
    if (tiff.U16(entry) != kOrientationTag) continue;
    const uint16_t type = tiff.U16(entry + 2);
    if (tiff.U32(entry + 4) != 1) return 1;  // count must be 1; the value is inline
    uint32_t value = 0;
    if (type == kTypeShort) {
      value = tiff.U16(entry + 8);
    } else if (type == kTypeLong) {
      value = tiff.U32(entry + 8);
    } else {
      return 1;
    }
    return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
  }
  return 1;
}

Image ApplyExifOrientation(const Image& image, int orientation) {
  if (orientation < 2 || orientation > 8 || image.empty()) return image;
  const int w = image.width;
  const int h = image.height;
  const bool swaps = orientation >= 5;
  // The stored pixel (sx, sy) shown at (x, y) once upright.
  auto source_offset = [&](int x, int y) -> ptrdiff_t {
    int sx = x;
    int sy = y;
    switch (orientation) {
      case 2: sx = w - 1 - x; break;                  // mirrored left-right
      case 3: sx = w - 1 - x, sy = h - 1 - y; break;  // rotated 180°
      case 4: sy = h - 1 - y; break;                  // mirrored top-bottom
      case 5: sx = y, sy = x; break;                  // transposed
      case 6: sx = y, sy = h - 1 - x; break;          // needs 90° clockwise
      case 7: sx = w - 1 - y, sy = h - 1 - x; break;  // transversed
      case 8: sx = w - 1 - y, sy = x; break;          // needs 90° counter-clockwise
      default: break;
    }
    return (static_cast<ptrdiff_t>(sy) * w + sx) * 3;
  };
  Image out;
  out.width = swaps ? h : w;
  out.height = swaps ? w : h;
  out.rgb.resize(image.rgb.size());
  // Along an output row the source moves by a constant step, so the switch runs twice a row.
  const ptrdiff_t step = out.width > 1 ? source_offset(1, 0) - source_offset(0, 0) : 0;
  for (int y = 0; y < out.height; ++y) {
    uint8_t* dst = out.row(y);
    const uint8_t* src = image.rgb.data() + source_offset(0, y);
    for (int x = 0; x < out.width; ++x, dst += 3, src += step) {
      dst[0] = src[0];
      dst[1] = src[1];
      dst[2] = src[2];
    }
  }
  return out;
}

}  // namespace facetrail::vision::internal
