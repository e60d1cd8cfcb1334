#include "vision/image.h"

#include <cstring>
#include <string>

#include "common/file.h"
#include "vision/internal/codecs.h"
#include "vision/internal/exif.h"

namespace facetrail::vision {

namespace internal {

Status CheckDimensions(std::string_view format, uint64_t width, uint64_t height,
                       const DecodeOptions& options) {
  const std::string size =
      std::string(format) + ": image is " + std::to_string(width) + "x" + std::to_string(height);
  if (width == 0 || height == 0) return InvalidArgument(size + ", which has no pixels");
  if (width > kMaxDimension || height > kMaxDimension) {
    return ResourceExhausted(size + ", a side longer than the limit of " +
                             std::to_string(kMaxDimension) + " pixels");
  }
  // Both are at most 65535, so the product cannot overflow.
  const uint64_t num_pixels = width * height;
  if (num_pixels > options.max_pixels) {
    return ResourceExhausted(size + " (" + std::to_string(num_pixels) +
                             " pixels), more than the limit of " +
                             std::to_string(options.max_pixels) + " pixels");
  }
  return Status::Ok();
}

Image AllocateImage(int width, int height) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
  return image;
}

}  // namespace internal

std::string_view ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kWebp: return "WebP";
    case ImageFormat::kBmp: return "BMP";
    case ImageFormat::kPnm: return "PNM";
    case ImageFormat::kJpeg2000: return "JPEG 2000";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

ImageFormat SniffImageFormat(std::span<const uint8_t> bytes) {
  auto starts_with = [&](const char* magic, size_t n, size_t offset = 0) {
    return bytes.size() >= offset + n && std::memcmp(bytes.data() + offset, magic, n) == 0;
  };
  if (starts_with("\xFF\xD8\xFF", 3)) return ImageFormat::kJpeg;
  if (starts_with("\x89PNG\r\n\x1A\n", 8)) return ImageFormat::kPng;
  if (starts_with("RIFF", 4) && starts_with("WEBP", 4, 8)) return ImageFormat::kWebp;
  if (starts_with("BM", 2)) return ImageFormat::kBmp;
  // JPEG 2000: the JP2 signature box, or a raw codestream (SOC then SIZ marker).
  static constexpr uint8_t kJp2Signature[] = {0,   0,   0,    0x0C, 'j',  'P',
                                              ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
  const bool jp2 = bytes.size() >= sizeof kJp2Signature &&
                   std::memcmp(bytes.data(), kJp2Signature, sizeof kJp2Signature) == 0;
  if (jp2 || starts_with("\xFF\x4F\xFF\x51", 4)) return ImageFormat::kJpeg2000;
  // "P1".."P7" and a separator: every Netpbm variant, so that DecodePnm can name the ones it
  // refuses instead of calling them unrecognised.
  if (bytes.size() >= 3 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '7' &&
      (bytes[2] == ' ' || bytes[2] == '\t' || bytes[2] == '\n' || bytes[2] == '\r' ||
       bytes[2] == '#')) {
    return ImageFormat::kPnm;
  }
  return ImageFormat::kUnknown;
}

Expected<DecodedImage> DecodeImage(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  if (bytes.empty()) return InvalidArgument("empty image data (0 bytes)");
  const ImageFormat format = SniffImageFormat(bytes);
  Expected<DecodedImage> decoded = InvalidArgument("");
  switch (format) {
    case ImageFormat::kJpeg: decoded = internal::DecodeJpeg(bytes, options); break;
    case ImageFormat::kPng: decoded = internal::DecodePng(bytes, options); break;
    case ImageFormat::kWebp: decoded = internal::DecodeWebp(bytes, options); break;
    case ImageFormat::kBmp: decoded = internal::DecodeBmp(bytes, options); break;
    case ImageFormat::kPnm: decoded = internal::DecodePnm(bytes, options); break;
    case ImageFormat::kJpeg2000: decoded = internal::DecodeJpeg2000(bytes, options); break;
    case ImageFormat::kUnknown:
      return InvalidArgument(
          "unrecognised image format (not JPEG, PNG, WebP, BMP, PPM or JPEG 2000)");
  }
  if (!decoded.ok()) return decoded.status();
  decoded->format = format;
  if (options.apply_exif_orientation && decoded->exif_orientation != 1) {
    decoded->image = internal::ApplyExifOrientation(decoded->image, decoded->exif_orientation);
  }
  return decoded;
}

Expected<DecodedImage> LoadImageFile(const std::string& path, const DecodeOptions& options) {
  FT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path, options.max_file_bytes));
  Expected<DecodedImage> decoded = DecodeImage(bytes, options);
  if (!decoded.ok()) return decoded.status().WithContext(path);
  return decoded;
}

namespace {
Status CheckWritable(const Image& image, const std::string& path) {
  if (image.empty() || image.rgb.size() != size_t{3} * image.width * image.height) {
    return InvalidArgument(path + ": image is empty or its pixel buffer does not match " +
                           std::to_string(image.width) + "x" + std::to_string(image.height));
  }
  return Status::Ok();
}
}  // namespace

Status WritePpm(const Image& image, const std::string& path) {
  FT_RETURN_IF_ERROR(CheckWritable(image, path));
  const std::string header =
      "P6\n" + std::to_string(image.width) + " " + std::to_string(image.height) + "\n255\n";
  std::vector<uint8_t> bytes(header.begin(), header.end());
  bytes.insert(bytes.end(), image.rgb.begin(), image.rgb.end());
  return WriteFileAtomically(path, bytes);
}

Expected<std::vector<uint8_t>> EncodePng(const Image& image) {
  return internal::EncodePng(image);
}

Status WritePng(const Image& image, const std::string& path) {
  FT_RETURN_IF_ERROR(CheckWritable(image, path));
  Expected<std::vector<uint8_t>> encoded = internal::EncodePng(image);
  if (!encoded.ok()) return encoded.status().WithContext(path);
  return WriteFileAtomically(path, *encoded);
}

}  // namespace facetrail::vision
