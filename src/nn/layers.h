// The few layer kinds the face networks need, on oneDNN (convolutions) and plain loops (the
// cheap rest).
//
// WHAT THIS REPRESENTS
//   Conv2d is one convolution with a fixed input shape, built once (weights reordered into the
//   layout oneDNN picks for this CPU) and run many times. It folds the per-channel affine that
//   follows a convolution in these networks (batch norm, dlib's scale layer) into its weights and
//   bias, and fuses the activation, and optionally accumulation into the output (dst += conv).
//   Padding follows TensorFlow: "same" gives out = ceil(in / stride) with floor(pad/2) before and
//   the rest after; "valid" gives out = floor((in − k) / stride) + 1. Graphs that state their
//   geometry (ONNX) give explicit pads instead, out = floor((in + before + after − k) / stride) +
//   1, and may use separate strides along y and x, grouped convolutions and a parametric
//   activation.
//
// THREAD SAFETY
//   A Conv2d may be run from one thread at a time (it may own buffers: a bf16 copy of its input
//   in its arena, uint8 conversions). Give each worker its own network objects; weights are
//   small. Temporaries that live only during one Forward (oneDNN's scratchpad, and the bf16 copy
//   of the input of a layer built without an arena) are per thread, shared by every layer that
//   thread runs.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/status.h"
#include "nn/tensor.h"

namespace facetrail::nn {

enum class Padding { kSame, kValid };
// kLeakyRelu: x < 0 → alpha·x. kClip: clamp to [alpha, beta]. kSigmoid: 1 / (1 + e^−x).
// kPRelu: x < 0 → slope·x, one slope per output channel or one for all (ConvSpec::prelu_slopes);
// applied by a vectorised loop over the fresh output, as oneDNN 2.6's PReLU post-op makes it fall
// back to its reference convolution for NHWC. The others are oneDNN post-ops.
enum class Activation { kNone, kRelu, kRelu6, kLeakyRelu, kClip, kSigmoid, kPRelu };

// How the weights given to Conv2d::Create are laid out (o: output channel; i: input channel
// within its group).
enum class WeightLayout {
  kTensorFlow,  // [kh][kw][i][o] (depthwise: [kh][kw][c][1]; grouped: o over all groups)
  kOihw,        // ONNX and PyTorch: [o][i][kh][kw]
};

// Zeros added around the input, in pixels.
struct Pads {
  int top = 0, left = 0, bottom = 0, right = 0;
  friend bool operator==(const Pads&, const Pads&) = default;
};

// Numeric precision of the convolution arithmetic. kF32 is exact IEEE float (parity mode);
// kBf16 rounds inputs and weights to bfloat16 and runs oneDNN's bf16 kernels (AVX512-BF16 or
// AMX where present); accumulation and outputs stay float32.
// kU8S8 is for layers whose input is the output of a ReLU6 (every value in [0, 6]): the input is
// uint8 with the fixed step kU8Step = 6/255 (nn/tensor.h; values outside are clamped), the
// weights int8 per output channel (symmetric, the largest |w| → 127), products are summed in
// int32 (AVX512-VNNI). A layer with ReLU6 writes uint8 again (ReLU6 is then the saturation of
// the conversion); any other writes float32. No calibration is needed: ReLU6 fixes the range.
// Accumulation (ConvSpec::accumulate) is not available in kU8S8.
enum class Precision { kF32, kBf16, kU8S8 };

struct ConvSpec {
  int kernel_h = 1, kernel_w = 1;
  int in_channels = 0, out_channels = 0;
  int stride = 1;
  Padding padding = Padding::kSame;
  bool depthwise = false;  // groups = in_channels, one filter per channel (out == in)
  Activation activation = Activation::kNone;
  bool accumulate = false;  // dst = act(dst + conv(src)) instead of dst = act(conv(src))
  // What graphs with explicit geometry (ONNX) need besides; the defaults change nothing above.
  int stride_w = 0;  // horizontal stride; 0 = `stride` (then the vertical stride only)
  int groups = 1;    // in and out channels split into this many independent groups
  std::optional<Pads> pads = std::nullopt;  // explicit padding; replaces `padding`
  float alpha = 0.f, beta = 0.f;            // kLeakyRelu, kClip parameters (see Activation)
  WeightLayout weight_layout = WeightLayout::kTensorFlow;
  std::vector<float> prelu_slopes = {};  // kPRelu: out_channels values, or one for all
};

// Output size of a convolution or pooling along one axis, explicit padding (floor).
int OutputSize(int in, int kernel, int stride, int pad_before, int pad_after);
// Output size of a convolution or pooling along one axis, TensorFlow rules.
int OutputSize(int in, int kernel, int stride, Padding padding);
// Padding before (top/left) along one axis, TensorFlow rules; the rest goes after.
int PaddingBefore(int in, int kernel, int stride, Padding padding);

// Memory for buffers that live as long as a network (reordered weights, activations), mapped in
// 2 MiB-aligned blocks advised MADV_HUGEPAGE: the first touch then costs one page fault per
// 2 MiB instead of one per 4 KiB, where the kernel has huge pages to give (ordinary pages
// otherwise). On the target VMs a fault costs ~12 µs (2026-12), which made page faults most of
// the time to load a network. Blocks are given back when the arena is destroyed, not before.
// Not thread-safe: one builder at a time.
class MemoryArena {
 public:
  MemoryArena() = default;
  ~MemoryArena();
  MemoryArena(const MemoryArena&) = delete;
  MemoryArena& operator=(const MemoryArena&) = delete;

