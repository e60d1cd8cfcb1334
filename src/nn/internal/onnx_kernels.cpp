#include "nn/internal/onnx_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace facetrail::nn::internal {

std::vector<int64_t> StorageStrides(const std::vector<int64_t>& dims, bool nhwc) {
  std::vector<int64_t> strides(dims.size(), 1);
  if (nhwc) {
    const int64_t c = dims[1], h = dims[2], w = dims[3];
    return {h * w * c, 1, w * c, c};
  }
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return strides;
}

std::vector<int64_t> BroadcastOperandStrides(const std::vector<int64_t>& dims,
                                             const std::vector<int64_t>& strides,
                                             const std::vector<int64_t>& out_dims) {
  std::vector<int64_t> out(out_dims.size(), 0);
  const size_t offset = out_dims.size() - dims.size();
  for (size_t i = 0; i < dims.size(); ++i) {
    out[offset + i] = dims[i] == 1 ? 0 : strides[i];
  }
  return out;
}

LoopNest MakeLoopNest(const std::vector<int64_t>& dims, const std::vector<int>& order,
                      const std::vector<std::vector<int64_t>>& strides) {
  LoopNest nest;
  for (int axis : order) {
    const auto a = static_cast<size_t>(axis);
    const int64_t d = dims[a];
    if (d == 1) continue;
    std::array<int64_t, 4> s{};
    for (size_t op = 0; op < strides.size() && op < 4; ++op) s[op] = strides[op][a];
    if (nest.rank > 0) {
      const auto last = static_cast<size_t>(nest.rank - 1);
      bool merge = true;
      for (size_t op = 0; op < 4; ++op) merge = merge && nest.strides[op][last] == s[op] * d;
      if (merge) {
        nest.dims[last] *= d;
        for (size_t op = 0; op < 4; ++op) nest.strides[op][last] = s[op];
        continue;
      }
    }
    const auto r = static_cast<size_t>(nest.rank++);
    nest.dims[r] = d;
    for (size_t op = 0; op < 4; ++op) nest.strides[op][r] = s[op];
  }
  if (nest.rank == 0) {  // a single element
    nest.rank = 1;
    nest.dims[0] = 1;
  }
  return nest;
}

