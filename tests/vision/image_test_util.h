// Encoders for the image decoder tests: each builds a file of one exact kind in memory with the
// reference library (libjpeg, libpng, libwebp) or, for BMP and PNM, byte by byte from the format
// description, independently of the decoders under test.
#pragma once

#include <png.h>
#include <webp/encode.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include "vision/image.h"

namespace facetrail::vision::testing {

using Bytes = std::vector<uint8_t>;

// Record the largest single operator-new request between the two calls (image_alloc_hook.cpp
// replaces the global operator new of the test binary), so a test can show that a refused
// decompression bomb never reached the pixel allocation. Not reentrant.
void StartTrackingAllocations();
size_t StopTrackingAllocations();  // returns the largest request in bytes

// A w × h RGB image whose pixels follow a simple pattern of the seed.
inline Image PatternImage(int width, int height, int seed = 0) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.assign(static_cast<size_t>(width) * height * 3, 0);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.row(y) + x * 3;
      p[0] = static_cast<uint8_t>(x * 7 + seed);
      p[1] = static_cast<uint8_t>(y * 11 + 3 * seed);
      p[2] = static_cast<uint8_t>((x ^ y) * 5 + 101);
    }
  }
  return image;
}

struct JpegSpec {
  int width = 0;
  int height = 0;
  int components = 3;                // 1 (grey), 3 (RGB) or 4 (CMYK)
  J_COLOR_SPACE in_space = JCS_RGB;  // JCS_GRAYSCALE, JCS_RGB or JCS_CMYK
  int quality = 90;
  bool full_chroma = false;  // 4:4:4 instead of libjpeg's default 4:2:0
  bool adobe_marker = true;  // CMYK only: libjpeg writes it by default
  bool progressive = false;
  std::vector<jpeg_scan_info> scans;  // a custom (progressive) scan script when not empty
  Bytes app1;                         // written as an APP1 segment when not empty
};

// Encodes `samples` (height × width × components, row-major) with libjpeg.
inline Bytes EncodeJpeg(const JpegSpec& spec, std::span<const uint8_t> samples) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(spec.width);
  cinfo.image_height = static_cast<JDIMENSION>(spec.height);
  cinfo.input_components = spec.components;
  cinfo.in_color_space = spec.in_space;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, spec.quality, TRUE);
  if (spec.full_chroma) {
    for (int c = 0; c < cinfo.num_components; ++c) {
      cinfo.comp_info[c].h_samp_factor = 1;
      cinfo.comp_info[c].v_samp_factor = 1;
    }
  }
  if (spec.progressive) jpeg_simple_progression(&cinfo);
  if (!spec.scans.empty()) {
    cinfo.scan_info = spec.scans.data();
    cinfo.num_scans = static_cast<int>(spec.scans.size());
  }
  if (spec.in_space == JCS_CMYK) cinfo.write_Adobe_marker = spec.adobe_marker ? TRUE : FALSE;
  jpeg_start_compress(&cinfo, TRUE);
  if (!spec.app1.empty()) {
    jpeg_write_marker(&cinfo, JPEG_APP0 + 1, spec.app1.data(),
                      static_cast<unsigned>(spec.app1.size()));
  }
  const size_t stride = static_cast<size_t>(spec.width) * spec.components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(samples.data() + cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes out(buffer, buffer + size);
  std::free(buffer);
  return out;
}

inline Bytes EncodeRgbJpeg(const Image& image, int quality = 90, bool full_chroma = false) {
  JpegSpec spec;
  spec.width = image.width;
  spec.height = image.height;
  spec.quality = quality;
  spec.full_chroma = full_chroma;
  return EncodeJpeg(spec, image.rgb);
}

struct PngSpec {
  int width = 0;
  int height = 0;
  int color_type = PNG_COLOR_TYPE_RGB;
  int bit_depth = 8;
  bool interlaced = false;
  std::vector<png_color> palette;  // PNG_COLOR_TYPE_PALETTE
  std::vector<uint8_t> trns;       // palette alpha, when not empty
  Bytes exif;                      // eXIf chunk (TIFF structure), when not empty
};

inline void AppendToBytes(png_structp png, png_bytep data, size_t length) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}