  // `bytes` of zero-filled memory aligned to 64 bytes, valid until the arena is destroyed;
  // null when the system refuses the mapping.
  void* Allocate(size_t bytes);
  size_t bytes_mapped() const { return mapped_; }

 private:
  struct Block {
    void* base;
    size_t size;
  };
  std::vector<Block> blocks_;
  size_t used_ = 0;    // bytes handed out of blocks_.back()
  size_t mapped_ = 0;  // sum of the blocks' sizes
};

class Conv2d {
 public:
  // weights: spec.weight_layout, TensorFlow [kh][kw][cin][cout] by default (depthwise:
  // [kh][kw][c][1]; grouped: [kh][kw][cin / groups][cout], output channel o in group
  // o / (cout / groups)), or ONNX [cout][cin / groups][kh][kw]; read during Create only (no
  // copy is kept; none is made without scale in kF32/kBf16); bias: cout floats or empty (zero).
  // scale/shift (optional, cout floats each): a per-output-channel affine y·scale + shift applied
  // after the bias and before the activation, folded in. arena (optional): where the
  // reordered weights and the layer's buffers go; it must outlive the layer.
  static Expected<std::unique_ptr<Conv2d>> Create(const ConvSpec& spec, Shape input,
                                                  std::span<const float> weights,
                                                  std::span<const float> bias,
                                                  std::span<const float> scale = {},
                                                  std::span<const float> shift = {},
                                                  Precision precision = Precision::kF32,
                                                  MemoryArena* arena = nullptr);
  ~Conv2d();
  Conv2d(const Conv2d&) = delete;
  Conv2d& operator=(const Conv2d&) = delete;

  Shape input_shape() const { return input_; }
  Shape output_shape() const { return output_; }
  double flops() const;  // multiply-adds × 2

  // requires: src.shape == input_shape(). ensures: dst.shape == output_shape() (resized when not
  // accumulating; when accumulating dst must already have that shape).
  void Forward(const Tensor& src, Tensor& dst);
  // The same on memory the caller manages: src holds input_shape().size() floats, dst
  // output_shape().size() floats, both NHWC float32 (for any precision).
  void Forward(std::span<const float> src, std::span<float> dst);
  // kU8S8 layers on quantized activations, without conversions: uint8 → uint8 for a ReLU6
  // layer, uint8 → float32 for any other. requires: the matching kind of layer.
  void Forward(const QTensor& src, QTensor& dst);
  void Forward(const QTensor& src, Tensor& dst);

 private:
  Conv2d() = default;
  struct Impl;
  void Run(void* src, void* dst);
  std::unique_ptr<Impl> impl_;
  ConvSpec spec_;
  Shape input_, output_;
};

// dst = round(clamp(src, 0, 6) / kU8Step): a float ReLU6 output as input for kU8S8 layers.
void Quantize(const Tensor& src, QTensor& dst);

// Pooling with TensorFlow padding rules (average excludes padding, like tf.avgPool).
void MaxPool(const Tensor& src, int kernel, int stride, Padding padding, Tensor& dst);
void AvgPool(const Tensor& src, int kernel, int stride, Padding padding, Tensor& dst);

// dst = max(dst, 0) elementwise; dst = src when given.
void Relu(Tensor& t);
void ReluInto(const Tensor& src, Tensor& dst);

// out[j] = bias[j] + Σ_i in[i]·weights[i][j]; weights row-major [in][out]; bias may be empty.
void Dense(std::span<const float> in, std::span<const float> weights, std::span<const float> bias,
           std::span<float> out);

// Limits the threads oneDNN uses for calls from the current thread (OpenMP runtime).
void SetThreadsForCurrentThread(int threads);
int ThreadsForCurrentThread();

}  // namespace facetrail::nn
