#include "nn/internal/onnx_model.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace facetrail::nn::internal {

namespace {

// raw_data is little-endian; the memcpy below assumes the host agrees.
static_assert(std::endian::native == std::endian::little);

// Protobuf's default nesting limit is 100; an ONNX model nests a handful of levels (model, graph,
// node, attribute, tensor; a subgraph attribute adds a few).
constexpr int kMaxNesting = 32;

std::string DataTypeName(int type) {
  if (onnx::TensorProto::DataType_IsValid(type)) {
    return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(type));
  }
  return std::string("#").append(std::to_string(type));
}

std::string AttributeTypeName(onnx::AttributeProto::AttributeType type) {
  return onnx::AttributeProto::AttributeType_Name(type);
}

template <typename T>
void CopyRaw(const std::string& raw, std::vector<T>& out, int64_t n) {
  out.resize(static_cast<size_t>(n));
  if (n > 0) std::memcpy(out.data(), raw.data(), static_cast<size_t>(n) * sizeof(T));
}

}  // namespace

Status ParseModel(std::span<const uint8_t> bytes, onnx::ModelProto& model) {
  if (bytes.size() > kMaxModelBytes) {
    return ResourceExhausted("model file of " + std::to_string(bytes.size()) +
                             " bytes is larger than the limit of " +
                             std::to_string(kMaxModelBytes) + " bytes");
  }
  google::protobuf::io::CodedInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(static_cast<int>(bytes.size()));
  in.SetRecursionLimit(kMaxNesting);
  if (!model.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage()) {
    return DataLoss(
        "not an ONNX model: the protobuf message does not parse (truncated or not a "
        "ModelProto)");
  }
  return Status::Ok();
}

std::string DimsToString(std::span<const int64_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

Expected<int64_t> NumElements(std::span<const int64_t> dims, const std::string& what) {
  if (dims.size() > kMaxRank) {
    return InvalidArgument(what + ": rank " + std::to_string(dims.size()) +
                           " not supported (at most " + std::to_string(kMaxRank) + ")");
  }
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return DataLoss(what + ": negative dimension in " + DimsToString(dims));
    if (d > 0 && n > kMaxTensorElements / d) {
      return ResourceExhausted(what + ": shape " + DimsToString(dims) + " has more than " +
                               std::to_string(kMaxTensorElements) + " elements");
    }
    n *= d;
  }
  return n;
}

namespace {

// DecodeTensor, taking raw_data from `take` (== tensor's) where it may.
Expected<Constant> Decode(const onnx::TensorProto& tensor, const std::string& what,
                          std::string* take) {
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL || tensor.external_data_size() > 0) {
    return InvalidArgument(what + ": external data (weights in a separate file) not supported");
  }
  if (tensor.has_segment()) return InvalidArgument(what + ": segmented tensor not supported");
  Constant c;
  c.dims.assign(tensor.dims().begin(), tensor.dims().end());
  FT_ASSIGN_OR_RETURN(const int64_t n, NumElements(c.dims, what));
  const int type = tensor.data_type();
  size_t element_bytes = 0;
  int64_t typed = 0;
  switch (type) {
    case onnx::TensorProto::FLOAT:
      element_bytes = 4;
      typed = tensor.float_data_size();
      break;
    case onnx::TensorProto::INT64:
      element_bytes = 8;
      typed = tensor.int64_data_size();
      break;
    case onnx::TensorProto::INT32:
      element_bytes = 4;
      typed = tensor.int32_data_size();
      break;
    default:
      return InvalidArgument(what + ": data type " + DataTypeName(type) +
                             " not supported (FLOAT, INT64, INT32)");
  }
  c.is_float = type == onnx::TensorProto::FLOAT;
  if (tensor.has_raw_data()) {
    if (typed > 0) return DataLoss(what + ": holds both raw_data and typed data");
    const size_t need = static_cast<size_t>(n) * element_bytes;
    if (tensor.raw_data().size() != need) {
      return DataLoss(what + ": raw_data holds " + std::to_string(tensor.raw_data().size()) +
                      " bytes, dims " + DimsToString(c.dims) + " of " + DataTypeName(type) +
                      " need " + std::to_string(need));
    }
    if (type == onnx::TensorProto::FLOAT && need >= 64 && take != nullptr) {
      c.raw_floats = std::move(*take);
      std::string().swap(*take);
    } else if (type == onnx::TensorProto::FLOAT) {
      CopyRaw(tensor.raw_data(), c.float_values, n);
    } else if (type == onnx::TensorProto::INT64) {
      CopyRaw(tensor.raw_data(), c.ints, n);
    } else {
      std::vector<int32_t> narrow;
      CopyRaw(tensor.raw_data(), narrow, n);
      c.ints.assign(narrow.begin(), narrow.end());
    }
    return c;
  }
  if (typed != n) {
    return DataLoss(what + ": holds " + std::to_string(typed) + " values, dims " +
                    DimsToString(c.dims) + " need " + std::to_string(n));
  }
  if (type == onnx::TensorProto::FLOAT) {
    c.float_values.assign(tensor.float_data().begin(), tensor.float_data().end());
  } else if (type == onnx::TensorProto::INT64) {
    c.ints.assign(tensor.int64_data().begin(), tensor.int64_data().end());
  } else {
    c.ints.assign(tensor.int32_data().begin(), tensor.int32_data().end());
  }
  return c;
}

}  // namespace

