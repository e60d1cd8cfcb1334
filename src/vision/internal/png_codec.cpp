// PNG decoding and encoding with libpng.
//
// Decoding expands palette and grey (any bit depth) to RGB, drops alpha (and tRNS), scales
// 16-bit samples to 8 bits with rounding (png_set_scale_16, round(v * 255 / 65535)), and
// leaves gamma alone: the stored samples are returned as they are, as every other decoder does.
// libpng reports errors through a callback that must not return; it copies the message and
// longjmps back to the setjmp in the *UnderSetjmp functions, which hold no objects with
// destructors for the jump to skip.
#include <png.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "vision/internal/codecs.h"
#include "vision/internal/exif.h"

namespace facetrail::vision::internal {

namespace {

struct Context {
  std::span<const uint8_t> input;  // decoding only
  size_t position = 0;
  std::vector<uint8_t>* output = nullptr;  // encoding only
  char message[256] = {};
};

Context* GetContext(png_structp png) {
  return static_cast<Context*>(png_get_error_ptr(png));
}

[[noreturn]] void OnError(png_structp png, png_const_charp message) {
  Context* ctx = GetContext(png);
  std::snprintf(ctx->message, sizeof(ctx->message), "%s", message);
  png_longjmp(png, 1);
}

void OnWarning(png_structp /*png*/, png_const_charp /*message*/) {}  // benign; never print

void ReadFromMemory(png_structp png, png_bytep data, size_t length) {
  auto* ctx = static_cast<Context*>(png_get_io_ptr(png));
  if (length > ctx->input.size() - ctx->position) png_error(png, "premature end of data");
  std::memcpy(data, ctx->input.data() + ctx->position, length);
  ctx->position += length;
}

void WriteToMemory(png_structp png, png_bytep data, size_t length) {
  auto* ctx = static_cast<Context*>(png_get_io_ptr(png));
  ctx->output->insert(ctx->output->end(), data, data + length);
}

void FlushNothing(png_structp /*png*/) {}

int FindExifOrientation(png_structp png, png_infop info) {
  png_uint_32 size = 0;
  png_bytep exif = nullptr;
  if (png_get_eXIf_1(png, info, &size, &exif) == 0 || exif == nullptr) return 1;
  return ParseExifOrientation({exif, size});
}

bool DecodeUnderSetjmp(png_structp png, png_infop info, const DecodeOptions& options,
                       DecodedImage* out, std::vector<png_bytep>* rows, Status* status) {
  if (setjmp(png_jmpbuf(png)) != 0) {
    *status = InvalidArgument(std::string("PNG: ") + GetContext(png)->message);
    return false;
  }
  // Let any size through libpng's own (1e6) limit so that CheckDimensions decides, and reports
  // kResourceExhausted rather than a libpng error.
  png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  *status = CheckDimensions("PNG", width, height, options);
  if (!status->ok()) return false;

  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (bit_depth == 16) png_set_scale_16(png);
  png_set_strip_alpha(png);  // also the alpha palette_to_rgb makes from tRNS
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 ||
      png_get_rowbytes(png, info) != size_t{width} * 3) {
    *status = InvalidArgument("PNG: unsupported pixel layout after conversion");
    return false;
  }

  out->image = AllocateImage(static_cast<int>(width), static_cast<int>(height));
  rows->resize(height);
  for (png_uint_32 y = 0; y < height; ++y) (*rows)[y] = out->image.row(static_cast<int>(y));
  png_read_image(png, rows->data());
  png_read_end(png, info);  // checks the rest of the file up to IEND; eXIf may follow IDAT
  out->exif_orientation = FindExifOrientation(png, info);
  return true;
}

bool EncodeUnderSetjmp(png_structp png, png_infop info, const Image& image,
                       std::vector<png_bytep>* rows, Status* status) {
  if (setjmp(png_jmpbuf(png)) != 0) {
    *status = Internal(std::string("PNG: encoding failed: ") + GetContext(png)->message);
    return false;
  }
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
               static_cast<png_uint_32>(image.height), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows->data());
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

Expected<DecodedImage> DecodePng(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  Context ctx;
  ctx.input = bytes;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, OnError, OnWarning);
  if (png == nullptr) return Internal("PNG: cannot create decoder");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return Internal("PNG: cannot create decoder");
  }
  png_set_read_fn(png, &ctx, ReadFromMemory);

  DecodedImage out;
  std::vector<png_bytep> rows;
  Status status;
  const bool ok = DecodeUnderSetjmp(png, info, options, &out, &rows, &status);
  png_destroy_read_struct(&png, &info, nullptr);
  if (!ok) return status;
  return out;
}

Expected<std::vector<uint8_t>> EncodePng(const Image& image) {
  if (image.empty() || image.rgb.size() != size_t{3} * image.width * image.height) {
    return InvalidArgument("PNG: image is empty or its pixel buffer does not match its size");
  }
  std::vector<uint8_t> encoded;
  Context ctx;
  ctx.output = &encoded;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, OnError, OnWarning);
  if (png == nullptr) return Internal("PNG: cannot create encoder");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    return Internal("PNG: cannot create encoder");
  }
  png_set_write_fn(png, &ctx, WriteToMemory, FlushNothing);

  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (int y = 0; y < image.height; ++y) rows[y] = const_cast<png_bytep>(image.row(y));
  Status status;
  const bool ok = EncodeUnderSetjmp(png, info, image, &rows, &status);
  png_destroy_write_struct(&png, &info);
  if (!ok) return status;
  return encoded;
}

}  // namespace facetrail::vision::internal
