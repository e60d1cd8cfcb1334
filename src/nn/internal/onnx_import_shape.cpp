// The handlers of shape arithmetic, constants and element-order-preserving reshapes
// (onnx_import.h). What PyTorch exports around a Reshape (Shape → Gather → Unsqueeze → Concat)
// is computed here, at load time, from the resolved shapes.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "nn/internal/onnx_import.h"

namespace facetrail::nn::internal {

namespace {

int64_t Product(const std::vector<int64_t>& dims, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end; ++i) n *= dims[i];
  return n;
}

// `axis` in [−rank, rank + extra) made non-negative; kDataLoss outside.
Expected<int64_t> NormalizeAxis(int64_t axis, int64_t rank, int64_t extra = 0) {
  if (axis < -rank || axis >= rank + extra) {
    return DataLoss("axis " + std::to_string(axis) + " is outside rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

// Row-major strides of `dims` aligned right to a shape of rank `rank`, 0 where broadcast.
std::vector<int64_t> BroadcastStrides(const std::vector<int64_t>& dims, size_t rank) {
  std::vector<int64_t> strides(rank, 0);
  int64_t s = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    strides[rank - dims.size() + i] = dims[i] == 1 ? 0 : s;
    s *= dims[i];
  }
  return strides;
}

Expected<int64_t> IntOp(BinaryKind kind, int64_t a, int64_t b) {
  int64_t r = 0;
  bool overflow = false;
  switch (kind) {
    case BinaryKind::kAdd: overflow = __builtin_add_overflow(a, b, &r); break;
    case BinaryKind::kSub: overflow = __builtin_sub_overflow(a, b, &r); break;
    case BinaryKind::kMul: overflow = __builtin_mul_overflow(a, b, &r); break;
    case BinaryKind::kDiv:
      if (b == 0) return DataLoss("integer division by zero in shape arithmetic");
      overflow = a == std::numeric_limits<int64_t>::min() && b == -1;
      r = overflow ? 0 : a / b;
      break;
    case BinaryKind::kPRelu: r = a < 0 ? a * b : a; break;
  }
  if (overflow) return DataLoss("integer overflow in shape arithmetic");
  return r;
}

float FloatOp(BinaryKind kind, float a, float b) {
  switch (kind) {
    case BinaryKind::kAdd: return a + b;
    case BinaryKind::kSub: return a - b;
    case BinaryKind::kMul: return a * b;
    case BinaryKind::kDiv: return a / b;
    case BinaryKind::kPRelu: return a < 0 ? a * b : a;
  }
  return 0.f;
}

}  // namespace

Expected<Constant> FoldArithmetic(BinaryKind kind, const Constant& a, const Constant& b) {
  if (a.is_float != b.is_float) return DataLoss("one input holds integers, the other floats");
  FT_ASSIGN_OR_RETURN(const std::vector<int64_t> dims, BroadcastDims(a.dims, b.dims));
  FT_ASSIGN_OR_RETURN(const int64_t n, NumElements(dims, "the result"));
  const std::vector<int64_t> sa = BroadcastStrides(a.dims, dims.size());
  const std::vector<int64_t> sb = BroadcastStrides(b.dims, dims.size());
  Constant out;
  out.dims = dims;
  out.is_float = a.is_float;
  std::vector<int64_t> index(dims.size(), 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (out.is_float) {
      out.float_values.push_back(
          FloatOp(kind, a.floats()[static_cast<size_t>(ia)], b.floats()[static_cast<size_t>(ib)]));
    } else {
      FT_ASSIGN_OR_RETURN(const int64_t r, IntOp(kind, a.ints[static_cast<size_t>(ia)],
                                                 b.ints[static_cast<size_t>(ib)]));
      out.ints.push_back(r);
    }
    // Next index (odometer over dims), moving both input offsets along.
    for (size_t d = dims.size(); d-- > 0;) {
      ia += sa[d];
      ib += sb[d];
      if (++index[d] < dims[d]) break;
      ia -= sa[d] * dims[d];
      ib -= sb[d] * dims[d];
      index[d] = 0;
    }
  }
  return out;
}

Expected<Constant> Importer::FoldConcat(const Node& node, int axis,
                                        const std::vector<int64_t>& dims) const {
  Constant out;
  out.dims = dims;
  out.is_float = value(node.inputs[0]).constant->is_float;
  const auto a = static_cast<size_t>(axis);
  const int64_t outer = Product(dims, 0, a), inner = Product(dims, a + 1, dims.size());
  for (int id : node.inputs) {
    if (value(id).constant->is_float != out.is_float) {
      return DataLoss("joins integer and float constants");
    }
  }
  for (int64_t o = 0; o < outer; ++o) {
    for (int id : node.inputs) {
      const Constant& c = *value(id).constant;
      const int64_t chunk = c.dims[a] * inner;
      const auto begin = static_cast<size_t>(o * chunk), end = static_cast<size_t>((o + 1) * chunk);
      if (out.is_float) {
        const std::span<const float> f = c.floats().subspan(begin, end - begin);
        out.float_values.insert(out.float_values.end(), f.begin(), f.end());
      } else {
        out.ints.insert(out.ints.end(), c.ints.begin() + static_cast<ptrdiff_t>(begin),
                        c.ints.begin() + static_cast<ptrdiff_t>(end));
      }
    }
  }
  return out;
}

Status Importer::ConstantNode(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 0, 0));
  const Attributes& a = node.attributes;
  const int given = static_cast<int>(a.has("value")) + static_cast<int>(a.has("value_float")) +
                    static_cast<int>(a.has("value_floats")) + static_cast<int>(a.has("value_int")) +
                    static_cast<int>(a.has("value_ints"));
  if (given != 1)
    return DataLoss("needs exactly one value attribute, has " + std::to_string(given));
  Constant c;
  if (a.has("value")) {
    FT_ASSIGN_OR_RETURN(const onnx::TensorProto* t, a.Tensor("value"));
    FT_ASSIGN_OR_RETURN(c, DecodeTensor(*t, "value"));
  } else if (a.has("value_float")) {
    FT_ASSIGN_OR_RETURN(const float f, a.Float("value_float", 0.f));
    c.float_values = {f};
  } else if (a.has("value_floats")) {
    FT_ASSIGN_OR_RETURN(c.float_values, a.Floats("value_floats"));
    c.dims = {static_cast<int64_t>(c.float_values.size())};
  } else if (a.has("value_int")) {
    FT_ASSIGN_OR_RETURN(const int64_t i, a.Int("value_int", 0));
    c.is_float = false;
    c.ints = {i};
  } else {
    FT_ASSIGN_OR_RETURN(c.ints, a.Ints("value_ints", {}));
    c.is_float = false;
    c.dims = {static_cast<int64_t>(c.ints.size())};
  }
  return DefineConstant(node, 0, std::move(c));
}

