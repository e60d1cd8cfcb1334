// Binary PGM (P5) and PPM (P6) decoding, maxval 1..65535 (two big-endian bytes a sample above
// 255). Samples are scaled to 8 bits as round(v * 255 / maxval); a sample above maxval is
// corrupt data. The plain-text variants (P1..P3), PBM (P4) and PAM (P7) are refused by name.
#include <string>

#include "vision/internal/codecs.h"

namespace facetrail::vision::internal {

namespace {

Status Bad(const std::string& reason) {
  return InvalidArgument("PNM: " + reason);
}

bool IsSpace(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Reads the header's whitespace- and comment-separated decimal fields.
class HeaderReader {
 public:
  explicit HeaderReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  // Skips whitespace and comments, then reads one unsigned number (capped to avoid overflow).
  bool Number(uint64_t* value) {
    while (pos_ < bytes_.size()) {
      if (bytes_[pos_] == '#') {
        while (pos_ < bytes_.size() && bytes_[pos_] != '\n' && bytes_[pos_] != '\r') ++pos_;
      } else if (IsSpace(bytes_[pos_])) {
        ++pos_;
      } else {
        break;
      }
    }
    const size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < bytes_.size() && bytes_[pos_] >= '0' && bytes_[pos_] <= '9') {
      if (v < (uint64_t{1} << 40)) v = v * 10 + (bytes_[pos_] - '0');
      ++pos_;
    }
    *value = v;
    return pos_ > start;
  }
  // After maxval comes exactly one whitespace byte, then the samples.
  bool EndOfHeader(size_t* data_offset) {
    if (pos_ >= bytes_.size() || !IsSpace(bytes_[pos_])) return false;
    *data_offset = pos_ + 1;
    return true;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 2;  // after the magic number
};

}  // namespace

Expected<DecodedImage> DecodePnm(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  if (bytes.size() < 2 || bytes[0] != 'P') return Bad("bad signature");
  const uint8_t kind = bytes[1];
  if (kind != '5' && kind != '6') {
    return Bad(std::string("unsupported variant P") + static_cast<char>(kind) +
               " (only binary P5 and P6)");
  }
  HeaderReader header(bytes);
  uint64_t width = 0, height = 0, maxval = 0;
  size_t data_offset = 0;
  if (!header.Number(&width) || !header.Number(&height)) return Bad("bad or truncated header");
  FT_RETURN_IF_ERROR(CheckDimensions("PNM", width, height, options));
  if (!header.Number(&maxval) || !header.EndOfHeader(&data_offset)) {
    return Bad("bad or truncated header");
  }
  if (maxval == 0 || maxval > 65535)
    return Bad("maxval " + std::to_string(maxval) + " is not in 1..65535");

  const int channels = kind == '6' ? 3 : 1;
  const uint64_t sample_bytes = maxval > 255 ? 2 : 1;
  const uint64_t needed = width * height * channels * sample_bytes;
  if (bytes.size() - data_offset < needed) return Bad("premature end of data");

  DecodedImage out;
  out.image = AllocateImage(static_cast<int>(width), static_cast<int>(height));
  const uint8_t* src = bytes.data() + data_offset;
  uint8_t* dst = out.image.rgb.data();
  const uint64_t num_samples = width * height * channels;
  for (uint64_t i = 0; i < num_samples; ++i) {
    const uint32_t v = sample_bytes == 2 ? (uint32_t{src[2 * i]} << 8 | src[2 * i + 1]) : src[i];
    if (v > maxval) return Bad("sample value " + std::to_string(v) + " above maxval");
    const auto v8 = static_cast<uint8_t>((uint64_t{v} * 255 + maxval / 2) / maxval);
    if (channels == 3) {
      dst[i] = v8;
    } else {
      dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = v8;
    }
  }
  return out;
}

}  // namespace facetrail::vision::internal
