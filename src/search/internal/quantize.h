// int8 quantisation of templates and probes, with the exact size of the error it makes.
#pragma once

#include <cstdint>

namespace facetrail::search::internal {

// Quantises a gallery template (kDim floats): scale = max|x| / 127, code[i] = round(x[i] / scale)
// + 128 (so 1..255). Returns ||x - scale * (code - 128)||_2, computed in double and rounded up.
float QuantizeTemplate(const float* x, uint8_t* code, float* scale);

// Quantises a probe: scale = max|q| / 127, code[i] = round(q[i] / scale) in -127..127.
// Returns ||q - scale * code||_2 (rounded up) and stores sum(code) in *code_sum.
float QuantizeProbe(const float* q, int8_t* code, float* scale, int32_t* code_sum);

}  // namespace facetrail::search::internal