namespace {

template <MapKind K>
inline float Apply(float a, float b, float c) {
  if constexpr (K == MapKind::kCopy) return a;
  if constexpr (K == MapKind::kAdd) return a + b;
  if constexpr (K == MapKind::kSub) return a - b;
  if constexpr (K == MapKind::kMul) return a * b;
  if constexpr (K == MapKind::kDiv) return a / b;
  if constexpr (K == MapKind::kPRelu) return a < 0.f ? a * b : a;
  if constexpr (K == MapKind::kMulAdd) return a * b + c;
}

// One run of the innermost axis; contiguous cases get loops the compiler vectorises.
template <MapKind K>
void Inner(int64_t n, float* o, int64_t so, const float* a, int64_t sa, const float* b, int64_t sb,
           const float* c, int64_t sc) {
  if (so == 1 && sa == 1 && (sb == 0 || sb == 1) && (sc == 0 || sc == 1)) {
    if (sb == 1 && sc == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = Apply<K>(a[i], b[i], c[i]);
    } else if (sb == 1) {
      const float cv = *c;
      for (int64_t i = 0; i < n; ++i) o[i] = Apply<K>(a[i], b[i], cv);
    } else if (sc == 1) {
      const float bv = *b;
      for (int64_t i = 0; i < n; ++i) o[i] = Apply<K>(a[i], bv, c[i]);
    } else {
      const float bv = *b, cv = *c;
      for (int64_t i = 0; i < n; ++i) o[i] = Apply<K>(a[i], bv, cv);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) o[i * so] = Apply<K>(a[i * sa], b[i * sb], c[i * sc]);
}

template <MapKind K>
void RunNest(const LoopNest& nest, float* out, const float* a, const float* b, const float* c) {
  const int inner = nest.rank - 1;
  const auto in = static_cast<size_t>(inner);
  int64_t outer = 1;
  for (int d = 0; d < inner; ++d) outer *= nest.dims[static_cast<size_t>(d)];
  std::array<int64_t, kMaxRank> index{};
  std::array<int64_t, 4> offset{};
  for (int64_t t = 0; t < outer; ++t) {
    Inner<K>(nest.dims[in], out + offset[0], nest.strides[0][in], a + offset[1],
             nest.strides[1][in], b + offset[2], nest.strides[2][in], c + offset[3],
             nest.strides[3][in]);
    for (int d = inner - 1; d >= 0; --d) {
      const auto ax = static_cast<size_t>(d);
      for (size_t op = 0; op < 4; ++op) offset[op] += nest.strides[op][ax];
      if (++index[ax] < nest.dims[ax]) break;
      for (size_t op = 0; op < 4; ++op) offset[op] -= nest.strides[op][ax] * nest.dims[ax];
      index[ax] = 0;
    }
  }
}

}  // namespace

void RunMap(MapKind kind, const LoopNest& nest, float* out, const float* a, const float* b,
            const float* c) {
  // Unused operands read a zero with stride 0 (their strides are 0 in the nest).
  static const float kZero = 0.f;
  if (b == nullptr) b = &kZero;
  if (c == nullptr) c = &kZero;
  switch (kind) {
    case MapKind::kCopy: RunNest<MapKind::kCopy>(nest, out, a, b, c); break;
    case MapKind::kAdd: RunNest<MapKind::kAdd>(nest, out, a, b, c); break;
    case MapKind::kSub: RunNest<MapKind::kSub>(nest, out, a, b, c); break;
    case MapKind::kMul: RunNest<MapKind::kMul>(nest, out, a, b, c); break;
    case MapKind::kDiv: RunNest<MapKind::kDiv>(nest, out, a, b, c); break;
    case MapKind::kPRelu: RunNest<MapKind::kPRelu>(nest, out, a, b, c); break;
    case MapKind::kMulAdd: RunNest<MapKind::kMulAdd>(nest, out, a, b, c); break;
  }
}

void ApplyActivation(Activation kind, float alpha, float beta, const float* in, float* out,
                     size_t n) {
  switch (kind) {
    case Activation::kNone:
    case Activation::kPRelu:
      if (in != out) std::copy(in, in + n, out);
      break;
    case Activation::kRelu:
      for (size_t i = 0; i < n; ++i) out[i] = std::max(in[i], 0.f);
      break;
    case Activation::kRelu6:
      for (size_t i = 0; i < n; ++i) out[i] = std::min(std::max(in[i], 0.f), 6.f);
      break;
    case Activation::kLeakyRelu:
      for (size_t i = 0; i < n; ++i) out[i] = in[i] < 0.f ? alpha * in[i] : in[i];
      break;
    case Activation::kClip:
      for (size_t i = 0; i < n; ++i) out[i] = std::min(std::max(in[i], alpha), beta);
      break;
    case Activation::kSigmoid:
      for (size_t i = 0; i < n; ++i) out[i] = 1.f / (1.f + std::exp(-in[i]));
      break;
  }
}

void PoolNhwc(const PoolSpec& spec, Shape in_shape, const float* in, Shape out_shape, float* out) {
  const int c = in_shape.c;
  for (int oy = 0; oy < out_shape.h; ++oy) {
    const int y0 = oy * spec.stride_h - spec.pads.top;
    const int y_begin = std::max(y0, 0), y_end = std::min(y0 + spec.kernel_h, in_shape.h);
    const int padded_h = std::min(y0 + spec.kernel_h, in_shape.h + spec.pads.bottom) - y0;
    for (int ox = 0; ox < out_shape.w; ++ox) {
      const int x0 = ox * spec.stride_w - spec.pads.left;
      const int x_begin = std::max(x0, 0), x_end = std::min(x0 + spec.kernel_w, in_shape.w);
      const int padded_w = std::min(x0 + spec.kernel_w, in_shape.w + spec.pads.right) - x0;
      float* q = out + (static_cast<size_t>(oy) * out_shape.w + ox) * static_cast<size_t>(c);
      std::fill(q, q + c, spec.max ? -std::numeric_limits<float>::infinity() : 0.f);
      for (int y = y_begin; y < y_end; ++y) {
        for (int x = x_begin; x < x_end; ++x) {
          const float* p = in + (static_cast<size_t>(y) * in_shape.w + x) * static_cast<size_t>(c);
          if (spec.max) {
            for (int ch = 0; ch < c; ++ch) q[ch] = std::max(q[ch], p[ch]);
          } else {
            for (int ch = 0; ch < c; ++ch) q[ch] += p[ch];
          }
        }
      }
      if (!spec.max) {
        const int count =
            spec.count_include_pad ? padded_h * padded_w : (y_end - y_begin) * (x_end - x_begin);
        const auto divisor = static_cast<float>(std::max(count, 1));
        for (int ch = 0; ch < c; ++ch) q[ch] /= divisor;
      }
    }
  }
}

}  // namespace facetrail::nn::internal
