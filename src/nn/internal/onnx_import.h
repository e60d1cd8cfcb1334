// The importer behind ImportGraph (onnx_graph.h): one pass over the nodes in file order, each
// node checked by its operator's handler, which resolves its output shapes for the one input
// size, folds it when its inputs are constants (shape arithmetic), and otherwise appends an op.
// The handlers live in onnx_import_ops.cpp (operators that compute on activations) and
// onnx_import_shape.cpp (shape arithmetic, constants and element-order-preserving reshapes).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "nn/internal/onnx_graph.h"

namespace facetrail::nn::internal {

class Importer {
 public:
  Importer(onnx::ModelProto& model, const OnnxLoadOptions& options)
      : model_(model), options_(options) {}
  Expected<Graph> Import();

  // True when `op_type` (default domain) has a handler.
  static bool Supports(std::string_view op_type);

  // What a handler sees of one node. inputs[i] is -1 for an omitted optional input ("").
  struct Node {
    const onnx::NodeProto& proto;
    const Attributes& attributes;
    std::vector<int> inputs;
  };

 private:
  using Handler = Status (Importer::*)(const Node&);
  struct Operator {
    Handler handler;
    std::vector<std::string_view> attributes;  // the attribute names the handler reads
  };
  static const std::map<std::string, Operator, std::less<>>& Operators();

  Status ImportInitializers();
  Status ImportInput();
  Status ImportNode(const onnx::NodeProto& node, int index);
  Status ImportOutput();

  // Values.
  const Value& value(int id) const { return graph_.values[static_cast<size_t>(id)]; }
  bool IsConstant(int id) const { return id >= 0 && value(id).constant.has_value(); }
  // Defines output `index` of `node` as a constant / as computed by a new op.
  Status DefineConstant(const Node& node, int index, Constant c);
  Status DefineOp(const Node& node, OpKind kind, std::vector<int> inputs,
                  std::vector<int64_t> dims);
  // Output `index` of `node` is the value `id` itself (Identity, Dropout, Cast to float).
  Status DefineAlias(const Node& node, int index, int id);
  Status CheckOutputName(const Node& node, int index) const;

  // Input checks; messages name the input.
  Status RequireInputCount(const Node& node, int min, int max) const;
  Status RequireRunTime(const Node& node, int index) const;  // not a constant, present
  Expected<const Constant*> RequireConstant(const Node& node, int index) const;
  Expected<std::vector<int64_t>> ConstantInts(const Node& node, int index) const;
  std::string InputName(const Node& node, int index) const;
  int64_t opset() const { return opset_; }

  // onnx_import_ops.cpp
  Status Conv(const Node& node);
  Status Gemm(const Node& node);
  Status MatMul(const Node& node);
  Status BatchNormalization(const Node& node);
  Status Arithmetic(const Node& node);  // Add, Sub, Mul, Div
  Status PRelu(const Node& node);
  Status Activation(const Node& node);  // Relu, LeakyRelu, Sigmoid, Clip
  Status Pool(const Node& node);        // MaxPool, AveragePool
  Status GlobalPool(const Node& node);  // GlobalAveragePool, GlobalMaxPool
  Status Concat(const Node& node);

  // onnx_import_shape.cpp
  Status ConstantNode(const Node& node);
  Status Identity(const Node& node);  // Identity, Dropout
  Status Cast(const Node& node);
  Status Shape(const Node& node);
  Status Gather(const Node& node);
  Status Flatten(const Node& node);
  Status Reshape(const Node& node);
  Status Squeeze(const Node& node);  // Squeeze, Unsqueeze
  // Output 0 of `node` is input 0 under `dims` (folded when constant).
  Status DefineReshape(const Node& node, std::vector<int64_t> dims);
  // Counts `dims`' elements against kMaxFoldedElements before a fold computes them.
  Status ReserveFolded(const std::vector<int64_t>& dims);
  // Concat of constant inputs (all float or all integer) along `axis`, giving `dims`.
  Expected<Constant> FoldConcat(const Node& node, int axis, const std::vector<int64_t>& dims) const;

  onnx::ModelProto& model_;
  const OnnxLoadOptions& options_;
  int64_t opset_ = 0;
  Graph graph_;
  std::map<std::string, int, std::less<>> ids_;       // value name → id, as defined so far
  std::map<std::string, int, std::less<>> producer_;  // value name → index of the node making it
  std::set<std::string, std::less<>> read_;           // names some node or the graph reads
  std::set<std::string, std::less<>> initializer_names_;
  int64_t folded_elements_ = 0;  // elements of the constants computed so far
};

// NumPy broadcasting of two shapes; kDataLoss when they do not broadcast.
Expected<std::vector<int64_t>> BroadcastDims(const std::vector<int64_t>& a,
                                             const std::vector<int64_t>& b);

// a ∘ b for two constants of the same element type, with broadcasting (shape arithmetic).
// Integer division by zero and integer overflow are kDataLoss.
Expected<Constant> FoldArithmetic(BinaryKind kind, const Constant& a, const Constant& b);

}  // namespace facetrail::nn::internal
