// FlatIndex against a brute-force loop (search/testing), at every SIMD level and thread count.
#include "search/flat_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "search/test_templates.h"

namespace facetrail::search {
namespace {

using testing::BruteForce;
using testing::NoisyCopy;
using testing::RandomTemplates;

std::vector<int64_t> Ids(size_t n, int64_t step = 3) {
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = 10 + static_cast<int64_t>(i) * step;
  return ids;
}

std::unique_ptr<FlatIndex> MustBuild(const std::vector<int64_t>& ids, const std::vector<float>& t,
                                     const std::vector<uint8_t>& active, SimdLevel level,
                                     int threads) {
  FlatIndexOptions o;
  o.simd = level;
  o.num_threads = threads;
  o.min_rows_per_thread = 1;  // exercise the thread split even on small data
  auto index = FlatIndex::Build(ids, t, active, o);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return std::move(index).value();
}

struct Params {
  size_t n;
  int k;
  float min_score;
};

TEST(FlatIndex, EqualsBruteForceAtEveryLevel) {
  const Params params[] = {{1, 1, -2},     {7, 20, -2},      {500, 1, -2},     {500, 10, -2},
                           {5000, 50, -2}, {5000, 10, 0.3f}, {20000, 100, -2}, {3000, 5000, -2}};
  for (const Params& p : params) {
    auto t = RandomTemplates(p.n, p.n);
    auto ids = Ids(p.n);
    std::vector<uint8_t> active(p.n, 1);
    for (size_t r = 0; r < p.n; r += 7) active[r] = 0;
    for (SimdLevel level : SupportedSimdLevels()) {
      for (int threads : {1, 2, 3}) {
        auto index = MustBuild(ids, t, active, level, threads);
        for (int q = 0; q < 5; ++q) {
          SCOPED_TRACE(::testing::Message()
                       << "n=" << p.n << " k=" << p.k << " level=" << SimdLevelName(level)
                       << " threads=" << threads << " q=" << q);
          auto probe =
              q < 3 ? NoisyCopy(t, (q * 131) % p.n, 0.05f, q) : RandomTemplates(1, 1000 + q);
          auto got = index->Search(probe, {p.k, p.min_score});
          ASSERT_TRUE(got.ok()) << got.status().ToString();
          EXPECT_EQ(*got, BruteForce(ids, t, active, probe, p.k, p.min_score));
        }
      }
    }
  }
}

TEST(FlatIndex, TiesAreBrokenByAscendingId) {
  // The same template under many ids, shuffled among others: identical exact scores.
  auto t = RandomTemplates(200, 3);
  for (size_t r = 0; r < 200; r += 4) std::copy_n(&t[0], kDim, &t[r * kDim]);
  auto ids = Ids(200);
  for (SimdLevel level : SupportedSimdLevels()) {
    auto index = MustBuild(ids, t, {}, level, 2);
    std::vector<float> probe(t.begin(), t.begin() + kDim);
    auto got = index->Search(probe, {10, -2});
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 10u);
    for (size_t i = 0; i < 10; ++i) EXPECT_EQ((*got)[i].id, ids[i * 4]);
    EXPECT_EQ(*got, BruteForce(ids, t, {}, probe, 10, -2));
  }
}

TEST(FlatIndex, NearTiesWithinQuantisationErrorStayExact) {
  // Rows that differ from the probe's mate by less than the int8 step: the first pass cannot
  // order them, the float32 re-scoring must.
  auto t = RandomTemplates(1000, 4);
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0, 1e-4f);
  for (size_t r = 1; r < 1000; r += 2) {
    for (int i = 0; i < kDim; ++i) t[r * kDim + i] = t[i] + g(rng);
    testing::Normalize(&t[r * kDim]);
  }
  auto ids = Ids(1000);
  std::vector<float> probe(t.begin(), t.begin() + kDim);
  for (SimdLevel level : SupportedSimdLevels()) {
    auto index = MustBuild(ids, t, {}, level, 2);
    for (int k : {1, 5, 50, 400, 501, 1000}) {
      auto got = index->Search(probe, {k, -2});
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(*got, BruteForce(ids, t, {}, probe, k, -2)) << "k=" << k;
    }
  }
}

