// nn::Conv2d against a direct loop implementation of TensorFlow's convolution semantics, for
// every padding/stride/depthwise/accumulate combination the networks use.
#include "nn/layers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace facetrail::nn {
namespace {

// Direct TF-semantics convolution: weights [kh][kw][cin][cout] (depthwise [kh][kw][c][1]).
Tensor ReferenceConv(const ConvSpec& s, const Tensor& in, const std::vector<float>& w,
                     const std::vector<float>& b, const Tensor* acc) {
  const int cout = s.depthwise ? s.in_channels : s.out_channels;
  Shape out{OutputSize(in.shape.h, s.kernel_h, s.stride, s.padding),
            OutputSize(in.shape.w, s.kernel_w, s.stride, s.padding), cout};
  const int pt = PaddingBefore(in.shape.h, s.kernel_h, s.stride, s.padding);
  const int pl = PaddingBefore(in.shape.w, s.kernel_w, s.stride, s.padding);
  Tensor o(out);
  for (int y = 0; y < out.h; ++y) {
    for (int x = 0; x < out.w; ++x) {
      for (int co = 0; co < cout; ++co) {
        double sum = b.empty() ? 0 : b[static_cast<size_t>(co)];
        for (int ky = 0; ky < s.kernel_h; ++ky) {
          for (int kx = 0; kx < s.kernel_w; ++kx) {
            const int iy = y * s.stride - pt + ky, ix = x * s.stride - pl + kx;
            if (iy < 0 || ix < 0 || iy >= in.shape.h || ix >= in.shape.w) continue;
            if (s.depthwise) {
              sum += in.at(iy, ix)[co] *
                     w[static_cast<size_t>((ky * s.kernel_w + kx) * s.in_channels + co)];
            } else {
              for (int ci = 0; ci < s.in_channels; ++ci) {
                sum += in.at(iy, ix)[ci] *
                       w[static_cast<size_t>(((ky * s.kernel_w + kx) * s.in_channels + ci) * cout +
                                             co)];
              }
            }
          }
        }
        if (acc) sum += acc->at(y, x)[co];
        if (s.activation == Activation::kRelu) sum = std::max(sum, 0.0);
        if (s.activation == Activation::kRelu6) sum = std::min(std::max(sum, 0.0), 6.0);
        o.at(y, x)[co] = static_cast<float>(sum);
      }
    }
  }
  return o;
}

struct Case {
  int k, cin, cout, stride;
  Padding padding;
  bool depthwise;
  Activation act;
  bool accumulate;
  int h, w;
};

TEST(Conv2dTest, MatchesDirectLoopForEveryLayerKind) {
  const Case cases[] = {
      {3, 3, 8, 2, Padding::kSame, false, Activation::kRelu6, false, 16, 16},  // SSD conv0
      {3, 8, 8, 1, Padding::kSame, true, Activation::kRelu6, false, 9, 9},     // depthwise s1
      {3, 8, 8, 2, Padding::kSame, true, Activation::kNone, false, 10, 10},    // depthwise s2 even
      {1, 8, 16, 1, Padding::kSame, false, Activation::kNone, true, 7, 7},     // pointwise += acc
      {7, 3, 4, 2, Padding::kValid, false, Activation::kRelu, false, 21, 21},  // ResNet stem
      {3, 4, 8, 2, Padding::kValid, false, Activation::kRelu, false, 8, 8},    // residualDown
      {3, 8, 8, 1, Padding::kSame, false, Activation::kRelu, true, 5, 5},      // residual
      {3, 16, 8, 2, Padding::kSame, false, Activation::kRelu6, false, 3, 3},   // tiny map
  };
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (const auto& c : cases) {
    SCOPED_TRACE("k=" + std::to_string(c.k) + " cin=" + std::to_string(c.cin) + " stride=" +
                 std::to_string(c.stride) + " depthwise=" + std::to_string(c.depthwise));
    ConvSpec spec{c.k,         c.k,       c.cin,       c.depthwise ? c.cin : c.cout,
                  c.stride,    c.padding, c.depthwise, c.act,
                  c.accumulate};
    const int cout = c.depthwise ? c.cin : c.cout;
    std::vector<float> w(static_cast<size_t>(c.k * c.k * c.cin * (c.depthwise ? 1 : cout)));
    std::vector<float> b(static_cast<size_t>(cout));
    for (auto& v : w) v = dist(rng);
    for (auto& v : b) v = dist(rng);
    Tensor in({c.h, c.w, c.cin});
    for (auto& v : in.data) v = dist(rng);
    auto conv = Conv2d::Create(spec, in.shape, w, b);
    ASSERT_TRUE(conv.ok()) << conv.status().ToString();
    Tensor acc((*conv)->output_shape());
    for (auto& v : acc.data) v = dist(rng);
    Tensor expected = ReferenceConv(spec, in, w, b, c.accumulate ? &acc : nullptr);
    Tensor out = acc;
    (*conv)->Forward(in, out);
    ASSERT_EQ(out.shape, expected.shape);
    for (size_t i = 0; i < out.data.size(); ++i)
      ASSERT_NEAR(out.data[i], expected.data[i], 1e-4) << i;
  }
}

// kU8S8 computes exactly the convolution of the quantized input (step 6/255, clamped to [0, 6])
// with the per-channel quantized weights (largest |w| of a channel → 127): compared with the
// direct loop on those de-quantized values, only float rounding remains — and, for a ReLU6
// layer, whose output is uint8 again, the rounding of the output to the nearest step.
TEST(Conv2dTest, U8S8IsTheConvolutionOfTheQuantizedValues) {
  const Case cases[] = {
      {1, 32, 24, 1, Padding::kSame, false, Activation::kRelu6, false, 9, 9},   // pointwise
      {1, 16, 12, 1, Padding::kSame, false, Activation::kNone, false, 5, 5},    // head
      {3, 16, 16, 1, Padding::kSame, true, Activation::kRelu6, false, 9, 9},    // depthwise s1
      {3, 16, 16, 2, Padding::kSame, true, Activation::kRelu6, false, 10, 10},  // depthwise s2
      {3, 16, 8, 2, Padding::kSame, false, Activation::kRelu6, false, 8, 8},    // 3×3 s2
  };
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.f, 1.f), act(-0.5f, 6.5f);
  const float step = 6.f / 255.f;
  for (const auto& c : cases) {
    SCOPED_TRACE("k=" + std::to_string(c.k) + " depthwise=" + std::to_string(c.depthwise) +
                 " stride=" + std::to_string(c.stride));
    const int cout = c.depthwise ? c.cin : c.cout;
    ConvSpec spec{c.k, c.k, c.cin, cout, c.stride, c.padding, c.depthwise, c.act, false};
    std::vector<float> w(static_cast<size_t>(c.k * c.k * c.cin * (c.depthwise ? 1 : cout)));
    std::vector<float> b(static_cast<size_t>(cout));
    for (auto& v : w) v = dist(rng);
    for (auto& v : b) v = dist(rng);
    Tensor in({c.h, c.w, c.cin});
    for (auto& v : in.data) v = act(rng);  // a few values outside [0, 6]: clamped
    auto conv = Conv2d::Create(spec, in.shape, w, b, {}, {}, Precision::kU8S8);
    ASSERT_TRUE(conv.ok()) << conv.status().ToString();
    Tensor out;
    (*conv)->Forward(in, out);

    Tensor in_q = in;
    for (auto& v : in_q.data) v = std::nearbyint(std::clamp(v, 0.f, 6.f) / step) * step;
    std::vector<float> max_abs(static_cast<size_t>(cout), 0.f), w_q = w;
    for (size_t i = 0; i < w.size(); ++i) {
      max_abs[i % static_cast<size_t>(cout)] =
          std::max(max_abs[i % static_cast<size_t>(cout)], std::fabs(w[i]));
    }
    for (size_t i = 0; i < w.size(); ++i) {
      const float s = 127.f / max_abs[i % static_cast<size_t>(cout)];
      w_q[i] = std::nearbyint(w[i] * s) / s;
    }
    Tensor expected = ReferenceConv(spec, in_q, w_q, b, nullptr);
    Tensor unquantized = ReferenceConv(spec, in, w, b, nullptr);
    ASSERT_EQ(out.shape, expected.shape);
    const double tolerance = c.act == Activation::kRelu6 ? step / 2 + 2e-4 : 2e-4;
    double worst = 0;
    for (size_t i = 0; i < out.data.size(); ++i) {
      ASSERT_NEAR(out.data[i], expected.data[i], tolerance) << i;
      if (c.act == Activation::kRelu6) {  // on the uint8 grid
        const float q = out.data[i] / step;
        ASSERT_NEAR(q, std::nearbyint(q), 1e-3) << i;
      }
      worst = std::max(worst, std::fabs(double{out.data[i]} - unquantized.data[i]));
    }
    EXPECT_GT(worst, 0.0);  // it did quantize
  }
}

