// Synthetic unit templates for search tests, of any dimension: isotropic, and face-like
// (a decaying spectrum in a random basis, with identities whose templates are noisy copies).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "search/flat_index.h"

namespace facetrail::search::testing {

inline void Normalize(float* x, int dim) {
  double s = 0;
  for (int i = 0; i < dim; ++i) s += static_cast<double>(x[i]) * x[i];
  const auto inv = static_cast<float>(1.0 / std::sqrt(s));
  for (int i = 0; i < dim; ++i) x[i] *= inv;
}

// n random unit templates (isotropic), n × dim floats.
inline std::vector<float> RandomTemplates(size_t n, int dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  const auto d = static_cast<size_t>(dim);
  std::vector<float> t(n * d);
  for (size_t r = 0; r < n; ++r) {
    for (size_t i = 0; i < d; ++i) t[r * d + i] = g(rng);
    Normalize(&t[r * d], dim);
  }
  return t;
}

// Face-like templates: identities i = r / per_identity have a centre drawn from a Gaussian whose
// variances decay as (j + 1)^-0.6 (different people score about 0 ± 0.07 at 512-d), and each
// template is its identity's centre plus noise of the same shape (same-identity cosine ≈ 0.7),
// normalised; then every template is turned by the same random orthogonal map (a product of
// Householder reflections) so the anisotropy is not aligned with the axes.
// With rank < dim, directions from `rank` on carry only a 1e-4 share of each template (real
// 512-d templates use ~190 directions): a fitted basis then keeps a head shorter than dim.
inline std::vector<float> FaceLikeTemplates(size_t n, int dim, uint64_t seed,
                                            size_t per_identity = 2, int rank = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  const auto d = static_cast<size_t>(dim);
  std::vector<float> sd(d);
  for (size_t j = 0; j < d; ++j) {
    sd[j] = rank > 0 && j >= static_cast<size_t>(rank) ? 1e-4f
                                                       : std::pow(static_cast<float>(j + 1), -0.3f);
  }
  std::vector<std::vector<float>> reflections(4, std::vector<float>(d));
  for (auto& v : reflections) {
    for (float& x : v) x = g(rng);
    Normalize(v.data(), dim);
  }
  std::vector<float> t(n * d), centre(d);
  for (size_t r = 0; r < n; ++r) {
    if (r % per_identity == 0) {
      for (size_t j = 0; j < d; ++j) centre[j] = sd[j] * g(rng);
    }
    float* x = &t[r * d];
    for (size_t j = 0; j < d; ++j) x[j] = centre[j] + 0.65f * sd[j] * g(rng);
    for (const auto& v : reflections) {
      double dot = 0;
      for (size_t j = 0; j < d; ++j) dot += static_cast<double>(v[j]) * x[j];
      for (size_t j = 0; j < d; ++j) x[j] -= static_cast<float>(2 * dot) * v[j];
    }
    Normalize(x, dim);
  }
  return t;
}

// A unit probe near row `row` of `t` (noise sigma per value before normalising).
inline std::vector<float> NoisyCopy(const std::vector<float>& t, int dim, size_t row, float sigma,
                                    uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0, sigma);
  const auto d = static_cast<size_t>(dim);
  std::vector<float> p(t.begin() + static_cast<ptrdiff_t>(row * d),
                       t.begin() + static_cast<ptrdiff_t>((row + 1) * d));
  for (float& v : p) v += g(rng);
  Normalize(p.data(), dim);
  return p;
}

// The trivially correct answer: every active row, exact score, sorted, cut at k.
inline std::vector<Hit> BruteForce(const std::vector<int64_t>& ids, const std::vector<float>& t,
                                   int dim, const std::vector<uint8_t>& active,
                                   const std::vector<float>& q, int k, float min_score) {
  std::vector<Hit> hits;
  for (size_t r = 0; r < ids.size(); ++r) {
    if (!active.empty() && !active[r]) continue;
    float s = ExactScore(q.data(), &t[r * static_cast<size_t>(dim)], dim);
    if (s >= min_score) hits.push_back({ids[r], s});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  if (hits.size() > static_cast<size_t>(k)) hits.resize(static_cast<size_t>(k));
  return hits;
}

}  // namespace facetrail::search::testing
