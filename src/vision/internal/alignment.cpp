#include "vision/internal/alignment.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "vision/internal/evidence.h"

namespace facetrail::vision::internal {

namespace {

std::array<double, 2> Centroid(const Landmarks& pts, size_t begin, size_t end) {
  double sx = 0, sy = 0;
  for (size_t i = begin; i < end; ++i) {
    sx += pts[i][0];
    sy += pts[i][1];
  }
  const double n = static_cast<double>(end - begin);
  return {sx / n, sy / n};
}

// dlib's mean face shape (interpolation.h, get_face_chip_details): landmarks 17–67 in units of
// a unit square, used as the canonical positions of a face chip.
constexpr double kMeanFaceX[51] = {
    0.000213256, 0.0752622, 0.18113,  0.29077,  0.393397, 0.586856, 0.689483, 0.799124, 0.904991,
    0.98004,     0.490127,  0.490127, 0.490127, 0.490127, 0.36688,  0.426036, 0.490127, 0.554217,
    0.613373,    0.121737,  0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428,
    0.793132,    0.858516,  0.79751,  0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395,
    0.639268,    0.726104,  0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096,
    0.490127,    0.552157,  0.689874, 0.553364, 0.490127, 0.42689};
constexpr double kMeanFaceY[51] = {
    0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915,
    0.106454, 0.203352, 0.307009,  0.409805,  0.515625,  0.587326,  0.609345,  0.628106,  0.609345,
    0.587326, 0.216423, 0.178758,  0.179852,  0.231733,  0.245099,  0.244077,  0.231733,  0.179852,
    0.178758, 0.216423, 0.244077,  0.245099,  0.780233,  0.745405,  0.727388,  0.742578,  0.727388,
    0.745405, 0.780233, 0.864805,  0.902192,  0.909281,  0.902192,  0.864805,  0.784792,  0.778746,
    0.785343, 0.778746, 0.784792,  0.824182,  0.831803,  0.824182};

}  // namespace

IntRect FaceApiRecognitionRect(const Landmarks& pts, int detection_crop_w, int detection_crop_h,
                               int image_width, int image_height) {
  const auto le = Centroid(pts, 36, 42), re = Centroid(pts, 42, 48), mo = Centroid(pts, 48, 68);
  const double d =
      (std::hypot(mo[0] - le[0], mo[1] - le[1]) + std::hypot(mo[0] - re[0], mo[1] - re[1])) / 2;
  const double size = std::floor(d / 0.45);
  const double cx = (le[0] + re[0] + mo[0]) / 3, cy = (le[1] + re[1] + mo[1]) / 3;
  const double x = std::floor(std::max(0.0, cx - 0.5 * size));
  const double y = std::floor(std::max(0.0, cy - 0.43 * size));
  const double w = std::min(size, detection_crop_w + x);
  const double h = std::min(size, detection_crop_h + y);
  // clipAtImageBorders + floor
  const double x0 = std::max(x, 0.0), y0 = std::max(y, 0.0);
  const double w0 = std::min(x + w - x0, image_width - x0);
  const double h0 = std::min(y + h - y0, image_height - y0);
  return {static_cast<int>(std::floor(x0)), static_cast<int>(std::floor(y0)),
          static_cast<int>(std::floor(w0)), static_cast<int>(std::floor(h0))};
}

Affine FitSimilarity(std::span<const std::array<double, 2>> from,
                     std::span<const std::array<double, 2>> to) {
  // Closed-form least squares for y ≈ [[a, −b], [b, a]]·x + t.
  const double n = static_cast<double>(from.size());
  double mfx = 0, mfy = 0, mtx = 0, mty = 0;
  for (size_t i = 0; i < from.size(); ++i) {
    mfx += from[i][0];
    mfy += from[i][1];
    mtx += to[i][0];
    mty += to[i][1];
  }
  mfx /= n, mfy /= n, mtx /= n, mty /= n;
  double sxx = 0, dot = 0, cross = 0;
  for (size_t i = 0; i < from.size(); ++i) {
    const double fx = from[i][0] - mfx, fy = from[i][1] - mfy;
    const double tx = to[i][0] - mtx, ty = to[i][1] - mty;
    sxx += fx * fx + fy * fy;
    dot += fx * tx + fy * ty;
    cross += fx * ty - fy * tx;
  }
  const double a = sxx > 0 ? dot / sxx : 1, b = sxx > 0 ? cross / sxx : 0;
  Affine m;
  m.a = a, m.b = -b, m.c = b, m.d = a;
  m.tx = mtx - (a * mfx - b * mfy);
  m.ty = mty - (b * mfx + a * mfy);
  return m;
}

Affine SimilarityChipTransform(const Landmarks& pts, int size, double padding) {
  std::vector<std::array<double, 2>> from, to;
  for (size_t i = 17; i < 68; ++i) {
    if ((55 <= i && i <= 59) || (65 <= i && i <= 67) || i <= 26) continue;  // lips, brows
    from.push_back({(padding + kMeanFaceX[i - 17]) / (2 * padding + 1) * size,
                    (padding + kMeanFaceY[i - 17]) / (2 * padding + 1) * size});
    to.push_back(pts[i]);
  }
  return FitSimilarity(from, to);
}

namespace {

// Variance of the 4-neighbour Laplacian of a chip's grey levels (RGB 0..255); 0 below 3 × 3.
double LaplacianVariance(const FloatImage& chip) {
  const int w = chip.width, h = chip.height;
  if (w < 3 || h < 3) return 0;
  std::vector<float> grey(static_cast<size_t>(w) * h);
  for (size_t i = 0; i < grey.size(); ++i) {
    grey[i] =
        0.299f * chip.data[i * 3] + 0.587f * chip.data[i * 3 + 1] + 0.114f * chip.data[i * 3 + 2];
  }
  double sum = 0, sum2 = 0;
  int count = 0;
  for (int y = 1; y < h - 1; ++y) {
    for (int x = 1; x < w - 1; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      const double lap = 4.0 * grey[i] - grey[i - 1] - grey[i + 1] - grey[i - w] - grey[i + w];
      sum += lap;
      sum2 += lap * lap;
      ++count;
    }
  }
  const double mean = sum / count;
  return sum2 / count - mean * mean;
}

// The chip sharpness that white noise of deviation `sigma` in the image contributes, measured by
// warping a noise field (fixed seed, uniform: only its variance matters) with the chip's own
// transform. The field covers the chip's preimage; past 4 image pixels per chip pixel the warp's
// box filter averages the noise down to (sigma / scale)², which is then used instead.
double NoiseSharpness(double sigma, const Affine& chip_to_image, int size, const Image& image) {
  if (sigma <= 0 || size < 3) return 0;
  const double scale =
      std::sqrt(std::fabs(chip_to_image.a * chip_to_image.d - chip_to_image.b * chip_to_image.c));
  if (scale > 4) return 20 * (sigma / scale) * (sigma / scale);
  double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
  for (double c : {0.0, size - 1.0}) {
    for (double r : {0.0, size - 1.0}) {
      const double x = chip_to_image.a * c + chip_to_image.b * r + chip_to_image.tx;
      const double y = chip_to_image.c * c + chip_to_image.d * r + chip_to_image.ty;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  x0 = std::max(0.0, std::floor(x0) - 2), y0 = std::max(0.0, std::floor(y0) - 2);
  x1 = std::min<double>(image.width, std::ceil(x1) + 3);
  y1 = std::min<double>(image.height, std::ceil(y1) + 3);
  if (x1 - x0 < 3 || y1 - y0 < 3) return 0;
  // Amplified so that rounding to 8 bits does not count (everything here is linear).
  const double gain = std::min(16.0, 100.0 / (std::sqrt(3.0) * sigma));
  const double half_width = std::sqrt(3.0) * sigma * gain;
  Image field;
  field.width = static_cast<int>(x1 - x0);
  field.height = static_cast<int>(y1 - y0);
  field.rgb.resize(static_cast<size_t>(field.width) * field.height * 3);
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < field.rgb.size(); i += 3) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;         // xorshift64
    const double u = static_cast<double>(state >> 11) / 9007199254740992.0;  // [0, 1)
    const auto v = static_cast<uint8_t>(std::lround(128 + (2 * u - 1) * half_width));
    field.rgb[i] = field.rgb[i + 1] = field.rgb[i + 2] = v;
  }
  Affine shifted = chip_to_image;
  shifted.tx -= x0;
  shifted.ty -= y0;
  return LaplacianVariance(WarpAffine(field, shifted, size)) / (gain * gain);
}

}  // namespace

FaceQuality EstimateQuality(const Landmarks& pts, double detector_score, const FloatImage& chip,
                            const Affine& chip_to_image, const Image& image) {
  FaceQuality q;
  q.detector_score = static_cast<float>(detector_score);
  const auto le = Centroid(pts, 36, 42), re = Centroid(pts, 42, 48);
  const double dx = re[0] - le[0], dy = re[1] - le[1];
  q.eye_distance_px = static_cast<float>(std::hypot(dx, dy));
  const double roll = std::atan2(dy, dx);
  q.roll_deg = static_cast<float>(roll * 180 / std::numbers::pi);
  // Rotate into the eye-line frame, then compare the nose tip (30) with the jaw ends (0, 16)
  // for yaw, and with the eyes and mouth for pitch. Rough, but monotone in the true angles.
  const double cr = std::cos(-roll), sr = std::sin(-roll);
  auto rot = [&](const std::array<double, 2>& p) {
    return std::array<double, 2>{p[0] * cr - p[1] * sr, p[0] * sr + p[1] * cr};
  };
  const auto nose = rot(pts[30]), jl = rot(pts[0]), jr = rot(pts[16]);
  const double left = nose[0] - jl[0], right = jr[0] - nose[0];
  if (left + right > 1e-6) {
    const double r = std::clamp((left - right) / (left + right), -1.0, 1.0);
    q.yaw_deg = static_cast<float>(std::asin(r) * 180 / std::numbers::pi);
  }
  const auto eyes = rot({(le[0] + re[0]) / 2, (le[1] + re[1]) / 2});
  const auto mouth = rot(Centroid(pts, 48, 68));
  const double span = mouth[1] - eyes[1];
  if (span > 1e-6) {
    // About 0.55 on frontal faces (dlib mean face: nose tip 0.628, eyes 0.23, mouth 0.82).
    const double r = std::clamp((nose[1] - eyes[1]) / span - 0.58, -1.0, 1.0);
    q.pitch_deg = static_cast<float>(std::asin(r) * 180 / std::numbers::pi);
  }
  q.sharpness = static_cast<float>(LaplacianVariance(chip));
  // The inner face (brows to chin, jaw to jaw) in the image's own pixels: noise, enlargement
  // and block artefacts are measured there, where no resampling hides them.
  double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
  for (const auto& p : pts) {
    x0 = std::min(x0, p[0]);
    x1 = std::max(x1, p[0]);
    y0 = std::min(y0, p[1]);
    y1 = std::max(y1, p[1]);
  }
  const int cx0 = static_cast<int>(std::floor(x0)), cy0 = static_cast<int>(std::floor(y0));
  const Grey face = GreyCrop(image, cx0, cy0, static_cast<int>(std::ceil(x1)) + 1,
                             static_cast<int>(std::ceil(y1)) + 1);
  const double sigma = NoiseSigma(face);
  q.noise_sigma = static_cast<float>(sigma);
  // What that much white noise alone gives the chip's sharpness (through the same warp), taken
  // away: noise and face are independent, so their Laplacian variances add.
  q.detail = std::max(0.0f, q.sharpness - static_cast<float>(NoiseSharpness(sigma, chip_to_image,
                                                                            chip.width, image)));
  q.effective_scale = static_cast<float>(EffectiveScale(face, sigma));
  q.effective_eye_distance_px = q.eye_distance_px / q.effective_scale;
  q.blockiness = static_cast<float>(Blockiness(face, std::max(0, cx0), std::max(0, cy0)));
  return q;
}

}  // namespace facetrail::vision::internal