// A chain on uint8 activations (what the detector runs) gives exactly what the float interface
// gives: a ReLU6 layer's uint8 output is the float one divided by the step.
TEST(Conv2dTest, U8S8ChainOnQuantizedTensorsEqualsFloatInterface) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1.f, 1.f), act(0.f, 6.f);
  ConvSpec dw{3, 3, 16, 16, 2, Padding::kSame, true, Activation::kRelu6, false};
  ConvSpec head{1, 1, 16, 6, 1, Padding::kSame, false, Activation::kNone, false};
  std::vector<float> wd(3 * 3 * 16), bd(16), wh(16 * 6), bh(6);
  for (auto* v : {&wd, &bd, &wh, &bh}) {
    for (float& x : *v) x = dist(rng);
  }
  Tensor in({11, 11, 16});
  for (float& x : in.data) x = act(rng);
  auto c1 = Conv2d::Create(dw, in.shape, wd, bd, {}, {}, Precision::kU8S8);
  ASSERT_TRUE(c1.ok()) << c1.status().ToString();
  auto c2 = Conv2d::Create(head, (*c1)->output_shape(), wh, bh, {}, {}, Precision::kU8S8);
  ASSERT_TRUE(c2.ok()) << c2.status().ToString();
  Tensor f1, f2;
  (*c1)->Forward(in, f1);
  (*c2)->Forward(f1, f2);
  QTensor q_in, q1;
  Tensor q2;
  Quantize(in, q_in);
  (*c1)->Forward(q_in, q1);
  (*c2)->Forward(q1, q2);
  ASSERT_EQ(q1.shape, f1.shape);
  for (size_t i = 0; i < q1.data.size(); ++i) {
    ASSERT_FLOAT_EQ(static_cast<float>(q1.data[i]) * kU8Step, f1.data[i]) << i;
  }
  ASSERT_EQ(q2.shape, f2.shape);
  for (size_t i = 0; i < q2.data.size(); ++i) ASSERT_FLOAT_EQ(q2.data[i], f2.data[i]) << i;
  // Accumulation is refused in kU8S8.
  ConvSpec acc = dw;
  acc.accumulate = true;
  EXPECT_FALSE(Conv2d::Create(acc, in.shape, wd, bd, {}, {}, Precision::kU8S8).ok());
}

