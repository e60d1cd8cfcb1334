#include "vision/degrade.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

#include "vision/internal/codecs.h"

namespace facetrail::vision {
namespace {

constexpr double kDefaultBlurSigma = 0.8;
constexpr int kDefaultJpegQuality = 30;
constexpr double kMaxBlurSigma = 10;

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Expected<double> ParseNumber(std::string_view text, std::string_view rung, const char* what) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    return InvalidArgument("degradation '" + std::string(rung) + "': " + what + " '" +
                           std::string(text) + "' is not a number");
  }
  return v;
}

Status Validate(const Degradation& d) {
  if (!(d.scale > 0 && d.scale <= 1)) {
    return InvalidArgument("degradation: scale " + Number(d.scale) + " is not in (0, 1]");
  }
  if (!(d.blur_sigma >= 0 && d.blur_sigma <= kMaxBlurSigma)) {
    return InvalidArgument("degradation: blur " + Number(d.blur_sigma) + " is not in [0, 10]");
  }
  if (d.jpeg_quality < 0 || d.jpeg_quality > 100) {
    return InvalidArgument("degradation: JPEG quality " + std::to_string(d.jpeg_quality) +
                           " is not in 1..100");
  }
  return Status::Ok();
}

// Per output index o: the weights of source indices first[o] .. first[o] + count[o] − 1 of an
// exact area average over [0, in), at w[offset[o] ...]; they sum to 1.
struct AreaWeights {
  std::vector<int> first, count, offset;
  std::vector<float> w;
};

AreaWeights MakeAreaWeights(int in, int out) {
  AreaWeights a;
  const auto n = static_cast<size_t>(out);
  a.first.resize(n);
  a.count.resize(n);
  a.offset.resize(n);
  const double ratio = static_cast<double>(in) / out;
  for (int o = 0; o < out; ++o) {
    const double lo = o * ratio, hi = std::min<double>(in, (o + 1) * ratio);
    const int first = static_cast<int>(std::floor(lo));
    a.first[static_cast<size_t>(o)] = first;
    a.offset[static_cast<size_t>(o)] = static_cast<int>(a.w.size());
    for (int s = first; s < in && s < hi; ++s) {
      const double cover = std::min<double>(hi, s + 1) - std::max<double>(lo, s);
      a.w.push_back(static_cast<float>(cover / ratio));
    }
    a.count[static_cast<size_t>(o)] =
        static_cast<int>(a.w.size()) - a.offset[static_cast<size_t>(o)];
  }
  return a;
}

uint8_t ToByte(float v) {
  return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

Image Downscale(const Image& src, double scale) {
  const int ow = std::max(1, static_cast<int>(std::lround(src.width * scale)));
  const int oh = std::max(1, static_cast<int>(std::lround(src.height * scale)));
  const AreaWeights wx = MakeAreaWeights(src.width, ow), wy = MakeAreaWeights(src.height, oh);
  // Rows first: tmp = src.height × ow floats × 3.
  std::vector<float> tmp(static_cast<size_t>(src.height) * ow * 3);
  for (int y = 0; y < src.height; ++y) {
    const uint8_t* in = src.row(y);
    float* t = tmp.data() + static_cast<size_t>(y) * ow * 3;
    for (int x = 0; x < ow; ++x) {
      float acc[3] = {0, 0, 0};
      const auto xs = static_cast<size_t>(x);
      for (int k = 0; k < wx.count[xs]; ++k) {
        const uint8_t* p = in + static_cast<size_t>(wx.first[xs] + k) * 3;
        const float wk = wx.w[static_cast<size_t>(wx.offset[xs]) + static_cast<size_t>(k)];
        for (int c = 0; c < 3; ++c) acc[c] += wk * p[c];
      }
      for (int c = 0; c < 3; ++c) t[x * 3 + c] = acc[c];
    }
  }
  Image out{ow, oh, std::vector<uint8_t>(static_cast<size_t>(ow) * oh * 3)};
  for (int y = 0; y < oh; ++y) {
    uint8_t* o = out.row(y);
    for (size_t i = 0; i < static_cast<size_t>(ow) * 3; ++i) {
      float acc = 0;
      const auto ys = static_cast<size_t>(y);
      for (int k = 0; k < wy.count[ys]; ++k) {
        acc += wy.w[static_cast<size_t>(wy.offset[ys]) + static_cast<size_t>(k)] *
               tmp[static_cast<size_t>(wy.first[ys] + k) * ow * 3 + i];
      }
      o[i] = ToByte(acc);
    }
  }
  return out;
}

// The kernel index of offset i in [−radius, radius].
size_t Tap(int i, int radius) {
  const int tap = i + radius;
  return static_cast<size_t>(tap);
}

Image GaussianBlur(const Image& src, double sigma) {
  const int radius = static_cast<int>(std::ceil(3 * sigma));
  std::vector<float> kernel(static_cast<size_t>(2 * radius + 1));
  double sum = 0;
  for (int i = -radius; i <= radius; ++i) sum += std::exp(-0.5 * i * i / (sigma * sigma));
  for (int i = -radius; i <= radius; ++i) {
    kernel[Tap(i, radius)] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)) / sum);
  }
  const int w = src.width, h = src.height;
  std::vector<float> tmp(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    const uint8_t* in = src.row(y);
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        float acc = 0;
        for (int i = -radius; i <= radius; ++i) {
          const int sx = std::clamp(x + i, 0, w - 1);
          acc += kernel[Tap(i, radius)] * in[sx * 3 + c];
        }
        tmp[(static_cast<size_t>(y) * w + x) * 3 + c] = acc;
      }
    }
  }
  Image out{w, h, std::vector<uint8_t>(tmp.size())};
  for (int y = 0; y < h; ++y) {
    uint8_t* o = out.row(y);
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        float acc = 0;
        for (int i = -radius; i <= radius; ++i) {
          const int sy = std::clamp(y + i, 0, h - 1);
          acc += kernel[Tap(i, radius)] * tmp[(static_cast<size_t>(sy) * w + x) * 3 + c];
        }
        o[x * 3 + c] = ToByte(acc);
      }
    }
  }
  return out;
}

}  // namespace

