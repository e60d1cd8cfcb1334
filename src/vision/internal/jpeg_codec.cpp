// JPEG decoding with libjpeg(-turbo).
//
// Decompression parameters are libjpeg's defaults (JDCT_ISLOW, fancy upsampling, block
// smoothing), the same as `djpeg` without options, so the pixels are byte-identical to
// `djpeg -pnm`; golden tests rely on this. Do not change them for speed.
//
// Errors: libjpeg reports fatal errors through error_exit and corrupt-data warnings (premature
// end of data, bad Huffman codes, extraneous bytes...) through emit_message(-1). Both end the
// decode: a warning means libjpeg is inventing pixels (grey fill), and an investigative image
// must not be silently repaired. Control returns by longjmp to DecodeJpeg, which turns the
// library's message into a Status.
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>
// jerror.h after jpeglib.h: the message codes, to tell a too large image from a corrupt one.
#include <jerror.h>

#include "vision/internal/codecs.h"
#include "vision/internal/exif.h"

namespace facetrail::vision::internal {

namespace {

// A crafted progressive file can hold thousands of nearly empty scans, each costing a pass over
// the whole coefficient buffer: a CPU denial of service that djpeg's -maxscans option (see its
// manual page) guards against with a progress monitor, as LimitScans does. Real encoders write
// about 10 scans; 1000 leaves ample room.
constexpr int kMaxScans = 1000;

struct ErrorManager {
  jpeg_error_mgr pub;  // must be first: libjpeg sees a jpeg_error_mgr*
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void ErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void EmitMessage(j_common_ptr cinfo, int msg_level) {
  if (msg_level < 0) ErrorExit(cinfo);  // a warning: corrupt data; trace messages are ignored
}

void OutputMessage(j_common_ptr /*cinfo*/) {}  // never print to stderr

void LimitScans(j_common_ptr cinfo) {
  auto* dinfo = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (dinfo->is_decompressor && dinfo->input_scan_number > kMaxScans) {
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    std::snprintf(err->message, sizeof(err->message), "more than %d progressive scans", kMaxScans);
    std::longjmp(err->jump, 1);
  }
}

// Owns the decompressor so that every return path, longjmp ones included, destroys it.
class Decompressor {
 public:
  Decompressor() { std::memset(&cinfo_, 0, sizeof(cinfo_)); }
  ~Decompressor() {
    if (created_) jpeg_destroy_decompress(&cinfo_);
  }
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  jpeg_decompress_struct* get() { return &cinfo_; }
  void MarkCreated() { created_ = true; }

