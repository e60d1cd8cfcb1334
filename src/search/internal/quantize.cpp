#include "search/internal/quantize.h"

#include <cmath>

#include "search/flat_index.h"

namespace facetrail::search::internal {
namespace {

// Scale for max|x|; a zero row (never valid, but kept well defined) gets scale 1.
float ScaleFor(const float* x, int dim) {
  float max_abs = 0;
  for (int i = 0; i < dim; ++i) max_abs = std::fmax(max_abs, std::fabs(x[i]));
  return max_abs > 0 ? max_abs / 127.0f : 1.0f;
}

int Code(float v, float scale) {
  long c = std::lround(v / scale);
  return static_cast<int>(c < -127 ? -127 : c > 127 ? 127 : c);
}

// sqrt of a sum of squares computed in double, as a float not below the true value (the bounds
// rely on it).
float RoundUpNorm(double sum_sq) {
  return std::nextafter(static_cast<float>(std::sqrt(sum_sq)), 2.0f);
}

}  // namespace

TemplateCode QuantizeTemplate(const float* x, int dim, uint8_t* hi, uint8_t* lo) {
  TemplateCode out;
  out.scale = ScaleFor(x, dim);
  const double s = out.scale;
  const int half = dim / 2;
  double sum1 = 0;
  double sum2 = 0;
  for (int b = 0; b < half; ++b) {
    unsigned nib_hi = 0;
    unsigned nib_lo = 0;
    for (int side = 0; side < 2; ++side) {
      const int i = b + side * half;
      const int c = Code(x[i], out.scale) + 128;  // 1..255
      // s times a small integer or half-integer: exact in double.
      const double e1 = static_cast<double>(x[i]) - s * (16.0 * (c >> 4) - 120.5);
      const double e2 = static_cast<double>(x[i]) - s * (c - 128);
      sum1 += e1 * e1;
      sum2 += e2 * e2;
      nib_hi |= static_cast<unsigned>(c >> 4) << (4 * side);
      nib_lo |= static_cast<unsigned>(c & 15) << (4 * side);
    }
    hi[b] = static_cast<uint8_t>(nib_hi);
    lo[b] = static_cast<uint8_t>(nib_lo);
  }
  out.err1 = RoundUpNorm(sum1);
  out.err2 = RoundUpNorm(sum2);
  return out;
}

ProbeCode QuantizeProbe(const float* q, int dim, int8_t* code) {
  ProbeCode out;
  out.scale = ScaleFor(q, dim);
  const double t = out.scale;
  double err = 0;
  double norm = 0;
  for (int i = 0; i < dim; ++i) {
    const int c = Code(q[i], out.scale);
    code[i] = static_cast<int8_t>(c);
    out.sum += c;
    const double e = static_cast<double>(q[i]) - t * c;
    err += e * e;
    norm += static_cast<double>(q[i]) * q[i];
  }
  out.error = RoundUpNorm(err);
  out.norm = RoundUpNorm(norm);
  return out;
}

BoundTerms BoundTermsFor(const ProbeCode& probe) {
  // |x·q - x̂·q̂| <= ||e_x||·||q|| + ||x̂||·||e_q|| with ||x̂|| <= ||x|| + ||e_x|| <= 1 + tol + e.
  BoundTerms b;
  b.alpha = std::nextafter(probe.norm + probe.error, 2.0f);
  b.beta = (1.0f + kUnitNormTolerance) * probe.error + kRoundingSlack;
  return b;
}

}  // namespace facetrail::search::internal
