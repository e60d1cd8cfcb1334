// int8 quantisation of head coordinates (split into two 4-bit planes for templates), with the
// exact size of the error each reconstruction makes, and the bound terms built on them
// (docs/SNAPSHOT.md, "Why the first pass never loses a candidate").
#pragma once

#include <cstdint>

#include "search/basis.h"
#include "search/flat_index.h"

namespace facetrail::search::internal {

struct TemplateCode {
  float scale = 0;  // s: head coordinates ≈ s * (c - 128)
  float err1 = 0;   // >= ||y - s * (16 * (c >> 4) - 120.5)||_2 + tail (high nibble, cell middle)
  float err2 = 0;   // >= ||y - s * (c - 128)||_2 + tail (full int8 code)
};

// Quantises m (even) head coordinates y: s = max|y| / 127 (1 for a zero row),
// c_i = clamp(round(y_i / s), -127, 127) + 128 (so 1..255), then writes m/2 bytes to each
// plane: hi[b] = (c_b >> 4) | (c_{b+m/2} >> 4) << 4, lo[b] = (c_b & 15) | (c_{b+m/2} & 15) << 4.
// The error norms are computed in double, `tail` (the basis's bound on what the head leaves
// out) is added, and the sums are rounded up to float.
TemplateCode QuantizeTemplate(const double* y, int m, double tail, uint8_t* hi, uint8_t* lo);
// Projects template x (basis.dim() floats) through the basis, then QuantizeTemplate.
TemplateCode EncodeTemplate(const Basis& basis, const float* x, uint8_t* hi, uint8_t* lo,
                            SimdLevel level = DetectSimdLevel());

struct ProbeCode {
  float scale = 0;  // t: head coordinates p ≈ t * code
  int32_t sum = 0;  // sum of the codes
  float error = 0;  // >= ||p - t * code||_2
  float norm = 0;   // >= ||p||_2
  float tail = 0;   // >= ||q - R^T p||_2 (0 for the identity basis)
};

// Quantises m head coordinates p of a probe: t = max|p| / 127, code_i = round(p_i / t).
ProbeCode QuantizeProbe(const double* p, int m, double tail, int8_t* code);
// Projects probe q (basis.dim() floats) through the basis, then QuantizeProbe.
ProbeCode EncodeProbe(const Basis& basis, const float* q, int8_t* code,
                      SimdLevel level = DetectSimdLevel());

// Covers float rounding in the pass scores and bounds (a few operations of relative error
// 2^-24 on values below 1.01), the final rounding of exact scores to float (half an ulp,
// <= 2^-25 relative) and the double rounding of the projections (< 1e-10), with a wide margin.
inline constexpr float kRoundingSlack = 1e-5f;

// The per-query terms of both passes' bounds (docs/SNAPSHOT.md): a row whose stored error norm
// is e (err1 or err2, tail included) has |exact score - approx| <= e * alpha + beta, where
//   alpha = max(||p|| + ||e_p||, tail_q)
//   beta  = Y * (||e_p|| + eps_R * ||p||) + kRoundingSlack,  Y = (1 + eps_R)(1 + tol)
// with eps_R the basis's orthonormality error.
struct BoundTerms {
  float alpha = 0;
  float beta = 0;
};
BoundTerms BoundTermsFor(const ProbeCode& probe, double basis_error);

// The refined (full int8 code) approximation of a row's score from its two nibble dots:
// s * t * (16 * hi_dot + lo_dot - 128 * sum(probe code)).
inline float RefinedApprox(float scale, const ProbeCode& probe, int32_t hi_dot, int32_t lo_dot) {
  return scale * probe.scale * static_cast<float>(16 * hi_dot + lo_dot - 128 * probe.sum);
}

}  // namespace facetrail::search::internal
