// JPEG 2000 decoding with OpenJPEG (Debian's libopenjp2): the JP2 file format and the raw J2K
// codestream, as ANSI/NIST-ITL Type-10 records carry them (10.011 JP2, JP2L).
//
// The bytes are read through an OpenJPEG stream over memory (no file, no temporary copy).
// opj_read_header gives the size from the SIZ marker; CheckDimensions runs before opj_decode,
// which is what allocates the component planes. Accepted: 1 (grey), 2 (grey + alpha, dropped),
// 3 (RGB) or 4 (RGBA, alpha dropped) components of 1–16 bits, signed or not, all at the image's
// full size; refused: subsampled components (e.g. 4:2:0 YCC), sYCC/CMYK/e-YCC colour spaces
// (OpenJPEG leaves the conversion to its command-line tools), more than 4 components. Samples
// of other than 8 bits become round(v * 255 / (2^bits - 1)). OpenJPEG's messages are collected,
// never printed; the first error is the reason given.
#include <openjpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "vision/internal/codecs.h"

namespace facetrail::vision::internal {

namespace {

struct MemoryStream {
  std::span<const uint8_t> bytes;
  size_t pos = 0;
};

OPJ_SIZE_T Read(void* buffer, OPJ_SIZE_T n, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  const size_t left = s->bytes.size() - s->pos;
  if (left == 0) return static_cast<OPJ_SIZE_T>(-1);
  const size_t k = std::min<size_t>(n, left);
  std::memcpy(buffer, s->bytes.data() + s->pos, k);
  s->pos += k;
  return k;
}

OPJ_OFF_T Skip(OPJ_OFF_T n, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (n < 0) {
    const auto back = static_cast<size_t>(-n);
    if (back > s->pos) return -1;
    s->pos -= back;
    return n;
  }
  const size_t k = std::min<size_t>(static_cast<size_t>(n), s->bytes.size() - s->pos);
  s->pos += k;
  return static_cast<OPJ_OFF_T>(k);
}

OPJ_BOOL Seek(OPJ_OFF_T to, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (to < 0 || static_cast<uint64_t>(to) > s->bytes.size()) return OPJ_FALSE;
  s->pos = static_cast<size_t>(to);
  return OPJ_TRUE;
}

void KeepFirstError(const char* msg, void* user) {
  auto* first = static_cast<std::string*>(user);
  if (first->empty() && msg) {
    *first = msg;
    while (!first->empty() && (first->back() == '\n' || first->back() == ' ')) first->pop_back();
  }
}
void Ignore(const char* /*msg*/, void* /*user*/) {}

bool IsJp2File(std::span<const uint8_t> bytes) {
  static const uint8_t kSignature[] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
  return bytes.size() >= sizeof kSignature &&
         std::memcmp(bytes.data(), kSignature, sizeof kSignature) == 0;
}

}  // namespace

Expected<DecodedImage> DecodeJpeg2000(std::span<const uint8_t> bytes,
                                      const DecodeOptions& options) {
  std::unique_ptr<opj_codec_t, void (*)(opj_codec_t*)> codec(
      opj_create_decompress(IsJp2File(bytes) ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K), opj_destroy_codec);
  if (!codec) return Internal("JPEG 2000: cannot create a decoder");
  std::string error;
  opj_set_error_handler(codec.get(), KeepFirstError, &error);
  opj_set_warning_handler(codec.get(), Ignore, nullptr);
  opj_set_info_handler(codec.get(), Ignore, nullptr);
  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  if (!opj_setup_decoder(codec.get(), &params)) {
    return InvalidArgument("JPEG 2000: cannot set up the decoder");
  }
  MemoryStream mem{bytes, 0};
  std::unique_ptr<opj_stream_t, void (*)(opj_stream_t*)> stream(
      opj_stream_create(OPJ_SIZE_T{64} << 10, OPJ_TRUE), opj_stream_destroy);
  if (!stream) return Internal("JPEG 2000: cannot create a stream");
  opj_stream_set_user_data(stream.get(), &mem, nullptr);
  opj_stream_set_user_data_length(stream.get(), bytes.size());
  opj_stream_set_read_function(stream.get(), Read);
  opj_stream_set_skip_function(stream.get(), Skip);
  opj_stream_set_seek_function(stream.get(), Seek);
  auto fail = [&](const char* what) {
    return InvalidArgument(std::string("JPEG 2000: ") + (error.empty() ? what : error));
  };

  opj_image_t* raw = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw)) {
    if (raw) opj_image_destroy(raw);
    return fail("corrupt or truncated header");
  }
  std::unique_ptr<opj_image_t, void (*)(opj_image_t*)> image(raw, opj_image_destroy);
  if (image->x1 <= image->x0 || image->y1 <= image->y0) {
    return InvalidArgument("JPEG 2000: image is empty (a corrupt header)");
  }
  const uint64_t width = uint64_t{image->x1} - image->x0;
  const uint64_t height = uint64_t{image->y1} - image->y0;
  FT_RETURN_IF_ERROR(CheckDimensions("JPEG 2000", width, height, options));
  const uint32_t n = image->numcomps;
  if (n < 1 || n > 4) {
    return InvalidArgument("JPEG 2000: " + std::to_string(n) +
                           " components (1 to 4: grey, grey+alpha, RGB, RGBA)");
  }
  if (image->color_space == OPJ_CLRSPC_SYCC || image->color_space == OPJ_CLRSPC_EYCC ||
      image->color_space == OPJ_CLRSPC_CMYK) {
    return InvalidArgument("JPEG 2000: YCC and CMYK colour spaces are not supported");
  }
  for (uint32_t c = 0; c < n; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    if (comp.dx != 1 || comp.dy != 1) {
      return InvalidArgument("JPEG 2000: subsampled components are not supported");
    }
    if (comp.prec < 1 || comp.prec > 16) {
      return InvalidArgument("JPEG 2000: " + std::to_string(comp.prec) +
                             "-bit samples (1 to 16 bits)");
    }
  }
  if (!opj_decode(codec.get(), stream.get(), image.get()) ||
      !opj_end_decompress(codec.get(), stream.get())) {
    return fail("corrupt or truncated data");
  }
  const uint32_t channels = n >= 3 ? 3 : 1;
  for (uint32_t c = 0; c < channels; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    if (!comp.data || comp.w != width || comp.h != height) {
      return InvalidArgument("JPEG 2000: component " + std::to_string(c) +
                             " does not cover the image");
    }
  }
  DecodedImage out;
  out.image = AllocateImage(static_cast<int>(width), static_cast<int>(height));
  const size_t pixels = static_cast<size_t>(width * height);
  for (uint32_t c = 0; c < 3; ++c) {
    const opj_image_comp_t& comp = image->comps[channels == 3 ? c : 0];
    const int64_t offset = comp.sgnd ? (int64_t{1} << (comp.prec - 1)) : 0;
    const int64_t max = (int64_t{1} << comp.prec) - 1;
    for (size_t i = 0; i < pixels; ++i) {
      const int64_t v = std::clamp<int64_t>(int64_t{comp.data[i]} + offset, 0, max);
      out.image.rgb[i * 3 + c] =
          static_cast<uint8_t>(comp.prec == 8 ? v : (v * 255 + max / 2) / max);
    }
  }
  return out;
}

}  // namespace facetrail::vision::internal
