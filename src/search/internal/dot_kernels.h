// First-pass kernels: integer dot products of uint8 gallery codes with an int8 probe code.
// One implementation per instruction set, each in its own file; the scalar one is the reference
// and every other must return identical integers (tests/search/kernels_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "search/flat_index.h"

namespace facetrail::search::internal {

// out[j] = sum_i codes[j * kDim + i] * probe[i]   for j in [0, n)
//   codes  n × kDim uint8, row-major, no alignment required
//   probe  kDim int8
using DotU8S8Fn = void (*)(const uint8_t* codes, size_t n, const int8_t* probe, int32_t* out);

void DotU8S8Scalar(const uint8_t* codes, size_t n, const int8_t* probe, int32_t* out);
void DotU8S8Avx512Vnni(const uint8_t* codes, size_t n, const int8_t* probe, int32_t* out);

// The kernel for `level` (which the CPU must support).
DotU8S8Fn DotKernel(SimdLevel level);

}  // namespace facetrail::search::internal