 private:
  jpeg_decompress_struct cinfo_;
  bool created_ = false;
};

int FindExifOrientation(jpeg_decompress_struct* cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != nullptr; m = m->next) {
    if (m->marker != JPEG_APP0 + 1 || m->data_length < 6) continue;
    if (std::memcmp(m->data, "Exif\0\0", 6) != 0) continue;
    return ParseExifOrientation({m->data, m->data_length});
  }
  return 1;
}

// Adobe CMYK JPEGs (Photoshop, which is what writes the Adobe marker) store inverted samples,
// so ink = 255 - sample and R = (255 - ink_C) * (255 - ink_K) / 255 = C * K / 255. Rounded
// the same way as djpeg's cmyk_to_rgb: (x + 127) / 255 == round(x / 255) for integer x >= 0.
void CmykRowToRgb(const uint8_t* cmyk, int width, bool inverted, uint8_t* rgb) {
  for (int x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    const unsigned k = inverted ? cmyk[3] : 255u - cmyk[3];
    for (int c = 0; c < 3; ++c) {
      const unsigned v = inverted ? cmyk[c] : 255u - cmyk[c];
      rgb[c] = static_cast<uint8_t>((v * k + 127) / 255);
    }
  }
}

// The part of the decode that runs under setjmp. Holds no objects with destructors, so a
// longjmp out of libjpeg skips nothing: `out` and `cmyk_row` belong to the caller.
bool DecodeUnderSetjmp(jpeg_decompress_struct* cinfo, std::span<const uint8_t> bytes,
                       const DecodeOptions& options, jpeg_progress_mgr* progress, DecodedImage* out,
                       std::vector<uint8_t>* cmyk_row, Status* status) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (setjmp(err->jump) != 0) {
    if (err->pub.msg_code == JERR_IMAGE_TOO_BIG) {  // a side above JPEG_MAX_DIMENSION (65500)
      *status = ResourceExhausted("JPEG: image is " + std::to_string(cinfo->image_width) + "x" +
                                  std::to_string(cinfo->image_height) +
                                  ", a side longer than the limit of " +
                                  std::to_string(JPEG_MAX_DIMENSION) + " pixels");
    } else {
      *status = InvalidArgument(std::string("JPEG: ") + err->message);
    }
    return false;
  }
  jpeg_create_decompress(cinfo);  // zeroes everything but err and client_data
  cinfo->progress = progress;
  jpeg_mem_src(cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(cinfo, TRUE);

  *status = CheckDimensions("JPEG", cinfo->image_width, cinfo->image_height, options);
  if (!status->ok()) return false;
  out->exif_orientation = FindExifOrientation(cinfo);

  const bool is_cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = is_cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(cinfo);
  if (cinfo->output_components != (is_cmyk ? 4 : 3)) {
    *status = InvalidArgument("JPEG: unexpected number of output components");
    return false;
  }
  const int width = static_cast<int>(cinfo->output_width);
  out->image = AllocateImage(width, static_cast<int>(cinfo->output_height));
  if (is_cmyk) cmyk_row->resize(static_cast<size_t>(width) * 4);
  while (cinfo->output_scanline < cinfo->output_height) {
    uint8_t* dst = out->image.row(static_cast<int>(cinfo->output_scanline));
    JSAMPROW row = is_cmyk ? cmyk_row->data() : dst;
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
      *status = InvalidArgument("JPEG: premature end of data");
      return false;
    }
    if (is_cmyk) CmykRowToRgb(cmyk_row->data(), width, cinfo->saw_Adobe_marker, dst);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

}  // namespace

Expected<DecodedImage> DecodeJpeg(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  if (bytes.empty()) return InvalidArgument("JPEG: empty input");
  Decompressor decompressor;
  jpeg_decompress_struct* cinfo = decompressor.get();
  ErrorManager err;
  cinfo->err = jpeg_std_error(&err.pub);
  err.pub.error_exit = ErrorExit;
  err.pub.emit_message = EmitMessage;
  err.pub.output_message = OutputMessage;
  err.message[0] = '\0';
  jpeg_progress_mgr progress{};
  progress.progress_monitor = LimitScans;
  // jpeg_create_decompress may longjmp half-way (out of memory); jpeg_destroy_decompress copes
  // with any state from a zeroed struct on, so the destructor may always call it.
  decompressor.MarkCreated();

  DecodedImage out;
  std::vector<uint8_t> cmyk_row;
  Status status;
  if (!DecodeUnderSetjmp(cinfo, bytes, options, &progress, &out, &cmyk_row, &status)) return status;
  return out;
}

namespace {

// Owns the compressor and its memory destination, like Decompressor above.
class Compressor {
 public:
  Compressor() { std::memset(&cinfo_, 0, sizeof(cinfo_)); }
  ~Compressor() {
    if (created_) jpeg_destroy_compress(&cinfo_);
    std::free(buffer_);  // NOLINT(cppcoreguidelines-no-malloc): jpeg_mem_dest's malloc'd buffer
  }
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  jpeg_compress_struct* get() { return &cinfo_; }
  void MarkCreated() { created_ = true; }
  unsigned char** buffer() { return &buffer_; }
  unsigned long* size() { return &size_; }

 private:
  jpeg_compress_struct cinfo_;
  bool created_ = false;
  unsigned char* buffer_ = nullptr;
  unsigned long size_ = 0;
};

bool EncodeUnderSetjmp(Compressor& c, ErrorManager& err, const Image& image, int quality) {
  jpeg_compress_struct* cinfo = c.get();
  if (setjmp(err.jump)) return false;  // NOLINT(cert-err52-cpp): libjpeg's error protocol
  jpeg_create_compress(cinfo);
  c.MarkCreated();
  jpeg_mem_dest(cinfo, c.buffer(), c.size());
  cinfo->image_width = static_cast<JDIMENSION>(image.width);
  cinfo->image_height = static_cast<JDIMENSION>(image.height);
  cinfo->input_components = 3;
  cinfo->in_color_space = JCS_RGB;
  jpeg_set_defaults(cinfo);
  cinfo->dct_method = JDCT_ISLOW;
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  while (cinfo->next_scanline < cinfo->image_height) {
    auto* row = const_cast<JSAMPROW>(image.row(static_cast<int>(cinfo->next_scanline)));
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  return true;
}

}  // namespace

Expected<std::vector<uint8_t>> EncodeJpeg(const Image& image, int quality) {
  if (image.empty() || image.rgb.size() != size_t{3} * image.width * image.height) {
    return InvalidArgument("JPEG: image is empty or its pixel buffer does not match its size");
  }
  if (quality < 1 || quality > 100) {
    return InvalidArgument("JPEG: quality " + std::to_string(quality) + " is not in 1..100");
  }
  Compressor compressor;
  ErrorManager err;
  compressor.get()->err = jpeg_std_error(&err.pub);
  err.pub.error_exit = ErrorExit;
  err.pub.emit_message = EmitMessage;
  err.pub.output_message = OutputMessage;
  err.message[0] = '\0';
  if (!EncodeUnderSetjmp(compressor, err, image, quality)) {
    return Internal(std::string("JPEG: cannot encode: ") + err.message);
  }
  return std::vector<uint8_t>(*compressor.buffer(), *compressor.buffer() + *compressor.size());
}

}  // namespace facetrail::vision::internal