std::string Degradation::Name() const {
  std::string name = Number(scale);
  if (blur_sigma > 0) name += "+blur" + Number(blur_sigma);
  if (jpeg_quality > 0) name += "+jpeg" + std::to_string(jpeg_quality);
  return name;
}

Expected<Degradation> ParseDegradation(std::string_view rung) {
  Degradation d;
  size_t start = 0;
  bool first = true, blur = false, jpeg = false;
  while (start <= rung.size()) {
    const size_t plus = rung.find('+', start);
    const std::string_view part =
        rung.substr(start, plus == std::string_view::npos ? std::string_view::npos : plus - start);
    if (first) {
      FT_ASSIGN_OR_RETURN(d.scale, ParseNumber(part, rung, "scale"));
      first = false;
    } else if (part.starts_with("blur") && !blur) {
      blur = true;
      d.blur_sigma = kDefaultBlurSigma;
      if (part.size() > 4) {
        FT_ASSIGN_OR_RETURN(d.blur_sigma, ParseNumber(part.substr(4), rung, "blur"));
      }
      if (d.blur_sigma <= 0) {
        return InvalidArgument("degradation '" + std::string(rung) + "': blur must be above 0");
      }
    } else if (part.starts_with("jpeg") && !jpeg) {
      jpeg = true;
      d.jpeg_quality = kDefaultJpegQuality;
      if (part.size() > 4) {
        FT_ASSIGN_OR_RETURN(const double q, ParseNumber(part.substr(4), rung, "JPEG quality"));
        if (q != std::floor(q) || q < 1 || q > 100) {
          return InvalidArgument("degradation '" + std::string(rung) +
                                 "': JPEG quality must be a whole number in 1..100");
        }
        d.jpeg_quality = static_cast<int>(q);
      }
    } else {
      return InvalidArgument("degradation '" + std::string(rung) + "': '" + std::string(part) +
                             "' is not blur[SIGMA] or jpeg[QUALITY] (or is repeated); the form is "
                             "SCALE[+blur[SIGMA]][+jpeg[QUALITY]]");
    }
    if (plus == std::string_view::npos) break;
    start = plus + 1;
  }
  Status s = Validate(d);
  if (!s.ok()) return s.WithContext("degradation '" + std::string(rung) + "'");
  return d;
}

Expected<std::vector<Degradation>> ParseDegradationLadder(std::string_view spec) {
  if (spec == "standard")
    spec = "1,1+blur+jpeg,0.5,0.5+blur+jpeg,0.35,0.35+blur+jpeg,0.25,0.25+blur+jpeg";
  if (spec.empty()) return InvalidArgument("degradation ladder: empty");
  std::vector<Degradation> ladder;
  std::set<std::string> seen;
  size_t start = 0;
  for (;;) {
    const size_t comma = spec.find(',', start);
    const std::string_view rung = spec.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    FT_ASSIGN_OR_RETURN(Degradation d, ParseDegradation(rung));
    if (!seen.insert(d.Name()).second) {
      return InvalidArgument("degradation ladder: rung '" + d.Name() + "' appears twice");
    }
    ladder.push_back(d);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return ladder;
}

Expected<Image> Degrade(const Image& image, const Degradation& degradation) {
  if (image.empty() || image.rgb.size() != size_t{3} * image.width * image.height) {
    return InvalidArgument(
        "degrade: the image is empty or its pixel buffer does not match its size");
  }
  FT_RETURN_IF_ERROR(Validate(degradation));
  Image out = degradation.scale < 1 ? Downscale(image, degradation.scale) : image;
  if (degradation.blur_sigma > 0) out = GaussianBlur(out, degradation.blur_sigma);
  if (degradation.jpeg_quality > 0) {
    FT_ASSIGN_OR_RETURN(std::vector<uint8_t> jpeg,
                        internal::EncodeJpeg(out, degradation.jpeg_quality));
    FT_ASSIGN_OR_RETURN(DecodedImage decoded, internal::DecodeJpeg(jpeg, DecodeOptions{}));
    out = std::move(decoded.image);
  }
  return out;
}

}  // namespace facetrail::vision