Status Importer::Identity(const Node& node) {
  const bool dropout = node.proto.op_type() == "Dropout";
  FT_RETURN_IF_ERROR(RequireInputCount(node, 1, dropout ? 3 : 1));
  if (dropout && node.inputs.size() > 2 && node.inputs[2] >= 0) {
    FT_ASSIGN_OR_RETURN(const Constant* training, RequireConstant(node, 2));
    if (training->size() != 1 || training->at(0) != 0) {
      return InvalidArgument("training_mode not supported (inference only)");
    }
  }
  return DefineAlias(node, 0, node.inputs[0]);
}

Status Importer::Cast(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 1, 1));
  if (!node.attributes.has("to")) return DataLoss("attribute 'to' is required");
  FT_ASSIGN_OR_RETURN(const int64_t to, node.attributes.Int("to", 0));
  const bool to_float = to == onnx::TensorProto::FLOAT;
  const bool to_int = to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32;
  if (!to_float && !to_int) {
    return InvalidArgument("cast to data type " + std::to_string(to) +
                           " not supported (FLOAT, INT64, INT32)");
  }
  const int id = node.inputs[0];
  if (!IsConstant(id)) {
    if (!to_float) return InvalidArgument("cast of a run-time tensor to integers not supported");
    return DefineAlias(node, 0, id);
  }
  const Constant& in = *value(id).constant;
  Constant c;
  c.dims = in.dims;
  c.is_float = to_float;
  for (int64_t i = 0; i < in.size(); ++i) {
    const double v = in.at(i);
    if (to_float) {
      c.float_values.push_back(static_cast<float>(v));
    } else {
      // Integers round toward zero; a float outside int64 (or NaN) has no integer value.
      if (!(std::fabs(v) < 9.2e18)) return DataLoss("cast of " + std::to_string(v) + " to int64");
      c.ints.push_back(in.is_float ? static_cast<int64_t>(v) : in.ints[static_cast<size_t>(i)]);
    }
  }
  return DefineConstant(node, 0, std::move(c));
}