Expected<Constant> DecodeTensor(const onnx::TensorProto& tensor, const std::string& what) {
  return Decode(tensor, what, nullptr);
}

Expected<Constant> TakeTensor(onnx::TensorProto& tensor, const std::string& what) {
  std::string* raw = tensor.has_raw_data() ? tensor.mutable_raw_data() : nullptr;
  return Decode(tensor, what, raw);
}

Expected<Attributes> Attributes::Read(const onnx::NodeProto& node,
                                      std::span<const std::string_view> known) {
  Attributes a;
  for (const auto& attribute : node.attribute()) {
    const std::string& name = attribute.name();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return InvalidArgument("attribute '" + name + "' not supported");
    }
    if (!attribute.ref_attr_name().empty()) {
      return InvalidArgument("attribute '" + name + "' refers to a function attribute ('" +
                             attribute.ref_attr_name() + "'): not supported");
    }
    if (a.Find(name) != nullptr) return DataLoss("attribute '" + name + "' given twice");
    a.attributes_.push_back(&attribute);
  }
  return a;
}

const onnx::AttributeProto* Attributes::Find(std::string_view name) const {
  for (const auto* attribute : attributes_) {
    if (attribute->name() == name) return attribute;
  }
  return nullptr;
}

Expected<const onnx::AttributeProto*> Attributes::Typed(
    std::string_view name, onnx::AttributeProto::AttributeType type) const {
  const onnx::AttributeProto* attribute = Find(name);
  if (attribute == nullptr) return DataLoss("attribute '" + std::string(name) + "' is required");
  if (attribute->type() != type) {
    return DataLoss("attribute '" + std::string(name) + "' is " +
                    AttributeTypeName(attribute->type()) + ", expected " + AttributeTypeName(type));
  }
  return attribute;
}

Expected<int64_t> Attributes::Int(std::string_view name, int64_t fallback) const {
  if (!has(name)) return fallback;
  FT_ASSIGN_OR_RETURN(const auto* a, Typed(name, onnx::AttributeProto::INT));
  return a->i();
}

Expected<float> Attributes::Float(std::string_view name, float fallback) const {
  if (!has(name)) return fallback;
  FT_ASSIGN_OR_RETURN(const auto* a, Typed(name, onnx::AttributeProto::FLOAT));
  return a->f();
}

Expected<std::string> Attributes::String(std::string_view name, const std::string& fallback) const {
  if (!has(name)) return fallback;
  FT_ASSIGN_OR_RETURN(const auto* a, Typed(name, onnx::AttributeProto::STRING));
  return a->s();
}

Expected<std::vector<int64_t>> Attributes::Ints(std::string_view name,
                                                const std::vector<int64_t>& fallback) const {
  if (!has(name)) return fallback;
  FT_ASSIGN_OR_RETURN(const auto* a, Typed(name, onnx::AttributeProto::INTS));
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

Expected<std::vector<float>> Attributes::Floats(std::string_view name) const {
  FT_ASSIGN_OR_RETURN(const auto* a, Typed(name, onnx::AttributeProto::FLOATS));
  return std::vector<float>(a->floats().begin(), a->floats().end());
}

Expected<const onnx::TensorProto*> Attributes::Tensor(std::string_view name) const {
  FT_ASSIGN_OR_RETURN(const auto* a, Typed(name, onnx::AttributeProto::TENSOR));
  return &a->t();
}

}  // namespace facetrail::nn::internal
