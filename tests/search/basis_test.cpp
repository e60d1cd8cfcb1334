// Basis: fitting, projecting with a tail bound that holds, refusing damaged stored bases; and
// the symmetric eigen-decomposition a fit rests on.
#include "search/basis.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "search/internal/symmetric_eigen.h"
#include "search/test_templates.h"

namespace facetrail::search {
namespace {

TEST(SymmetricEigen, DecomposesRandomAndLowRankMatrices) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> g;
  for (int n : {1, 2, 5, 64, 200}) {
    for (int rank : {n, std::max(1, n / 4)}) {
      // A = B B^T with B n × rank: symmetric, rank `rank`.
      std::vector<double> b(static_cast<size_t>(n * rank)), a(static_cast<size_t>(n * n), 0.0);
      for (double& v : b) v = g(rng);
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
          for (int k = 0; k < rank; ++k) a[i * n + j] += b[i * rank + k] * b[j * rank + k];
        }
      }
      const internal::SymmetricEigen e = internal::DecomposeSymmetric(a, n);
      SCOPED_TRACE(::testing::Message() << "n=" << n << " rank=" << rank);
      double scale = std::fabs(e.values[0]);
      for (int i = 0; i < n; ++i) {
        if (i > 0) {
          EXPECT_GE(e.values[i - 1], e.values[i]);
        }
        if (i >= rank) {
          EXPECT_NEAR(e.values[i], 0.0, 1e-10 * scale);
        }
        for (int r = 0; r < n; ++r) {  // A v = λ v
          double av = 0;
          for (int k = 0; k < n; ++k) av += a[r * n + k] * e.vectors[i * n + k];
          ASSERT_NEAR(av, e.values[i] * e.vectors[i * n + r], 1e-9 * scale);
        }
        for (int j = 0; j <= i; ++j) {  // orthonormal
          double dot = 0;
          for (int k = 0; k < n; ++k) dot += e.vectors[i * n + k] * e.vectors[j * n + k];
          ASSERT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-12);
        }
      }
    }
  }
}

TEST(Basis, FitKeepsTheDirectionsLowRankTemplatesUse) {
  for (int dim : {64, 128, 512}) {
    const int rank = dim * 3 / 8;
    auto t = testing::FaceLikeTemplates(4000, dim, 5, 2, rank);
    auto b = Basis::Fit(dim, t);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    SCOPED_TRACE(dim);
    EXPECT_FALSE(b->is_identity());
    EXPECT_EQ(b->head_dim() % kDimMultiple, 0);
    EXPECT_GE(b->head_dim(), rank);
    EXPECT_LE(b->head_dim(), rank + 2 * kDimMultiple);
    EXPECT_LT(b->orthonormality_error(), 1e-10);
    EXPECT_EQ(b->rows().size(), static_cast<size_t>(b->head_dim() * dim));
    // Isotropic templates have no directions to leave out; too small a sample decides nothing.
    auto iso = Basis::Fit(dim, testing::RandomTemplates(4000, dim, 6));
    ASSERT_TRUE(iso.ok());
    EXPECT_TRUE(iso->is_identity());
    auto few = Basis::Fit(dim, std::span(t).first(static_cast<size_t>(dim)));
    ASSERT_TRUE(few.ok());
    EXPECT_TRUE(few->is_identity());
  }
}

TEST(Basis, ProjectionTailBoundsWhatTheHeadLeavesOut) {
  for (int dim : {64, 512}) {
    const auto d = static_cast<size_t>(dim);
    auto t = testing::FaceLikeTemplates(3000, dim, 7, 2, dim * 3 / 8);
    auto b = Basis::Fit(dim, t);
    ASSERT_TRUE(b.ok());
    const auto m = static_cast<size_t>(b->head_dim());
    // Rows of the sample (small tails), fresh rows, and isotropic rows (large tails).
    auto fresh = testing::FaceLikeTemplates(40, dim, 8, 2, dim * 3 / 8);
    auto iso = testing::RandomTemplates(40, dim, 9);
    for (const auto* set : {&t, &fresh, &iso}) {
      for (size_t r = 0; r < 40; ++r) {
        for (SimdLevel level : SupportedSimdLevels()) {
          std::vector<double> y(m);
          const double tail = b->Project(&(*set)[r * d], y.data(), level);
          // ||x - R^T y|| in long double.
          long double sum = 0;
          for (size_t k = 0; k < d; ++k) {
            long double back = 0;
            for (size_t i = 0; i < m; ++i) {
              back += static_cast<long double>(b->rows()[i * d + k]) * y[i];
            }
            const long double e = (*set)[r * d + k] - back;
            sum += e * e;
          }
          const double actual = static_cast<double>(std::sqrt(sum));
          ASSERT_GE(tail, actual) << "dim=" << dim << " row=" << r;
          EXPECT_LT(tail, actual + 2e-5);  // the bound's own margin (1e-10 under the root)
        }
      }
    }
    std::vector<double> y(d);
    EXPECT_EQ(Basis::Identity(dim).Project(&t[0], y.data()), 0.0);
    EXPECT_EQ(y[3], static_cast<double>(t[3]));
  }
}

TEST(Basis, FromRowsRefusesDamagedBases) {
  auto t = testing::FaceLikeTemplates(3000, 128, 10, 2, 48);
  auto b = Basis::Fit(128, t);
  ASSERT_TRUE(b.ok());
  const int m = b->head_dim();
  auto ok = Basis::FromRows(128, m, b->rows());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->orthonormality_error(), b->orthonormality_error());
  auto nan = b->rows();
  nan[77] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(Basis::FromRows(128, m, nan).status().code(), StatusCode::kDataLoss);
  auto skew = b->rows();
  skew[5] += 1e-3;
  auto s = Basis::FromRows(128, m, skew);
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(s.status().message().find("not orthonormal"), std::string::npos);
  EXPECT_FALSE(Basis::FromRows(128, 128, b->rows()).ok());     // head must be shorter
  EXPECT_FALSE(Basis::FromRows(128, m + 16, b->rows()).ok());  // size mismatch
  EXPECT_FALSE(Basis::FromRows(100, m, b->rows()).ok());       // unsupported dim
}

TEST(Basis, FitRefusesBadSamples) {
  EXPECT_EQ(Basis::Fit(100, {}).status().code(), StatusCode::kInvalidArgument);
  std::vector<float> partial(130, 0.1f);
  EXPECT_EQ(Basis::Fit(128, partial).status().code(), StatusCode::kInvalidArgument);
  auto t = testing::RandomTemplates(300, 16, 1);
  t[16 * 200 + 3] = std::numeric_limits<float>::infinity();
  auto r = Basis::Fit(16, t);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("row 200"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace facetrail::search