// The explicit geometry ONNX graphs state: pads per side, separate strides along y and x,
// grouped convolutions, and the activations fused as oneDNN post-ops, against a direct loop.
// Weights [kh][kw][cin/groups][cout]; output channel o belongs to group o / (cout / groups).
Tensor ReferenceExplicitConv(const ConvSpec& s, const Tensor& in, const std::vector<float>& w,
                             const std::vector<float>& b, const Tensor* acc) {
  const int sx = s.stride_w > 0 ? s.stride_w : s.stride;
  const Pads p = *s.pads;
  Shape out{(in.shape.h + p.top + p.bottom - s.kernel_h) / s.stride + 1,
            (in.shape.w + p.left + p.right - s.kernel_w) / sx + 1, s.out_channels};
  const int cpg = s.in_channels / s.groups, opg = s.out_channels / s.groups;
  Tensor o(out);
  for (int y = 0; y < out.h; ++y) {
    for (int x = 0; x < out.w; ++x) {
      for (int co = 0; co < out.c; ++co) {
        double sum = b[static_cast<size_t>(co)];
        const int g = co / opg;
        for (int ky = 0; ky < s.kernel_h; ++ky) {
          for (int kx = 0; kx < s.kernel_w; ++kx) {
            const int iy = y * s.stride - p.top + ky, ix = x * sx - p.left + kx;
            if (iy < 0 || ix < 0 || iy >= in.shape.h || ix >= in.shape.w) continue;
            for (int i = 0; i < cpg; ++i) {
              sum += in.at(iy, ix)[g * cpg + i] *
                     w[static_cast<size_t>(((ky * s.kernel_w + kx) * cpg + i) * out.c + co)];
            }
          }
        }
        if (acc) sum += acc->at(y, x)[co];
        switch (s.activation) {
          case Activation::kRelu: sum = std::max(sum, 0.0); break;
          case Activation::kRelu6: sum = std::clamp(sum, 0.0, 6.0); break;
          case Activation::kLeakyRelu: sum = sum < 0 ? sum * s.alpha : sum; break;
          case Activation::kClip: sum = std::clamp<double>(sum, s.alpha, s.beta); break;
          case Activation::kSigmoid: sum = 1 / (1 + std::exp(-sum)); break;
          case Activation::kPRelu:
            if (sum < 0) {
              sum *= s.prelu_slopes.size() == 1 ? s.prelu_slopes[0]
                                                : s.prelu_slopes[static_cast<size_t>(co)];
            }
            break;
          case Activation::kNone: break;
        }
        o.at(y, x)[co] = static_cast<float>(sum);
      }
    }
  }
  return o;
}

