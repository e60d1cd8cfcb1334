// The ONNX loader's own graph: what an ONNX model becomes once its operators are checked, its
// shapes resolved for one input size and its shape arithmetic folded away. Built by ImportGraph
// (onnx_import.cpp), simplified by FuseGraph (onnx_fuse.cpp), turned into steps on buffers by
// onnx_plan.cpp.
//
// INVARIANTS
//   Values are numbered; ops refer to them by index. A value is either constant (known at load
//   time) or computed at run time by exactly one op (`producer`), or is the graph input. Ops are
//   in an order where every op's inputs are computed before it. Every dims vector is resolved
//   (no symbolic dimension) and its element count is at most kMaxTensorElements.
//   Layout of a run-time value: NHWC for rank 4 with batch 1, ONNX row-major otherwise (see
//   IsNhwc); constants are always ONNX row-major.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "nn/internal/onnx_model.h"
#include "nn/layers.h"
#include "nn/onnx.h"

namespace facetrail::nn::internal {

struct Value {
  std::string name;
  std::vector<int64_t> dims;
  std::optional<Constant> constant;  // set for load-time values
  int producer = -1;                 // op index, or -1 (the graph input, a constant)
  int uses = 0;                      // reads by live ops, + 1 for the graph output

  int64_t size() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
};

// A run-time value of rank 4 and batch 1 is stored NHWC; anything else in ONNX order.
inline bool IsNhwc(const std::vector<int64_t>& dims) {
  return dims.size() == 4 && dims[0] == 1;
}
// True when the value's storage order is ONNX's row-major order (plain storage, or NHWC where
// H·W = 1 or C = 1, whose element order is the same).
inline bool InOnnxOrder(const std::vector<int64_t>& dims) {
  return !IsNhwc(dims) || dims[2] * dims[3] == 1 || dims[1] == 1;
}

// Conv, and Gemm/MatMul with constant weights as a 1×1 convolution, with what was folded or
// fused into it (batch norm and constant affines, an activation, a residual Add).
// The weights are a view of the model's constant (no copy) until something is folded into them,
// then of `owned_weights`: move a ConvOp, never copy it (the view would point into the original).
struct ConvOp {
  ConvSpec spec;                     // activation, accumulate: what got fused; weight_layout
  Shape input;                       // NHWC; a [P, K] matrix input is {1, P, K}
  std::span<const float> weights;    // spec.weight_layout (nn/layers.h)
  std::vector<float> owned_weights;  // weights after a fold, else empty
  std::vector<float> bias;           // out_channels values, or empty
  bool is_dense = false;             // from Gemm/MatMul: input and output in ONNX order
  int accumulate_into = -1;          // spec.accumulate: the value added (dst = act(it + conv))
};

// y = x·scale[c] + shift[c] along axis 1 (batch norm, or Add/Sub/Mul/Div by a per-channel or
// scalar constant). Empty scale = 1, empty shift = 0.
struct AffineOp {
  std::vector<float> scale, shift;
};

// Elementwise activation, one input; kPRelu with `slopes` per channel (axis 1) or one for all.
struct ActivationOp {
  Activation kind = Activation::kRelu;
  float alpha = 0.f, beta = 0.f;
  std::vector<float> slopes;
};

// Two inputs, NumPy broadcasting; kPRelu: x < 0 ? x·slope : x.
enum class BinaryKind { kAdd, kSub, kMul, kDiv, kPRelu };
struct BinaryOp {
  BinaryKind kind = BinaryKind::kAdd;
};

struct PoolOp {
  bool max = false;  // MaxPool / GlobalMaxPool, else average
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  Pads pads;
  bool count_include_pad = false;  // average: divide by the window including padding
};

// The same elements in ONNX order under new dims (Flatten, Reshape, Squeeze, Unsqueeze).
struct ReshapeOp {};

struct ConcatOp {
  int axis = 0;  // ONNX axis, non-negative
};

using OpKind = std::variant<ConvOp, AffineOp, ActivationOp, BinaryOp, PoolOp, ReshapeOp, ConcatOp>;

struct Op {
  std::string node;     // the ONNX node's name, or "#<index>" when it has none
  std::string op_type;  // the ONNX operator, for messages and OnnxModelInfo
  std::vector<int> inputs;
  int output = -1;
  OpKind kind;
  bool removed = false;  // fused into another op
};

struct Graph {
  std::vector<Value> values;
  std::vector<Op> ops;
  int input = -1, output = -1;
};

// Builds the graph of `model` for the options' input size. Messages name the node
// ("node 'Conv_12' (Conv): dilations [2,2] not supported"); the caller prefixes the file name.
// Each initializer's bytes are released from `model` once decoded (the decoded copy can then
// reuse that memory: page faults dominate loading on the target VMs).
Expected<Graph> ImportGraph(onnx::ModelProto& model, const OnnxLoadOptions& options);

// The header facts of `model` (OnnxModelInfo), with the same checks of input and output.
Expected<OnnxModelInfo> ReadModelInfo(const onnx::ModelProto& model);

// Folds batch norms and constant affines into the convolution before them, and fuses an
// activation and a residual Add into it, where the convolution's output has no other reader.
void FuseGraph(Graph& graph);

}  // namespace facetrail::nn::internal