Status Importer::Shape(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 1, 1));
  const std::vector<int64_t>& dims = value(node.inputs[0]).dims;
  const auto rank = static_cast<int64_t>(dims.size());
  FT_ASSIGN_OR_RETURN(int64_t start, node.attributes.Int("start", 0));
  FT_ASSIGN_OR_RETURN(int64_t end, node.attributes.Int("end", rank));
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  Constant c;
  c.is_float = false;
  c.ints.assign(dims.begin() + start, dims.begin() + end);
  c.dims = {end - start};
  return DefineConstant(node, 0, std::move(c));
}

Status Importer::Gather(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 2, 2));
  if (!IsConstant(node.inputs[0])) {
    return InvalidArgument(
        "Gather of a run-time tensor not supported (only of constants, as in "
        "shape arithmetic)");
  }
  const Constant& data = *value(node.inputs[0]).constant;
  FT_ASSIGN_OR_RETURN(const Constant* indices, RequireConstant(node, 1));
  if (indices->is_float) return DataLoss("indices '" + InputName(node, 1) + "' are floats");
  FT_ASSIGN_OR_RETURN(const int64_t axis_attr, node.attributes.Int("axis", 0));
  const auto rank = static_cast<int64_t>(data.dims.size());
  if (rank == 0) return DataLoss("data is a scalar");
  FT_ASSIGN_OR_RETURN(const int64_t axis, NormalizeAxis(axis_attr, rank));
  const auto a = static_cast<size_t>(axis);
  const int64_t n = data.dims[a];
  const int64_t outer = Product(data.dims, 0, a),
                inner = Product(data.dims, a + 1, data.dims.size());
  Constant c;
  c.is_float = data.is_float;
  c.dims.assign(data.dims.begin(), data.dims.begin() + axis);
  c.dims.insert(c.dims.end(), indices->dims.begin(), indices->dims.end());
  c.dims.insert(c.dims.end(), data.dims.begin() + axis + 1, data.dims.end());
  FT_RETURN_IF_ERROR(ReserveFolded(c.dims));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j : indices->ints) {
      if (j < -n || j >= n) {
        return DataLoss("index " + std::to_string(j) + " is outside [" + std::to_string(-n) + ", " +
                        std::to_string(n) + ")");
      }
      const int64_t row = j < 0 ? j + n : j;
      for (int64_t i = 0; i < inner; ++i) {
        const auto at = static_cast<size_t>((o * n + row) * inner + i);
        if (c.is_float) {
          c.float_values.push_back(data.floats()[at]);
        } else {
          c.ints.push_back(data.ints[at]);
        }
      }
    }
  }
  return DefineConstant(node, 0, std::move(c));
}

Status Importer::Flatten(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 1, 1));
  const std::vector<int64_t>& dims = value(node.inputs[0]).dims;
  const auto rank = static_cast<int64_t>(dims.size());
  FT_ASSIGN_OR_RETURN(const int64_t axis_attr, node.attributes.Int("axis", 1));
  FT_ASSIGN_OR_RETURN(const int64_t axis, NormalizeAxis(axis_attr, rank, 1));
  const auto a = static_cast<size_t>(axis);
  return DefineReshape(node, {Product(dims, 0, a), Product(dims, a, dims.size())});
}