TEST(Conv2dTest, ExplicitPadsStridesGroupsAndActivationsMatchDirectLoop) {
  struct ExplicitCase {
    const char* name;
    int kh, kw, cin, cout, stride_h, stride_w, groups;
    Pads pads;
    Activation act;
    int slopes;  // kPRelu: 1 or cout
    bool accumulate;
    int h, w;
  };
  const ExplicitCase cases[] = {
      {"3x3 symmetric pads, PReLU per channel",
       3,
       3,
       4,
       8,
       1,
       1,
       1,
       {1, 1, 1, 1},
       Activation::kPRelu,
       8,
       false,
       9,
       7},
      {"3x3 s2 asymmetric pads",
       3,
       3,
       3,
       6,
       2,
       2,
       1,
       {0, 1, 2, 0},
       Activation::kNone,
       0,
       false,
       10,
       11},
      {"depthwise 3x3 as groups",
       3,
       3,
       8,
       8,
       2,
       1,
       8,
       {1, 1, 1, 1},
       Activation::kPRelu,
       1,
       false,
       8,
       8},
      {"depthwise 7x7 no pads (GDC)",
       7,
       7,
       16,
       16,
       1,
       1,
       16,
       {0, 0, 0, 0},
       Activation::kNone,
       0,
       false,
       7,
       7},
      {"depthwise multiplier 2",
       3,
       3,
       4,
       8,
       1,
       1,
       4,
       {1, 0, 1, 0},
       Activation::kRelu,
       0,
       false,
       6,
       5},
      {"grouped 2", 3, 3, 8, 4, 1, 2, 2, {1, 1, 0, 0}, Activation::kLeakyRelu, 0, false, 7, 9},
      {"1x3 kernel, clip", 1, 3, 4, 4, 1, 1, 1, {0, 1, 0, 1}, Activation::kClip, 0, false, 5, 6},
      {"1x1 += acc then PReLU",
       1,
       1,
       8,
       8,
       1,
       1,
       1,
       {0, 0, 0, 0},
       Activation::kPRelu,
       8,
       true,
       4,
       4},
      {"3x3 sigmoid", 3, 3, 2, 3, 1, 1, 1, {1, 1, 1, 1}, Activation::kSigmoid, 0, false, 4, 4},
  };
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ConvSpec spec;
    spec.kernel_h = c.kh;
    spec.kernel_w = c.kw;
    spec.in_channels = c.cin;
    spec.out_channels = c.cout;
    spec.stride = c.stride_h;
    spec.stride_w = c.stride_w;
    spec.groups = c.groups;
    spec.pads = c.pads;
    spec.activation = c.act;
    spec.accumulate = c.accumulate;
    spec.alpha = c.act == Activation::kClip ? -0.3f : 0.1f;
    spec.beta = 0.4f;
    for (int i = 0; i < c.slopes; ++i) spec.prelu_slopes.push_back(dist(rng));
    std::vector<float> w(static_cast<size_t>(c.kh * c.kw * (c.cin / c.groups) * c.cout));
    std::vector<float> b(static_cast<size_t>(c.cout));
    for (auto& v : w) v = dist(rng);
    for (auto& v : b) v = dist(rng);
    Tensor in({c.h, c.w, c.cin});
    for (auto& v : in.data) v = dist(rng);
    auto conv = Conv2d::Create(spec, in.shape, w, b);
    ASSERT_TRUE(conv.ok()) << conv.status().ToString();
    Tensor acc((*conv)->output_shape());
    for (auto& v : acc.data) v = dist(rng);
    Tensor expected = ReferenceExplicitConv(spec, in, w, b, c.accumulate ? &acc : nullptr);
    ASSERT_EQ((*conv)->output_shape(), expected.shape);
    // Through caller-managed buffers (the span interface).
    std::vector<float> out = acc.data;
    (*conv)->Forward(std::span<const float>(in.data), std::span<float>(out));
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], expected.data[i], 1e-4) << i;
    const double macs = static_cast<double>(c.kh) * c.kw * (c.cin / c.groups);
    EXPECT_DOUBLE_EQ((*conv)->flops(), 2 * macs * expected.shape.size());

    // The same weights in ONNX's OIHW layout, with a folded per-channel scale and shift.
    const int cpg = c.cin / c.groups;
    std::vector<float> oihw(w.size()), scale(static_cast<size_t>(c.cout)),
        shift(static_cast<size_t>(c.cout));
    for (int o = 0; o < c.cout; ++o) {
      for (int i = 0; i < cpg; ++i) {
        for (int y = 0; y < c.kh; ++y) {
          for (int x = 0; x < c.kw; ++x) {
            oihw[static_cast<size_t>(((o * cpg + i) * c.kh + y) * c.kw + x)] =
                w[static_cast<size_t>(((y * c.kw + x) * cpg + i) * c.cout + o)];
          }
        }
      }
    }
    for (auto& v : scale) v = dist(rng);
    for (auto& v : shift) v = dist(rng);
    std::vector<float> folded_w = w, folded_b = b;
    for (size_t i = 0; i < w.size(); ++i) folded_w[i] *= scale[i % scale.size()];
    for (size_t o = 0; o < b.size(); ++o) folded_b[o] = b[o] * scale[o] + shift[o];
    const Tensor expected_folded =
        ReferenceExplicitConv(spec, in, folded_w, folded_b, c.accumulate ? &acc : nullptr);
    ConvSpec onnx = spec;
    onnx.weight_layout = WeightLayout::kOihw;
    auto conv_oihw = Conv2d::Create(onnx, in.shape, oihw, b, scale, shift);
    ASSERT_TRUE(conv_oihw.ok()) << conv_oihw.status().ToString();
    out = acc.data;
    (*conv_oihw)->Forward(std::span<const float>(in.data), std::span<float>(out));
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_NEAR(out[i], expected_folded.data[i], 1e-4) << "OIHW " << i;
    }
  }
}

