#include "nn/layers.h"

#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "nn/internal/prelu_kernels.h"

namespace facetrail::nn {

namespace {

using dnnl::memory;
using Tag = dnnl::memory::format_tag;
using Dt = dnnl::memory::data_type;

dnnl::engine& CpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& ThreadStream() {
  thread_local dnnl::stream stream(CpuEngine());
  return stream;
}

// Memory for a layer's temporaries, one buffer per kind and thread: a layer runs to completion
// on the calling thread (Run waits for the stream), so every layer a thread runs can use the same
// buffer, instead of each layer keeping its own (allocated and zero-filled when the network is
// built: most of the page faults of building the SSD, ~12 µs each on the target VMs). Mapped in
// 2 MiB-aligned blocks advised MADV_HUGEPAGE, like MemoryArena; grown when a larger layer needs
// more (the old contents are not kept); unmapped when the thread ends.
class ThreadBuffer {
 public:
  ThreadBuffer() = default;
  ~ThreadBuffer() { Release(); }
  ThreadBuffer(const ThreadBuffer&) = delete;
  ThreadBuffer& operator=(const ThreadBuffer&) = delete;

  // At least `bytes` bytes, 64-byte aligned, valid until the next call on this thread. Throws
  // std::bad_alloc when there is no memory at all.
  void* Get(size_t bytes) {
    if (bytes <= size_ && base_ != nullptr) return base_;
    if (base_ == nullptr && bytes + 64 <= fallback_.size()) return Aligned(fallback_.data());
    Release();
    constexpr size_t kHugePage = size_t{2} << 20;
    const size_t size = std::max<size_t>((bytes + kHugePage - 1) / kHugePage, 1) * kHugePage;
    void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
      fallback_.resize(bytes + 64);
      return Aligned(fallback_.data());
    }
    auto* first = static_cast<uint8_t*>(raw);
    const size_t lead = (kHugePage - reinterpret_cast<uintptr_t>(raw) % kHugePage) % kHugePage;
    if (lead > 0) ::munmap(first, lead);
    if (kHugePage - lead > 0) ::munmap(first + lead + size, kHugePage - lead);
    base_ = first + lead;
    size_ = size;
    ::madvise(base_, size_, MADV_HUGEPAGE);  // advice only: ordinary pages when not taken
    return base_;
  }

 private:
  static uint8_t* Aligned(uint8_t* p) {
    return p + (64 - reinterpret_cast<uintptr_t>(p) % 64) % 64;
  }
  void Release() {
    if (base_ != nullptr) ::munmap(base_, size_);
    base_ = nullptr;
    size_ = 0;
    fallback_.clear();
    fallback_.shrink_to_fit();
  }
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  std::vector<uint8_t> fallback_;  // when mmap fails
};

// oneDNN's scratchpad of the layer being run.
void* ThreadScratchpad(size_t bytes) {
  thread_local ThreadBuffer buffer;
  return buffer.Get(bytes);
}

// A layer's input converted to bfloat16.
void* ThreadInputCopy(size_t bytes) {
  thread_local ThreadBuffer buffer;
  return buffer.Get(bytes);
}

memory::desc ActivationDesc(Shape s) {
  return memory::desc({1, s.c, s.h, s.w}, Dt::f32, Tag::nhwc);
}

// x < 0 → x·slope[c] over `pixels` rows of slopes.size() channels (NHWC), in place, in blocks
// of rows spread over the OpenMP threads (nn/internal/prelu_kernels.h).
void PRelu(float* data, size_t pixels, std::span<const float> slopes) {
  constexpr size_t kRowsPerBlock = 64;
  const internal::PReluFn kernel = internal::PReluKernel();
  const size_t c = slopes.size(), blocks = (pixels + kRowsPerBlock - 1) / kRowsPerBlock;
#pragma omp parallel for schedule(static) if (pixels * c >= (size_t{1} << 16))
  for (size_t b = 0; b < blocks; ++b) {
    const size_t first = b * kRowsPerBlock;
    kernel(data + first * c, std::min(kRowsPerBlock, pixels - first), slopes.data(), c);
  }
}

}  // namespace

