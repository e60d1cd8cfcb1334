// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni (src/search/CMakeLists.txt); only
// called after DetectSimdLevel() saw those features.
#include <immintrin.h>

#include "search/internal/dot_kernels.h"

namespace facetrail::search::internal {

static_assert(kDim == 128, "the kernel reads a row as two 64-byte vectors");

namespace {
// Sum of the 16 lanes.
inline int32_t ReduceAdd(__m512i a) {
  __m256i s = _mm256_add_epi32(_mm512_castsi512_si256(a),
                               _mm512_castsi512_si256(_mm512_shuffle_i64x2(a, a, 0x4E)));
  __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
  return _mm_cvtsi128_si32(t);
}
}  // namespace

void DotU8S8Avx512Vnni(const uint8_t* codes, size_t n, const int8_t* probe, int32_t* out) {
  const __m512i q0 = _mm512_loadu_si512(probe);
  const __m512i q1 = _mm512_loadu_si512(probe + 64);
  size_t j = 0;
  // Four rows at a time: independent accumulators hide the vpdpbusd latency.
  for (; j + 4 <= n; j += 4) {
    const uint8_t* r = codes + j * kDim;
    __m512i a0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(r), q0);
    __m512i a1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(r + 128), q0);
    __m512i a2 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(r + 256), q0);
    __m512i a3 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(r + 384), q0);
    a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(r + 64), q1);
    a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(r + 192), q1);
    a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(r + 320), q1);
    a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(r + 448), q1);
    out[j] = ReduceAdd(a0);
    out[j + 1] = ReduceAdd(a1);
    out[j + 2] = ReduceAdd(a2);
    out[j + 3] = ReduceAdd(a3);
  }
  for (; j < n; ++j) {
    const uint8_t* r = codes + j * kDim;
    __m512i a = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(r), q0);
    a = _mm512_dpbusd_epi32(a, _mm512_loadu_si512(r + 64), q1);
    out[j] = ReduceAdd(a);
  }
}

}  // namespace facetrail::search::internal
