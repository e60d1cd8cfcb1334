#include "nn/internal/prelu_kernels.h"

namespace facetrail::nn::internal {

void PReluScalar(float* data, size_t rows, const float* slopes, size_t channels) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = data + r * channels;
    // A select, then an unconditional store (v · 1 = v): vectorised for the baseline ISA,
    // where `v < 0 ? v * s : v` became a branch and a conditional store (signs are random).
    for (size_t i = 0; i < channels; ++i) {
      const float v = row[i];
      row[i] = v * (v < 0.f ? slopes[i] : 1.f);
    }
  }
}

PReluFn PReluKernel() {
  static const PReluFn kKernel =
      __builtin_cpu_supports("avx512f") ? PReluFn{&PReluAvx512} : PReluFn{&PReluScalar};
  return kKernel;
}

}  // namespace facetrail::nn::internal