int OutputSize(int in, int kernel, int stride, int pad_before, int pad_after) {
  const int span = in + pad_before + pad_after - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

int OutputSize(int in, int kernel, int stride, Padding padding) {
  if (padding == Padding::kSame) return (in + stride - 1) / stride;
  return (in - kernel) / stride + 1;
}

int PaddingBefore(int in, int kernel, int stride, Padding padding) {
  if (padding == Padding::kValid) return 0;
  int out = OutputSize(in, kernel, stride, padding);
  int total = std::max((out - 1) * stride + kernel - in, 0);
  return total / 2;
}

struct Conv2d::Impl {
  dnnl::convolution_forward primitive;
  memory::desc src_md, dst_md;
  // kBf16: the float input is converted into a bf16 copy first (in the arena when the layer was
  // built with one, else in the thread's ThreadInputCopy; weights are stored in bf16; the output
  // and any accumulation stay float).
  // kU8S8: the primitive reads u8 (src_q_md) and writes u8 (ReLU6 layers) or f32 (dst_q_md);
  // Forward(Tensor, Tensor) converts through src_u8 / dst_u8 with to_u8 / from_u8 (allocated on
  // the first such call: networks that keep their activations in uint8 never need them).
  bool bf16 = false, u8 = false;
  memory::desc src_bf16_md;
  dnnl::reorder to_bf16;
  uint16_t* src_bf16 = nullptr;  // in the arena, or null: the thread's ThreadInputCopy
  memory::desc src_q_md, dst_q_md;
  bool u8_out = false;
  dnnl::reorder to_u8, from_u8;
  std::vector<uint8_t> src_u8, dst_u8;
  memory weights, bias;
  std::vector<float> prelu_slopes;  // kPRelu: one per output channel (float output)
  memory::desc scratchpad_md;       // the thread's ThreadScratchpad is given at each run
};

Conv2d::~Conv2d() = default;

double Conv2d::flops() const {
  const int groups = spec_.depthwise ? spec_.in_channels : spec_.groups;
  const int in_per_group = spec_.in_channels / groups;  // Create checked it divides
  double per_out = static_cast<double>(spec_.kernel_h) * spec_.kernel_w * in_per_group;
  return 2.0 * per_out * output_.h * output_.w * output_.c;
}

namespace {

// The geometry checks Create makes before touching oneDNN (which would throw or abort).
Status CheckSpec(const ConvSpec& spec, int groups, int cout) {
  const int cin = spec.in_channels;
  if (spec.kernel_h < 1 || spec.kernel_w < 1 || cin < 1 || cout < 1 || spec.stride < 1 ||
      spec.stride_w < 0 || groups < 1) {
    return InvalidArgument("conv: kernel, channels, strides and groups must be positive");
  }
  if (cin % groups != 0 || cout % groups != 0) {
    return InvalidArgument("conv: " + std::to_string(cin) + " input and " + std::to_string(cout) +
                           " output channels do not split into " + std::to_string(groups) +
                           " groups");
  }
  if (spec.pads && (spec.pads->top < 0 || spec.pads->left < 0 || spec.pads->bottom < 0 ||
                    spec.pads->right < 0)) {
    return InvalidArgument("conv: negative padding");
  }
  const size_t num_slopes = spec.prelu_slopes.size();
  if (spec.activation == Activation::kPRelu
          ? num_slopes != 1 && num_slopes != static_cast<size_t>(cout)
          : num_slopes != 0) {
    return InvalidArgument("conv: PReLU takes one slope or one per output channel (" +
                           std::to_string(num_slopes) + " given)");
  }
  return Status::Ok();
}

}  // namespace

Expected<std::unique_ptr<Conv2d>> Conv2d::Create(const ConvSpec& spec, Shape input,
                                                 std::span<const float> weights,
                                                 std::span<const float> bias,
                                                 std::span<const float> scale,
                                                 std::span<const float> shift, Precision precision,
                                                 MemoryArena* arena) {
  const int kh = spec.kernel_h, kw = spec.kernel_w, cin = spec.in_channels;
  const int cout = spec.depthwise ? spec.in_channels : spec.out_channels;
  const int groups = spec.depthwise ? cin : spec.groups;
  FT_RETURN_IF_ERROR(CheckSpec(spec, groups, cout));
  if (input.c != cin) {
    return InvalidArgument("conv: input has " + std::to_string(input.c) +
                           " channels, layer expects " + std::to_string(cin));
  }
  const size_t num_weights =
      static_cast<size_t>(kh) * kw * static_cast<size_t>(cin / groups) * cout;
  if (weights.size() != num_weights ||
      (!bias.empty() && bias.size() != static_cast<size_t>(cout)) ||
      (!scale.empty() && scale.size() != static_cast<size_t>(cout)) ||
      (!shift.empty() && shift.size() != static_cast<size_t>(cout))) {
    return InvalidArgument("conv: weight/bias sizes do not match the layer shape");
  }
  auto conv = std::unique_ptr<Conv2d>(new Conv2d());
  conv->spec_ = spec;
  conv->input_ = input;
  const int stride_h = spec.stride, stride_w = spec.stride_w > 0 ? spec.stride_w : spec.stride;
  Pads pads;
  if (spec.pads) {
    pads = *spec.pads;
    conv->output_ = {OutputSize(input.h, kh, stride_h, pads.top, pads.bottom),
                     OutputSize(input.w, kw, stride_w, pads.left, pads.right), cout};
  } else {
    conv->output_ = {OutputSize(input.h, kh, stride_h, spec.padding),
                     OutputSize(input.w, kw, stride_w, spec.padding), cout};
  }
  if (conv->output_.h <= 0 || conv->output_.w <= 0) {
    return InvalidArgument("conv: input too small for the kernel");
  }
  if (!spec.pads) {
    pads.top = PaddingBefore(input.h, kh, stride_h, spec.padding);
    pads.left = PaddingBefore(input.w, kw, stride_w, spec.padding);
    pads.bottom = std::max((conv->output_.h - 1) * stride_h + kh - input.h - pads.top, 0);
    pads.right = std::max((conv->output_.w - 1) * stride_w + kw - input.w - pads.left, 0);
  }

  // The output channel of weight i: the last axis in the TF layouts, the first in OIHW.
  const size_t per_out = num_weights / static_cast<size_t>(cout);
  const bool oihw = spec.weight_layout == WeightLayout::kOihw;
  auto out_channel = [&](size_t i) { return oihw ? i / per_out : i % static_cast<size_t>(cout); };
  // Fold the affine into weights and bias. The weights are copied only when they change.
  const bool copy = !scale.empty() || precision == Precision::kU8S8;
  std::vector<float> w;
  if (copy) w.assign(weights.begin(), weights.end());
  std::vector<float> b(static_cast<size_t>(cout), 0.f);
  for (int o = 0; o < cout; ++o) {
    float bo = bias.empty() ? 0.f : bias[static_cast<size_t>(o)];
    if (!scale.empty()) bo *= scale[static_cast<size_t>(o)];
    if (!shift.empty()) bo += shift[static_cast<size_t>(o)];
    b[static_cast<size_t>(o)] = bo;
  }
  if (!scale.empty()) {
    for (size_t i = 0; i < w.size(); ++i) w[i] *= scale[out_channel(i)];
  }

  try {
    auto& engine = CpuEngine();
    auto impl = std::make_unique<Impl>();
    impl->src_md = ActivationDesc(input);
    impl->dst_md = ActivationDesc(conv->output_);
    // TF layouts: [kh][kw][cin][cout] is hwio; grouped [kh][kw][cin/g][g·(cout/g)] is hwigo.
    const bool grouped = groups > 1;
    memory::dims wdims = grouped ? memory::dims{groups, cout / groups, cin / groups, kh, kw}
                                 : memory::dims{cout, cin, kh, kw};
    // OIHW: [o][i][kh][kw] is oihw; grouped [g·(cout/g)][cin/g][kh][kw] is goihw.
    const Tag user_tag =
        oihw ? (grouped ? Tag::goihw : Tag::oihw) : (grouped ? Tag::hwigo : Tag::hwio);
    memory::desc user_w_md(wdims, Dt::f32, user_tag);
    memory::desc any_w_md(wdims, Dt::f32, Tag::any);
    memory::desc b_md({cout}, Dt::f32, Tag::x);

    dnnl::post_ops ops;
    if (spec.accumulate) ops.append_sum(1.f);
    switch (spec.activation) {
      case Activation::kNone: break;
      case Activation::kRelu:
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
        break;
      case Activation::kRelu6:
        // (kU8S8: ReLU6 is the saturation of the uint8 output.)
        if (precision != Precision::kU8S8) {
          ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f);
        }
        break;
      case Activation::kLeakyRelu:
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, spec.alpha, 0.f);
        break;
      case Activation::kClip:
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, spec.alpha, spec.beta);
        break;
      case Activation::kSigmoid:
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f);
        break;
      case Activation::kPRelu:
        // Not oneDNN's PReLU post-op: with it, oneDNN 2.6 drops to its reference convolution
        // (ref:any, ~100× slower) for NHWC. A loop over the fresh output instead (Run).
        impl->prelu_slopes.resize(static_cast<size_t>(cout));
        for (size_t o = 0; o < impl->prelu_slopes.size(); ++o) {
          impl->prelu_slopes[o] = spec.prelu_slopes[spec.prelu_slopes.size() == 1 ? 0 : o];
        }
        break;
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

    impl->bf16 = precision == Precision::kBf16;
    impl->u8 = precision == Precision::kU8S8;
    memory::desc conv_src_md = impl->src_md;
    if (impl->bf16) {
      impl->src_bf16_md = memory::desc({1, input.c, input.h, input.w}, Dt::bf16, Tag::nhwc);
      conv_src_md = impl->src_bf16_md;
      any_w_md = memory::desc(wdims, Dt::bf16, Tag::any);
      if (arena != nullptr) {
        impl->src_bf16 = static_cast<uint16_t*>(arena->Allocate(input.size() * sizeof(uint16_t)));
      }
      impl->to_bf16 = dnnl::reorder(
          dnnl::reorder::primitive_desc(engine, impl->src_md, engine, impl->src_bf16_md));
    } else if (impl->u8) {
      if (spec.accumulate) return InvalidArgument("conv: kU8S8 cannot accumulate");
      impl->u8_out = spec.activation == Activation::kRelu6;
      impl->src_q_md = memory::desc({1, input.c, input.h, input.w}, Dt::u8, Tag::nhwc);
      impl->dst_q_md = impl->u8_out ? memory::desc({1, cout, conv->output_.h, conv->output_.w},
                                                   Dt::u8, Tag::nhwc)
                                    : impl->dst_md;
      conv_src_md = impl->src_q_md;
      any_w_md = memory::desc(wdims, Dt::s8, Tag::any);
      dnnl::primitive_attr q;
      q.set_output_scales(0, {1.f / kU8Step});
      impl->to_u8 = dnnl::reorder(
          dnnl::reorder::primitive_desc(engine, impl->src_md, engine, impl->src_q_md, q));
      if (impl->u8_out) {
        dnnl::primitive_attr dq;
        dq.set_output_scales(0, {kU8Step});
        impl->from_u8 = dnnl::reorder(
            dnnl::reorder::primitive_desc(engine, impl->dst_q_md, engine, impl->dst_md, dq));
      }
      // Symmetric per-channel weight scales. oneDNN computes dst = α·(acc + bias) with acc in
      // units of (kU8Step / w_scale[o]); α takes it to float, or to kU8Step units for u8 output.
      std::vector<float> w_scales(static_cast<size_t>(cout), 1.f);
      std::vector<float> max_abs(static_cast<size_t>(cout), 0.f);
      for (size_t i = 0; i < w.size(); ++i) {
        float& m = max_abs[out_channel(i)];
        m = std::max(m, std::fabs(w[i]));
      }
      std::vector<float> out_scales(static_cast<size_t>(cout));
      for (size_t o = 0; o < w_scales.size(); ++o) {
        w_scales[o] = max_abs[o] > 0 ? 127.f / max_abs[o] : 1.f;
        const float acc_unit = kU8Step / w_scales[o];
        b[o] /= acc_unit;
        out_scales[o] = impl->u8_out ? acc_unit / kU8Step : acc_unit;
      }
      for (size_t i = 0; i < w.size(); ++i) w[i] = std::nearbyint(w[i] * w_scales[out_channel(i)]);
      attr.set_output_scales(2, out_scales);
    }
    dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, conv_src_md,
        any_w_md, b_md, impl->u8 ? impl->dst_q_md : impl->dst_md, {stride_h, stride_w},
        {pads.top, pads.left}, {pads.bottom, pads.right});
    dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
    impl->primitive = dnnl::convolution_forward(pd);

    // oneDNN's memory takes a non-const handle; the reorder only reads it.
    memory user_w(user_w_md, engine, copy ? w.data() : const_cast<float*>(weights.data()));
    void* in_arena = arena != nullptr ? arena->Allocate(pd.weights_desc().get_size()) : nullptr;
    impl->weights = in_arena != nullptr ? memory(pd.weights_desc(), engine, in_arena)
                                        : memory(pd.weights_desc(), engine);
    dnnl::reorder(user_w, impl->weights).execute(ThreadStream(), user_w, impl->weights);
    impl->bias = memory(b_md, engine);
    std::copy(b.begin(), b.end(), static_cast<float*>(impl->bias.get_data_handle()));
    ThreadStream().wait();
    impl->scratchpad_md = pd.scratchpad_desc();
    conv->impl_ = std::move(impl);
  } catch (const dnnl::error& e) {
    return Internal(std::string("oneDNN could not build a convolution: ") + e.what());
  }
  return conv;
}

