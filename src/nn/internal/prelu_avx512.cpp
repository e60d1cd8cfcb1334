// Compiled with -mavx512f (src/nn/CMakeLists.txt); called only when the CPU has it.
#include <immintrin.h>

#include "nn/internal/prelu_kernels.h"

namespace facetrail::nn::internal {

void PReluAvx512(float* data, size_t rows, const float* slopes, size_t channels) {
  const __m512 zero = _mm512_setzero_ps();
  const size_t full = channels / 16 * 16;
  const auto tail = static_cast<__mmask16>((1u << (channels - full)) - 1u);
  for (size_t r = 0; r < rows; ++r) {
    float* row = data + r * channels;
    for (size_t i = 0; i < full; i += 16) {
      const __m512 v = _mm512_loadu_ps(row + i);
      const __mmask16 negative = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
      _mm512_storeu_ps(row + i, _mm512_mask_mul_ps(v, negative, v, _mm512_loadu_ps(slopes + i)));
    }
    if (tail != 0) {
      const __m512 v = _mm512_maskz_loadu_ps(tail, row + full);
      const __mmask16 negative = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
      const __m512 s = _mm512_maskz_loadu_ps(tail, slopes + full);
      _mm512_mask_storeu_ps(row + full, tail, _mm512_mask_mul_ps(v, negative, v, s));
    }
  }
}

}  // namespace facetrail::nn::internal
