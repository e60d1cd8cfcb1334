// Videos and streams are recognised by their magic bytes; still images are not mistaken for them.
#include <gtest/gtest.h>

#include "service/search_request.h"

namespace facetrail::service {
namespace {

template <size_t N>
std::vector<uint8_t> Bytes(const char (&s)[N]) {
  return {s, s + N - 1};
}

std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<uint8_t> TransportStream() {
  std::vector<uint8_t> b(188 * 3, 0xFF);
  b[0] = b[188] = b[376] = 0x47;
  return b;
}

// GIF with a global colour table of 2 entries and `frames` 1×1 images.
std::vector<uint8_t> Gif(int frames, bool netscape = false) {
  std::vector<uint8_t> b = Bytes(
      "GIF89a\x01\0\x01\0\x80\0\0"
      "\0\0\0\xFF\xFF\xFF");
  if (netscape) b = Concat(b, Bytes("\x21\xFF\x0BNETSCAPE2.0\x03\x01\0\0\0"));
  for (int i = 0; i < frames; ++i) {
    b = Concat(b, Bytes("\x21\xF9\x04\0\x0A\0\0\0"));                      // graphic control
    b = Concat(b, Bytes("\x2C\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0"));  // image
  }
  b.push_back(0x3B);
  return b;
}

std::vector<uint8_t> Png(bool animated) {
  std::vector<uint8_t> b = Bytes(
      "\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0"
      "\0\0\0\0");  // IHDR + fake CRC
  if (animated)
    b = Concat(b, Bytes("\0\0\0\x08"
                        "acTL\0\0\0\x02\0\0\0\0"
                        "\0\0\0\0"));
  return Concat(b, Bytes("\0\0\0\0IDAT\0\0\0\0"));
}

TEST(ProbeFormatTest, VideosAndStillImages) {
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
    bool video;
  };
  const std::vector<Case> cases = {
      {"mp4",
       Bytes("\0\0\0\x20"
             "ftypisom\0\0\x02\0isomiso2avc1mp41"),
       true},
      {"mov",
       Bytes("\0\0\0\x14"
             "ftypqt  \0\0\0\0qt  "),
       true},
      {"3gp",
       Bytes("\0\0\0\x14"
             "ftyp3gp4\0\0\0\0"),
       true},
      {"old quicktime", Bytes("\0\0\0\x08wide\0\0\0\0mdat"), true},
      {"heic still",
       Bytes("\0\0\0\x18"
             "ftypheic\0\0\0\0mif1heic"),
       false},
      {"avif still",
       Bytes("\0\0\0\x18"
             "ftypavif\0\0\0\0mif1avif"),
       false},
      {"avif sequence",
       Bytes("\0\0\0\x18"
             "ftypavis\0\0\0\0avismsf1"),
       true},
      {"avi", Bytes("RIFF\x24\0\0\0AVI LIST\0\0\0\0"), true},
      {"mkv", Bytes("\x1A\x45\xDF\xA3\x93\x42\x82\x88matroska"), true},
      {"webm", Bytes("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm"), true},
      {"mpeg-ts", TransportStream(), true},
      {"mpeg-ps", Bytes("\0\0\x01\xBA\x44\0\x04\0\x04\x01"), true},
      {"flv", Bytes("FLV\x01\x05\0\0\0\x09"), true},
      {"asf", Bytes("\x30\x26\xB2\x75\x8E\x66\xCF\x11\xA6\xD9\0\xAA\0\x62\xCE\x6C"), true},
      {"ogg", Bytes("OggS\0\x02\0\0"), true},
      {"animated gif", Gif(2), true},
      {"looping gif", Gif(1, true), true},
      {"single-frame gif", Gif(1), false},
      {"apng", Png(true), true},
      {"png", Png(false), false},
      {"animated webp", Bytes("RIFF\x30\0\0\0WEBPVP8X\x0A\0\0\0\x12\0\0\0\0\0\0\0\0\0ANIM"), true},
      {"still webp", Bytes("RIFF\x30\0\0\0WEBPVP8 \x0A\0\0\0\x10\x02\0\x9D\x01\x2A"), false},
      {"jpeg", Bytes("\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01"), false},
      {"bmp", Bytes("BM\x36\0\0\0\0\0\0\0\x36\0\0\0"), false},
      {"empty", {}, false},
      {"short", Bytes("\0\0"), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string got = ProbeLooksLikeVideo(c.bytes);
    EXPECT_EQ(!got.empty(), c.video) << got;
  }
}

TEST(ProbeFormatTest, TruncatedGifDoesNotReadPastTheEnd) {
  std::vector<uint8_t> gif = Gif(2);
  for (size_t n = 0; n < gif.size(); ++n) {
    std::vector<uint8_t> part(gif.begin(), gif.begin() + static_cast<long>(n));
    (void)ProbeLooksLikeVideo(part);  // must not crash (the sanitizer build checks reads)
  }
}

}  // namespace
}  // namespace facetrail::service