void Conv2d::Run(void* src, void* dst) {
  auto& engine = CpuEngine();
  memory src_mem(impl_->u8     ? impl_->src_q_md
                 : impl_->bf16 ? impl_->src_bf16_md
                               : impl_->src_md,
                 engine, src);
  memory dst_mem(impl_->u8 ? impl_->dst_q_md : impl_->dst_md, engine, dst);
  memory scratchpad(impl_->scratchpad_md, engine,
                    ThreadScratchpad(impl_->scratchpad_md.get_size()));
  impl_->primitive.execute(ThreadStream(), {{DNNL_ARG_SRC, src_mem},
                                            {DNNL_ARG_WEIGHTS, impl_->weights},
                                            {DNNL_ARG_BIAS, impl_->bias},
                                            {DNNL_ARG_DST, dst_mem},
                                            {DNNL_ARG_SCRATCHPAD, scratchpad}});
  ThreadStream().wait();
  if (!impl_->prelu_slopes.empty()) {
    PRelu(static_cast<float*>(dst), output_.size() / static_cast<size_t>(output_.c),
          impl_->prelu_slopes);
  }
}

namespace {
// A mismatched call would read or write outside the buffers, or the wrong element type: a
// programming error.
void RequireForForward(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "facetrail: nn::Conv2d::Forward: %s\n", what);
    std::abort();
  }
}
}  // namespace

