// Every kernel against the scalar reference, and the scalar reference against the int8 codes it
// stands for, on random and extreme codes, for every plane row length the dimensions allow.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "search/internal/dot_kernels.h"
#include "search/internal/quantize.h"
#include "search/test_templates.h"

namespace facetrail::search::internal {
namespace {

struct Case {
  std::vector<uint8_t> codes;
  std::vector<int8_t> probe;
  std::vector<float> scales, errs;
};

Case RandomCase(size_t n, size_t row_bytes, std::mt19937& rng) {
  std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127);
  std::uniform_real_distribution<float> scale(0.0005f, 0.02f), err(0.0f, 0.2f);
  Case c;
  c.codes.resize(n * row_bytes);
  for (auto& v : c.codes) v = static_cast<uint8_t>(u8(rng));
  if (n > 0) std::fill(c.codes.begin(), c.codes.begin() + row_bytes, uint8_t{255});  // extremes
  c.probe.resize(2 * row_bytes);
  for (auto& p : c.probe) p = static_cast<int8_t>(s8(rng));
  c.probe[0] = -127;
  c.probe.back() = 127;
  for (size_t j = 0; j < n; ++j) {
    c.scales.push_back(scale(rng));
    c.errs.push_back(err(rng));
  }
  return c;
}

TEST(Kernels, EveryLevelEqualsScalar) {
  std::mt19937 rng(7);
  for (size_t row_bytes : {8u, 16u, 24u, 56u, 64u, 72u, 128u, 200u, 256u, 2048u}) {
    for (size_t n : {0u, 1u, 3u, 4u, 5u, 15u, 16u, 17u, 100u, 2048u}) {
      Case c = RandomCase(n, row_bytes, rng);
      int32_t sum = 0;
      for (int8_t p : c.probe) sum += p;
      FirstPassParams params;
      params.probe = c.probe.data();
      params.row_bytes = row_bytes;
      params.offset = 241 * sum;
      params.half_scale = 0.004f;
      params.alpha = 1.01f;
      params.beta = 0.003f;
      std::vector<uint32_t> want_rows(n), got_rows(n);
      std::vector<int32_t> want_dots(n), got_dots(n);
      std::vector<uint32_t> all(n);
      for (size_t j = 0; j < n; ++j) all[j] = static_cast<uint32_t>(n - 1 - j);  // any order
      std::vector<int32_t> want_gather(n), got_gather(n);
      GatherDotScalar(c.codes.data(), row_bytes, all.data(), n, c.probe.data(), want_gather.data());
      for (float floor : {-std::numeric_limits<float>::infinity(), -0.05f, 0.0f, 0.05f}) {
        const size_t want = FirstPassScalar(c.codes.data(), c.scales.data(), c.errs.data(), n,
                                            params, floor, want_rows.data(), want_dots.data());
        for (SimdLevel level : SupportedSimdLevels()) {
          SCOPED_TRACE(::testing::Message() << SimdLevelName(level) << " row_bytes=" << row_bytes
                                            << " n=" << n << " floor=" << floor);
          std::fill(got_rows.begin(), got_rows.end(), 0xFFFFFFFFu);
          const size_t got =
              KernelsFor(level).first_pass(c.codes.data(), c.scales.data(), c.errs.data(), n,
                                           params, floor, got_rows.data(), got_dots.data());
          ASSERT_EQ(got, want);
          for (size_t i = 0; i < got; ++i) {
            EXPECT_EQ(got_rows[i], want_rows[i]);
            EXPECT_EQ(got_dots[i], want_dots[i]);
          }
          std::fill(got_gather.begin(), got_gather.end(), -1);
          KernelsFor(level).gather_dot(c.codes.data(), row_bytes, all.data(), n, c.probe.data(),
                                       got_gather.data());
          EXPECT_EQ(got_gather, want_gather);
        }
        if (floor == -std::numeric_limits<float>::infinity()) {
          ASSERT_EQ(want, n);  // every row passes an infinitely low floor, in order
          for (size_t j = 0; j < n; ++j) {
            EXPECT_EQ(want_rows[j], j);
            EXPECT_EQ(want_dots[j], want_gather[n - 1 - j]);
          }
        }
      }
    }
  }
}

TEST(Kernels, NibbleDotsRebuildTheInt8Dot) {
  // 16 * (high-plane dot) + (low-plane dot) - 128 * sum(probe) = sum((c - 128) * p), the int8
  // code dot the bounds are about, for real quantised templates.
  for (int dim : {16, 48, 128, 512, 4096}) {
    const auto d = static_cast<size_t>(dim);
    auto t = testing::RandomTemplates(20, dim, 3);
    auto q = testing::RandomTemplates(1, dim, 4);
    const Basis identity = Basis::Identity(dim);
    std::vector<int8_t> code(d);
    const ProbeCode pc = EncodeProbe(identity, q.data(), code.data());
    std::vector<uint8_t> hi(20 * d / 2), lo(20 * d / 2);
    std::vector<uint32_t> rows(20);
    for (size_t r = 0; r < 20; ++r) {
      EncodeTemplate(identity, &t[r * d], &hi[r * d / 2], &lo[r * d / 2]);
      rows[r] = static_cast<uint32_t>(r);
    }
    for (SimdLevel level : SupportedSimdLevels()) {
      std::vector<int32_t> h(20), l(20);
      KernelsFor(level).gather_dot(hi.data(), d / 2, rows.data(), 20, code.data(), h.data());
      KernelsFor(level).gather_dot(lo.data(), d / 2, rows.data(), 20, code.data(), l.data());
      for (size_t r = 0; r < 20; ++r) {
        // The int8 codes, recomputed the plain way.
        std::vector<uint8_t> one_hi(d / 2), one_lo(d / 2);
        const TemplateCode tc = EncodeTemplate(identity, &t[r * d], one_hi.data(), one_lo.data());
        int64_t want = 0;
        for (size_t i = 0; i < d; ++i) {
          long c = std::lround(t[r * d + i] / tc.scale);
          c = std::clamp(c, -127L, 127L);
          want += c * code[i];
        }
        EXPECT_EQ(16 * h[r] + l[r] - 128 * pc.sum, want) << "dim=" << dim << " row=" << r;
      }
    }
  }
}

TEST(Quantize, ErrorNormsAreUpperBoundsAndCodesStayInRange) {
  for (int dim : {16, 128, 512}) {
    const auto d = static_cast<size_t>(dim);
    auto t = testing::RandomTemplates(50, dim, 5);
    for (size_t r = 0; r < 50; ++r) {
      std::vector<uint8_t> hi(d / 2), lo(d / 2);
      const TemplateCode c = EncodeTemplate(Basis::Identity(dim), &t[r * d], hi.data(), lo.data());
      double e1 = 0, e2 = 0;
      for (size_t i = 0; i < d; ++i) {
        const size_t b = i % (d / 2);
        const int shift = i < d / 2 ? 0 : 4;
        const int code = ((hi[b] >> shift) & 15) * 16 + ((lo[b] >> shift) & 15);
        ASSERT_GE(code, 1);
        ASSERT_LE(code, 255);
        const double x = t[r * d + i];
        e1 += std::pow(x - c.scale * (16.0 * (code >> 4) - 120.5), 2);
        e2 += std::pow(x - static_cast<double>(c.scale) * (code - 128), 2);
      }
      EXPECT_GE(c.err1, std::sqrt(e1));
      EXPECT_GE(c.err2, std::sqrt(e2));
      EXPECT_LT(c.err2, c.err1);
    }
  }
}

TEST(Kernels, ProjectionsAgreeAcrossLevels) {
  // Summation order may differ in the last bits (the tail bound covers 1e-10); not more.
  std::mt19937_64 rng(8);
  std::normal_distribution<double> g;
  for (size_t dim : {16u, 48u, 512u}) {
    for (size_t m : {1u, 3u, 4u, 16u, 192u}) {
      for (size_t count : {1u, 3u, 4u, 9u}) {
        std::vector<double> rows(m * dim), x(count * dim), want(count * m), got(count * m);
        for (double& v : rows) v = g(rng) / std::sqrt(static_cast<double>(dim));
        for (double& v : x) v = g(rng) / std::sqrt(static_cast<double>(dim));
        ProjectScalar(rows.data(), m, dim, x.data(), count, want.data());
        for (SimdLevel level : SupportedSimdLevels()) {
          std::fill(got.begin(), got.end(), -7.0);
          ProjectKernel(level)(rows.data(), m, dim, x.data(), count, got.data());
          for (size_t j = 0; j < count * m; ++j) {
            ASSERT_NEAR(got[j], want[j], 1e-13)
                << SimdLevelName(level) << " dim=" << dim << " m=" << m << " count=" << count;
          }
        }
      }
    }
  }
}

TEST(Kernels, ReportsAvx512OnThisMachine) {
  // The development machine has VNNI (docs/MACHINE.md); if not, the fast path is untested.
  EXPECT_EQ(DetectSimdLevel(), SimdLevel::kAvx512Vnni);
}

}  // namespace
}  // namespace facetrail::search::internal