TEST(Conv2dTest, RejectsBadExplicitGeometry) {
  ConvSpec spec;
  spec.kernel_h = spec.kernel_w = 3;
  spec.in_channels = 6;
  spec.out_channels = 4;
  spec.groups = 4;  // 6 input channels do not split into 4 groups
  spec.pads = Pads{1, 1, 1, 1};
  std::vector<float> w(3 * 3 * 6 * 4);
  auto bad_groups = Conv2d::Create(spec, {5, 5, 6}, w, {});
  EXPECT_EQ(bad_groups.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_groups.status().message().find("groups"), std::string::npos);
  spec.groups = 1;
  spec.pads = Pads{-1, 0, 0, 0};
  EXPECT_EQ(Conv2d::Create(spec, {5, 5, 6}, w, {}).status().code(), StatusCode::kInvalidArgument);
  spec.pads = Pads{0, 0, 0, 0};
  spec.activation = Activation::kPRelu;
  spec.prelu_slopes = {1, 2};  // neither 1 nor 4
  EXPECT_EQ(Conv2d::Create(spec, {5, 5, 6}, w, {}).status().code(), StatusCode::kInvalidArgument);
  spec.prelu_slopes = {0.5f};
  EXPECT_TRUE(Conv2d::Create(spec, {5, 5, 6}, w, {}).ok());
}