void Conv2d::Forward(const Tensor& src, Tensor& dst) {
  if (!spec_.accumulate) dst.Resize(output_);
  RequireForForward(src.shape == input_ && dst.shape == output_, "tensor shapes do not match");
  Forward(std::span<const float>(src.data), std::span<float>(dst.data));
}

void Conv2d::Forward(std::span<const float> src, std::span<float> dst) {
  RequireForForward(src.size() == input_.size() && dst.size() == output_.size(),
                    "buffer sizes do not match the layer");
  auto& engine = CpuEngine();
  auto& stream = ThreadStream();
  // oneDNN takes a non-const handle for every memory; it only reads a source.
  memory src_mem(impl_->src_md, engine, const_cast<float*>(src.data()));
  if (impl_->bf16) {
    void* copy = impl_->src_bf16 != nullptr ? impl_->src_bf16
                                            : ThreadInputCopy(input_.size() * sizeof(uint16_t));
    memory half(impl_->src_bf16_md, engine, copy);
    impl_->to_bf16.execute(stream, src_mem, half);
    Run(copy, dst.data());
  } else if (impl_->u8) {
    if (impl_->src_u8.empty()) impl_->src_u8.resize(input_.size());
    if (impl_->u8_out && impl_->dst_u8.empty()) impl_->dst_u8.resize(output_.size());
    memory q(impl_->src_q_md, engine, impl_->src_u8.data());
    impl_->to_u8.execute(stream, src_mem, q);
    if (impl_->u8_out) {
      Run(impl_->src_u8.data(), impl_->dst_u8.data());
      memory qd(impl_->dst_q_md, engine, impl_->dst_u8.data());
      memory fd(impl_->dst_md, engine, dst.data());
      impl_->from_u8.execute(stream, qd, fd);
      stream.wait();
    } else {
      Run(impl_->src_u8.data(), dst.data());
    }
  } else {
    Run(const_cast<float*>(src.data()), dst.data());
  }
}

