// Writes a small seed corpus for image_decode_fuzzer: each input photo, shrunk to at most
// 48 pixels a side, in every format and main variant the decoders handle (JPEG baseline,
// progressive, grey, CMYK and with EXIF; PNG; WebP lossless and lossy; BMP 24/32/8-bit; PPM
// 8/16-bit, PGM). Seeds are made at run time so that no image is committed.
// Usage: make_seeds <output folder> <image>...
#include <png.h>
#include <webp/encode.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include "vision/image.h"

namespace {

using facetrail::vision::Image;
using Bytes = std::vector<uint8_t>;

Image Shrink(const Image& in, int max_side) {
  const int step = std::max(1, (std::max(in.width, in.height) + max_side - 1) / max_side);
  Image out;
  out.width = (in.width + step - 1) / step;
  out.height = (in.height + step - 1) / step;
  out.rgb.resize(static_cast<size_t>(out.width) * out.height * 3);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      std::copy_n(in.row(y * step) + x * step * 3, 3, out.row(y) + x * 3);
    }
  }
  return out;
}

Bytes Jpeg(const Image& image, int components, bool progressive, bool exif) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  if (exif) {
    static const uint8_t kApp1[] = {'E',  'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0,
                                    0x12, 1,   3,   0,   1, 0, 0,   0,   6,  0, 0, 0, 0, 0, 0, 0};
    jpeg_write_marker(&cinfo, JPEG_APP0 + 1, kApp1, sizeof(kApp1));
  }
  std::vector<uint8_t> row(static_cast<size_t>(image.width) * components);
  while (cinfo.next_scanline < cinfo.image_height) {
    const uint8_t* rgb = image.row(static_cast<int>(cinfo.next_scanline));
    for (int x = 0; x < image.width; ++x) {
      if (components == 1) row[x] = rgb[3 * x];
      if (components == 3) std::copy_n(rgb + 3 * x, 3, &row[3 * x]);
      if (components == 4) std::copy_n(rgb + 3 * x, 3, &row[4 * x]), row[4 * x + 3] = 200;
    }
    JSAMPROW p = row.data();
    jpeg_write_scanlines(&cinfo, &p, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes out(buffer, buffer + size);
  std::free(buffer);
  return out;
}

Bytes Webp(const Image& image, bool lossless) {
  uint8_t* output = nullptr;
  const size_t size = lossless ? WebPEncodeLosslessRGB(image.rgb.data(), image.width, image.height,
                                                       image.width * 3, &output)
                               : WebPEncodeRGB(image.rgb.data(), image.width, image.height,
                                               image.width * 3, 75, &output);
  Bytes out(output, output + size);
  WebPFree(output);
  return out;
}

void Le(Bytes* b, uint32_t v, int n) {
  for (int i = 0; i < n; ++i) b->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Bytes Bmp(const Image& image, int bits) {
  const uint32_t stride = (static_cast<uint32_t>(image.width) * bits + 31) / 32 * 4;
  const uint32_t palette = bits == 8 ? 256 * 4 : 0;
  const uint32_t offset = 54 + palette;
  Bytes b = {'B', 'M'};
  Le(&b, offset + stride * image.height, 4);
  Le(&b, 0, 4);
  Le(&b, offset, 4);
  for (uint32_t v :
       {40u, static_cast<uint32_t>(image.width), static_cast<uint32_t>(image.height)}) {
    Le(&b, v, 4);
  }
  Le(&b, 1, 2);
  Le(&b, static_cast<uint32_t>(bits), 2);
  for (int i = 0; i < 6; ++i) Le(&b, 0, 4);
  for (uint32_t i = 0; i < palette / 4; ++i) Le(&b, i * 0x010101, 4);  // grey ramp
  for (int y = image.height - 1; y >= 0; --y) {
    const size_t start = b.size();
    for (int x = 0; x < image.width; ++x) {
      const uint8_t* p = image.row(y) + 3 * x;
      if (bits == 8) b.push_back(p[1]);
      if (bits >= 24) b.insert(b.end(), {p[2], p[1], p[0]});
      if (bits == 32) b.push_back(255);
    }
    b.resize(start + stride, 0);
  }
  return b;
}

Bytes Pnm(const Image& image, bool grey, bool sixteen) {
  const std::string header = std::string(grey ? "P5\n" : "P6\n") + std::to_string(image.width) +
                             " " + std::to_string(image.height) +
                             (sixteen ? "\n65535\n" : "\n255\n");
  Bytes b(header.begin(), header.end());
  for (size_t i = 0; i < image.rgb.size(); i += grey ? 3 : 1) {
    if (sixteen) b.push_back(image.rgb[i]);
    b.push_back(image.rgb[i]);
  }
  return b;
}

bool Write(const std::string& path, const Bytes& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <output folder> <image>...\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  for (int i = 2; i < argc; ++i) {
    auto decoded = facetrail::vision::LoadImageFile(argv[i]);
    if (!decoded.ok()) {
      std::fprintf(stderr, "%s\n", decoded.status().ToString().c_str());
      return 1;
    }
    const Image image = Shrink(decoded->image, 48);
    const std::string base = dir + "/seed" + std::to_string(i - 1);
    bool ok = facetrail::vision::WritePng(image, base + ".png").ok();
    const struct {
      const char* suffix;
      Bytes bytes;
    } kSeeds[] = {
        {".jpg", Jpeg(image, 3, false, false)},
        {"-progressive.jpg", Jpeg(image, 3, true, false)},
        {"-grey.jpg", Jpeg(image, 1, false, false)},
        {"-cmyk.jpg", Jpeg(image, 4, false, false)},
        {"-exif.jpg", Jpeg(image, 3, false, true)},
        {"-lossless.webp", Webp(image, true)},
        {"-lossy.webp", Webp(image, false)},
        {"-24.bmp", Bmp(image, 24)},
        {"-32.bmp", Bmp(image, 32)},
        {"-8.bmp", Bmp(image, 8)},
        {".ppm", Pnm(image, false, false)},
        {"-16.ppm", Pnm(image, false, true)},
        {".pgm", Pnm(image, true, false)},
    };
    for (const auto& seed : kSeeds) ok = Write(base + seed.suffix, seed.bytes) && ok;
    if (!ok) {
      std::fprintf(stderr, "cannot write seeds to %s\n", dir.c_str());
      return 1;
    }
  }
  return 0;
}
