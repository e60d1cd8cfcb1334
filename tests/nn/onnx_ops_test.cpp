// The ONNX loader's operators one by one: a tiny model built with the protobuf API per case,
// run by OnnxNetwork and compared with a naive NCHW loop written here from the ONNX operator
// specs. Shapes are chosen to exercise what NHWC storage and fusion could get wrong: asymmetric
// padding, strides, groups, broadcasting, Flatten of a spatial tensor (element order), Concat.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "onnx_test_util.h"

namespace facetrail::nn {
namespace {

using onnx_testing::ConvGeometry;
using onnx_testing::LoadModel;
using onnx_testing::MaxDiff;
using onnx_testing::ModelBuilder;
using onnx_testing::Ref;
using onnx_testing::RefConv;
using onnx_testing::SetAttr;
using onnx_testing::ToNhwc;

constexpr double kTolerance = 1e-4;

// Loads and runs `m` on `x`; the model's output in ONNX order (empty after a failure).
std::vector<float> RunModel(const ModelBuilder& m, const Ref& x,
                            const OnnxLoadOptions& options = {}, std::string* summary = nullptr) {
  auto net = LoadModel(m, options);
  if (!net.ok()) {
    ADD_FAILURE() << net.status().ToString();
    return {};
  }
  if (summary != nullptr) *summary = (*net)->Summary();
  std::vector<float> out;
  const Status s = (*net)->Run(ToNhwc(x), out);
  if (!s.ok()) ADD_FAILURE() << s.ToString();
  return out;
}

// NumPy-broadcast elementwise f(a, b) in ONNX order.
Ref Broadcast(const Ref& a, const Ref& b, const std::function<float(float, float)>& f) {
  const size_t rank = std::max(a.dims.size(), b.dims.size());
  auto aligned = [&](const std::vector<int64_t>& d) {
    std::vector<int64_t> out(rank - d.size(), 1);
    out.insert(out.end(), d.begin(), d.end());
    return out;
  };
  const auto da = aligned(a.dims), db = aligned(b.dims);
  Ref out;
  for (size_t i = 0; i < rank; ++i) out.dims.push_back(std::max(da[i], db[i]));
  size_t n = 1;
  for (int64_t d : out.dims) n *= static_cast<size_t>(d);
  out.v.resize(n);
  std::vector<int64_t> index(rank, 0);
  for (size_t k = 0; k < n; ++k) {
    int64_t ia = 0, ib = 0;
    for (size_t i = 0; i < rank; ++i) {
      ia = ia * da[i] + (da[i] == 1 ? 0 : index[i]);
      ib = ib * db[i] + (db[i] == 1 ? 0 : index[i]);
    }
    out.v[k] = f(a.v[static_cast<size_t>(ia)], b.v[static_cast<size_t>(ib)]);
    for (size_t i = rank; i-- > 0;) {
      if (++index[i] < out.dims[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

// Builds a Conv node reading `in`, with weights `w` (OIHW) and bias `b` as initializers.
void AddConv(ModelBuilder& m, const std::string& in, const std::string& out, const Ref& w,
             const std::vector<float>& b, const ConvGeometry& g, const std::string& name) {
  m.Initializer(name + "_w", w.dims, w.v);
  std::vector<std::string> inputs = {in, name + "_w"};
  if (!b.empty()) {
    m.Initializer(name + "_b", {static_cast<int64_t>(b.size())}, b);
    inputs.push_back(name + "_b");
  }
  auto& n = m.Node("Conv", inputs, {out}, name);
  SetAttr(n, "kernel_shape", std::vector<int64_t>{w.dims[2], w.dims[3]});
  SetAttr(n, "strides", std::vector<int64_t>{g.stride_h, g.stride_w});
  SetAttr(n, "pads", std::vector<int64_t>{g.pad_top, g.pad_left, g.pad_bottom, g.pad_right});
  SetAttr(n, "group", g.groups);
}

TEST(OnnxOpsTest, ConvPaddingStridesAndGroups) {
  struct Case {
    const char* name;
    int64_t c, m, kh, kw, h, w;
    ConvGeometry g;
  };
  const Case cases[] = {
      {"3x3 symmetric pads", 3, 8, 3, 3, 9, 7, {1, 1, 1, 1, 1, 1, 1}},
      {"3x3 stride 2, asymmetric pads", 4, 6, 3, 3, 10, 11, {2, 2, 1, 0, 1, 2, 0}},
      {"stride 2x1, pads right only", 2, 4, 3, 3, 8, 8, {2, 1, 1, 0, 0, 0, 2}},
      {"depthwise 3x3 (group = C)", 8, 8, 3, 3, 8, 8, {1, 1, 8, 1, 1, 1, 1}},
      {"depthwise 3x3 stride 2", 16, 16, 3, 3, 9, 9, {2, 2, 16, 1, 1, 1, 1}},
      {"depthwise multiplier 2", 4, 8, 3, 3, 6, 5, {1, 1, 4, 1, 1, 1, 1}},
      {"2 groups", 6, 4, 3, 3, 7, 6, {1, 1, 2, 0, 1, 1, 0}},
      {"7x7 depthwise, no pads (to 1x1)", 32, 32, 7, 7, 7, 7, {1, 1, 32, 0, 0, 0, 0}},
      {"1x5 kernel", 3, 3, 1, 5, 4, 9, {1, 1, 1, 0, 2, 0, 2}},
  };
  std::mt19937 rng(1);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const Ref x = Ref::Random({1, c.c, c.h, c.w}, rng);
    const Ref w = Ref::Random({c.m, c.c / c.g.groups, c.kh, c.kw}, rng);
    const Ref b = Ref::Random({c.m}, rng);
    ModelBuilder m;
    m.Input("x", x.dims);
    AddConv(m, "x", "y", w, b.v, c.g, "conv");
    m.Output("y");
    const Ref want = RefConv(x, w, b.v, c.g);
    EXPECT_LE(MaxDiff(RunModel(m, x), want.v), kTolerance);
  }
}

TEST(OnnxOpsTest, ConvAutoPad) {
  std::mt19937 rng(2);
  const Ref x = Ref::Random({1, 2, 8, 7}, rng);
  const Ref w = Ref::Random({3, 2, 4, 3}, rng);
  struct Case {
    const char* auto_pad;
    int64_t stride;
    ConvGeometry g;  // what auto_pad amounts to
  };
  // SAME: out = ceil(in / stride); total pad = (out − 1)·stride + k − in, the odd one after
  // (UPPER) or before (LOWER). Stride 1: height 8, k 4 → 3 pads; width 7, k 3 → 2 pads.
  // Stride 2: height 8 → 4 rows, 2 pads; width 7 → 4 columns, 2 pads.
  const Case cases[] = {
      {"SAME_UPPER", 1, {1, 1, 1, 1, 1, 2, 1}},
      {"SAME_LOWER", 1, {1, 1, 1, 2, 1, 1, 1}},
      {"VALID", 1, {1, 1, 1, 0, 0, 0, 0}},
      {"SAME_UPPER", 2, {2, 2, 1, 1, 1, 1, 1}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.auto_pad) + " stride " + std::to_string(c.stride));
    ModelBuilder m;
    m.Input("x", x.dims);
    m.Initializer("w", w.dims, w.v);
    auto& n = m.Node("Conv", {"x", "w"}, {"y"});
    SetAttr(n, "auto_pad", std::string(c.auto_pad));
    SetAttr(n, "strides", std::vector<int64_t>{c.stride, c.stride});
    m.Output("y");
    const Ref want = RefConv(x, w, {}, c.g);
    EXPECT_LE(MaxDiff(RunModel(m, x), want.v), kTolerance);
  }
}

// Conv → BatchNormalization → Relu, Conv → Mul(per channel) → Add(scalar) → PRelu: all folded
// or fused into the convolution, which must still compute the same numbers.
TEST(OnnxOpsTest, BatchNormAffinesAndActivationsFoldIntoTheConvolution) {
  std::mt19937 rng(3);
  const Ref x = Ref::Random({1, 3, 6, 6}, rng);
  const Ref w = Ref::Random({4, 3, 3, 3}, rng);
  const Ref b = Ref::Random({4}, rng);
  const ConvGeometry g{1, 1, 1, 1, 1, 1, 1};
  const Ref gamma = Ref::Random({4}, rng), beta = Ref::Random({4}, rng),
            mean = Ref::Random({4}, rng), var = Ref::Random({4}, rng, 0.5f, 2.f);
  {
    ModelBuilder m;
    m.Input("x", x.dims);
    AddConv(m, "x", "c", w, b.v, g, "conv");
    m.Initializer("gamma", {4}, gamma.v);
    m.Initializer("beta", {4}, beta.v);
    m.Initializer("mean", {4}, mean.v);
    m.Initializer("var", {4}, var.v);
    auto& bn = m.Node("BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"n"}, "bn");
    SetAttr(bn, "epsilon", 1e-3f);
    m.Node("Relu", {"n"}, {"y"}, "relu");
    m.Output("y");
    Ref want = RefConv(x, w, b.v, g);
    for (int64_t ch = 0; ch < 4; ++ch) {
      for (int64_t i = 0; i < 36; ++i) {
        float& v = want.v[static_cast<size_t>(ch * 36 + i)];
        const size_t k = static_cast<size_t>(ch);
        v = (v - mean.v[k]) / std::sqrt(var.v[k] + 1e-3f) * gamma.v[k] + beta.v[k];
        v = std::max(v, 0.f);
      }
    }
    std::string summary;
    EXPECT_LE(MaxDiff(RunModel(m, x, {}, &summary), want.v), kTolerance);
    EXPECT_NE(summary.find("Conv+BatchNormalization+Relu 'conv'"), std::string::npos) << summary;
  }
  {
    const Ref scale = Ref::Random({4, 1, 1}, rng), slope = Ref::Random({1, 4, 1, 1}, rng);
    ModelBuilder m;
    m.Input("x", x.dims);
    AddConv(m, "x", "c", w, b.v, g, "conv");
    m.Initializer("scale", scale.dims, scale.v);
    m.Initializer("two", {}, {2.f});
    m.Initializer("slope", slope.dims, slope.v);
    m.Node("Mul", {"scale", "c"}, {"s"});
    m.Node("Add", {"s", "two"}, {"t"});
    m.Node("PRelu", {"t", "slope"}, {"y"});
    m.Output("y");
    Ref want = RefConv(x, w, b.v, g);
    for (size_t i = 0; i < want.v.size(); ++i) {
      const size_t ch = i / 36;
      const float v = want.v[i] * scale.v[ch] + 2.f;
      want.v[i] = v < 0 ? v * slope.v[ch] : v;
    }
    std::string summary;
    EXPECT_LE(MaxDiff(RunModel(m, x, {}, &summary), want.v), kTolerance);
    EXPECT_NE(summary.find("Conv+Mul+Add+PRelu 'conv'"), std::string::npos) << summary;
  }
}

// relu(x + conv(x)) with the shortcut read again later: the accumulation must not overwrite it.
TEST(OnnxOpsTest, ResidualAddAccumulatesIntoTheConvolution) {
  std::mt19937 rng(4);
  const Ref x = Ref::Random({1, 8, 5, 5}, rng);
  const Ref w1 = Ref::Random({8, 8, 1, 1}, rng), w2 = Ref::Random({8, 8, 3, 3}, rng);
  ModelBuilder m;
  m.Input("x", x.dims);
  AddConv(m, "x", "a", w1, {}, {}, "conv1");
  AddConv(m, "a", "c", w2, {}, {1, 1, 1, 1, 1, 1, 1}, "conv2");
  m.Node("Add", {"x", "c"}, {"s"}, "add");
  m.Node("Relu", {"s"}, {"r"}, "relu");
  m.Node("Mul", {"r", "x"}, {"y"}, "mul");  // x read after the Add
  m.Output("y");
  const Ref a = RefConv(x, w1, {}, {});
  const Ref c = RefConv(a, w2, {}, {1, 1, 1, 1, 1, 1, 1});
  Ref want = c;
  for (size_t i = 0; i < want.v.size(); ++i) want.v[i] = std::max(x.v[i] + c.v[i], 0.f) * x.v[i];
  std::string summary;
  EXPECT_LE(MaxDiff(RunModel(m, x, {}, &summary), want.v), kTolerance);
  EXPECT_NE(summary.find("Conv+Add+Relu 'conv2'"), std::string::npos) << summary;
}

TEST(OnnxOpsTest, BroadcastArithmetic) {
  std::mt19937 rng(5);
  const Ref x = Ref::Random({1, 3, 4, 5}, rng);
  struct Case {
    const char* name;
    const char* op;
    Ref constant;
    bool constant_first;
    std::function<float(float, float)> f;  // f(first, second)
  };
  const Case cases[] = {
      {"Add per channel [C,1,1]", "Add", Ref::Random({3, 1, 1}, rng), false,
       [](float a, float b) { return a + b; }},
      {"Sub scalar from constant", "Sub", Ref::Random({}, rng), true,
       [](float a, float b) { return a - b; }},
      {"Mul by a full-shape constant", "Mul", Ref::Random({1, 3, 4, 5}, rng), false,
       [](float a, float b) { return a * b; }},
      {"Div by a row [W]", "Div", Ref::Random({5}, rng, 0.5f, 2.f), false,
       [](float a, float b) { return a / b; }},
      {"Div of a constant by x (not an affine)", "Div", Ref::Random({1}, rng), true,
       [](float a, float b) { return a / b; }},
      {"Sub per column [H,1]", "Sub", Ref::Random({4, 1}, rng), false,
       [](float a, float b) { return a - b; }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ModelBuilder m;
    m.Input("x", x.dims);
    m.Initializer("k", c.constant.dims, c.constant.v);
    if (c.constant_first) {
      m.Node(c.op, {"k", "x"}, {"y"});
    } else {
      m.Node(c.op, {"x", "k"}, {"y"});
    }
    m.Output("y");
    const Ref want =
        c.constant_first ? Broadcast(c.constant, x, c.f) : Broadcast(x, c.constant, c.f);
    EXPECT_LE(MaxDiff(RunModel(m, x), want.v), kTolerance);
  }
}

// Squeeze-and-excitation: x · sigmoid(conv(relu(conv(mean over H, W)))) — a run-time [1,C,1,1]
// broadcast over [1,C,H,W], and a Sigmoid and Relu standing alone.
TEST(OnnxOpsTest, SqueezeExcitationBroadcastsARunTimeTensor) {
  std::mt19937 rng(6);
  const Ref x = Ref::Random({1, 8, 6, 5}, rng);
  const Ref w1 = Ref::Random({4, 8, 1, 1}, rng), w2 = Ref::Random({8, 4, 1, 1}, rng);
  ModelBuilder m;
  m.Input("x", x.dims);
  m.Node("GlobalAveragePool", {"x"}, {"p"});
  AddConv(m, "p", "a", w1, {}, {}, "fc1");
  m.Node("Relu", {"a"}, {"r"});
  AddConv(m, "r", "b", w2, {}, {}, "fc2");
  m.Node("Sigmoid", {"b"}, {"s"});
  m.Node("Mul", {"x", "s"}, {"y"});
  m.Output("y");
  Ref p{{1, 8, 1, 1}, std::vector<float>(8, 0.f)};
  for (size_t i = 0; i < x.v.size(); ++i) p.v[i / 30] += x.v[i] / 30.f;
  Ref a = RefConv(p, w1, {}, {});
  for (float& v : a.v) v = std::max(v, 0.f);
  Ref s = RefConv(a, w2, {}, {});
  for (float& v : s.v) v = 1.f / (1.f + std::exp(-v));
  const Ref want = Broadcast(x, s, [](float u, float v) { return u * v; });
  EXPECT_LE(MaxDiff(RunModel(m, x), want.v), kTolerance);
}

// Flatten of [1, C, H, W] is in ONNX (C, H, W) order although the tensor is stored NHWC; then
// Gemm with transB, alpha, beta and a bias, and a BatchNormalization on the [1, N] result (as
// fr_landmark.onnx ends).
TEST(OnnxOpsTest, FlattenOfASpatialTensorThenGemm) {
  std::mt19937 rng(7);
  const Ref x = Ref::Random({1, 3, 4, 5}, rng);
  const Ref w = Ref::Random({6, 3, 3, 3}, rng);
  const ConvGeometry g{1, 1, 1, 1, 1, 1, 1};
  const int64_t k = 6 * 4 * 5, n = 7;
  const Ref b = Ref::Random({n, k}, rng), bias = Ref::Random({n}, rng);
  const Ref gamma = Ref::Random({n}, rng), beta = Ref::Random({n}, rng),
            mean = Ref::Random({n}, rng), var = Ref::Random({n}, rng, 0.5f, 2.f);
  ModelBuilder m(11);
  m.Input("x", x.dims);
  AddConv(m, "x", "c", w, {}, g, "conv");
  SetAttr(m.Node("Flatten", {"c"}, {"f"}), "axis", int64_t{1});
  m.Initializer("B", b.dims, b.v);
  m.Initializer("C", bias.dims, bias.v);
  auto& gemm = m.Node("Gemm", {"f", "B", "C"}, {"g"}, "gemm");
  SetAttr(gemm, "transB", int64_t{1});
  SetAttr(gemm, "alpha", 0.5f);
  SetAttr(gemm, "beta", 2.f);
  m.Initializer("gamma", {n}, gamma.v);
  m.Initializer("beta", {n}, beta.v);
  m.Initializer("mean", {n}, mean.v);
  m.Initializer("var", {n}, var.v);
  m.Node("BatchNormalization", {"g", "gamma", "beta", "mean", "var"}, {"y"});
  m.Output("y", {1, n});
  const Ref c = RefConv(x, w, {}, g);  // c.v is already in (C, H, W) order
  std::vector<float> want(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    double s = 0;
    for (int64_t i = 0; i < k; ++i)
      s += double{c.v[static_cast<size_t>(i)]} * b.v[static_cast<size_t>(j * k + i)];
    const auto jj = static_cast<size_t>(j);
    const float v = static_cast<float>(0.5 * s + 2.0 * bias.v[jj]);
    want[jj] = (v - mean.v[jj]) / std::sqrt(var.v[jj] + 1e-5f) * gamma.v[jj] + beta.v[jj];
  }
  std::string summary;
  EXPECT_LE(MaxDiff(RunModel(m, x, {}, &summary), want), kTolerance);
  EXPECT_NE(summary.find("Gemm+BatchNormalization 'gemm'"), std::string::npos) << summary;
}

TEST(OnnxOpsTest, GemmWithoutTransposeAndMatMul) {
  std::mt19937 rng(8);
  const Ref x = Ref::Random({1, 4, 1, 1}, rng);
  const Ref b = Ref::Random({4, 3}, rng), mb = Ref::Random({3, 5}, rng);
  ModelBuilder m(11);
  m.Input("x", x.dims);
  m.Node("Flatten", {"x"}, {"f"});
  m.Initializer("B", b.dims, b.v);
  m.Node("Gemm", {"f", "B"}, {"g"});
  m.Initializer("M", mb.dims, mb.v);
  m.Node("MatMul", {"g", "M"}, {"y"});
  m.Output("y");
  std::vector<float> g(3, 0.f), want(5, 0.f);
  for (size_t j = 0; j < 3; ++j) {
    for (size_t i = 0; i < 4; ++i) g[j] += x.v[i] * b.v[i * 3 + j];
  }
  for (size_t j = 0; j < 5; ++j) {
    for (size_t i = 0; i < 3; ++i) want[j] += g[i] * mb.v[i * 5 + j];
  }
  EXPECT_LE(MaxDiff(RunModel(m, x), want), kTolerance);
}

// Concat along channels (two convolutions and a constant), along H and along W.
TEST(OnnxOpsTest, ConcatAlongEachAxis) {
  std::mt19937 rng(9);
  const Ref x = Ref::Random({1, 2, 3, 4}, rng);
  const Ref w1 = Ref::Random({3, 2, 1, 1}, rng), w2 = Ref::Random({1, 2, 1, 1}, rng);
  for (int64_t axis : {1, 2, 3, -1}) {
    SCOPED_TRACE(axis);
    const int64_t a = axis < 0 ? axis + 4 : axis;
    std::vector<int64_t> kdims = {1, 2, 3, 4};
    kdims[static_cast<size_t>(a)] = 2;
    const Ref k = Ref::Random(kdims, rng);
    ModelBuilder m;
    m.Input("x", x.dims);
    const bool channels = a == 1;
    if (channels) {
      AddConv(m, "x", "p", w1, {}, {}, "c1");
      AddConv(m, "x", "q", w2, {}, {}, "c2");
    } else {
      m.Node("Identity", {"x"}, {"p"});
      m.Node("Relu", {"x"}, {"q"});
    }
    m.Initializer("k", k.dims, k.v);
    SetAttr(m.Node("Concat", {"p", "k", "q"}, {"y"}), "axis", axis);
    m.Output("y");
    Ref p = channels ? RefConv(x, w1, {}, {}) : x;
    Ref q = channels ? RefConv(x, w2, {}, {}) : x;
    if (!channels) {
      for (float& v : q.v) v = std::max(v, 0.f);
    }
    // Row-major concat: outer = product of dims before the axis.
    int64_t outer = 1;
    for (int64_t d = 0; d < a; ++d) outer *= x.dims[static_cast<size_t>(d)];
    std::vector<float> want;
    for (int64_t o = 0; o < outer; ++o) {
      for (const Ref* r : std::initializer_list<const Ref*>{&p, &k, &q}) {
        const size_t chunk = r->v.size() / static_cast<size_t>(outer);
        want.insert(want.end(), r->v.begin() + static_cast<ptrdiff_t>(o * chunk),
                    r->v.begin() + static_cast<ptrdiff_t>((o + 1) * chunk));
      }
    }
    EXPECT_LE(MaxDiff(RunModel(m, x), want), kTolerance);
  }
}

// Max and average pooling with ONNX semantics: padding ignored by max, counted or not by
// average (count_include_pad), ceil_mode's extra window.
Ref RefPool(const Ref& x, bool max, int64_t k, int64_t s, int64_t pad_before, int64_t pad_after,
            bool ceil_mode, bool include_pad) {
  auto out_size = [&](int64_t in) {
    const int64_t span = in + pad_before + pad_after - k;
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + pad_before) --o;
    return o;
  };
  Ref out;
  out.dims = {1, x.dims[1], out_size(x.dims[2]), out_size(x.dims[3])};
  out.v.resize(static_cast<size_t>(out.dims[1] * out.dims[2] * out.dims[3]));
  for (int64_t c = 0; c < x.dims[1]; ++c) {
    for (int64_t oy = 0; oy < out.dims[2]; ++oy) {
      for (int64_t ox = 0; ox < out.dims[3]; ++ox) {
        double acc = max ? -1e30 : 0;
        int count = 0;
        const int64_t y0 = oy * s - pad_before, x0 = ox * s - pad_before;
        for (int64_t y = y0; y < y0 + k; ++y) {
          for (int64_t xx = x0; xx < x0 + k; ++xx) {
            if (y < 0 || xx < 0 || y >= x.dims[2] || xx >= x.dims[3]) continue;
            acc = max ? std::max(acc, double{x.at(0, c, y, xx)}) : acc + x.at(0, c, y, xx);
            ++count;
          }
        }
        if (!max) {
          const int64_t ph = std::min(y0 + k, x.dims[2] + pad_after) - y0;
          const int64_t pw = std::min(x0 + k, x.dims[3] + pad_after) - x0;
          acc /= include_pad ? static_cast<double>(ph * pw) : count;
        }
        out.at(0, c, oy, ox) = static_cast<float>(acc);
      }
    }
  }
  return out;
}

TEST(OnnxOpsTest, MaxAndAveragePooling) {
  std::mt19937 rng(10);
  const Ref x = Ref::Random({1, 3, 7, 7}, rng);
  struct Case {
    const char* op;
    int64_t k, s, pad_before, pad_after;
    bool ceil_mode, include_pad;
  };
  const Case cases[] = {
      {"MaxPool", 3, 2, 1, 1, false, false},    {"MaxPool", 2, 2, 0, 0, true, false},
      {"MaxPool", 3, 1, 0, 2, false, false},    {"AveragePool", 3, 2, 1, 1, false, false},
      {"AveragePool", 3, 2, 1, 1, false, true}, {"AveragePool", 2, 2, 0, 0, true, false},
      {"AveragePool", 3, 2, 1, 1, true, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.op) + " k" + std::to_string(c.k) + " s" + std::to_string(c.s) +
                 " pads " + std::to_string(c.pad_before) + "," + std::to_string(c.pad_after) +
                 (c.ceil_mode ? " ceil" : "") + (c.include_pad ? " include_pad" : ""));
    ModelBuilder m;
    m.Input("x", x.dims);
    auto& n = m.Node(c.op, {"x"}, {"y"});
    SetAttr(n, "kernel_shape", std::vector<int64_t>{c.k, c.k});
    SetAttr(n, "strides", std::vector<int64_t>{c.s, c.s});
    SetAttr(n, "pads", std::vector<int64_t>{c.pad_before, c.pad_before, c.pad_after, c.pad_after});
    SetAttr(n, "ceil_mode", int64_t{c.ceil_mode ? 1 : 0});
    if (std::string(c.op) == "AveragePool") {
      SetAttr(n, "count_include_pad", int64_t{c.include_pad ? 1 : 0});
    }
    m.Output("y");
    const Ref want = RefPool(x, std::string(c.op) == "MaxPool", c.k, c.s, c.pad_before, c.pad_after,
                             c.ceil_mode, c.include_pad);
    EXPECT_LE(MaxDiff(RunModel(m, x), want.v), kTolerance);
  }
}

// What PyTorch exports for x.view(x.size(0), -1): Shape → Gather → Unsqueeze → Concat →
// Reshape, folded at load time; before (axes attribute) and since opset 13 (axes input).
TEST(OnnxOpsTest, PyTorchShapeArithmeticBeforeReshape) {
  std::mt19937 rng(11);
  const Ref x = Ref::Random({1, 4, 3, 2}, rng);
  for (int64_t opset : {11, 13}) {
    SCOPED_TRACE(opset);
    ModelBuilder m(opset);
    m.Input("x", x.dims);
    m.Node("Relu", {"x"}, {"r"});
    m.Node("Shape", {"r"}, {"shape"});
    m.IntInitializer("zero", {}, {0});
    m.IntInitializer("minus_one", {1}, {-1});
    m.Node("Gather", {"shape", "zero"}, {"batch"});
    if (opset < 13) {
      SetAttr(m.Node("Unsqueeze", {"batch"}, {"batch1"}), "axes", std::vector<int64_t>{0});
    } else {
      m.IntInitializer("axes", {1}, {0});
      m.Node("Unsqueeze", {"batch", "axes"}, {"batch1"});
    }
    SetAttr(m.Node("Concat", {"batch1", "minus_one"}, {"target"}), "axis", int64_t{0});
    m.Node("Reshape", {"r", "target"}, {"y"});
    m.Output("y", {1, 24});
    std::vector<float> want = x.v;  // ONNX order, (C, H, W)
    for (float& v : want) v = std::max(v, 0.f);
    auto net = LoadModel(m);
    ASSERT_TRUE(net.ok()) << net.status().ToString();
    EXPECT_EQ((*net)->output_dims(), (std::vector<int64_t>{1, 24}));
    std::vector<float> out;
    ASSERT_TRUE((*net)->Run(ToNhwc(x), out).ok());
    EXPECT_LE(MaxDiff(out, want), kTolerance);
  }
}

// Reshape from ONNX order back to a spatial tensor, then a convolution and its output in ONNX
// order; Squeeze/Unsqueeze, Identity and Dropout on the way.
TEST(OnnxOpsTest, ReshapeIntoASpatialTensor) {
  std::mt19937 rng(12);
  const Ref x = Ref::Random({1, 2, 4, 6}, rng);
  const Ref w = Ref::Random({3, 3, 3, 3}, rng);
  ModelBuilder m(11);
  m.Input("x", x.dims);
  m.Node("Flatten", {"x"}, {"f"});
  m.IntInitializer("shape", {4}, {1, 3, 4, 4});
  m.Node("Reshape", {"f", "shape"}, {"r"});
  m.Node("Dropout", {"r"}, {"d"});
  SetAttr(m.Node("Unsqueeze", {"d"}, {"u"}), "axes", std::vector<int64_t>{0});
  SetAttr(m.Node("Squeeze", {"u"}, {"s"}), "axes", std::vector<int64_t>{0});
  AddConv(m, "s", "y", w, {}, {1, 1, 1, 1, 1, 1, 1}, "conv");
  m.Output("y");
  const Ref r{{1, 3, 4, 4}, x.v};
  const Ref want = RefConv(r, w, {}, {1, 1, 1, 1, 1, 1, 1});
  EXPECT_LE(MaxDiff(RunModel(m, x), want.v), kTolerance);
}

TEST(OnnxOpsTest, ClipLeakyReluAndStandaloneBatchNorm) {
  std::mt19937 rng(13);
  const Ref x = Ref::Random({1, 3, 4, 4}, rng, -8.f, 8.f);
  for (int64_t opset : {9, 11}) {
    SCOPED_TRACE(opset);
    ModelBuilder m(opset);
    m.Input("x", x.dims);
    m.Initializer("gamma", {3}, {1.f, 2.f, 0.5f});
    m.Initializer("beta", {3}, {0.f, 1.f, -1.f});
    m.Initializer("mean", {3}, {0.5f, 0.f, 1.f});
    m.Initializer("var", {3}, {1.f, 4.f, 0.25f});
    m.Node("BatchNormalization", {"x", "gamma", "beta", "mean", "var"}, {"b"});
    if (opset < 11) {
      auto& clip = m.Node("Clip", {"b"}, {"c"});
      SetAttr(clip, "min", -1.f);
      SetAttr(clip, "max", 3.f);
    } else {
      m.Initializer("lo", {}, {-1.f});
      m.Initializer("hi", {}, {3.f});
      m.Node("Clip", {"b", "lo", "hi"}, {"c"});
    }
    SetAttr(m.Node("LeakyRelu", {"c"}, {"y"}), "alpha", 0.25f);
    m.Output("y");
    const float gamma[] = {1, 2, 0.5f}, beta[] = {0, 1, -1}, mean[] = {0.5f, 0, 1},
                var[] = {1, 4, 0.25f};
    std::vector<float> want(x.v.size());
    for (size_t i = 0; i < want.size(); ++i) {
      const size_t c = i / 16;
      float v = (x.v[i] - mean[c]) / std::sqrt(var[c] + 1e-5f) * gamma[c] + beta[c];
      v = std::clamp(v, -1.f, 3.f);
      want[i] = v < 0 ? 0.25f * v : v;
    }
    EXPECT_LE(MaxDiff(RunModel(m, x), want), kTolerance);
  }
}

TEST(OnnxOpsTest, SymbolicInputSizeFromTheOptions) {
  std::mt19937 rng(14);
  const Ref w = Ref::Random({2, 3, 3, 3}, rng);
  ModelBuilder m;
  m.Input("x", {-1, 3, -1, -1});
  AddConv(m, "x", "y", w, {}, {2, 2, 1, 1, 1, 1, 1}, "conv");
  m.Output("y", {-1, 2, -1, -1});
  OnnxLoadOptions options;
  EXPECT_EQ(LoadModel(m, options).status().code(), StatusCode::kInvalidArgument);
  options.input_height = 9;
  options.input_width = 12;
  const Ref x = Ref::Random({1, 3, 9, 12}, rng);
  auto net = LoadModel(m, options);
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  EXPECT_EQ((*net)->input_shape(), (Shape{9, 12, 3}));
  EXPECT_EQ((*net)->output_dims(), (std::vector<int64_t>{1, 2, 5, 6}));
  std::vector<float> out;
  ASSERT_TRUE((*net)->Run(ToNhwc(x), out).ok());
  EXPECT_LE(MaxDiff(out, RefConv(x, w, {}, {2, 2, 1, 1, 1, 1, 1}).v), kTolerance);
}

// bf16 rounds inputs and weights to 8 mantissa bits: close to the float reference, not equal.
// kU8S8 runs a convolution on uint8 only after a ReLU6 (Clip(0, 6)); elsewhere bf16.
TEST(OnnxOpsTest, ReducedPrecisions) {
  std::mt19937 rng(15);
  const Ref x = Ref::Random({1, 16, 8, 8}, rng);
  const Ref w1 = Ref::Random({16, 16, 3, 3}, rng), w2 = Ref::Random({8, 16, 1, 1}, rng);
  ModelBuilder m(11);
  m.Input("x", x.dims);
  AddConv(m, "x", "a", w1, {}, {1, 1, 1, 1, 1, 1, 1}, "conv1");
  m.Initializer("zero", {}, {0.f});
  m.Initializer("six", {}, {6.f});
  m.Node("Clip", {"a", "zero", "six"}, {"r"});
  AddConv(m, "r", "y", w2, {}, {}, "conv2");
  m.Output("y");
  Ref a = RefConv(x, w1, {}, {1, 1, 1, 1, 1, 1, 1});
  for (float& v : a.v) v = std::clamp(v, 0.f, 6.f);
  const Ref want = RefConv(a, w2, {}, {});
  double scale = 0;
  for (float v : want.v) scale = std::max(scale, double{std::abs(v)});
  for (Precision p : {Precision::kBf16, Precision::kU8S8}) {
    SCOPED_TRACE(p == Precision::kBf16 ? "bf16" : "u8s8");
    OnnxLoadOptions options;
    options.precision = p;
    std::string summary;
    const std::vector<float> out = RunModel(m, x, options, &summary);
    const double diff = MaxDiff(out, want.v);
    EXPECT_LE(diff, 0.03 * scale);
    EXPECT_GT(diff, 0.0);  // it did round
    // The first layer's input has no proven range: bf16 either way.
    EXPECT_NE(summary.find("Conv+Clip [bf16] 'conv1'"), std::string::npos) << summary;
    const char* second = p == Precision::kU8S8 ? "Conv [u8s8] 'conv2'" : "Conv [bf16] 'conv2'";
    EXPECT_NE(summary.find(second), std::string::npos) << summary;
  }
}

}  // namespace
}  // namespace facetrail::nn
