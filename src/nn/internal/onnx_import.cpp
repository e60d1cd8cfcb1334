#include "nn/internal/onnx_import.h"

#include <algorithm>
#include <utility>

namespace facetrail::nn::internal {

namespace {

// Opsets whose semantics the handlers implement (they read the few attributes that moved to
// inputs over the versions: Clip 11, Squeeze/Unsqueeze 13, Reshape allowzero 14, Shape 15).
constexpr int64_t kMinOpset = 7, kMaxOpset = 18;

std::string NodeName(const onnx::NodeProto& node, int index) {
  return node.name().empty() ? "#" + std::to_string(index) : node.name();
}

bool IsDefaultDomain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx";
}

// The dims of a graph input or output: -1 for a symbolic or unknown dimension.
std::vector<int64_t> DeclaredDims(const onnx::ValueInfoProto& info) {
  std::vector<int64_t> dims;
  if (!info.type().has_tensor_type() || !info.type().tensor_type().has_shape()) return dims;
  for (const auto& d : info.type().tensor_type().shape().dim()) {
    dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  }
  return dims;
}

std::string NameList(const std::vector<OnnxTensorInfo>& tensors) {
  std::string s;
  for (const auto& t : tensors) s += (s.empty() ? "'" : ", '") + t.name + "'";
  return s;
}

}  // namespace