// Encodes rows already in PNG sample layout (16-bit samples big-endian, sub-byte packed).
inline Bytes EncodePngRaw(const PngSpec& spec, std::span<const uint8_t> data) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  Bytes out;
  png_set_write_fn(png, &out, AppendToBytes, nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(spec.width),
               static_cast<png_uint_32>(spec.height), spec.bit_depth, spec.color_type,
               spec.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!spec.palette.empty()) {
    png_set_PLTE(png, info, spec.palette.data(), static_cast<int>(spec.palette.size()));
  }
  if (!spec.trns.empty()) {
    png_set_tRNS(png, info, spec.trns.data(), static_cast<int>(spec.trns.size()), nullptr);
  }
  if (!spec.exif.empty()) {
    png_set_eXIf_1(png, info, static_cast<png_uint_32>(spec.exif.size()),
                   const_cast<png_bytep>(spec.exif.data()));
  }
  png_write_info(png, info);
  const size_t stride = data.size() / static_cast<size_t>(spec.height);
  std::vector<png_bytep> rows(static_cast<size_t>(spec.height));
  for (int y = 0; y < spec.height; ++y) rows[y] = const_cast<png_bytep>(data.data() + y * stride);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

inline Bytes EncodeRgbPng(const Image& image) {
  PngSpec spec;
  spec.width = image.width;
  spec.height = image.height;
  return EncodePngRaw(spec, image.rgb);
}

inline Bytes EncodeWebpLossless(const Image& image) {
  uint8_t* output = nullptr;
  const size_t size =
      WebPEncodeLosslessRGB(image.rgb.data(), image.width, image.height, image.width * 3, &output);
  Bytes out(output, output + size);
  WebPFree(output);
  return out;
}

inline Bytes EncodeWebpLossy(const Image& image, float quality = 90) {
  uint8_t* output = nullptr;
  const size_t size =
      WebPEncodeRGB(image.rgb.data(), image.width, image.height, image.width * 3, quality, &output);
  Bytes out(output, output + size);
  WebPFree(output);
  return out;
}

inline void PutLe16(Bytes* b, uint32_t v) {
  b->push_back(static_cast<uint8_t>(v));
  b->push_back(static_cast<uint8_t>(v >> 8));
}
inline void PutLe24(Bytes* b, uint32_t v) {
  PutLe16(b, v);
  b->push_back(static_cast<uint8_t>(v >> 16));
}
inline void PutLe32(Bytes* b, uint32_t v) {
  PutLe16(b, v);
  PutLe16(b, v >> 16);
}
inline void PutBe16(Bytes* b, uint32_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}
inline void PutBe32(Bytes* b, uint32_t v) {
  PutBe16(b, v >> 16);
  PutBe16(b, v);
}

