#include "vision/internal/resample.h"

#include <algorithm>
#include <cmath>

namespace facetrail::vision::internal {

FloatImage CropPadResize(const Image& image, int x, int y, int w, int h, bool centered, int size) {
  const int s = std::max(w, h);
  const int diff = std::abs(w - h);
  // JS Math.round(diff · 0.5) for centred, diff for bottom/right; both non-negative.
  const int after = centered ? static_cast<int>(std::floor(diff * 0.5 + 0.5)) : diff;
  const int before = diff - after;
  const int off_x = w < h ? before : 0;  // position of the crop inside the s × s square
  const int off_y = h < w ? before : 0;

  // Square coordinate → image row pointer / column byte offset, or "black" (null / −1) when it
  // falls in the padding or outside the image.
  auto row_of = [&](int sy) -> const uint8_t* {
    const int iy = sy - off_y;
    if (iy < 0 || iy >= h || y + iy < 0 || y + iy >= image.height) return nullptr;
    return image.row(y + iy);
  };
  auto col_of = [&](int sx) -> int {
    const int ix = sx - off_x;
    if (ix < 0 || ix >= w || x + ix < 0 || x + ix >= image.width) return -1;
    return (x + ix) * 3;
  };

  FloatImage out;
  out.width = out.height = size;
  out.data.resize(static_cast<size_t>(size) * size * 3);
  const float scale = static_cast<float>(s) / static_cast<float>(size);
  std::vector<int> c0(static_cast<size_t>(size)), c1(static_cast<size_t>(size));
  std::vector<float> fx(static_cast<size_t>(size));
  for (int c = 0; c < size; ++c) {
    const float src = static_cast<float>(c) * scale;
    const int f = static_cast<int>(std::floor(src));
    c0[static_cast<size_t>(c)] = col_of(f);
    c1[static_cast<size_t>(c)] = col_of(std::min(s - 1, static_cast<int>(std::ceil(src))));
    fx[static_cast<size_t>(c)] = src - static_cast<float>(f);
  }
  for (int r = 0; r < size; ++r) {
    const float src_y = static_cast<float>(r) * scale;
    const int y0 = static_cast<int>(std::floor(src_y));
    const uint8_t* row0 = row_of(y0);
    const uint8_t* row1 = row_of(std::min(s - 1, static_cast<int>(std::ceil(src_y))));
    const float fy = src_y - static_cast<float>(y0);
    float* dst = out.data.data() + static_cast<size_t>(r) * size * 3;
    for (int c = 0; c < size; ++c) {
      const size_t ci = static_cast<size_t>(c);
      const int a = c0[ci], b = c1[ci];
      for (int ch = 0; ch < 3; ++ch) {
        const float tl = row0 && a >= 0 ? row0[a + ch] : 0.f;
        const float tr = row0 && b >= 0 ? row0[b + ch] : 0.f;
        const float bl = row1 && a >= 0 ? row1[a + ch] : 0.f;
        const float br = row1 && b >= 0 ? row1[b + ch] : 0.f;
        const float top = tl + (tr - tl) * fx[ci];
        const float bottom = bl + (br - bl) * fx[ci];
        dst[c * 3 + ch] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

namespace {

// Box-filters `image` by an integer factor (each output pixel = mean of factor × factor inputs).
Image BoxDownsample(const Image& image, int factor) {
  Image out;
  out.width = std::max(1, image.width / factor);
  out.height = std::max(1, image.height / factor);
  out.rgb.resize(static_cast<size_t>(out.width) * out.height * 3);
  std::vector<uint32_t> acc(static_cast<size_t>(out.width) * 3);
  for (int oy = 0; oy < out.height; ++oy) {
    std::fill(acc.begin(), acc.end(), 0u);
    int rows = 0;
    for (int k = 0; k < factor; ++k) {
      int iy = oy * factor + k;
      if (iy >= image.height) break;
      ++rows;
      const uint8_t* src = image.row(iy);
      for (int ox = 0; ox < out.width; ++ox) {
        for (int j = 0; j < factor; ++j) {
          int ix = ox * factor + j;
          if (ix >= image.width) break;
          for (int ch = 0; ch < 3; ++ch) acc[static_cast<size_t>(ox) * 3 + ch] += src[ix * 3 + ch];
        }
      }
    }
    // rows is 0 only for an empty image (or a factor below 1): otherwise oy < out.height keeps
    // oy·factor below image.height. Return the black output then rather than divide by zero
    // (WarpAffine reads zeros from an empty image anyway).
    if (rows == 0) return out;
    uint8_t* dst = out.row(oy);
    const uint32_t n = static_cast<uint32_t>(rows * factor);
    for (size_t i = 0; i < acc.size(); ++i) dst[i] = static_cast<uint8_t>((acc[i] + n / 2) / n);
  }
  return out;
}

}  // namespace

namespace {

constexpr double kPi = 3.14159265358979323846;

// Keys' cubic convolution kernel, a = −0.5.
double Cubic(double x) {
  x = std::fabs(x);
  if (x < 1) return (1.5 * x - 2.5) * x * x + 1;
  if (x < 2) return ((-0.5 * x + 2.5) * x - 4) * x + 2;
  return 0;
}

double Lanczos3(double x) {
  x = std::fabs(x);
  if (x < 1e-9) return 1;
  if (x >= 3) return 0;
  const double px = kPi * x;
  return 3 * std::sin(px) * std::sin(px / 3) / (px * px);
}

// The chip of WarpAffine with a separable kernel of `radius` taps on each side (2: cubic,
// 3: Lanczos-3), zero outside the image.
FloatImage WarpKernel(const Image& src, const Affine& t, int size, Interpolation kind) {
  const int radius = kind == Interpolation::kLanczos3 ? 3 : 2;
  const int taps = 2 * radius;
  FloatImage out;
  out.width = out.height = size;
  out.data.assign(static_cast<size_t>(size) * size * 3, 0.f);
  const int w = src.width, h = src.height;
  double wx[6], wy[6];
  for (int r = 0; r < size; ++r) {
    for (int c = 0; c < size; ++c) {
      const double px = t.a * c + t.b * r + t.tx;
      const double py = t.c * c + t.d * r + t.ty;
      const double fx0 = std::floor(px), fy0 = std::floor(py);
      const int ix = static_cast<int>(fx0), iy = static_cast<int>(fy0);
      if (ix < -radius || iy < -radius || ix >= w + radius - 1 || iy >= h + radius - 1) continue;
      double sx = 0, sy = 0;
      for (int k = 0; k < taps; ++k) {
        const double dx = px - (fx0 + k - radius + 1), dy = py - (fy0 + k - radius + 1);
        wx[k] = kind == Interpolation::kLanczos3 ? Lanczos3(dx) : Cubic(dx);
        wy[k] = kind == Interpolation::kLanczos3 ? Lanczos3(dy) : Cubic(dy);
        sx += wx[k];
        sy += wy[k];
      }
      double acc[3] = {0, 0, 0};
      for (int j = 0; j < taps; ++j) {
        const int yy = iy + j - radius + 1;
        if (yy < 0 || yy >= h) continue;
        const uint8_t* row = src.row(yy);
        double racc[3] = {0, 0, 0};
        for (int k = 0; k < taps; ++k) {
          const int xx = ix + k - radius + 1;
          if (xx < 0 || xx >= w) continue;
          for (int ch = 0; ch < 3; ++ch) racc[ch] += wx[k] * row[xx * 3 + ch];
        }
        for (int ch = 0; ch < 3; ++ch) acc[ch] += wy[j] * racc[ch];
      }
      float* dst = out.data.data() + (static_cast<size_t>(r) * size + c) * 3;
      const double norm = 1 / (sx * sy);
      for (int ch = 0; ch < 3; ++ch) {
        dst[ch] = static_cast<float>(std::clamp(acc[ch] * norm, 0.0, 255.0));
      }
    }
  }
  return out;
}

}  // namespace

FloatImage WarpAffine(const Image& image, const Affine& m, int size, Interpolation enlarge) {
  // How many image pixels one chip pixel spans.
  const double span = std::sqrt(std::abs(m.a * m.d - m.b * m.c));
  Affine t = m;
  Image reduced;
  const Image* src = &image;
  if (span >= 2.0) {
    int factor = static_cast<int>(std::floor(span));
    reduced = BoxDownsample(image, factor);
    src = &reduced;
    // A pixel centre at reduced (u, v) is the mean of image pixels factor·u … factor·u+factor−1,
    // centred at factor·u + (factor − 1)/2.
    const double f = factor, off = (factor - 1) / 2.0;
    t = {m.a / f, m.b / f, (m.tx - off) / f, m.c / f, m.d / f, (m.ty - off) / f};
  }
  if (span < 1.0 && enlarge != Interpolation::kBilinear) {
    return WarpKernel(*src, t, size, enlarge);
  }
  FloatImage out;
  out.width = out.height = size;
  out.data.assign(static_cast<size_t>(size) * size * 3, 0.f);
  const int w = src->width, h = src->height;
  for (int r = 0; r < size; ++r) {
    for (int c = 0; c < size; ++c) {
      const double px = t.a * c + t.b * r + t.tx;
      const double py = t.c * c + t.d * r + t.ty;
      const double fx0 = std::floor(px), fy0 = std::floor(py);
      const int ix = static_cast<int>(fx0), iy = static_cast<int>(fy0);
      if (ix < -1 || iy < -1 || ix >= w || iy >= h) continue;
      const float ax = static_cast<float>(px - fx0), ay = static_cast<float>(py - fy0);
      auto at = [&](int yy, int xx, int ch) -> float {
        if (xx < 0 || yy < 0 || xx >= w || yy >= h) return 0.f;
        return static_cast<float>(src->row(yy)[xx * 3 + ch]);
      };
      float* dst = out.data.data() + (static_cast<size_t>(r) * size + c) * 3;
      for (int ch = 0; ch < 3; ++ch) {
        float top = at(iy, ix, ch) * (1 - ax) + at(iy, ix + 1, ch) * ax;
        float bottom = at(iy + 1, ix, ch) * (1 - ax) + at(iy + 1, ix + 1, ch) * ax;
        dst[ch] = top * (1 - ay) + bottom * ay;
      }
    }
  }
  return out;
}

Image WarpAffineToImage(const Image& image, const Affine& t, int out_w, int out_h) {
  Image out;
  out.width = out_w;
  out.height = out_h;
  out.rgb.assign(static_cast<size_t>(out_w) * out_h * 3, 0);
  const int w = image.width, h = image.height;
  auto at = [&](int yy, int xx, int ch) -> float {
    if (xx < 0 || yy < 0 || xx >= w || yy >= h) return 0.f;
    return static_cast<float>(image.row(yy)[xx * 3 + ch]);
  };
  for (int r = 0; r < out_h; ++r) {
    uint8_t* dst = out.row(r);
    for (int c = 0; c < out_w; ++c) {
      const double px = t.a * c + t.b * r + t.tx, py = t.c * c + t.d * r + t.ty;
      const double fx0 = std::floor(px), fy0 = std::floor(py);
      const int ix = static_cast<int>(fx0), iy = static_cast<int>(fy0);
      const float ax = static_cast<float>(px - fx0), ay = static_cast<float>(py - fy0);
      for (int ch = 0; ch < 3; ++ch) {
        const float top = at(iy, ix, ch) * (1 - ax) + at(iy, ix + 1, ch) * ax;
        const float bottom = at(iy + 1, ix, ch) * (1 - ax) + at(iy + 1, ix + 1, ch) * ax;
        dst[c * 3 + ch] =
            static_cast<uint8_t>(std::clamp(top * (1 - ay) + bottom * ay + 0.5f, 0.f, 255.f));
      }
    }
  }
  return out;
}

void FlipHorizontal(FloatImage& img) {
  for (int r = 0; r < img.height; ++r) {
    float* row = img.data.data() + static_cast<size_t>(r) * img.width * 3;
    for (int c = 0; c < img.width / 2; ++c) {
      int o = img.width - 1 - c;
      for (int ch = 0; ch < 3; ++ch) std::swap(row[c * 3 + ch], row[o * 3 + ch]);
    }
  }
}

}  // namespace facetrail::vision::internal
