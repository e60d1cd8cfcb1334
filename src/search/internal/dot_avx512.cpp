// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -ffp-contract=off
// (src/search/CMakeLists.txt); only called after DetectSimdLevel() saw those features.
#include <immintrin.h>

#include "search/internal/dot_kernels.h"

namespace facetrail::search::internal {
namespace {

// acc += nibble dot of 64 code bytes `v` with the probe halves ql (low nibbles) and qh (high).
inline __m512i Accumulate(__m512i acc, __m512i v, __m512i ql, __m512i qh) {
  const __m512i mask = _mm512_set1_epi8(0x0F);
  acc = _mm512_dpbusd_epi32(acc, _mm512_and_si512(v, mask), ql);
  return _mm512_dpbusd_epi32(acc, _mm512_and_si512(_mm512_srli_epi16(v, 4), mask), qh);
}

// Nibble dots of four rows (pointers r0..r3) at once: independent accumulators hide the
// vpdpbusd latency. The last partial chunk (row_bytes % 64 bytes) is read with a mask.
inline void Dot4(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, const uint8_t* r3,
                 size_t row_bytes, const int8_t* probe, int32_t* out) {
  const int8_t* ph = probe + row_bytes;
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  size_t c = 0;
  for (; c + 64 <= row_bytes; c += 64) {
    const __m512i ql = _mm512_loadu_si512(probe + c);
    const __m512i qh = _mm512_loadu_si512(ph + c);
    a0 = Accumulate(a0, _mm512_loadu_si512(r0 + c), ql, qh);
    a1 = Accumulate(a1, _mm512_loadu_si512(r1 + c), ql, qh);
    a2 = Accumulate(a2, _mm512_loadu_si512(r2 + c), ql, qh);
    a3 = Accumulate(a3, _mm512_loadu_si512(r3 + c), ql, qh);
  }
  if (c < row_bytes) {
    const __mmask64 m = _cvtu64_mask64(~uint64_t{0} >> (64 - (row_bytes - c)));
    const __m512i ql = _mm512_maskz_loadu_epi8(m, probe + c);
    const __m512i qh = _mm512_maskz_loadu_epi8(m, ph + c);
    a0 = Accumulate(a0, _mm512_maskz_loadu_epi8(m, r0 + c), ql, qh);
    a1 = Accumulate(a1, _mm512_maskz_loadu_epi8(m, r1 + c), ql, qh);
    a2 = Accumulate(a2, _mm512_maskz_loadu_epi8(m, r2 + c), ql, qh);
    a3 = Accumulate(a3, _mm512_maskz_loadu_epi8(m, r3 + c), ql, qh);
  }
  // The four horizontal sums at once: interleave pairs within 128-bit lanes, then add lanes.
  const __m512i t01 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(a0, a1), _mm512_unpackhi_epi32(a0, a1));
  const __m512i t23 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(a2, a3), _mm512_unpackhi_epi32(a2, a3));
  const __m512i u =
      _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
  const __m256i v = _mm256_add_epi32(_mm512_castsi512_si256(u), _mm512_extracti64x4_epi64(u, 1));
  const __m128i w = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), w);
}

inline int32_t Dot1(const uint8_t* r, size_t row_bytes, const int8_t* probe) {
  int32_t out[4];
  Dot4(r, r, r, r, row_bytes, probe, out);
  return out[0];
}

}  // namespace

