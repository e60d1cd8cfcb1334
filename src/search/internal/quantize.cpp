#include "search/internal/quantize.h"

#include <cmath>

#include "search/flat_index.h"

namespace facetrail::search::internal {
namespace {

// Scale for max|x|; a zero row (never valid, but kept well defined) gets scale 1.
float ScaleFor(const float* x) {
  float max_abs = 0;
  for (int i = 0; i < kDim; ++i) max_abs = std::fmax(max_abs, std::fabs(x[i]));
  return max_abs > 0 ? max_abs / 127.0f : 1.0f;
}

float ErrorNorm(const float* x, const int* c, float scale) {
  double sum = 0;
  for (int i = 0; i < kDim; ++i) {
    double e = static_cast<double>(x[i]) - static_cast<double>(scale) * c[i];
    sum += e * e;
  }
  // nextafter: the float must not be below the true value; the bound relies on it.
  return std::nextafter(static_cast<float>(std::sqrt(sum)), 1.0f);
}

void Codes(const float* x, float scale, int* c) {
  for (int i = 0; i < kDim; ++i) {
    long v = std::lround(x[i] / scale);
    c[i] = static_cast<int>(v < -127 ? -127 : v > 127 ? 127 : v);
  }
}

}  // namespace

float QuantizeTemplate(const float* x, uint8_t* code, float* scale) {
  *scale = ScaleFor(x);
  int c[kDim];
  Codes(x, *scale, c);
  for (int i = 0; i < kDim; ++i) code[i] = static_cast<uint8_t>(c[i] + 128);
  return ErrorNorm(x, c, *scale);
}

float QuantizeProbe(const float* q, int8_t* code, float* scale, int32_t* code_sum) {
  *scale = ScaleFor(q);
  int c[kDim];
  Codes(q, *scale, c);
  int32_t sum = 0;
  for (int i = 0; i < kDim; ++i) {
    code[i] = static_cast<int8_t>(c[i]);
    sum += c[i];
  }
  *code_sum = sum;
  return ErrorNorm(q, c, *scale);
}

}  // namespace facetrail::search::internal