Expected<std::vector<int64_t>> BroadcastDims(const std::vector<int64_t>& a,
                                             const std::vector<int64_t>& b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      return DataLoss("shapes " + DimsToString(a) + " and " + DimsToString(b) +
                      " do not broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Expected<OnnxModelInfo> ReadModelInfo(const onnx::ModelProto& model) {
  if (!model.has_graph()) return DataLoss("not an ONNX model: no graph");
  OnnxModelInfo info;
  info.producer = model.producer_name();
  if (!model.producer_version().empty()) info.producer += " " + model.producer_version();
  for (const auto& opset : model.opset_import()) {
    if (IsDefaultDomain(opset.domain())) info.opset = opset.version();
  }
  const onnx::GraphProto& graph = model.graph();
  std::set<std::string, std::less<>> initializers;
  for (const auto& t : graph.initializer()) {
    initializers.insert(t.name());
    const std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    FT_ASSIGN_OR_RETURN(const int64_t n, NumElements(dims, "initializer '" + t.name() + "'"));
    info.num_parameters += n;
  }
  for (const auto& in : graph.input()) {
    if (!initializers.contains(in.name())) info.inputs.push_back({in.name(), DeclaredDims(in)});
  }
  for (const auto& out : graph.output()) info.outputs.push_back({out.name(), DeclaredDims(out)});
  for (const auto& node : graph.node()) {
    const std::string& op = node.op_type();
    if (std::find(info.operators.begin(), info.operators.end(), op) != info.operators.end()) {
      continue;
    }
    info.operators.push_back(op);
    if (!IsDefaultDomain(node.domain()) || !Importer::Supports(op)) {
      info.unsupported_operators.push_back(op);
    }
  }
  return info;
}

const std::map<std::string, Importer::Operator, std::less<>>& Importer::Operators() {
  using I = Importer;
  static const std::map<std::string, Operator, std::less<>> kOperators = {
      {"Conv", {&I::Conv, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}}},
      {"Gemm", {&I::Gemm, {"alpha", "beta", "transA", "transB"}}},
      {"MatMul", {&I::MatMul, {}}},
      {"BatchNormalization",
       {&I::BatchNormalization, {"epsilon", "momentum", "spatial", "training_mode"}}},
      {"Add", {&I::Arithmetic, {}}},
      {"Sub", {&I::Arithmetic, {}}},
      {"Mul", {&I::Arithmetic, {}}},
      {"Div", {&I::Arithmetic, {}}},
      {"PRelu", {&I::PRelu, {}}},
      {"Relu", {&I::Activation, {}}},
      {"LeakyRelu", {&I::Activation, {"alpha"}}},
      {"Sigmoid", {&I::Activation, {}}},
      {"Clip", {&I::Activation, {"min", "max"}}},
      {"MaxPool",
       {&I::Pool,
        {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order",
         "strides"}}},
      {"AveragePool",
       {&I::Pool,
        {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"}}},
      {"GlobalAveragePool", {&I::GlobalPool, {}}},
      {"GlobalMaxPool", {&I::GlobalPool, {}}},
      {"Concat", {&I::Concat, {"axis"}}},
      {"Constant",
       {&I::ConstantNode, {"value", "value_float", "value_floats", "value_int", "value_ints"}}},
      {"Identity", {&I::Identity, {}}},
      {"Dropout", {&I::Identity, {"ratio", "seed"}}},
      {"Cast", {&I::Cast, {"to"}}},
      {"Shape", {&I::Shape, {"start", "end"}}},
      {"Gather", {&I::Gather, {"axis"}}},
      {"Flatten", {&I::Flatten, {"axis"}}},
      {"Reshape", {&I::Reshape, {"allowzero"}}},
      {"Squeeze", {&I::Squeeze, {"axes"}}},
      {"Unsqueeze", {&I::Squeeze, {"axes"}}},
  };
  return kOperators;
}

bool Importer::Supports(std::string_view op_type) {
  return Operators().contains(op_type);
}

Expected<Graph> ImportGraph(onnx::ModelProto& model, const OnnxLoadOptions& options) {
  return Importer(model, options).Import();
}

Expected<Graph> Importer::Import() {
  if (!model_.has_graph()) return DataLoss("not an ONNX model: no graph");
  bool found = false;
  for (const auto& opset : model_.opset_import()) {
    if (IsDefaultDomain(opset.domain())) {
      opset_ = opset.version();
      found = true;
    }
  }
  if (!found) return DataLoss("the model imports no opset of the default ONNX domain");
  if (opset_ < kMinOpset || opset_ > kMaxOpset) {
    return InvalidArgument("opset " + std::to_string(opset_) + " not supported (" +
                           std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + ")");
  }
  const onnx::GraphProto& g = model_.graph();
  if (g.sparse_initializer_size() > 0) {
    return InvalidArgument("sparse initializers not supported");
  }
  // Who makes and who reads each name: for "made by a later node" and unsupported outputs.
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& node = g.node(i);
    for (const auto& in : node.input()) read_.insert(in);
    for (const auto& out : node.output()) {
      if (!out.empty() && !producer_.emplace(out, i).second) {
        return DataLoss("value '" + out + "' is the output of two nodes ('" +
                        NodeName(g.node(producer_.at(out)), producer_.at(out)) + "' and '" +
                        NodeName(node, i) + "')");
      }
    }
  }
  for (const auto& out : g.output()) read_.insert(out.name());

  FT_RETURN_IF_ERROR(ImportInitializers());
  FT_RETURN_IF_ERROR(ImportInput());
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& node = g.node(i);
    FT_RETURN_IF_ERROR(ImportNode(node, i).WithContext("node '" + NodeName(node, i) + "' (" +
                                                       node.op_type() + ")"));
  }
  FT_RETURN_IF_ERROR(ImportOutput());
  return std::move(graph_);
}

Status Importer::ImportInitializers() {
  for (auto& t : *model_.mutable_graph()->mutable_initializer()) {
    const std::string what = "initializer '" + t.name() + "'";
    if (t.name().empty()) return DataLoss("an initializer has no name");
    if (producer_.contains(t.name())) {
      return DataLoss(what + " is also the output of a node");
    }
    FT_ASSIGN_OR_RETURN(Constant c, TakeTensor(t, what));
    Value v;
    v.name = t.name();
    v.dims = c.dims;
    v.constant = std::move(c);
    if (!ids_.emplace(t.name(), static_cast<int>(graph_.values.size())).second) {
      return DataLoss(what + " is given twice");
    }
    initializer_names_.insert(t.name());
    graph_.values.push_back(std::move(v));
  }
  return Status::Ok();
}

Status Importer::ImportInput() {
  const onnx::GraphProto& g = model_.graph();
  std::vector<const onnx::ValueInfoProto*> inputs;
  std::vector<OnnxTensorInfo> listed;
  for (const auto& in : g.input()) {
    // An initializer listed as an input (IR < 4) is a constant with a default value.
    if (initializer_names_.contains(in.name())) continue;
    inputs.push_back(&in);
    listed.push_back({in.name(), {}});
  }
  if (inputs.size() != 1) {
    return InvalidArgument("the model has " + std::to_string(inputs.size()) + " inputs (" +
                           NameList(listed) + "); one image input [1, C, H, W] is supported");
  }
  const onnx::ValueInfoProto& in = *inputs[0];
  const std::string what = "input '" + in.name() + "'";
  if (in.name().empty()) return DataLoss("the graph input has no name");
  if (producer_.contains(in.name())) return DataLoss(what + " is also the output of a node");
  if (!in.type().has_tensor_type() ||
      in.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT) {
    return InvalidArgument(what + " is not a float tensor");
  }
  const std::vector<int64_t> declared = DeclaredDims(in);
  if (declared.size() != 4) {
    return InvalidArgument(what + " has rank " + std::to_string(declared.size()) +
                           ", not the image shape [1, C, H, W]");
  }
  if (declared[0] != 1 && declared[0] != -1) {
    return InvalidArgument(what + " has batch " + std::to_string(declared[0]) + "; batch 1 only");
  }
  if (declared[1] < 1) return InvalidArgument(what + " has no fixed channel count");
  std::vector<int64_t> dims = {1, declared[1], 0, 0};
  const int wanted[2] = {options_.input_height, options_.input_width};
  const char* axis[2] = {"height", "width"};
  for (size_t i = 0; i < 2; ++i) {
    const int64_t d = declared[2 + i];
    if (wanted[i] < 0) return InvalidArgument(std::string("negative input ") + axis[i]);
    if (d >= 1 && wanted[i] != 0 && wanted[i] != d) {
      return InvalidArgument(what + " has a fixed " + axis[i] + " of " + std::to_string(d) +
                             ", not " + std::to_string(wanted[i]));
    }
    if (d < 1 && wanted[i] == 0) {
      return InvalidArgument(what + " has a symbolic " + axis[i] +
                             ": give it in OnnxLoadOptions (input_height, input_width)");
    }
    dims[2 + i] = d >= 1 ? d : wanted[i];
  }
  if (dims[2] > kMaxInputSide || dims[3] > kMaxInputSide) {
    return ResourceExhausted(what + ": " + DimsToString(dims) + " is larger than " +
                             std::to_string(kMaxInputSide) + " pixels a side");
  }
  FT_RETURN_IF_ERROR(NumElements(dims, what).status());
  Value v;
  v.name = in.name();
  v.dims = dims;
  graph_.input = static_cast<int>(graph_.values.size());
  ids_.emplace(in.name(), graph_.input);
  graph_.values.push_back(std::move(v));
  return Status::Ok();
}

Status Importer::ImportNode(const onnx::NodeProto& node, int index) {
  if (!IsDefaultDomain(node.domain())) {
    return InvalidArgument("operator domain '" + node.domain() + "' not supported");
  }
  const auto& operators = Operators();
  auto op = operators.find(node.op_type());
  if (op == operators.end()) return InvalidArgument("operator not supported");
  std::vector<int> inputs;
  for (const std::string& name : node.input()) {
    if (name.empty()) {
      inputs.push_back(-1);
      continue;
    }
    auto id = ids_.find(name);
    if (id != ids_.end()) {
      inputs.push_back(id->second);
      continue;
    }
    auto made = producer_.find(name);
    if (made != producer_.end() && made->second >= index) {
      return DataLoss("input '" + name + "' is made by node '" +
                      NodeName(model_.graph().node(made->second), made->second) +
                      "', which comes later (the graph is not in topological order)");
    }
    if (made != producer_.end()) {
      // Made by an earlier node that defined no such output (an output it does not support).
      return InvalidArgument("input '" + name + "' is an output its node does not produce here");
    }
    return DataLoss("input '" + name + "' is not produced by any node, initializer or input");
  }
  // An attribute the handler does not read is refused by name, never silently ignored.
  FT_ASSIGN_OR_RETURN(const Attributes attributes, Attributes::Read(node, op->second.attributes));
  const Node n{node, attributes, std::move(inputs)};
  FT_RETURN_IF_ERROR((this->*op->second.handler)(n));
  // Outputs past those the handler defined must be unused (Dropout's mask, BatchNormalization's
  // training statistics, MaxPool's indices).
  for (int i = 0; i < node.output_size(); ++i) {
    const std::string& out = node.output(i);
    if (out.empty() || ids_.contains(out)) continue;
    if (read_.contains(out)) {
      return InvalidArgument("output #" + std::to_string(i) + " ('" + out +
                             "') is read by the graph: not supported");
    }
  }
  return Status::Ok();
}

Status Importer::ImportOutput() {
  const onnx::GraphProto& g = model_.graph();
  if (g.output_size() != 1) {
    std::vector<OnnxTensorInfo> listed;
    for (const auto& out : g.output()) listed.push_back({out.name(), {}});
    return InvalidArgument("the model has " + std::to_string(g.output_size()) + " outputs (" +
                           NameList(listed) + "); one output is supported");
  }
  const onnx::ValueInfoProto& out = g.output(0);
  const std::string what = "output '" + out.name() + "'";
  auto id = ids_.find(out.name());
  if (id == ids_.end()) return DataLoss(what + " is not produced by any node");
  const Value& v = value(id->second);
  if (v.constant) return InvalidArgument(what + " is a constant: not supported");
  if (out.type().has_tensor_type() &&
      out.type().tensor_type().elem_type() != onnx::TensorProto::FLOAT) {
    return InvalidArgument(what + " is not a float tensor");
  }
  const std::vector<int64_t> declared = DeclaredDims(out);
  if (out.type().tensor_type().has_shape()) {
    bool same = declared.size() == v.dims.size();
    for (size_t i = 0; same && i < declared.size(); ++i) {
      same = declared[i] == -1 || declared[i] == v.dims[i];
    }
    if (!same) {
      return DataLoss(what + " is declared " + DimsToString(declared) + " but the graph makes " +
                      DimsToString(v.dims));
    }
  }
  graph_.output = id->second;
  graph_.values[static_cast<size_t>(id->second)].uses += 1;
  return Status::Ok();
}

Status Importer::CheckOutputName(const Node& node, int index) const {
  if (index >= node.proto.output_size() || node.proto.output(index).empty()) {
    return DataLoss("output #" + std::to_string(index) + " has no name");
  }
  const std::string& name = node.proto.output(index);
  if (ids_.contains(name)) return DataLoss("output '" + name + "' is defined twice");
  return Status::Ok();
}

Status Importer::ReserveFolded(const std::vector<int64_t>& dims) {
  FT_ASSIGN_OR_RETURN(const int64_t n, NumElements(dims, "a constant computed at load time"));
  folded_elements_ += n;
  if (folded_elements_ > kMaxFoldedElements) {
    return ResourceExhausted("the constants computed at load time exceed " +
                             std::to_string(kMaxFoldedElements) + " elements");
  }
  return Status::Ok();
}

Status Importer::DefineConstant(const Node& node, int index, Constant c) {
  FT_RETURN_IF_ERROR(CheckOutputName(node, index));
  const std::string& name = node.proto.output(index);
  FT_RETURN_IF_ERROR(NumElements(c.dims, "output '" + name + "'").status());
  Value v;
  v.name = name;
  v.dims = c.dims;
  v.constant = std::move(c);
  ids_.emplace(name, static_cast<int>(graph_.values.size()));
  graph_.values.push_back(std::move(v));
  return Status::Ok();
}

Status Importer::DefineOp(const Node& node, OpKind kind, std::vector<int> inputs,
                          std::vector<int64_t> dims) {
  FT_RETURN_IF_ERROR(CheckOutputName(node, 0));
  const std::string& name = node.proto.output(0);
  FT_ASSIGN_OR_RETURN(const int64_t n, NumElements(dims, "output '" + name + "'"));
  if (n == 0) return InvalidArgument("output '" + name + "' is empty " + DimsToString(dims));
  const int id = static_cast<int>(graph_.values.size());
  Value v;
  v.name = name;
  v.dims = std::move(dims);
  v.producer = static_cast<int>(graph_.ops.size());
  graph_.values.push_back(std::move(v));
  ids_.emplace(name, id);
  for (int in : inputs) graph_.values[static_cast<size_t>(in)].uses += 1;
  Op op;
  op.node = node.proto.name().empty() ? "#" + std::to_string(graph_.ops.size()) : node.proto.name();
  op.op_type = node.proto.op_type();
  op.inputs = std::move(inputs);
  op.output = id;
  op.kind = std::move(kind);
  graph_.ops.push_back(std::move(op));
  return Status::Ok();
}

Status Importer::DefineAlias(const Node& node, int index, int id) {
  FT_RETURN_IF_ERROR(CheckOutputName(node, index));
  ids_.emplace(node.proto.output(index), id);
  return Status::Ok();
}

std::string Importer::InputName(const Node& node, int index) const {
  return index < node.proto.input_size() ? node.proto.input(index) : std::string();
}

Status Importer::RequireInputCount(const Node& node, int min, int max) const {
  const int n = node.proto.input_size();
  if (n < min || n > max) {
    return DataLoss(
        "takes " +
        (min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max)) +
        " inputs, has " + std::to_string(n));
  }
  for (int i = 0; i < min; ++i) {
    if (node.inputs[static_cast<size_t>(i)] < 0) {
      return DataLoss("input #" + std::to_string(i) + " is required");
    }
  }
  return Status::Ok();
}

