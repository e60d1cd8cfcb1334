#include "search/internal/quantize.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace facetrail::search::internal {
namespace {

// Scale for max|y|; a zero row (never valid, but kept well defined) gets scale 1.
float ScaleFor(const double* y, int m) {
  double max_abs = 0;
  for (int i = 0; i < m; ++i) max_abs = std::max(max_abs, std::fabs(y[i]));
  const auto s = static_cast<float>(max_abs / 127.0);
  return s > 0 ? s : 1.0f;
}

int Code(double v, float scale) {
  long c = std::lround(v / scale);
  return static_cast<int>(c < -127 ? -127 : c > 127 ? 127 : c);
}

// A double as a float not below it (the bounds rely on it).
float RoundUp(double v) {
  const auto f = static_cast<float>(v);
  return static_cast<double>(f) >= v ? f : std::nextafter(f, 3.0f);
}

}  // namespace

TemplateCode QuantizeTemplate(const double* y, int m, double tail, uint8_t* hi, uint8_t* lo) {
  TemplateCode out;
  out.scale = ScaleFor(y, m);
  const double s = out.scale;
  const int half = m / 2;
  double sum1 = 0;
  double sum2 = 0;
  for (int b = 0; b < half; ++b) {
    unsigned nib_hi = 0;
    unsigned nib_lo = 0;
    for (int side = 0; side < 2; ++side) {
      const int i = b + side * half;
      const int c = Code(y[i], out.scale) + 128;  // 1..255
      // s times a small integer or half-integer: exact in double.
      const double e1 = y[i] - s * (16.0 * (c >> 4) - 120.5);
      const double e2 = y[i] - s * (c - 128);
      sum1 += e1 * e1;
      sum2 += e2 * e2;
      nib_hi |= static_cast<unsigned>(c >> 4) << (4 * side);
      nib_lo |= static_cast<unsigned>(c & 15) << (4 * side);
    }
    hi[b] = static_cast<uint8_t>(nib_hi);
    lo[b] = static_cast<uint8_t>(nib_lo);
  }
  // sqrt in double is correctly rounded; the relative margin covers the sums' rounding.
  out.err1 = RoundUp((std::sqrt(sum1) + tail) * (1 + 1e-12));
  out.err2 = RoundUp((std::sqrt(sum2) + tail) * (1 + 1e-12));
  return out;
}

TemplateCode EncodeTemplate(const Basis& basis, const float* x, uint8_t* hi, uint8_t* lo,
                            SimdLevel level) {
  std::vector<double> y(static_cast<size_t>(basis.head_dim()));
  const double tail = basis.Project(x, y.data(), level);
  return QuantizeTemplate(y.data(), basis.head_dim(), tail, hi, lo);
}

ProbeCode QuantizeProbe(const double* p, int m, double tail, int8_t* code) {
  ProbeCode out;
  out.scale = ScaleFor(p, m);
  const double t = out.scale;
  double err = 0;
  double norm = 0;
  for (int i = 0; i < m; ++i) {
    const int c = Code(p[i], out.scale);
    code[i] = static_cast<int8_t>(c);
    out.sum += c;
    const double e = p[i] - t * c;
    err += e * e;
    norm += p[i] * p[i];
  }
  out.error = RoundUp(std::sqrt(err) * (1 + 1e-12));
  out.norm = RoundUp(std::sqrt(norm) * (1 + 1e-12));
  out.tail = RoundUp(tail);
  return out;
}

ProbeCode EncodeProbe(const Basis& basis, const float* q, int8_t* code, SimdLevel level) {
  std::vector<double> p(static_cast<size_t>(basis.head_dim()));
  const double tail = basis.Project(q, p.data(), level);
  return QuantizeProbe(p.data(), basis.head_dim(), tail, code);
}

BoundTerms BoundTermsFor(const ProbeCode& probe, double basis_error) {
  // |x·q - ŷ·p̂| <= e_x·||p|| + ||ŷ||·||e_p|| + tail_x·tail_q + eps_R·||y||·||p||, with
  // ||ŷ|| <= ||y|| + e_x and ||y|| <= Y; tail_x is folded into e_x, so alpha also covers tail_q.
  const double y_max = (1 + basis_error) * (1 + static_cast<double>(kUnitNormTolerance));
  const double alpha =
      std::max(static_cast<double>(probe.norm) + probe.error, static_cast<double>(probe.tail));
  const double beta = y_max * (probe.error + basis_error * probe.norm);
  BoundTerms b;
  b.alpha = RoundUp(alpha * (1 + 1e-12));
  b.beta = RoundUp(beta * (1 + 1e-12)) + kRoundingSlack;
  return b;
}

}  // namespace facetrail::search::internal