size_t FirstPassAvx512Vnni(const uint8_t* codes, const float* scales, const float* errs, size_t n,
                           const FirstPassParams& params, float floor, uint32_t* rows,
                           int32_t* dots) {
  const size_t rb = params.row_bytes;
  const __m512i offset = _mm512_set1_epi32(params.offset);
  const __m512 half_scale = _mm512_set1_ps(params.half_scale);
  const __m512 alpha = _mm512_set1_ps(params.alpha);
  const __m512 beta = _mm512_set1_ps(params.beta);
  const __m512 vfloor = _mm512_set1_ps(floor);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  alignas(64) int32_t group[16];
  size_t count = 0;
  for (size_t j = 0; j < n; j += 16) {
    const size_t m = n - j < 16 ? n - j : 16;
    size_t i = 0;
    for (; i + 4 <= m; i += 4) {
      const uint8_t* r = codes + (j + i) * rb;
      Dot4(r, r + rb, r + 2 * rb, r + 3 * rb, rb, params.probe, group + i);
    }
    for (; i < m; ++i) group[i] = Dot1(codes + (j + i) * rb, rb, params.probe);
    const __mmask16 valid = _cvtu32_mask16((1u << m) - 1);
    const __m512i dot = _mm512_maskz_load_epi32(valid, group);
    const __m512i v = _mm512_sub_epi32(_mm512_slli_epi32(dot, 5), offset);
    const __m512 approx = _mm512_mul_ps(
        _mm512_mul_ps(_mm512_maskz_loadu_ps(valid, scales + j), half_scale), _mm512_cvtepi32_ps(v));
    const __m512 bound =
        _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(valid, errs + j), alpha), beta);
    const __m512 upper = _mm512_add_ps(approx, bound);
    const __mmask16 keep = _mm512_mask_cmp_ps_mask(valid, upper, vfloor, _CMP_GE_OQ);
    const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(j)), lane);
    _mm512_mask_compressstoreu_epi32(rows + count, keep, index);
    _mm512_mask_compressstoreu_epi32(dots + count, keep, dot);
    count += static_cast<size_t>(__builtin_popcount(_cvtmask16_u32(keep)));
  }
  return count;
}

void GatherDotAvx512Vnni(const uint8_t* plane, size_t row_bytes, const uint32_t* rows, size_t n,
                         const int8_t* probe, int32_t* out) {
  // Rows are scattered: ask for the next group's lines while this one computes.
  constexpr size_t kAhead = 4;
  auto prefetch = [&](size_t i) {
    const auto* r = reinterpret_cast<const char*>(plane + rows[i] * row_bytes);
    for (size_t c = 0; c < row_bytes; c += 64) _mm_prefetch(r + c, _MM_HINT_T0);
  };
  for (size_t i = 0; i < n && i < kAhead; ++i) prefetch(i);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t p = i + kAhead; p < i + 2 * kAhead && p < n; ++p) prefetch(p);
    Dot4(plane + rows[i] * row_bytes, plane + rows[i + 1] * row_bytes,
         plane + rows[i + 2] * row_bytes, plane + rows[i + 3] * row_bytes, row_bytes, probe,
         out + i);
  }
  for (; i < n; ++i) out[i] = Dot1(plane + rows[i] * row_bytes, row_bytes, probe);
}

namespace {

// y[t][j] for template rows t0..t0+T-1 and basis rows j0..j0+J-1 (T, J <= 4): T × J accumulators
// share each load of a template row and of a basis row.
template <int T, int J>
void ProjectTile(const double* rows, size_t m, size_t dim, const double* x, size_t t0, size_t j0,
                 double* y) {
  __m512d acc[T][J];
  for (int t = 0; t < T; ++t) {
    for (int j = 0; j < J; ++j) acc[t][j] = _mm512_setzero_pd();
  }
  for (size_t i = 0; i < dim; i += 8) {
    __m512d xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_pd(x + (t0 + t) * dim + i);
    for (int j = 0; j < J; ++j) {
      const __m512d rv = _mm512_loadu_pd(rows + (j0 + j) * dim + i);
      for (int t = 0; t < T; ++t) acc[t][j] = _mm512_fmadd_pd(xv[t], rv, acc[t][j]);
    }
  }
  for (int t = 0; t < T; ++t) {
    for (int j = 0; j < J; ++j) y[(t0 + t) * m + j0 + j] = _mm512_reduce_add_pd(acc[t][j]);
  }
}

template <int T>
void ProjectRowsOf(const double* rows, size_t m, size_t dim, const double* x, size_t t0,
                   double* y) {
  size_t j = 0;
  for (; j + 4 <= m; j += 4) ProjectTile<T, 4>(rows, m, dim, x, t0, j, y);
  for (; j < m; ++j) ProjectTile<T, 1>(rows, m, dim, x, t0, j, y);
}

}  // namespace

void ProjectAvx512(const double* rows, size_t m, size_t dim, const double* x, size_t count,
                   double* y) {
  size_t t = 0;
  for (; t + 4 <= count; t += 4) ProjectRowsOf<4>(rows, m, dim, x, t, y);
  for (; t < count; ++t) ProjectRowsOf<1>(rows, m, dim, x, t, y);
}

}  // namespace facetrail::search::internal
