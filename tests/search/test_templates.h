// Synthetic unit templates for search tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "search/flat_index.h"

namespace facetrail::search::testing {

inline void Normalize(float* x) {
  double s = 0;
  for (int i = 0; i < kDim; ++i) s += static_cast<double>(x[i]) * x[i];
  const auto inv = static_cast<float>(1.0 / std::sqrt(s));
  for (int i = 0; i < kDim; ++i) x[i] *= inv;
}

// n random unit templates, n × kDim floats.
inline std::vector<float> RandomTemplates(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> t(n * kDim);
  for (size_t r = 0; r < n; ++r) {
    for (int i = 0; i < kDim; ++i) t[r * kDim + i] = g(rng);
    Normalize(&t[r * kDim]);
  }
  return t;
}

// A unit probe near row `row` of `t` (noise sigma per value before normalising).
inline std::vector<float> NoisyCopy(const std::vector<float>& t, size_t row, float sigma,
                                    uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0, sigma);
  std::vector<float> p(t.begin() + static_cast<ptrdiff_t>(row * kDim),
                       t.begin() + static_cast<ptrdiff_t>((row + 1) * kDim));
  for (float& v : p) v += g(rng);
  Normalize(p.data());
  return p;
}

// The trivially correct answer: every active row, exact score, sorted, cut at k.
inline std::vector<Hit> BruteForce(const std::vector<int64_t>& ids, const std::vector<float>& t,
                                   const std::vector<uint8_t>& active, const std::vector<float>& q,
                                   int k, float min_score) {
  std::vector<Hit> hits;
  for (size_t r = 0; r < ids.size(); ++r) {
    if (!active.empty() && !active[r]) continue;
    float s = ExactScore(q.data(), &t[r * kDim]);
    if (s >= min_score) hits.push_back({ids[r], s});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  if (hits.size() > static_cast<size_t>(k)) hits.resize(static_cast<size_t>(k));
  return hits;
}

}  // namespace facetrail::search::testing