void Conv2d::Forward(const QTensor& src, QTensor& dst) {
  RequireForForward(impl_->u8 && impl_->u8_out && src.shape == input_,
                    "(QTensor, QTensor) on the wrong kind of layer");
  dst.Resize(output_);
  Run(const_cast<uint8_t*>(src.data.data()), dst.data.data());
}

void Conv2d::Forward(const QTensor& src, Tensor& dst) {
  RequireForForward(impl_->u8 && !impl_->u8_out && src.shape == input_,
                    "(QTensor, Tensor) on the wrong kind of layer");
  dst.Resize(output_);
  Run(const_cast<uint8_t*>(src.data.data()), dst.data.data());
}

void Quantize(const Tensor& src, QTensor& dst) {
  dst.Resize(src.shape);
  // oneDNN's reorder: vectorised, rounds to nearest even and saturates to [0, 255] like the
  // conversions inside the kU8S8 layers.
  auto& engine = CpuEngine();
  const Shape s = src.shape;
  memory::desc f_md({1, s.c, s.h, s.w}, Dt::f32, Tag::nhwc);
  memory::desc q_md({1, s.c, s.h, s.w}, Dt::u8, Tag::nhwc);
  dnnl::primitive_attr attr;
  attr.set_output_scales(0, {1.f / kU8Step});
  memory f(f_md, engine, const_cast<float*>(src.data.data()));
  memory q(q_md, engine, dst.data.data());
  dnnl::reorder(dnnl::reorder::primitive_desc(engine, f_md, engine, q_md, attr))
      .execute(ThreadStream(), f, q);
  ThreadStream().wait();
}