TEST(Conv2dTest, FoldedScaleAndShiftEqualAffineAfterConv) {
  ConvSpec spec{3, 3, 2, 3, 1, Padding::kSame, false, Activation::kNone, false};
  std::vector<float> w(3 * 3 * 2 * 3, 0.5f), b = {1, 2, 3}, scale = {2, -1, 0.5f},
                                             shift = {0, 1, -1};
  Tensor in({4, 4, 2});
  for (size_t i = 0; i < in.data.size(); ++i) in.data[i] = static_cast<float>(i % 5) - 2.f;
  auto plain = Conv2d::Create(spec, in.shape, w, b);
  auto folded = Conv2d::Create(spec, in.shape, w, b, scale, shift);
  ASSERT_TRUE(plain.ok() && folded.ok());
  Tensor p, f;
  (*plain)->Forward(in, p);
  (*folded)->Forward(in, f);
  for (size_t i = 0; i < p.data.size(); ++i) {
    EXPECT_NEAR(f.data[i], p.data[i] * scale[i % 3] + shift[i % 3], 1e-4);
  }
}

TEST(Conv2dTest, RejectsMismatchedShapes) {
  ConvSpec spec{3, 3, 4, 8, 1, Padding::kSame, false, Activation::kNone, false};
  std::vector<float> w(10);
  EXPECT_EQ(Conv2d::Create(spec, {8, 8, 4}, w, {}).status().code(), StatusCode::kInvalidArgument);
  std::vector<float> ok(3 * 3 * 4 * 8);
  EXPECT_EQ(Conv2d::Create(spec, {8, 8, 3}, ok, {}).status().code(), StatusCode::kInvalidArgument);
  ConvSpec big{7, 7, 4, 8, 1, Padding::kValid, false, Activation::kNone, false};
  std::vector<float> wb(7 * 7 * 4 * 8);
  EXPECT_EQ(Conv2d::Create(big, {5, 5, 4}, wb, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(MemoryArenaTest, AlignedZeroedDisjointAndLarge) {
  MemoryArena arena;
  std::vector<std::pair<uint8_t*, size_t>> blocks;
  for (size_t bytes : std::initializer_list<size_t>{1, 63, 64, 100, 5000, 3 << 20, 7, 1 << 20}) {
    auto* p = static_cast<uint8_t*>(arena.Allocate(bytes));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << bytes;
    for (size_t i = 0; i < bytes; ++i) ASSERT_EQ(p[i], 0) << bytes;
    std::fill(p, p + bytes, static_cast<uint8_t>(blocks.size() + 1));
    blocks.emplace_back(p, bytes);
  }
  // Nothing written later overlapped an earlier allocation.
  for (size_t b = 0; b < blocks.size(); ++b) {
    for (size_t i = 0; i < blocks[b].second; ++i) ASSERT_EQ(blocks[b].first[i], b + 1);
  }
  EXPECT_GE(arena.bytes_mapped(), (size_t{4} << 20));
  EXPECT_EQ(arena.bytes_mapped() % (size_t{2} << 20), 0u);
}

TEST(PaddingTest, TensorFlowSameRules) {
  EXPECT_EQ(OutputSize(512, 3, 2, Padding::kSame), 256);
  EXPECT_EQ(PaddingBefore(512, 3, 2, Padding::kSame), 0);  // 0 before, 1 after on even sizes
  EXPECT_EQ(PaddingBefore(35, 3, 1, Padding::kSame), 1);
  EXPECT_EQ(OutputSize(150, 7, 2, Padding::kValid), 72);
  EXPECT_EQ(OutputSize(72, 3, 2, Padding::kValid), 35);
}

TEST(PoolTest, MaxAndAveragePools) {
  Tensor in({4, 4, 1});
  for (int i = 0; i < 16; ++i) in.data[static_cast<size_t>(i)] = static_cast<float>(i);
  Tensor out;
  MaxPool(in, 3, 2, Padding::kValid, out);
  ASSERT_EQ(out.shape, (Shape{1, 1, 1}));
  EXPECT_EQ(out.data[0], 10.f);
  AvgPool(in, 2, 2, Padding::kValid, out);
  ASSERT_EQ(out.shape, (Shape{2, 2, 1}));
  EXPECT_FLOAT_EQ(out.data[0], (0 + 1 + 4 + 5) / 4.f);
  EXPECT_FLOAT_EQ(out.data[3], (10 + 11 + 14 + 15) / 4.f);
}

}  // namespace
}  // namespace facetrail::nn
