// FlatIndex against a brute-force loop (test_templates.h), at every SIMD level, thread count and
// several dimensions, on isotropic, face-like and adversarial galleries.
#include "search/flat_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "search/basis.h"
#include "search/internal/dot_kernels.h"
#include "search/internal/quantize.h"
#include "search/test_templates.h"

namespace facetrail::search {
namespace {

using testing::BruteForce;
using testing::FaceLikeTemplates;
using testing::NoisyCopy;
using testing::RandomTemplates;

std::vector<int64_t> Ids(size_t n, int64_t step = 3) {
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = 10 + static_cast<int64_t>(i) * step;
  return ids;
}

std::unique_ptr<FlatIndex> MustBuild(int dim, const std::vector<int64_t>& ids,
                                     const std::vector<float>& t,
                                     const std::vector<uint8_t>& active, SimdLevel level,
                                     int threads) {
  FlatIndexOptions o;
  o.simd = level;
  o.num_threads = threads;
  o.min_rows_per_thread = 1;  // exercise the thread split even on small data
  auto index = FlatIndex::Build(dim, ids, t, active, o);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return std::move(index).value();
}

std::vector<float> Row(const std::vector<float>& t, int dim, size_t r) {
  const auto d = static_cast<size_t>(dim);
  return {t.begin() + static_cast<ptrdiff_t>(r * d), t.begin() + static_cast<ptrdiff_t>(r * d + d)};
}

struct Params {
  size_t n;
  int k;
  float min_score;
};

void ExpectEqualsBruteForce(int dim, const std::vector<float>& t, const Params& p,
                            const char* kind) {
  auto ids = Ids(p.n);
  std::vector<uint8_t> active(p.n, 1);
  for (size_t r = 0; r < p.n; r += 7) active[r] = 0;
  for (SimdLevel level : SupportedSimdLevels()) {
    for (int threads : {1, 2, 3}) {
      auto index = MustBuild(dim, ids, t, active, level, threads);
      for (int q = 0; q < 5; ++q) {
        SCOPED_TRACE(::testing::Message()
                     << kind << " dim=" << dim << " n=" << p.n << " k=" << p.k
                     << " min_score=" << p.min_score << " level=" << SimdLevelName(level)
                     << " threads=" << threads << " q=" << q);
        auto probe = q < 3 ? NoisyCopy(t, dim, (q * 131) % p.n, 0.05f, q)
                           : RandomTemplates(1, dim, 1000 + q);
        auto got = index->Search(probe, {p.k, p.min_score});
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        EXPECT_EQ(*got, BruteForce(ids, t, dim, active, probe, p.k, p.min_score));
      }
    }
  }
}

TEST(FlatIndex, EqualsBruteForceAtEveryLevelAndDim) {
  const Params params[] = {{1, 1, -2},     {7, 20, -2},      {500, 1, -2},    {500, 10, -2},
                           {5000, 50, -2}, {5000, 10, 0.3f}, {3000, 5000, -2}};
  for (int dim : {16, 48, 128, 144, 512}) {
    for (const Params& p : params) {
      ExpectEqualsBruteForce(dim, RandomTemplates(p.n, dim, p.n + dim), p, "isotropic");
    }
  }
  ExpectEqualsBruteForce(128, RandomTemplates(20000, 128, 1), {20000, 100, -2}, "isotropic");
}

TEST(FlatIndex, EqualsBruteForceOnFaceLikeTemplates) {
  // Anisotropic templates with identities: mates score ≈ 0.7, scores crowd more than at random.
  for (int dim : {128, 512}) {
    for (const Params& p : {Params{4000, 20, -2}, Params{4000, 1, -2}, Params{4000, 300, -2},
                            Params{4000, 20, 0.5f}}) {
      ExpectEqualsBruteForce(dim, FaceLikeTemplates(p.n, dim, 7 + dim), p, "faces");
    }
  }
}

TEST(FlatIndex, TiesAreBrokenByAscendingId) {
  // The same template under many ids, shuffled among others: identical exact scores.
  for (int dim : {128, 512}) {
    const auto d = static_cast<size_t>(dim);
    auto t = RandomTemplates(200, dim, 3);
    for (size_t r = 0; r < 200; r += 4) std::copy_n(&t[0], d, &t[r * d]);
    auto ids = Ids(200);
    for (SimdLevel level : SupportedSimdLevels()) {
      auto index = MustBuild(dim, ids, t, {}, level, 2);
      auto probe = Row(t, dim, 0);
      auto got = index->Search(probe, {10, -2});
      ASSERT_TRUE(got.ok());
      ASSERT_EQ(got->size(), 10u);
      for (size_t i = 0; i < 10; ++i) EXPECT_EQ((*got)[i].id, ids[i * 4]);
      EXPECT_EQ(*got, BruteForce(ids, t, dim, {}, probe, 10, -2));
    }
  }
}

TEST(FlatIndex, NearTiesWithinQuantisationErrorStayExact) {
  // Rows that differ from the probe's mate by less than the int8 step: neither pass can order
  // them, the float32 re-scoring must.
  for (int dim : {16, 128, 512}) {
    const auto d = static_cast<size_t>(dim);
    auto t = RandomTemplates(1000, dim, 4);
    std::mt19937 rng(5);
    std::normal_distribution<float> g(0, 1e-4f);
    for (size_t r = 1; r < 1000; r += 2) {
      for (size_t i = 0; i < d; ++i) t[r * d + i] = t[i] + g(rng);
      testing::Normalize(&t[r * d], dim);
    }
    auto ids = Ids(1000);
    auto probe = Row(t, dim, 0);
    for (SimdLevel level : SupportedSimdLevels()) {
      auto index = MustBuild(dim, ids, t, {}, level, 2);
      for (int k : {1, 5, 50, 400, 501, 1000}) {
        auto got = index->Search(probe, {k, -2});
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(*got, BruteForce(ids, t, dim, {}, probe, k, -2)) << "dim=" << dim << " k=" << k;
      }
    }
  }
}

// The error of a pass's reconstruction of x, in template space: x - R^T ŷ, where ŷ is the
// head coordinates the pass sees (pass 1: the high nibble's cell middle; pass 2: the int8 code).
std::vector<float> ReconstructionError(const std::vector<float>& x, const Basis& basis, int pass) {
  const auto d = static_cast<size_t>(basis.dim());
  const auto m = static_cast<size_t>(basis.head_dim());
  std::vector<uint8_t> hi(m / 2), lo(m / 2);
  const internal::TemplateCode code =
      internal::EncodeTemplate(basis, x.data(), hi.data(), lo.data());
  std::vector<double> y_hat(m);
  for (size_t i = 0; i < m; ++i) {
    const size_t b = i % (m / 2);
    const int shift = i < m / 2 ? 0 : 4;
    const int h = (hi[b] >> shift) & 15;
    const int l = (lo[b] >> shift) & 15;
    const double level = pass == 1 ? 16.0 * h - 120.5 : 16.0 * h + l - 128;
    y_hat[i] = static_cast<double>(code.scale) * level;
  }
  std::vector<float> e(d);
  for (size_t k = 0; k < d; ++k) {
    double back = basis.is_identity() ? y_hat[k] : 0.0;
    if (!basis.is_identity()) {
      for (size_t i = 0; i < m; ++i) back += basis.rows()[i * d + k] * y_hat[i];
    }
    e[k] = static_cast<float>(x[k] - back);
  }
  return e;
}

double Norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

// Probes along rows' reconstruction errors, and exactness against brute force with them: the
// pass under- or over-estimates x (and its near-copies, which share its codes) by almost the
// whole error term of the bound. A bound short by that much would drop them.
void ExpectExactWithAlignedProbes(const Basis& basis, std::vector<float> t, const char* what) {
  const int dim = basis.dim();
  const auto d = static_cast<size_t>(dim);
  const size_t n = t.size() / d;
  for (int pass : {1, 2}) {
    for (float beta : {1.0f, 2.5f, -2.5f}) {
      SCOPED_TRACE(::testing::Message() << what << " dim=" << dim << " head=" << basis.head_dim()
                                        << " pass=" << pass << " beta=" << beta);
      const std::vector<float> x = Row(t, dim, 0);
      std::vector<float> e = ReconstructionError(x, basis, pass);
      const double e_norm = Norm(e);
      // 40 near-copies of x (same codes up to rare cell crossings), interleaved with others.
      std::mt19937 rng(pass * 100 + dim);
      std::normal_distribution<float> g(0, 2e-6f);
      for (size_t r = 0; r < n; r += n / 40) {
        for (size_t i = 0; i < d; ++i) t[r * d + i] = x[i] + g(rng);
        testing::Normalize(&t[r * d], dim);
      }
      std::vector<float> probe(d);
      for (size_t i = 0; i < d; ++i) probe[i] = x[i] + beta * static_cast<float>(e[i] / e_norm);
      testing::Normalize(probe.data(), dim);
      double aligned = 0;
      for (size_t i = 0; i < d; ++i) aligned += e[i] * probe[i];
      // Against Cauchy–Schwarz |e·q| <= ||e||·||q||: the probe uses most of the bound.
      EXPECT_GT(std::fabs(aligned) / e_norm, 0.65);
      auto ids = Ids(n);
      for (SimdLevel level : SupportedSimdLevels()) {
        FlatIndexOptions o;
        o.simd = level;
        o.num_threads = 2;
        o.min_rows_per_thread = 1;
        auto index = FlatIndex::Build(basis, ids, t, {}, o);
        ASSERT_TRUE(index.ok()) << index.status().ToString();
        for (int k : {1, 7, 40, 41, 100}) {
          auto got = (*index)->Search(probe, {k, -2});
          ASSERT_TRUE(got.ok());
          EXPECT_EQ(*got, BruteForce(ids, t, dim, {}, probe, k, -2)) << "k=" << k;
        }
      }
    }
  }
}

// A basis fitted to a sample of low-rank face-like templates (head shorter than dim).
Basis FittedBasis(const std::vector<float>& t, int dim, size_t sample_rows) {
  auto b = Basis::Fit(dim, std::span(t).first(sample_rows * static_cast<size_t>(dim)));
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return std::move(b).value();
}

TEST(FlatIndex, ProbesAlignedWithTheQuantisationErrorStayExact) {
  for (int dim : {16, 128, 512}) {
    ExpectExactWithAlignedProbes(Basis::Identity(dim), RandomTemplates(3000, dim, 40 + dim),
                                 "identity");
  }
  for (int dim : {128, 512}) {
    auto t = FaceLikeTemplates(3000, dim, 41 + dim, 2, dim * 3 / 8);
    const Basis basis = FittedBasis(t, dim, 2000);
    ASSERT_LT(basis.head_dim(), dim);
    ExpectExactWithAlignedProbes(basis, t, "fitted");
  }
}

// The inequality of docs/SNAPSHOT.md itself, row by row, through the product's own kernels and
// bound terms: the first pass keeps every row at a floor equal to its exact score, and the
// refined bounds bracket it. Probes are built along rows' errors so that the bound is nearly
// attained (a bound 10 % short fails here).
void ExpectBoundsHold(const Basis& basis, const std::vector<float>& t, const char* what) {
  const int dim = basis.dim();
  const auto d = static_cast<size_t>(dim);
  const auto m = static_cast<size_t>(basis.head_dim());
  const size_t n = t.size() / d;
  std::vector<uint8_t> hi(n * m / 2), lo(n * m / 2);
  std::vector<internal::TemplateCode> codes(n);
  for (size_t r = 0; r < n; ++r) {
    codes[r] = internal::EncodeTemplate(basis, &t[r * d], &hi[r * m / 2], &lo[r * m / 2]);
  }
  for (SimdLevel level : SupportedSimdLevels()) {
    const internal::Kernels kernels = internal::KernelsFor(level);
    double worst[2] = {0, 0};
    for (int pass : {1, 2}) {
      for (size_t target = 0; target < n; target += 40) {
        const std::vector<float> x = Row(t, dim, target);
        auto e = ReconstructionError(x, basis, pass);
        std::vector<float> q(d);
        const double en = Norm(e);
        for (size_t i = 0; i < d; ++i) q[i] = x[i] * 0.1f + static_cast<float>(e[i] / en);
        testing::Normalize(q.data(), dim);
        std::vector<int8_t> qc(m);
        const internal::ProbeCode pc = internal::EncodeProbe(basis, q.data(), qc.data(), level);
        const internal::BoundTerms bt = internal::BoundTermsFor(pc, basis.orthonormality_error());
        internal::FirstPassParams params;
        params.probe = qc.data();
        params.row_bytes = m / 2;
        params.offset = 241 * pc.sum;
        params.half_scale = pc.scale * 0.5f;
        params.alpha = bt.alpha;
        params.beta = bt.beta;
        for (uint32_t r = 0; r < n; ++r) {
          SCOPED_TRACE(::testing::Message() << what << " dim=" << dim
                                            << " level=" << SimdLevelName(level) << " row=" << r);
          const float exact = ExactScore(&t[r * d], q.data(), dim);
          uint32_t kept_row = 0;
          int32_t hi_dot = 0, lo_dot = 0;
          ASSERT_EQ(kernels.first_pass(&hi[r * m / 2], &codes[r].scale, &codes[r].err1, 1, params,
                                       exact, &kept_row, &hi_dot),
                    1u)
              << "the first pass would drop a row at its own exact score";
          kernels.gather_dot(lo.data(), m / 2, &r, 1, qc.data(), &lo_dot);
          const float approx2 = internal::RefinedApprox(codes[r].scale, pc, hi_dot, lo_dot);
          const float bound2 = codes[r].err2 * bt.alpha + bt.beta;
          EXPECT_LE(approx2 - bound2, exact);
          EXPECT_GE(approx2 + bound2, exact);
          const double approx1 =
              static_cast<double>(codes[r].scale) * pc.scale / 2 * (32.0 * hi_dot - 241.0 * pc.sum);
          const double bound1 = codes[r].err1 * bt.alpha + bt.beta - internal::kRoundingSlack;
          worst[0] = std::max(worst[0], std::fabs(exact - approx1) / bound1);
          worst[1] = std::max(worst[1], std::fabs(static_cast<double>(exact) - approx2) /
                                            (bound2 - internal::kRoundingSlack));
        }
      }
    }
    // Pass 1: the row's own error dominates its bound, and the probe lies along it. Pass 2:
    // about half of the bound is the probe's quantisation error, which no row can line up
    // with while its own error lines up with the probe, so ≈ 0.67 is the most one can reach.
    EXPECT_GT(worst[0], 0.9) << what << " dim=" << dim << ": probes not adversarial for pass 1";
    EXPECT_GT(worst[1], 0.6) << what << " dim=" << dim << ": probes not adversarial for pass 2";
  }
}

TEST(FlatIndex, BoundsHoldForEveryRowOfAdversarialProbes) {
  for (int dim : {16, 128, 512}) {
    ExpectBoundsHold(Basis::Identity(dim), RandomTemplates(400, dim, 77), "identity");
  }
  for (int dim : {128, 512}) {
    auto t = FaceLikeTemplates(2400, dim, 78, 2, dim * 3 / 8);
    const Basis basis = FittedBasis(t, dim, 2000);
    ASSERT_LT(basis.head_dim(), dim);
    ExpectBoundsHold(basis, std::vector<float>(t.begin(), t.begin() + 400 * dim), "fitted");
  }
}

TEST(FlatIndex, FittedBasisEqualsBruteForceEvenForRowsAndProbesOutsideItsSpan) {
  // A basis fitted to low-rank templates leaves out directions; rows and probes that live there
  // (isotropic ones, planted below) have large tails, and must still be ranked exactly.
  for (int dim : {64, 128, 512}) {
    const auto d = static_cast<size_t>(dim);
    auto t = FaceLikeTemplates(6000, dim, 90 + dim, 2, dim * 3 / 8);
    const Basis basis = FittedBasis(t, dim, 3000);
    ASSERT_LT(basis.head_dim(), dim) << dim;
    auto stray = RandomTemplates(60, dim, 91);
    for (size_t i = 0; i < 60; ++i) std::copy_n(&stray[i * d], d, &t[(i * 97 + 5) * d]);
    auto ids = Ids(6000);
    std::vector<uint8_t> active(6000, 1);
    for (size_t r = 0; r < 6000; r += 11) active[r] = 0;
    for (SimdLevel level : SupportedSimdLevels()) {
      for (int threads : {1, 2}) {
        FlatIndexOptions o;
        o.simd = level;
        o.num_threads = threads;
        o.min_rows_per_thread = 1;
        auto index = FlatIndex::Build(basis, ids, t, active, o);
        ASSERT_TRUE(index.ok()) << index.status().ToString();
        EXPECT_EQ((*index)->head_dim(), basis.head_dim());
        for (int q = 0; q < 8; ++q) {
          SCOPED_TRACE(::testing::Message() << "dim=" << dim << " head=" << basis.head_dim()
                                            << " level=" << SimdLevelName(level) << " q=" << q);
          std::vector<float> probe =
              q < 3   ? NoisyCopy(t, dim, static_cast<size_t>(q) * 401, 0.02f, q)
              : q < 5 ? NoisyCopy(t, dim, (static_cast<size_t>(q) * 97 + 5), 0.02f, q)  // stray
                      : RandomTemplates(1, dim, 500 + q);  // outside the span
          for (auto [k, min_score] : {std::pair{20, -2.0f}, {1, -2.0f}, {200, -2.0f}, {50, 0.3f}}) {
            auto got = (*index)->Search(probe, {k, min_score});
            ASSERT_TRUE(got.ok());
            EXPECT_EQ(*got, BruteForce(ids, t, dim, active, probe, k, min_score)) << "k=" << k;
          }
        }
      }
    }
  }
}

TEST(FlatIndex, CrowdedScoresAroundTheKthStayExact) {
  // Thousands of rows whose exact scores lie within the first pass's error of each other and of
  // the k-th best: the first pass cannot separate them, refinement and re-scoring must.
  for (int dim : {128, 512}) {
    const auto d = static_cast<size_t>(dim);
    auto t = RandomTemplates(8000, dim, 9);
    const std::vector<float> probe = RandomTemplates(1, dim, 10);
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> cosine(0.48f, 0.52f);
    for (size_t r = 0; r < 8000; r += 2) {
      // r's template: cos θ · probe + sin θ · (a random direction orthogonal to the probe).
      float* x = &t[r * d];
      double dot = 0;
      for (size_t i = 0; i < d; ++i) dot += static_cast<double>(x[i]) * probe[i];
      for (size_t i = 0; i < d; ++i) x[i] -= static_cast<float>(dot) * probe[i];
      testing::Normalize(x, dim);
      const float c = cosine(rng);
      const float s = std::sqrt(1 - c * c);
      for (size_t i = 0; i < d; ++i) x[i] = c * probe[i] + s * x[i];
      testing::Normalize(x, dim);
    }
    auto ids = Ids(8000);
    for (SimdLevel level : SupportedSimdLevels()) {
      auto index = MustBuild(dim, ids, t, {}, level, 2);
      for (int k : {1, 20, 1000, 3999, 4001}) {
        auto got = index->Search(probe, {k, -2});
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(*got, BruteForce(ids, t, dim, {}, probe, k, -2)) << "dim=" << dim << " k=" << k;
      }
      auto at = index->Search(probe, {50, 0.5f});
      EXPECT_EQ(*at, BruteForce(ids, t, dim, {}, probe, 50, 0.5f));
    }
  }
}

TEST(FlatIndex, LargestAndSmallestDimensions) {
  for (int dim : {kMinDim, kMaxDim}) {
    auto t = RandomTemplates(300, dim, 12);
    auto ids = Ids(300);
    for (SimdLevel level : SupportedSimdLevels()) {
      auto index = MustBuild(dim, ids, t, {}, level, 2);
      EXPECT_EQ(index->dim(), dim);
      auto probe = NoisyCopy(t, dim, 17, 0.01f, 3);
      auto got = index->Search(probe, {10, -2});
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(*got, BruteForce(ids, t, dim, {}, probe, 10, -2)) << "dim=" << dim;
    }
  }
}

TEST(FlatIndex, RefusesUnsupportedDimensions) {
  for (int dim : {0, -16, 8, 15, 100, 136 + 1, kMaxDim + kDimMultiple, 1 << 20}) {
    SCOPED_TRACE(dim);
    EXPECT_EQ(ValidateDim(dim).code(), StatusCode::kInvalidArgument);
    auto index = FlatIndex::Build(dim, {}, {}, {});
    ASSERT_FALSE(index.ok());
    EXPECT_NE(index.status().message().find("dimension " + std::to_string(dim)), std::string::npos)
        << index.status().message();
  }
  for (int dim : {16, 32, 144, 512, 4096}) EXPECT_TRUE(ValidateDim(dim).ok()) << dim;
  // A template or probe of another dimension than the index's is refused, naming both sizes.
  auto t = RandomTemplates(4, 128, 1);
  EXPECT_FALSE(FlatIndex::Build(512, Ids(1), t, {}).ok());
  auto index = MustBuild(128, Ids(4), t, {}, DetectSimdLevel(), 1);
  auto wide = RandomTemplates(1, 512, 2);
  auto r = index->Search(wide, {3, -2});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("512 values, expected 128"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(ValidateTemplate(wide, 128).ok());
  EXPECT_TRUE(ValidateTemplate(wide, 512).ok());
}

TEST(FlatIndex, EdgeCases) {
  for (int dim : {128, 512}) {
    auto t = RandomTemplates(10, dim, 6);
    auto ids = Ids(10);
    auto index = MustBuild(dim, ids, t, {}, DetectSimdLevel(), 2);
    auto probe = Row(t, dim, 0);
    // k = 0: empty; k > size: every row.
    EXPECT_TRUE(index->Search(probe, {0, -2})->empty());
    EXPECT_EQ(index->Search(probe, {11, -2})->size(), 10u);
    EXPECT_EQ(index->Search(probe, {1000000, -2})->size(), 10u);
    EXPECT_FALSE(index->Search(probe, {-1, -2}).ok());
    // Score exactly at the threshold is kept; just above it, not.
    float self = ExactScore(probe.data(), probe.data(), dim);
    auto at = index->Search(probe, {5, self});
    ASSERT_EQ(at->size(), 1u);
    EXPECT_EQ((*at)[0].id, ids[0]);
    EXPECT_TRUE(index->Search(probe, {5, std::nextafter(self, 2.0f)})->empty());
    // No candidate above the threshold is a normal, empty answer.
    EXPECT_TRUE(index->Search(RandomTemplates(1, dim, 99), {5, 0.99f})->empty());
    // Empty index.
    auto empty = FlatIndex::Build(dim, {}, {}, {});
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ((*empty)->dim(), dim);
    EXPECT_TRUE((*empty)->Search(probe, {5, -2})->empty());
    EXPECT_EQ((*empty)->max_quantization_error(), 0.0f);
  }
}

TEST(FlatIndex, RejectsNonFiniteAndNonUnitInput) {
  const int dim = 512;
  auto t = RandomTemplates(4, dim, 8);
  auto ids = Ids(4);
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    auto broken = t;
    broken[2 * dim + 17] = bad;
    auto index = FlatIndex::Build(dim, ids, broken, {});
    ASSERT_FALSE(index.ok());
    EXPECT_EQ(index.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(index.status().message().find("row 2"), std::string::npos)
        << index.status().message();
    EXPECT_NE(index.status().message().find("value 17"), std::string::npos);
  }
  auto scaled = t;
  for (int i = 0; i < dim; ++i) scaled[i] *= 2;
  EXPECT_FALSE(FlatIndex::Build(dim, ids, scaled, {}).ok());
  std::vector<int64_t> unsorted = {1, 3, 2, 4};
  EXPECT_FALSE(FlatIndex::Build(dim, unsorted, t, {}).ok());
  EXPECT_FALSE(FlatIndex::Build(dim, ids, std::span(t).first(3 * dim), {}).ok());

  auto index = MustBuild(dim, ids, t, {}, DetectSimdLevel(), 1);
  auto probe = Row(t, dim, 0);
  probe[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(index->Search(probe, {3, -2}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(index->Search(std::span(t).first(10), {3, -2}).ok());
  auto good = Row(t, dim, 0);
  EXPECT_FALSE(index->Search(good, {3, std::numeric_limits<float>::quiet_NaN()}).ok());
}

TEST(FlatIndex, SetActiveRemovesAndRestoresAtOnce) {
  const int dim = 512;
  auto t = RandomTemplates(100, dim, 9);
  auto ids = Ids(100);
  auto index = MustBuild(dim, ids, t, {}, DetectSimdLevel(), 2);
  auto probe = Row(t, dim, 42);
  EXPECT_EQ((*index->Search(probe, {1, -2}))[0].id, ids[42]);
  ASSERT_TRUE(index->SetActive(ids[42], false).ok());
  EXPECT_EQ(index->num_active(), 99u);
  auto got = index->Search(probe, {100, -2});
  for (const Hit& h : *got) EXPECT_NE(h.id, ids[42]);
  EXPECT_EQ(got->size(), 99u);
  ASSERT_TRUE(index->SetActive(ids[42], true).ok());
  EXPECT_EQ((*index->Search(probe, {1, -2}))[0].id, ids[42]);
  EXPECT_EQ(index->SetActive(11, false).code(), StatusCode::kNotFound);
}

TEST(FlatIndex, RefinementAndShortListStayShort) {
  // The bounds keep the refined rows a small fraction and the re-scored list near k.
  for (int dim : {128, 512}) {
    auto t = RandomTemplates(50000, dim, 10);
    auto ids = Ids(50000, 1);
    auto index = MustBuild(dim, ids, t, {}, DetectSimdLevel(), 2);
    auto probe = NoisyCopy(t, dim, 123, 0.05f, 1);
    ASSERT_TRUE(index->Search(probe, {20, -2}).ok());
    // (At 10M the floor is higher and the refined fraction far smaller: docs/PERFORMANCE.md.)
    EXPECT_LT(FlatIndex::TEST_last_num_refined(), 50000u * 3 / 4) << dim;
    EXPECT_LT(FlatIndex::TEST_last_num_candidates(), 2000u) << dim;
    EXPECT_GE(FlatIndex::TEST_last_num_candidates(), 20u) << dim;
    EXPECT_GT(index->max_quantization_error(), 0.0f);
    EXPECT_LT(index->max_quantization_error(), 0.02f);
    EXPECT_GT(index->max_first_pass_error(), index->max_quantization_error());
    EXPECT_LT(index->max_first_pass_error(), 0.25f);
  }
}

}  // namespace
}  // namespace facetrail::search
