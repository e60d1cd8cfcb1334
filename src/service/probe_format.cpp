// ProbeLooksLikeVideo: moving-picture containers recognised by their magic bytes, so a video or
// a recording of a stream is refused as a probe before any decoding.
#include <cstring>

#include "service/search_request.h"

namespace facetrail::service {

namespace {

bool At(std::span<const uint8_t> b, size_t offset, std::string_view magic) {
  return b.size() >= offset + magic.size() &&
         std::memcmp(b.data() + offset, magic.data(), magic.size()) == 0;
}

uint32_t Be32(std::span<const uint8_t> b, size_t o) {
  return (uint32_t{b[o]} << 24) | (uint32_t{b[o + 1]} << 16) | (uint32_t{b[o + 2]} << 8) | b[o + 3];
}

// Skips GIF data sub-blocks starting at `pos`; returns the position after the terminator, or
// size+1 when truncated.
size_t SkipSubBlocks(std::span<const uint8_t> b, size_t pos) {
  while (pos < b.size()) {
    size_t n = b[pos];
    pos += 1 + n;
    if (n == 0) return pos;
  }
  return b.size() + 1;
}

bool IsAnimatedGif(std::span<const uint8_t> b) {
  if (b.size() < 13) return false;
  size_t pos = 13;
  if (b[10] & 0x80) pos += 3 * (size_t{1} << ((b[10] & 7) + 1));
  int images = 0;
  while (pos < b.size()) {
    uint8_t block = b[pos];
    if (block == 0x3B) break;  // trailer
    if (block == 0x21) {       // extension
      if (pos + 2 > b.size()) break;
      if (b[pos + 1] == 0xFF && At(b, pos + 3, "NETSCAPE2.0")) return true;
      pos = SkipSubBlocks(b, pos + 2);
    } else if (block == 0x2C) {  // image descriptor
      if (++images > 1) return true;
      if (pos + 10 > b.size()) break;
      uint8_t packed = b[pos + 9];
      pos += 10;
      if (packed & 0x80) pos += 3 * (size_t{1} << ((packed & 7) + 1));
      pos = SkipSubBlocks(b, pos + 1);  // after the LZW minimum code size
    } else {
      break;  // malformed: leave it to the decoder
    }
  }
  return false;
}

bool IsAnimatedPng(std::span<const uint8_t> b) {
  size_t pos = 8;
  while (pos + 8 <= b.size()) {
    uint32_t length = Be32(b, pos);
    if (At(b, pos + 4, "acTL")) return true;
    if (At(b, pos + 4, "IDAT") || At(b, pos + 4, "IEND")) return false;
    pos += 12 + size_t{length};
  }
  return false;
}

bool IsAnimatedWebp(std::span<const uint8_t> b) {
  if (At(b, 12, "VP8X") && b.size() > 20 && (b[20] & 0x02)) return true;
  // An ANIM chunk anywhere in the first chunks.
  size_t pos = 12;
  while (pos + 8 <= b.size()) {
    if (At(b, pos, "ANIM") || At(b, pos, "ANMF")) return true;
    uint32_t size = b[pos + 4] | (uint32_t{b[pos + 5]} << 8) | (uint32_t{b[pos + 6]} << 16) |
                    (uint32_t{b[pos + 7]} << 24);
    pos += 8 + size_t{size} + (size & 1);
  }
  return false;
}

}  // namespace

std::string ProbeLooksLikeVideo(std::span<const uint8_t> b) {
  if (At(b, 4, "ftyp")) {
    // ISO base media: still-image brands (HEIF/AVIF/JPEG 2000) are not video.
    for (std::string_view still :
         {"heic", "heix", "heim", "heis", "mif1", "avif", "jp2 ", "jpx ", "crx "}) {
      if (At(b, 8, still)) return "";
    }
    std::string brand = b.size() >= 12 ? std::string(b.begin() + 8, b.begin() + 12) : "";
    return "mp4/mov (ftyp " + brand + ")";
  }
  for (std::string_view atom : {"moov", "mdat", "wide", "free", "skip", "pnot"}) {
    if (At(b, 4, atom)) return "quicktime";
  }
  if (At(b, 0, "RIFF") && At(b, 8, "AVI ")) return "avi";
  if (At(b, 0, "RIFF") && At(b, 8, "WEBP") && IsAnimatedWebp(b)) return "animated webp";
  if (At(b, 0, "\x1A\x45\xDF\xA3")) return "matroska/webm";
  if (At(b, 0, "FLV\x01")) return "flv";
  if (At(b, 0, "\x30\x26\xB2\x75\x8E\x66\xCF\x11")) return "asf/wmv";
  if (At(b, 0, std::string_view("\x00\x00\x01\xBA", 4))) return "mpeg program stream";
  if (At(b, 0, std::string_view("\x00\x00\x01\xB3", 4))) return "mpeg video";
  if (At(b, 0, std::string_view("\x00\x00\x00\x01\x67", 5)) ||
      At(b, 0, std::string_view("\x00\x00\x00\x01\x40", 5))) {
    return "h.264/h.265 stream";
  }
  if (b.size() > 376 && b[0] == 0x47 && b[188] == 0x47 && b[376] == 0x47) return "mpeg-ts";
  if (b.size() > 388 && b[4] == 0x47 && b[196] == 0x47 && b[388] == 0x47) return "mpeg-ts (m2ts)";
  if (At(b, 0, "OggS")) return "ogg";
  if (At(b, 0, ".RMF")) return "realmedia";
  if (At(b, 0, "#EXTM3U")) return "hls playlist";
  if ((At(b, 0, "GIF87a") || At(b, 0, "GIF89a")) && IsAnimatedGif(b)) return "animated gif";
  if (At(b, 0, "\x89PNG\r\n\x1A\n") && IsAnimatedPng(b)) return "animated png";
  return "";
}

}  // namespace facetrail::service
