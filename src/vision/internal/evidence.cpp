#include "vision/internal/evidence.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace facetrail::vision::internal {

namespace {

constexpr double kScales[] = {1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0};

// Low-pass at 1/k of the Nyquist frequency, separable Lanczos-3 (a windowed sinc: little loss
// below the cutoff, little leak above it), edges clamped.
Grey LowPass(const Grey& g, double k) {
  const int reach = static_cast<int>(std::ceil(3 * k));
  std::vector<float> taps((2 * static_cast<size_t>(reach)) + 1);
  auto sinc = [](double x) {
    return x == 0 ? 1.0 : std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
  };
  double total = 0;
  for (size_t i = 0; i < taps.size(); ++i) {
    const int n = static_cast<int>(i) - reach;
    const double v = std::abs(n) < 3 * k ? sinc(n / k) * sinc(n / (3 * k)) : 0.0;
    taps[i] = static_cast<float>(v);
    total += v;
  }
  for (float& t : taps) t = static_cast<float>(t / total);
  const int w = g.width, h = g.height;
  Grey rows{w, h, std::vector<float>(g.data.size())}, out{w, h, std::vector<float>(g.data.size())};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      float v = 0;
      for (size_t i = 0; i < taps.size(); ++i) {
        v += taps[i] * g.at(std::clamp(x + static_cast<int>(i) - reach, 0, w - 1), y);
      }
      rows.data[static_cast<size_t>(y) * w + x] = v;
    }
  }
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      float v = 0;
      for (size_t i = 0; i < taps.size(); ++i) {
        v += taps[i] * rows.at(x, std::clamp(y + static_cast<int>(i) - reach, 0, h - 1));
      }
      out.data[static_cast<size_t>(y) * w + x] = v;
    }
  }
  return out;
}

// Mean squared difference between g and its low-pass at 1/k, `margin` pixels from the border.
double LowPassResidual(const Grey& g, double k, int margin) {
  const Grey low = LowPass(g, k);
  double sum = 0;
  int count = 0;
  for (int y = margin; y < g.height - margin; ++y) {
    for (int x = margin; x < g.width - margin; ++x) {
      const double d = g.at(x, y) - low.at(x, y);
      sum += d * d;
      ++count;
    }
  }
  return count > 0 ? sum / count : 0;
}

// Mean squared difference between g and the means of its k × k blocks (the best phase): about 0
// for an image enlarged k times by pixel replication.
double BlockResidual(const Grey& g, int k) {
  double best = std::numeric_limits<double>::infinity();
  for (int py = 0; py < k; ++py) {
    for (int px = 0; px < k; ++px) {
      double sum = 0;
      int count = 0;
      for (int by = py; by + k <= g.height; by += k) {
        for (int bx = px; bx + k <= g.width; bx += k) {
          double mean = 0;
          for (int y = by; y < by + k; ++y) {
            for (int x = bx; x < bx + k; ++x) mean += g.at(x, y);
          }
          mean /= k * k;
          for (int y = by; y < by + k; ++y) {
            for (int x = bx; x < bx + k; ++x) sum += (g.at(x, y) - mean) * (g.at(x, y) - mean);
          }
          count += k * k;
        }
      }
      if (count > 0) best = std::min(best, sum / count);
    }
  }
  return best;
}

}  // namespace

Grey GreyCrop(const Image& image, int x0, int y0, int x1, int y1) {
  x0 = std::clamp(x0, 0, image.width);
  x1 = std::clamp(x1, 0, image.width);
  y0 = std::clamp(y0, 0, image.height);
  y1 = std::clamp(y1, 0, image.height);
  Grey g;
  if (x1 <= x0 || y1 <= y0) return g;
  g.width = x1 - x0;
  g.height = y1 - y0;
  g.data.resize(static_cast<size_t>(g.width) * g.height);
  for (int y = y0; y < y1; ++y) {
    const uint8_t* p = image.row(y) + static_cast<size_t>(x0) * 3;
    for (int x = 0; x < g.width; ++x, p += 3) {
      g.data[static_cast<size_t>(y - y0) * g.width + x] =
          0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    }
  }
  return g;
}

