// PReLU over NHWC rows, in place: x < 0 → x · slope[c]. One implementation per instruction set,
// each in its own file; the scalar one is the reference and the AVX-512 one must give identical
// floats (one multiply per negative value; tests/nn/prelu_kernels_test.cpp).
#pragma once

#include <cstddef>

namespace facetrail::nn::internal {

//   data    rows × channels floats, row-major (NHWC: a row is one pixel)
//   slopes  channels floats
using PReluFn = void (*)(float* data, size_t rows, const float* slopes, size_t channels);

void PReluScalar(float* data, size_t rows, const float* slopes, size_t channels);
void PReluAvx512(float* data, size_t rows, const float* slopes, size_t channels);

// The fastest kernel this CPU runs (AVX-512F when present).
PReluFn PReluKernel();

}  // namespace facetrail::nn::internal