// Rewraps a simple-format WebP (RIFF, WEBP, one VP8/VP8L chunk) as the extended format with a
// VP8X header and an EXIF chunk after the image data, as the container specification orders.
inline Bytes AddWebpExif(const Bytes& simple, int width, int height, const Bytes& exif) {
  Bytes body = {'W', 'E', 'B', 'P', 'V', 'P', '8', 'X'};
  PutLe32(&body, 10);
  body.push_back(0x08);  // flags: EXIF metadata present
  body.insert(body.end(), 3, 0);
  PutLe24(&body, static_cast<uint32_t>(width - 1));
  PutLe24(&body, static_cast<uint32_t>(height - 1));
  body.insert(body.end(), simple.begin() + 12, simple.end());
  body.insert(body.end(), {'E', 'X', 'I', 'F'});
  PutLe32(&body, static_cast<uint32_t>(exif.size()));
  body.insert(body.end(), exif.begin(), exif.end());
  if (exif.size() % 2 == 1) body.push_back(0);
  Bytes out = {'R', 'I', 'F', 'F'};
  PutLe32(&out, static_cast<uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// A TIFF structure with IFD0 holding only the Orientation tag (SHORT, count 1).
inline Bytes ExifWithOrientation(int orientation, bool big_endian = false) {
  Bytes b;
  auto u16 = [&](uint32_t v) { big_endian ? PutBe16(&b, v) : PutLe16(&b, v); };
  auto u32 = [&](uint32_t v) { big_endian ? PutBe32(&b, v) : PutLe32(&b, v); };
  b.insert(b.end(), big_endian ? std::initializer_list<uint8_t>{'M', 'M'}
                               : std::initializer_list<uint8_t>{'I', 'I'});
  u16(42);
  u32(8);       // IFD0 right after the header
  u16(1);       // one entry
  u16(0x0112);  // Orientation
  u16(3);       // SHORT
  u32(1);       // count
  u16(static_cast<uint32_t>(orientation));
  u16(0);  // the rest of the 4-byte value field
  u32(0);  // no next IFD
  return b;
}

// The APP1 payload a camera writes: "Exif\0\0" and the TIFF structure.
inline Bytes ExifApp1(int orientation, bool big_endian = false) {
  Bytes b = {'E', 'x', 'i', 'f', 0, 0};
  const Bytes tiff = ExifWithOrientation(orientation, big_endian);
  b.insert(b.end(), tiff.begin(), tiff.end());
  return b;
}

struct BmpSpec {
  int bits = 24;           // 8, 24 or 32
  bool top_down = false;   // negative height
  bool bitfields = false;  // 32-bit only: BI_BITFIELDS with masks R=0xff, G=0xff00, B=0xff0000
  int info_size = 40;      // 40 (BITMAPINFOHEADER) or 124 (V5)
};

// Builds a BMP of `image` from the format description. For 8 bits the palette holds the
// distinct colours of the image in order of appearance (at most 256).
inline Bytes EncodeBmp(const Image& image, const BmpSpec& spec) {
  std::vector<uint32_t> palette;  // 0x00RRGGBB
  std::vector<uint8_t> indexes;
  if (spec.bits == 8) {
    for (size_t i = 0; i < image.rgb.size(); i += 3) {
      const uint32_t c =
          uint32_t{image.rgb[i]} << 16 | uint32_t{image.rgb[i + 1]} << 8 | image.rgb[i + 2];
      size_t k = 0;
      while (k < palette.size() && palette[k] != c) ++k;
      if (k == palette.size()) palette.push_back(c);
      indexes.push_back(static_cast<uint8_t>(k));
    }
  }
  const uint32_t stride = (static_cast<uint32_t>(image.width) * spec.bits + 31) / 32 * 4;
  const uint32_t masks = spec.bitfields && spec.info_size == 40 ? 12 : 0;
  const uint32_t offset = 14 + static_cast<uint32_t>(spec.info_size) + masks +
                          static_cast<uint32_t>(palette.size()) * 4;
  Bytes b = {'B', 'M'};
  PutLe32(&b, offset + stride * static_cast<uint32_t>(image.height));
  PutLe32(&b, 0);
  PutLe32(&b, offset);
  PutLe32(&b, static_cast<uint32_t>(spec.info_size));
  PutLe32(&b, static_cast<uint32_t>(image.width));
  PutLe32(&b, static_cast<uint32_t>(spec.top_down ? -image.height : image.height));
  PutLe16(&b, 1);
  PutLe16(&b, static_cast<uint32_t>(spec.bits));
  PutLe32(&b, spec.bitfields ? 3 : 0);
  PutLe32(&b, stride * static_cast<uint32_t>(image.height));
  PutLe32(&b, 2835);
  PutLe32(&b, 2835);
  PutLe32(&b, static_cast<uint32_t>(palette.size()));
  PutLe32(&b, 0);
  if (spec.info_size > 40 || spec.bitfields) {
    PutLe32(&b, 0x000000ff);  // red mask
    PutLe32(&b, 0x0000ff00);  // green
    PutLe32(&b, 0x00ff0000);  // blue
  }
  if (spec.info_size > 40) {
    PutLe32(&b, 0xff000000);  // alpha
    b.resize(14 + static_cast<size_t>(spec.info_size), 0);
  }
  for (uint32_t c : palette) PutLe32(&b, c);
  for (int row = 0; row < image.height; ++row) {
    const int y = spec.top_down ? row : image.height - 1 - row;
    const size_t start = b.size();
    for (int x = 0; x < image.width; ++x) {
      const uint8_t* p = image.row(y) + x * 3;
      if (spec.bits == 8) {
        b.push_back(indexes[static_cast<size_t>(y) * image.width + x]);
      } else if (spec.bits == 24) {
        b.insert(b.end(), {p[2], p[1], p[0]});
      } else if (spec.bitfields) {
        b.insert(b.end(), {p[0], p[1], p[2], 0x80});
      } else {
        b.insert(b.end(), {p[2], p[1], p[0], 0x80});
      }
    }
    b.resize(start + stride, 0);
  }
  return b;
}

// A binary PNM with the given header text (e.g. "P6\n4 2\n255\n") and samples.
inline Bytes MakePnm(const std::string& header, std::span<const uint8_t> samples) {
  Bytes b(header.begin(), header.end());
  b.insert(b.end(), samples.begin(), samples.end());
  return b;
}

inline Bytes ReadAll(const std::string& path) {
  Bytes out;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    uint8_t buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.insert(out.end(), buf, buf + n);
    std::fclose(f);
  }
  return out;
}

// Largest absolute difference of two same-sized images' samples (256 when sizes differ).
inline int MaxAbsDiff(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height || a.rgb.size() != b.rgb.size()) return 256;
  int worst = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) {
    worst = std::max(worst, std::abs(int{a.rgb[i]} - int{b.rgb[i]}));
  }
  return worst;
}

}  // namespace facetrail::vision::testing
