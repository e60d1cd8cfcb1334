// ONNX graphs run on nn's layers: a network exported from PyTorch or TensorFlow becomes a file
// facetrail can load, instead of a hand-written class per network.
//
// WHAT THIS REPRESENTS
//   An OnnxNetwork is one ONNX model (ModelProto, parsed with Debian's libonnx protobuf schema)
//   with a single image input [1, C, H, W] and a single float output, built once for one input
//   size (weights reordered for this CPU, batch norm and constant affines folded into the
//   convolutions, activations and residual additions fused into them) and run many times.
//
//   Operators (default domain, opsets 7 to 18): those face networks are made of — Conv (plain,
//   grouped, depthwise; any kernel, strides, dilation 1, explicit symmetric or asymmetric pads,
//   auto_pad NOTSET/VALID/SAME_*), BatchNormalization, PRelu (per channel or one slope; any
//   broadcastable slope unfused), Relu, LeakyRelu, Clip, Sigmoid, Add, Sub, Mul and Div (NumPy
//   broadcasting), Gemm and MatMul with constant weights, Flatten, Reshape, Squeeze, Unsqueeze,
//   GlobalAveragePool, GlobalMaxPool, AveragePool, MaxPool, Concat (any axis), Identity, Dropout
//   (inference: identity), Cast (to float), Constant, and the shape arithmetic PyTorch exports
//   around a Reshape (Shape, Gather, Unsqueeze, Concat, Cast and arithmetic on constants),
//   folded at load time. Anything else is refused when the model is loaded, naming the node,
//   the operator and, for a known operator, the attribute or input that is not supported.
//   docs/ONNX.md lists the rules and how to add an operator.
//
//   Layout: activations are NHWC inside (nn::Tensor); the input is given NHWC and the output is
//   returned in ONNX's own element order (row-major over the output's ONNX shape), so a
//   Flatten/Reshape of a spatial tensor gives the same numbers as onnxruntime.
//
// ERRORS
//   Load: kNotFound (no file), kDataLoss (not a parsable ModelProto, a truncated or
//   inconsistent tensor, an attribute of the wrong type, a graph that references a value nobody
//   produces or whose shapes do not fit together), kInvalidArgument (more or fewer than one
//   input/output, an input that is not [1, C, H, W] float, and — common/status.h has no
//   kUnimplemented — an operator, attribute or form this loader does not run: those messages
//   end in "not supported"), kResourceExhausted (a file over 1 GiB, a tensor over 2^31 elements,
//   activations over max_activation_bytes). Messages name the file and the node
//   ("fr_feature.onnx: node 'Conv_12' (Conv): dilations [2,2] not supported").
//
// THREAD SAFETY
//   Run() uses scratch memory owned by the object: one thread at a time. Load one network per
//   worker (weights are small).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "nn/layers.h"
#include "nn/tensor.h"

namespace facetrail::nn {

struct OnnxLoadOptions {
  // Precision of the convolutions and dense layers (nn/layers.h). kU8S8 is used only where the
  // loader can prove the input range (the output of a convolution with ReLU6 / Clip(0, 6), and
  // no residual accumulation); elsewhere the layer falls back to kBf16.
  Precision precision = Precision::kF32;
  // Input size when the model's H or W is symbolic (0 = the model's own fixed size; a fixed
  // model dimension that differs is kInvalidArgument).
  int input_height = 0, input_width = 0;
  // Upper bound on the memory of the activations (the reused buffers of one forward pass);
  // a model that needs more is kResourceExhausted.
  size_t max_activation_bytes = size_t{1} << 30;
};

struct OnnxTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // ONNX shape as declared; -1 for a symbolic dimension
};

// What the model file says about itself, without building anything.
struct OnnxModelInfo {
  std::string producer;                 // e.g. "pytorch 1.10"
  int64_t opset = 0;                    // default-domain opset version (0: none imported)
  std::vector<OnnxTensorInfo> inputs;   // graph inputs that are not initializers
  std::vector<OnnxTensorInfo> outputs;  // graph outputs
  int64_t num_parameters = 0;           // elements of all initializers
  std::vector<std::string> operators;   // distinct op_types in graph order
  std::vector<std::string> unsupported_operators;  // those OnnxNetwork does not run
};

// Reads the header facts of an ONNX file (parses it, builds nothing); accepts any number of
// inputs and outputs, so that a model Load refuses can still be described. kNotFound,
// kDataLoss (not a ModelProto), kResourceExhausted (over 1 GiB).
Expected<OnnxModelInfo> InspectOnnx(const std::string& path);

class OnnxNetwork {
 public:
  static Expected<std::unique_ptr<OnnxNetwork>> Load(const std::string& path,
                                                     const OnnxLoadOptions& options = {});
  // The same from the bytes of a model file (`name` is used in messages). Hostile bytes get an
  // error, never a crash or a read outside `bytes`.
  static Expected<std::unique_ptr<OnnxNetwork>> LoadFromBytes(std::span<const uint8_t> bytes,
                                                              const std::string& name,
                                                              const OnnxLoadOptions& options = {});
  ~OnnxNetwork();
  OnnxNetwork(const OnnxNetwork&) = delete;
  OnnxNetwork& operator=(const OnnxNetwork&) = delete;

  const OnnxModelInfo& info() const;
  // The input this network was built for: {H, W, C} (NHWC), batch 1.
  Shape input_shape() const;
  // The output's ONNX shape with every dimension resolved, and its number of elements.
  const std::vector<int64_t>& output_dims() const;
  size_t output_size() const;
  // Multiply-adds × 2 of one forward pass (convolutions and dense layers).
  double flops() const;
  // Bytes of the activation buffers (reused across layers).
  size_t activation_bytes() const;
  // What runs, one line per step: the operators fused into it, a convolution's precision
  // when not fp32, the node, the shapes ("Conv+PRelu 'Conv_0': [1,3,112,112] -> [1,64,56,56]",
  // "Conv+PRelu [bf16] 'Conv_0': …").
  std::string Summary() const;

  // requires: input.shape == input_shape(). Fills `output` with output_size() floats in ONNX
  // element order. kInvalidArgument for a wrong input shape (output untouched).
  Status Run(const Tensor& input, std::vector<float>& output);

 private:
  OnnxNetwork();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facetrail::nn