TEST(FlatIndex, EdgeCases) {
  auto t = RandomTemplates(10, 6);
  auto ids = Ids(10);
  auto index = MustBuild(ids, t, {}, DetectSimdLevel(), 2);
  std::vector<float> probe(t.begin(), t.begin() + kDim);
  // k = 0: empty; k > size: every row.
  EXPECT_TRUE(index->Search(probe, {0, -2})->empty());
  EXPECT_EQ(index->Search(probe, {11, -2})->size(), 10u);
  EXPECT_EQ(index->Search(probe, {1000000, -2})->size(), 10u);
  EXPECT_FALSE(index->Search(probe, {-1, -2}).ok());
  // Score exactly at the threshold is kept; just above it, not.
  float self = ExactScore(probe.data(), probe.data());
  auto at = index->Search(probe, {5, self});
  ASSERT_EQ(at->size(), 1u);
  EXPECT_EQ((*at)[0].id, ids[0]);
  EXPECT_TRUE(index->Search(probe, {5, std::nextafter(self, 2.0f)})->empty());
  // No candidate above the threshold is a normal, empty answer.
  EXPECT_TRUE(index->Search(RandomTemplates(1, 99), {5, 0.99f})->empty());
  // Empty index.
  auto empty = FlatIndex::Build({}, {}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE((*empty)->Search(probe, {5, -2})->empty());
}

TEST(FlatIndex, RejectsNonFiniteAndNonUnitInput) {
  auto t = RandomTemplates(4, 8);
  auto ids = Ids(4);
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    auto broken = t;
    broken[2 * kDim + 17] = bad;
    auto index = FlatIndex::Build(ids, broken, {});
    ASSERT_FALSE(index.ok());
    EXPECT_EQ(index.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(index.status().message().find("row 2"), std::string::npos)
        << index.status().message();
    EXPECT_NE(index.status().message().find("value 17"), std::string::npos);
  }
  auto scaled = t;
  for (int i = 0; i < kDim; ++i) scaled[i] *= 2;
  EXPECT_FALSE(FlatIndex::Build(ids, scaled, {}).ok());
  std::vector<int64_t> unsorted = {1, 3, 2, 4};
  EXPECT_FALSE(FlatIndex::Build(unsorted, t, {}).ok());
  EXPECT_FALSE(FlatIndex::Build(ids, std::span(t).first(3 * kDim), {}).ok());

  auto index = MustBuild(ids, t, {}, DetectSimdLevel(), 1);
  std::vector<float> probe(t.begin(), t.begin() + kDim);
  probe[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(index->Search(probe, {3, -2}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(index->Search(std::span(t).first(10), {3, -2}).ok());
  std::vector<float> good(t.begin(), t.begin() + kDim);
  EXPECT_FALSE(index->Search(good, {3, std::numeric_limits<float>::quiet_NaN()}).ok());
}

TEST(FlatIndex, SetActiveRemovesAndRestoresAtOnce) {
  auto t = RandomTemplates(100, 9);
  auto ids = Ids(100);
  auto index = MustBuild(ids, t, {}, DetectSimdLevel(), 2);
  std::vector<float> probe(t.begin() + 42 * kDim, t.begin() + 43 * kDim);
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

TEST(FlatIndex, ShortListStaysShort) {
  // The bound keeps the re-scoring list near k, not a fraction of the gallery.
  auto t = RandomTemplates(50000, 10);
  auto ids = Ids(50000, 1);
  auto index = MustBuild(ids, t, {}, DetectSimdLevel(), 2);
  auto probe = NoisyCopy(t, 123, 0.05f, 1);
  ASSERT_TRUE(index->Search(probe, {20, -2}).ok());
  EXPECT_LT(FlatIndex::TEST_last_num_candidates(), 2000u);
  EXPECT_GT(index->max_quantization_error(), 0.0f);
  EXPECT_LT(index->max_quantization_error(), 0.02f);
}

}  // namespace
}  // namespace facetrail::search
