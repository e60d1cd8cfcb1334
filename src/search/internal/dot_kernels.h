// Kernels of the search passes over the nibble planes (index_data.h): integer dot products of
// 4-bit gallery codes with an int8 probe code, and the first pass's per-row upper bound.
// One implementation per instruction set, each in its own file; the scalar one is the reference
// and every other must return identical integers, rows and bounds (tests/search/kernels_test.cpp;
// the float steps are written in the same order and compiled with -ffp-contract=off).
#pragma once

#include <cstddef>
#include <cstdint>

#include "search/flat_index.h"

namespace facetrail::search::internal {

// The nibble dot of one plane row with a probe code of 2 * row_bytes int8:
//   sum_b (row[b] & 15) * probe[b] + (row[b] >> 4) * probe[b + row_bytes]
// row_bytes = dim / 2 is a multiple of 8 (any value works; no alignment is required).

struct FirstPassParams {
  const int8_t* probe = nullptr;  // 2 * row_bytes int8
  size_t row_bytes = 0;
  int32_t offset = 0;    // 241 * sum(probe)
  float half_scale = 0;  // probe scale / 2
  float alpha = 0;       // multiplies the row's error norm
  float beta = 0;        // added to the bound
};

// For j in [0, n), with dot_j the nibble dot of row j of `codes` (row j at codes + j*row_bytes):
//   upper_j = (scales[j] * half_scale) * float(32 * dot_j - offset) + (errs[j] * alpha + beta)
// writes each j with upper_j >= floor to rows[] (ascending) and dot_j to dots[]; returns how
// many. rows and dots must have room for n entries.
using FirstPassFn = size_t (*)(const uint8_t* codes, const float* scales, const float* errs,
                               size_t n, const FirstPassParams& params, float floor, uint32_t* rows,
                               int32_t* dots);

// out[i] = nibble dot of row rows[i] of `plane` (row r at plane + r * row_bytes), i in [0, n).
using GatherDotFn = void (*)(const uint8_t* plane, size_t row_bytes, const uint32_t* rows, size_t n,
                             const int8_t* probe, int32_t* out);

size_t FirstPassScalar(const uint8_t* codes, const float* scales, const float* errs, size_t n,
                       const FirstPassParams& params, float floor, uint32_t* rows, int32_t* dots);
void GatherDotScalar(const uint8_t* plane, size_t row_bytes, const uint32_t* rows, size_t n,
                     const int8_t* probe, int32_t* out);
size_t FirstPassAvx512Vnni(const uint8_t* codes, const float* scales, const float* errs, size_t n,
                           const FirstPassParams& params, float floor, uint32_t* rows,
                           int32_t* dots);
void GatherDotAvx512Vnni(const uint8_t* plane, size_t row_bytes, const uint32_t* rows, size_t n,
                         const int8_t* probe, int32_t* out);

// y[r * m + j] = sum_i rows[j * dim + i] * x[r * dim + i] for r in [0, count), j in [0, m),
// accumulated in double (the basis projection, search/basis.h); dim is a multiple of 16. Levels
// may differ in the last bits (summation order); every caller's error bound covers that.
using ProjectFn = void (*)(const double* rows, size_t m, size_t dim, const double* x, size_t count,
                           double* y);
void ProjectScalar(const double* rows, size_t m, size_t dim, const double* x, size_t count,
                   double* y);
void ProjectAvx512(const double* rows, size_t m, size_t dim, const double* x, size_t count,
                   double* y);
ProjectFn ProjectKernel(SimdLevel level);

struct Kernels {
  FirstPassFn first_pass;
  GatherDotFn gather_dot;
};
// The kernels for `level` (which the CPU must support).
Kernels KernelsFor(SimdLevel level);

}  // namespace facetrail::search::internal