double NoiseSigma(const Grey& g) {
  const int w = g.width, h = g.height;
  if (w < 3 || h < 3) return 0;
  std::vector<float> response;
  response.reserve(static_cast<size_t>(w - 2) * (h - 2));
  for (int y = 1; y < h - 1; ++y) {
    for (int x = 1; x < w - 1; ++x) {
      const float edges = g.at(x, y - 1) + g.at(x, y + 1) + g.at(x + 1, y) + g.at(x - 1, y);
      const float corners =
          g.at(x + 1, y - 1) + g.at(x - 1, y - 1) + g.at(x + 1, y + 1) + g.at(x - 1, y + 1);
      response.push_back(std::fabs(4 * g.at(x, y) - 2 * edges + corners));
    }
  }
  // The mask's response to white noise of deviation σ is normal with deviation 6σ (the mask's
  // L2 norm); its median absolute value is 0.6745 · 6σ. The median ignores the minority of
  // pixels where face structure (edges, hair) answers too.
  const auto mid = response.begin() + static_cast<std::ptrdiff_t>(response.size() / 2);
  std::nth_element(response.begin(), mid, response.end());
  return *mid / (0.6745 * 6.0);
}

double DetailLost(const Grey& grey, double noise_sigma, double k) {
  const int margin = static_cast<int>(std::ceil(3 * k));
  if (grey.width < 2 * margin + 4 || grey.height < 2 * margin + 4) return 1;
  double mean = 0;
  for (float v : grey.data) mean += v;
  mean /= static_cast<double>(grey.data.size());
  double var = 0;
  for (float v : grey.data) var += (v - mean) * (v - mean);
  var /= static_cast<double>(grey.data.size());
  const double noise = noise_sigma * noise_sigma;
  const double signal = var - noise;
  if (signal <= 1.0) return 1;  // a flat region: nothing to lose
  // White noise has 1 − 1/k² of its energy above the cutoff, and spreads 1 − 1/k² of it out of
  // a k × k block's mean.
  const double spread = noise * (1 - 1 / (k * k));
  double residual = LowPassResidual(grey, k, margin);
  const int whole = static_cast<int>(std::lround(k));
  if (std::abs(k - whole) < 1e-9) residual = std::min(residual, BlockResidual(grey, whole));
  return std::max(0.0, residual - spread) / signal;
}

double EffectiveScale(const Grey& grey, double noise_sigma, double max_lost) {
  if (grey.width < 8 || grey.height < 8) return 1;
  // The largest factor that loses nothing: for a natural face the loss grows with k, for pixel
  // replication by 4 it is nought at 2 and 4 but not at 3.
  double best = 1;
  for (double k : kScales) {
    if (DetailLost(grey, noise_sigma, k) < max_lost) best = k;
  }
  return best;
}

double Blockiness(const Grey& g, int origin_x, int origin_y) {
  double at_edges = 0, inside = 0;
  int n_edges = 0, n_inside = 0;
  for (int y = 0; y < g.height; ++y) {
    for (int x = 0; x + 1 < g.width; ++x) {
      const double d = std::fabs(g.at(x + 1, y) - g.at(x, y));
      if ((origin_x + x + 1) % 8 == 0) {
        at_edges += d;
        ++n_edges;
      } else {
        inside += d;
        ++n_inside;
      }
    }
  }
  for (int y = 0; y + 1 < g.height; ++y) {
    for (int x = 0; x < g.width; ++x) {
      const double d = std::fabs(g.at(x, y + 1) - g.at(x, y));
      if ((origin_y + y + 1) % 8 == 0) {
        at_edges += d;
        ++n_edges;
      } else {
        inside += d;
        ++n_inside;
      }
    }
  }
  if (n_edges == 0 || n_inside == 0 || inside <= 0) return 1;
  return (at_edges / n_edges) / (inside / n_inside);
}

}  // namespace facetrail::vision::internal
