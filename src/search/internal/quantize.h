// int8 quantisation of templates (split into two 4-bit planes) and probes, with the exact size
// of the error each reconstruction makes (docs/SNAPSHOT.md).
#pragma once

#include <cstdint>

namespace facetrail::search::internal {

struct TemplateCode {
  float scale = 0;  // s: template ≈ s * (c - 128)
  float err1 = 0;   // >= ||x - s * (16 * (c >> 4) - 120.5)||_2 (high nibble, cell midpoint)
  float err2 = 0;   // >= ||x - s * (c - 128)||_2 (full int8 code)
};

// Quantises a gallery template of `dim` (even) floats: s = max|x| / 127 (1 for a zero row),
// c_i = clamp(round(x_i / s), -127, 127) + 128 (so 1..255), then writes dim/2 bytes to each
// plane: hi[b] = (c_b >> 4) | (c_{b+dim/2} >> 4) << 4, lo[b] = (c_b & 15) | (c_{b+dim/2} & 15)
// << 4. Both error norms are computed in double and rounded up to float.
TemplateCode QuantizeTemplate(const float* x, int dim, uint8_t* hi, uint8_t* lo);

struct ProbeCode {
  float scale = 0;  // t: probe ≈ t * code
  int32_t sum = 0;  // sum of the codes
  float error = 0;  // >= ||q - t * code||_2
  float norm = 0;   // >= ||q||_2
};

// Quantises a probe of `dim` floats: t = max|q| / 127, code_i = round(q_i / t) in -127..127.
ProbeCode QuantizeProbe(const float* q, int dim, int8_t* code);

// Covers float rounding in the pass scores and bounds (a few operations of relative error
// 2^-24 on values below 1.01) and the final rounding of exact scores to float (half an ulp,
// <= 2^-25 relative), with a wide margin. See docs/SNAPSHOT.md.
inline constexpr float kRoundingSlack = 1e-5f;

// The per-query terms of both passes' bounds (docs/SNAPSHOT.md): a row whose reconstruction
// has error norm e (err1 or err2) has |exact score - approx| <= e * alpha + beta, where
//   alpha = ||q|| + ||e_q||,  beta = (1 + kUnitNormTolerance) * ||e_q|| + kRoundingSlack.
struct BoundTerms {
  float alpha = 0;
  float beta = 0;
};
BoundTerms BoundTermsFor(const ProbeCode& probe);

// The refined (full int8 code) approximation of a row's score from its two nibble dots:
// s * t * (16 * hi_dot + lo_dot - 128 * sum(probe code)).
inline float RefinedApprox(float scale, const ProbeCode& probe, int32_t hi_dot, int32_t lo_dot) {
  return scale * probe.scale * static_cast<float>(16 * hi_dot + lo_dot - 128 * probe.sum);
}

}  // namespace facetrail::search::internal
