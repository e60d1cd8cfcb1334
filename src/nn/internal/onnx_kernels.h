// The plain loops behind the ONNX operators that are not convolutions: elementwise maps with
// broadcasting over any storage order (also used for layout changes and Concat), activations,
// and pooling on NHWC. None of them is in the hot path of the face networks, whose elementwise
// work is fused into the convolutions (onnx_fuse.cpp); they are written to be obviously right
// and reasonably fast (contiguous inner loops the compiler vectorises).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "nn/internal/onnx_model.h"
#include "nn/layers.h"

namespace facetrail::nn::internal {

// Per ONNX axis, the distance in floats between neighbours of a value stored NHWC (rank 4,
// batch 1: [H·W·C, 1, W·C, C]) or row-major (anything else, `nhwc` false).
std::vector<int64_t> StorageStrides(const std::vector<int64_t>& dims, bool nhwc);
// The strides of a value of `dims` read as an operand over an iteration space of `out_dims`
// (NumPy broadcasting: aligned right, 0 along broadcast axes).
std::vector<int64_t> BroadcastOperandStrides(const std::vector<int64_t>& dims,
                                             const std::vector<int64_t>& strides,
                                             const std::vector<int64_t>& out_dims);

// out = f(a, b, c) elementwise. kCopy: a. kPRelu: a < 0 ? a·b : a. kMulAdd: a·b + c.
enum class MapKind { kCopy, kAdd, kSub, kMul, kDiv, kPRelu, kMulAdd };

// A loop nest over an iteration space for up to four operands (0 = output, 1..3 = a, b, c):
// axes of size 1 dropped, neighbouring axes merged where every operand allows it, the
// innermost axis last.
struct LoopNest {
  int rank = 0;
  std::array<int64_t, kMaxRank> dims{};
  std::array<std::array<int64_t, kMaxRank>, 4> strides{};
};

// `dims`: the iteration space; `order`: its axes from outermost to innermost (the output's
// storage order); `strides`: for each operand (output first), per axis of `dims`.
LoopNest MakeLoopNest(const std::vector<int64_t>& dims, const std::vector<int>& order,
                      const std::vector<std::vector<int64_t>>& strides);

// Runs `kind` over `nest`; unused operands may be null.
void RunMap(MapKind kind, const LoopNest& nest, float* out, const float* a, const float* b,
            const float* c);

// out[i] = act(in[i]) for n values (in == out allowed). kPRelu is not handled here (it is a
// map with a slope operand).
void ApplyActivation(Activation kind, float alpha, float beta, const float* in, float* out,
                     size_t n);

struct PoolSpec {
  bool max = false;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  Pads pads;
  bool count_include_pad = false;
};
// Max or average pooling of an NHWC tensor with explicit pads. Average divides by the window's
// positions inside the input, or (count_include_pad) inside the padded input.
void PoolNhwc(const PoolSpec& spec, Shape in_shape, const float* in, Shape out_shape, float* out);

}  // namespace facetrail::nn::internal