namespace {
template <bool kMax>
void Pool(const Tensor& src, int kernel, int stride, Padding padding, Tensor& dst) {
  const Shape in = src.shape;
  Shape out{OutputSize(in.h, kernel, stride, padding), OutputSize(in.w, kernel, stride, padding),
            in.c};
  dst.Resize(out);
  const int pt = PaddingBefore(in.h, kernel, stride, padding);
  const int pl = PaddingBefore(in.w, kernel, stride, padding);
  std::vector<float> acc(static_cast<size_t>(in.c));
  for (int oy = 0; oy < out.h; ++oy) {
    for (int ox = 0; ox < out.w; ++ox) {
      std::fill(acc.begin(), acc.end(), kMax ? -std::numeric_limits<float>::infinity() : 0.f);
      int count = 0;
      for (int ky = 0; ky < kernel; ++ky) {
        int y = oy * stride - pt + ky;
        if (y < 0 || y >= in.h) continue;
        for (int kx = 0; kx < kernel; ++kx) {
          int x = ox * stride - pl + kx;
          if (x < 0 || x >= in.w) continue;
          const float* p = src.at(y, x);
          for (int c = 0; c < in.c; ++c) {
            if constexpr (kMax) {
              acc[static_cast<size_t>(c)] = std::max(acc[static_cast<size_t>(c)], p[c]);
            } else {
              acc[static_cast<size_t>(c)] += p[c];
            }
          }
          ++count;
        }
      }
      float* q = dst.at(oy, ox);
      for (int c = 0; c < in.c; ++c) {
        q[c] = kMax ? acc[static_cast<size_t>(c)]
                    : acc[static_cast<size_t>(c)] / static_cast<float>(std::max(count, 1));
      }
    }
  }
}
}  // namespace