Status Importer::RequireRunTime(const Node& node, int index) const {
  const int id =
      index < static_cast<int>(node.inputs.size()) ? node.inputs[static_cast<size_t>(index)] : -1;
  if (id < 0) return DataLoss("input #" + std::to_string(index) + " is required");
  if (IsConstant(id)) {
    return InvalidArgument("input '" + InputName(node, index) +
                           "' is a constant here: not supported");
  }
  return Status::Ok();
}

Expected<const Constant*> Importer::RequireConstant(const Node& node, int index) const {
  const int id =
      index < static_cast<int>(node.inputs.size()) ? node.inputs[static_cast<size_t>(index)] : -1;
  if (id < 0) return DataLoss("input #" + std::to_string(index) + " is required");
  if (!IsConstant(id)) {
    return InvalidArgument("input '" + InputName(node, index) +
                           "' is computed at run time; only a constant (initializer) is "
                           "supported there");
  }
  return &*value(id).constant;
}

Expected<std::vector<int64_t>> Importer::ConstantInts(const Node& node, int index) const {
  FT_ASSIGN_OR_RETURN(const Constant* c, RequireConstant(node, index));
  if (c->is_float) {
    return DataLoss("input '" + InputName(node, index) + "' is float, expected integers");
  }
  return c->ints;
}

}  // namespace facetrail::nn::internal
