// What the ONNX loader refuses, and how: each case a clear error with the right code that names
// the file, the node and the operator, attribute or tensor at fault. And what it survives:
// truncations and byte flips of a model, never a crash (the fuzzer, fuzz/onnx_load_fuzzer.cpp,
// goes further).
#include <gtest/gtest.h>

#include <random>

#include "onnx_test_util.h"

namespace facetrail::nn {
namespace {

using onnx_testing::LoadModel;
using onnx_testing::ModelBuilder;
using onnx_testing::SetAttr;

// A valid model to break: x [1,3,8,8] → Conv 3x3 (w, b) → Relu → y.
ModelBuilder ValidModel(int64_t opset = 13) {
  ModelBuilder m(opset);
  m.Input("x", {1, 3, 8, 8});
  m.Initializer("w", {4, 3, 3, 3}, std::vector<float>(4 * 3 * 3 * 3, 0.1f));
  m.Initializer("b", {4}, {1, 2, 3, 4});
  auto& conv = m.Node("Conv", {"x", "w", "b"}, {"c"}, "conv_0");
  SetAttr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
  m.Node("Relu", {"c"}, {"y"}, "relu_1");
  m.Output("y", {1, 4, 8, 8});
  return m;
}

Status LoadStatus(const ModelBuilder& m, const OnnxLoadOptions& options = {}) {
  return LoadModel(m, options).status();
}

Status LoadBytes(const std::string& bytes, const OnnxLoadOptions& options = {}) {
  return OnnxNetwork::LoadFromBytes(
             std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
             "test.onnx", options)
      .status();
}

// The status has `code` and its message contains every one of `parts`.
void ExpectError(const Status& s, StatusCode code, const std::vector<std::string>& parts) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  for (const auto& part : parts) {
    EXPECT_NE(s.message().find(part), std::string::npos)
        << "'" << part << "' not in: " << s.message();
  }
}

TEST(OnnxHostileTest, TheValidModelLoads) {
  auto net = LoadModel(ValidModel());
  ASSERT_TRUE(net.ok()) << net.status().ToString();
  EXPECT_EQ((*net)->Summary(), "Conv+Relu 'conv_0': [1,3,8,8] -> [1,4,8,8]\n");
}

TEST(OnnxHostileTest, UnsupportedOperatorIsNamed) {
  ModelBuilder m = ValidModel();
  m.graph().mutable_node(1)->set_op_type("Softmax");
  ExpectError(LoadStatus(m), StatusCode::kInvalidArgument,
              {"test.onnx: ", "node 'relu_1' (Softmax)", "operator not supported"});
  m.graph().mutable_node(1)->set_op_type("Relu");
  m.graph().mutable_node(1)->set_domain("com.microsoft");
  ExpectError(LoadStatus(m), StatusCode::kInvalidArgument,
              {"node 'relu_1' (Relu)", "domain 'com.microsoft' not supported"});
}

TEST(OnnxHostileTest, UnsupportedAttributeIsNamed) {
  ModelBuilder m = ValidModel();
  SetAttr(*m.graph().mutable_node(0), "dilations", std::vector<int64_t>{2, 2});
  ExpectError(LoadStatus(m), StatusCode::kInvalidArgument,
              {"node 'conv_0' (Conv)", "dilations [2,2] not supported"});
  ModelBuilder unknown = ValidModel();
  SetAttr(*unknown.graph().mutable_node(1), "inplace", int64_t{1});
  ExpectError(LoadStatus(unknown), StatusCode::kInvalidArgument,
              {"node 'relu_1' (Relu)", "attribute 'inplace' not supported"});
  ModelBuilder wrong_type = ValidModel();
  SetAttr(*wrong_type.graph().mutable_node(0), "group", 1.f);
  ExpectError(LoadStatus(wrong_type), StatusCode::kDataLoss,
              {"node 'conv_0' (Conv)", "attribute 'group' is FLOAT, expected INT"});
}

TEST(OnnxHostileTest, InputsAndOutputsMustBeOneImageAndOneTensor) {
  ModelBuilder rank3(13);
  rank3.Input("x", {1, 3, 8});
  rank3.Node("Relu", {"x"}, {"y"});
  rank3.Output("y");
  ExpectError(LoadStatus(rank3), StatusCode::kInvalidArgument,
              {"input 'x' has rank 3", "[1, C, H, W]"});

  ModelBuilder two = ValidModel();
  two.Input("z", {1, 3, 8, 8});
  ExpectError(LoadStatus(two), StatusCode::kInvalidArgument, {"2 inputs ('x', 'z')"});

  ModelBuilder outputs = ValidModel();
  outputs.Output("c");
  ExpectError(LoadStatus(outputs), StatusCode::kInvalidArgument, {"2 outputs ('y', 'c')"});

  ModelBuilder batch = ValidModel();
  batch.graph()
      .mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(0)
      ->set_dim_value(4);
  ExpectError(LoadStatus(batch), StatusCode::kInvalidArgument, {"batch 4; batch 1 only"});

  ModelBuilder declared = ValidModel();
  declared.graph()
      .mutable_output(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(1)
      ->set_dim_value(5);
  ExpectError(LoadStatus(declared), StatusCode::kDataLoss,
              {"output 'y' is declared [1,5,8,8] but the graph makes [1,4,8,8]"});

  OnnxLoadOptions other_size;
  other_size.input_height = 16;
  ExpectError(LoadStatus(ValidModel(), other_size), StatusCode::kInvalidArgument,
              {"fixed height of 8, not 16"});
}

TEST(OnnxHostileTest, TruncatedAndGarbageBytesAreDataLoss) {
  const std::string bytes = ValidModel().Bytes();
  ExpectError(LoadBytes(bytes.substr(0, bytes.size() / 2)), StatusCode::kDataLoss,
              {"test.onnx: not an ONNX model"});
  std::mt19937 rng(5);
  std::string garbage(4096, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  EXPECT_EQ(LoadBytes(garbage).code(), StatusCode::kDataLoss);
  ExpectError(LoadBytes(""), StatusCode::kDataLoss, {"no graph"});
  // A whole file truncated at every length: an error each time, never a crash or a model.
  for (size_t n = 0; n < bytes.size(); ++n) {
    const Status s = LoadBytes(bytes.substr(0, n));
    ASSERT_FALSE(s.ok()) << "loaded from the first " << n << " bytes";
  }
}

TEST(OnnxHostileTest, EveryByteFlipIsAnErrorOrAModel) {
  const std::string bytes = ValidModel().Bytes();
  int refused = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::string flipped = bytes;
      flipped[i] = static_cast<char>(static_cast<uint8_t>(flipped[i]) ^ mask);
      const Status s = LoadBytes(flipped);
      refused += s.ok() ? 0 : 1;
      if (!s.ok()) {
        EXPECT_FALSE(s.message().empty());
      }
    }
  }
  EXPECT_GT(refused, 0);
}

TEST(OnnxHostileTest, InitializersMustMatchTheirDims) {
  ModelBuilder short_raw = ValidModel();
  short_raw.graph().mutable_initializer(1)->mutable_raw_data()->resize(15);
  ExpectError(LoadStatus(short_raw), StatusCode::kDataLoss,
              {"initializer 'b'", "raw_data holds 15 bytes, dims [4] of FLOAT need 16"});

  ModelBuilder typed = ValidModel();
  auto* b = typed.graph().mutable_initializer(1);
  b->clear_raw_data();
  b->add_float_data(1.f);
  ExpectError(LoadStatus(typed), StatusCode::kDataLoss,
              {"initializer 'b'", "holds 1 values, dims [4] need 4"});

  ModelBuilder both = ValidModel();
  both.graph().mutable_initializer(1)->add_float_data(1.f);
  ExpectError(LoadStatus(both), StatusCode::kDataLoss, {"both raw_data and typed data"});

  ModelBuilder negative = ValidModel();
  negative.graph().mutable_initializer(1)->set_dims(0, -4);
  ExpectError(LoadStatus(negative), StatusCode::kDataLoss, {"initializer 'b'", "negative"});

  ModelBuilder huge = ValidModel();
  auto* w = huge.graph().mutable_initializer(0);
  w->set_dims(0, int64_t{1} << 40);
  ExpectError(LoadStatus(huge), StatusCode::kResourceExhausted, {"initializer 'w'"});

  ModelBuilder external = ValidModel();
  auto* e = external.graph().mutable_initializer(0);
  e->clear_raw_data();
  e->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* entry = e->add_external_data();
  entry->set_key("location");
  entry->set_value("weights.bin");
  ExpectError(LoadStatus(external), StatusCode::kInvalidArgument,
              {"initializer 'w'", "external data", "not supported"});

  ModelBuilder strings = ValidModel();
  strings.graph().mutable_initializer(1)->set_data_type(onnx::TensorProto::STRING);
  ExpectError(LoadStatus(strings), StatusCode::kInvalidArgument,
              {"initializer 'b'", "data type STRING not supported"});

  ModelBuilder weights = ValidModel();
  weights.graph().mutable_initializer(0)->set_dims(1, 2);  // [4,2,3,3] for 3 input channels
  weights.graph().mutable_initializer(0)->mutable_raw_data()->resize(4 * 2 * 9 * 4);
  ExpectError(LoadStatus(weights), StatusCode::kDataLoss,
              {"node 'conv_0' (Conv)", "weights [4,2,3,3] do not fit 3 input channels"});
}

TEST(OnnxHostileTest, ValuesNobodyProducesAreNamed) {
  ModelBuilder missing = ValidModel();
  missing.graph().mutable_node(1)->set_input(0, "nowhere");
  ExpectError(LoadStatus(missing), StatusCode::kDataLoss,
              {"node 'relu_1' (Relu)",
               "input 'nowhere' is not produced by any node, initializer or input"});

  ModelBuilder order = ValidModel();
  order.graph().mutable_node()->SwapElements(0, 1);
  ExpectError(LoadStatus(order), StatusCode::kDataLoss,
              {"node 'relu_1' (Relu)", "input 'c' is made by node 'conv_0', which comes later"});

  ModelBuilder twice = ValidModel();
  twice.graph().mutable_node(1)->set_output(0, "c");
  ExpectError(LoadStatus(twice), StatusCode::kDataLoss,
              {"value 'c' is the output of two nodes ('conv_0' and 'relu_1')"});

  ModelBuilder no_output = ValidModel();
  no_output.graph().mutable_output(0)->set_name("z");
  ExpectError(LoadStatus(no_output), StatusCode::kDataLoss,
              {"output 'z' is not produced by any node"});

  ModelBuilder mask = ValidModel(11);
  mask.graph().mutable_node(1)->set_op_type("Dropout");
  mask.graph().mutable_node(1)->add_output("mask");
  mask.graph().mutable_output(0)->set_name("mask");
  mask.graph().mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  ExpectError(
      LoadStatus(mask), StatusCode::kInvalidArgument,
      {"node 'relu_1' (Dropout)", "output #1 ('mask') is read by the graph: not supported"});
}

TEST(OnnxHostileTest, OpsetsAndShapesOutsideTheSupportedRange) {
  ExpectError(LoadStatus(ValidModel(6)), StatusCode::kInvalidArgument,
              {"opset 6 not supported (7 to 18)"});
  ExpectError(LoadStatus(ValidModel(19)), StatusCode::kInvalidArgument, {"opset 19"});

  ModelBuilder big(13);
  big.Input("x", {1, 3, 100000, 100000});
  big.Node("Relu", {"x"}, {"y"});
  big.Output("y");
  ExpectError(LoadStatus(big), StatusCode::kResourceExhausted, {"input 'x'", "16384"});

  OnnxLoadOptions small;
  small.max_activation_bytes = 1000;
  ExpectError(LoadStatus(ValidModel(), small), StatusCode::kResourceExhausted,
              {"max_activation_bytes (1000)"});

  ModelBuilder reshape(13);
  reshape.Input("x", {1, 3, 8, 8});
  reshape.IntInitializer("shape", {2}, {1, 100});
  reshape.Node("Reshape", {"x", "shape"}, {"y"}, "reshape_0");
  reshape.Output("y");
  ExpectError(LoadStatus(reshape), StatusCode::kDataLoss,
              {"node 'reshape_0' (Reshape)", "cannot reshape [1,3,8,8] into [1,100]"});

  ModelBuilder kernel = ValidModel();
  kernel.graph()
      .mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(2)
      ->set_dim_value(1);
  SetAttr(*kernel.graph().mutable_node(0), "strides", std::vector<int64_t>{1, 1});
  kernel.graph().mutable_node(0)->mutable_attribute(0)->set_ints(0, 0);  // pads top 0
  kernel.graph().mutable_node(0)->mutable_attribute(0)->set_ints(2, 0);  // pads bottom 0
  kernel.graph().mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  ExpectError(LoadStatus(kernel), StatusCode::kInvalidArgument,
              {"node 'conv_0' (Conv)", "input 1x8 is smaller than the kernel [3,3]"});
}

// Shape arithmetic is folded at load time; a small file must not make it compute gigabytes.
TEST(OnnxHostileTest, FoldedConstantsAreBounded) {
  for (const char* op : {"Gather", "Add"}) {
    SCOPED_TRACE(op);
    ModelBuilder m(13);
    m.Input("x", {1, 3, 4, 4});
    if (std::string(op) == "Gather") {  // rows of [1, 4096] picked 8192 times: 2^25 elements
      m.Initializer("data", {1, 4096}, std::vector<float>(4096, 1.f));
      m.IntInitializer("indices", {8192}, std::vector<int64_t>(8192, 0));
      m.Node("Gather", {"data", "indices"}, {"k"}, "fold");
    } else {  // [4096, 1] + [1, 8192] broadcasts to 2^25 elements
      m.IntInitializer("a", {4096, 1}, std::vector<int64_t>(4096, 1));
      m.IntInitializer("b", {1, 8192}, std::vector<int64_t>(8192, 2));
      m.Node("Add", {"a", "b"}, {"k"}, "fold");
    }
    m.Node("Relu", {"x"}, {"y"});
    m.Output("y");
    ExpectError(LoadStatus(m), StatusCode::kResourceExhausted,
                {"node 'fold'", "constants computed at load time exceed 16777216 elements"});
  }
}

TEST(OnnxHostileTest, RunTimeInputsWhereConstantsAreNeeded) {
  ModelBuilder m(13);
  m.Input("x", {1, 3, 4, 4});
  m.Node("Relu", {"x"}, {"w"});
  m.Node("Conv", {"x", "w"}, {"y"}, "conv_0");
  m.Output("y");
  ExpectError(LoadStatus(m), StatusCode::kInvalidArgument,
              {"node 'conv_0' (Conv)", "input 'w' is computed at run time", "constant"});
}

}  // namespace
}  // namespace facetrail::nn