void MaxPool(const Tensor& src, int kernel, int stride, Padding padding, Tensor& dst) {
  Pool<true>(src, kernel, stride, padding, dst);
}
void AvgPool(const Tensor& src, int kernel, int stride, Padding padding, Tensor& dst) {
  Pool<false>(src, kernel, stride, padding, dst);
}

void Relu(Tensor& t) {
  for (float& v : t.data) v = std::max(v, 0.f);
}

void ReluInto(const Tensor& src, Tensor& dst) {
  dst.Resize(src.shape);
  for (size_t i = 0; i < src.data.size(); ++i) dst.data[i] = std::max(src.data[i], 0.f);
}

void Dense(std::span<const float> in, std::span<const float> weights, std::span<const float> bias,
           std::span<float> out) {
  const size_t n_out = out.size();
  for (size_t j = 0; j < n_out; ++j) out[j] = bias.empty() ? 0.f : bias[j];
  for (size_t i = 0; i < in.size(); ++i) {
    const float x = in[i];
    const float* row = weights.data() + i * n_out;
    for (size_t j = 0; j < n_out; ++j) out[j] += x * row[j];
  }
}

void SetThreadsForCurrentThread(int threads) {
  omp_set_num_threads(std::max(threads, 1));
}

int ThreadsForCurrentThread() {
  return omp_get_max_threads();
}

MemoryArena::~MemoryArena() {
  for (const Block& b : blocks_) ::munmap(b.base, b.size);
}

void* MemoryArena::Allocate(size_t bytes) {
  constexpr size_t kAlign = 64, kHugePage = size_t{2} << 20;
  bytes = std::max<size_t>((bytes + kAlign - 1) / kAlign * kAlign, kAlign);
  if (blocks_.empty() || used_ + bytes > blocks_.back().size) {
    // A new block of whole huge pages, aligned to one (mapped a page larger, then trimmed).
    const size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    auto* first = static_cast<uint8_t*>(raw);
    const size_t lead = (kHugePage - reinterpret_cast<uintptr_t>(raw) % kHugePage) % kHugePage;
    uint8_t* base = first + lead;
    if (lead > 0) ::munmap(first, lead);
    if (kHugePage - lead > 0) ::munmap(base + size, kHugePage - lead);
    ::madvise(base, size, MADV_HUGEPAGE);  // advice only: ordinary pages when not taken
    blocks_.push_back({base, size});
    mapped_ += size;
    used_ = 0;
  }
  void* p = static_cast<uint8_t*>(blocks_.back().base) + used_;
  used_ += bytes;
  return p;
}

}  // namespace facetrail::nn