Status Importer::Reshape(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 2, 2));
  const std::vector<int64_t>& in = value(node.inputs[0]).dims;
  FT_ASSIGN_OR_RETURN(const std::vector<int64_t> shape, ConstantInts(node, 1));
  FT_ASSIGN_OR_RETURN(const int64_t allow_zero, node.attributes.Int("allowzero", 0));
  if (shape.size() > kMaxRank) {
    return InvalidArgument("rank " + std::to_string(shape.size()) + " not supported");
  }
  std::vector<int64_t> dims(shape.size());
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t d = shape[i];
    if (d == 0 && allow_zero == 0) {
      if (i >= in.size()) {
        return DataLoss("shape " + DimsToString(shape) + " copies a dimension the input " +
                        DimsToString(in) + " does not have");
      }
      d = in[i];
    } else if (d == -1) {
      if (infer >= 0) return DataLoss("shape " + DimsToString(shape) + " has two -1");
      infer = static_cast<int>(i);
      continue;
    } else if (d < 0) {
      return DataLoss("shape " + DimsToString(shape) + " has a negative dimension");
    }
    dims[i] = d;
    if (d > 0 && known > kMaxTensorElements / d) {
      return DataLoss("shape " + DimsToString(shape) + " is too large");
    }
    known *= d;
  }
  const int64_t total = value(node.inputs[0]).size();
  if (infer >= 0) {
    if (known == 0 || total % known != 0) {
      return DataLoss("cannot reshape " + DimsToString(in) + " into " + DimsToString(shape));
    }
    dims[static_cast<size_t>(infer)] = total / known;
  }
  return DefineReshape(node, std::move(dims));
}

Status Importer::Squeeze(const Node& node) {
  const bool unsqueeze = node.proto.op_type() == "Unsqueeze";
  std::vector<int64_t> axes;
  if (opset() < 13) {
    FT_RETURN_IF_ERROR(RequireInputCount(node, 1, 1));
    if (unsqueeze && !node.attributes.has("axes")) return DataLoss("attribute 'axes' is required");
    FT_ASSIGN_OR_RETURN(axes, node.attributes.Ints("axes", {}));
  } else {
    if (node.attributes.has("axes")) return DataLoss("axes is an input since opset 13");
    FT_RETURN_IF_ERROR(RequireInputCount(node, unsqueeze ? 2 : 1, 2));
    if (node.inputs.size() > 1 && node.inputs[1] >= 0) {
      FT_ASSIGN_OR_RETURN(axes, ConstantInts(node, 1));
    }
  }
  const std::vector<int64_t>& in = value(node.inputs[0]).dims;
  const auto rank = static_cast<int64_t>(in.size());
  const int64_t out_rank = unsqueeze ? rank + static_cast<int64_t>(axes.size()) : rank;
  std::vector<bool> marked(static_cast<size_t>(std::max<int64_t>(out_rank, 0)), false);
  if (out_rank > static_cast<int64_t>(kMaxRank)) {
    return InvalidArgument("rank " + std::to_string(out_rank) + " not supported");
  }
  for (int64_t axis : axes) {
    FT_ASSIGN_OR_RETURN(const int64_t a, NormalizeAxis(axis, out_rank));
    if (marked[static_cast<size_t>(a)]) return DataLoss("axes repeat " + std::to_string(axis));
    marked[static_cast<size_t>(a)] = true;
  }
  std::vector<int64_t> dims;
  if (unsqueeze) {
    size_t next = 0;
    for (const bool inserted : marked) dims.push_back(inserted ? 1 : in[next++]);
  } else {
    for (size_t i = 0; i < in.size(); ++i) {
      const bool drop = axes.empty() ? in[i] == 1 : marked[i];
      if (drop && in[i] != 1) {
        return DataLoss("axis " + std::to_string(i) + " of " + DimsToString(in) + " is not 1");
      }
      if (!drop) dims.push_back(in[i]);
    }
  }
  return DefineReshape(node, std::move(dims));
}

Status Importer::DefineReshape(const Node& node, std::vector<int64_t> dims) {
  const int id = node.inputs[0];
  const Value& in = value(id);
  FT_ASSIGN_OR_RETURN(const int64_t n, NumElements(dims, "output"));
  if (n != in.size()) {
    return DataLoss("cannot reshape " + DimsToString(in.dims) + " into " + DimsToString(dims));
  }
  if (in.constant) {
    Constant c = *in.constant;
    c.dims = std::move(dims);
    return DefineConstant(node, 0, std::move(c));
  }
  if (dims == in.dims) return DefineAlias(node, 0, id);
  return DefineOp(node, ReshapeOp{}, {id}, std::move(dims));
}

}  // namespace facetrail::nn::internal
