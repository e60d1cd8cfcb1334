// Reading the ONNX protobuf messages (Debian's libonnx schema) without trusting them: the model
// bytes, tensors (initializers, Constant nodes) and node attributes, each check saying what it
// found. Only nn/onnx.cpp and the other nn/internal/onnx_* files include this.
//
// Codes: kDataLoss for bytes or messages that break the ONNX format (not a ModelProto, a tensor
// whose data contradicts its dims, an attribute of the wrong type); kInvalidArgument for valid
// ONNX this loader does not run (external data, a data type, an attribute it does not know);
// kResourceExhausted for sizes past the loader's limits.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace facetrail::nn::internal {

// Largest model file accepted (protobuf's own limit is 2 GiB; bigger ONNX models keep their
// weights in external files, which this loader refuses anyway).
inline constexpr size_t kMaxModelBytes = size_t{1} << 30;
// Largest number of elements of one tensor, constant or computed (2^31 − 1: every dimension and
// size stays in int range for the layers, which index with int).
inline constexpr int64_t kMaxTensorElements = (int64_t{1} << 31) - 1;
// Largest number of elements all constants computed at load time may hold together (shape
// arithmetic is a few dozen numbers; Gather or broadcasting could otherwise make gigabytes
// from a small file).
inline constexpr int64_t kMaxFoldedElements = int64_t{1} << 24;
// Largest rank of any tensor.
inline constexpr size_t kMaxRank = 6;
// Largest input height or width.
inline constexpr int64_t kMaxInputSide = 16384;

// Parses `bytes` as a ModelProto (nesting depth limited, whole input consumed).
Status ParseModel(std::span<const uint8_t> bytes, onnx::ModelProto& model);

// A tensor known at load time: an initializer, a Constant node's value, or folded arithmetic.
// Floats for FLOAT tensors; integers (INT64, INT32, widened) otherwise.
//
// A large FLOAT initializer keeps the model's own raw_data bytes (moved out of the proto, not
// copied: every fresh page costs a fault, and faults dominate loading on the target VMs), read
// as floats in place; anything else holds its floats in float_values. floats() is stable when
// the Constant is moved (both buffers are on the heap), not when it is copied.
struct Constant {
  std::vector<int64_t> dims;
  bool is_float = true;
  std::vector<float> float_values;  // is_float, unless raw_floats holds them
  std::string raw_floats;           // is_float: little-endian float32 bytes, or empty
  std::vector<int64_t> ints;        // !is_float: product(dims) values, row-major

  // is_float: product(dims) values, row-major.
  std::span<const float> floats() const {
    if (raw_floats.empty()) return float_values;
    // The bytes were written by protobuf's memcpy and are only read from here on.
    return {reinterpret_cast<const float*>(raw_floats.data()), raw_floats.size() / sizeof(float)};
  }
  int64_t size() const {
    return is_float ? static_cast<int64_t>(floats().size()) : static_cast<int64_t>(ints.size());
  }
  double at(int64_t i) const {
    return is_float ? static_cast<double>(floats()[static_cast<size_t>(i)])
                    : static_cast<double>(ints[static_cast<size_t>(i)]);
  }
};

// Product of `dims`, checked: a negative dimension is kDataLoss, more than kMaxTensorElements
// (or a rank above kMaxRank) kResourceExhausted. `what` names the tensor in messages.
Expected<int64_t> NumElements(std::span<const int64_t> dims, const std::string& what);

// "[1,3,112,112]"
std::string DimsToString(std::span<const int64_t> dims);

// Decodes a TensorProto of type FLOAT, INT64 or INT32 from raw_data (little-endian, exactly
// product(dims) × element size bytes) or from the typed field (exactly product(dims) values),
// never both. External data and segments are refused. `what` names it ("initializer '519'").
Expected<Constant> DecodeTensor(const onnx::TensorProto& tensor, const std::string& what);
// The same, moving a FLOAT tensor's raw_data of 64 bytes or more into the Constant instead of
// copying it (the tensor's raw_data is left empty). Smaller ones are copied: their bytes may sit
// inside the string object (small-string optimisation) and would move with it.
Expected<Constant> TakeTensor(onnx::TensorProto& tensor, const std::string& what);

// The attributes of one node, checked against the names an operator knows.
class Attributes {
 public:
  // Refuses an attribute name not in `known` ("attribute 'x' not supported"), a repeated name,
  // and a reference to a function attribute (ref_attr_name).
  static Expected<Attributes> Read(const onnx::NodeProto& node,
                                   std::span<const std::string_view> known);

  bool has(std::string_view name) const { return Find(name) != nullptr; }
  // The value of `name` when present, else `fallback`; kDataLoss when it has another type.
  Expected<int64_t> Int(std::string_view name, int64_t fallback) const;
  Expected<float> Float(std::string_view name, float fallback) const;
  Expected<std::string> String(std::string_view name, const std::string& fallback) const;
  Expected<std::vector<int64_t>> Ints(std::string_view name,
                                      const std::vector<int64_t>& fallback) const;
  // A required FLOATS / TENSOR attribute: kDataLoss when absent or of another type.
  Expected<std::vector<float>> Floats(std::string_view name) const;
  Expected<const onnx::TensorProto*> Tensor(std::string_view name) const;

 private:
  const onnx::AttributeProto* Find(std::string_view name) const;
  Expected<const onnx::AttributeProto*> Typed(std::string_view name,
                                              onnx::AttributeProto::AttributeType type) const;
  std::vector<const onnx::AttributeProto*> attributes_;
};

}  // namespace facetrail::nn::internal
