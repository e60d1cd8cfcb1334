// Writes the seed corpus of onnx_load_fuzzer into a folder: small valid models that cover the
// loader's operators (built with the protobuf API, as tests/nn/onnx_test_util.h does), so the
// fuzzer starts from inputs that reach every handler instead of from protobuf noise.
//   make_onnx_seeds DIR
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "nn/onnx_test_util.h"

namespace {

using facetrail::nn::onnx_testing::ModelBuilder;
using facetrail::nn::onnx_testing::SetAttr;

std::vector<float> Values(size_t n) {
  std::mt19937 rng(static_cast<unsigned>(n));
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void Conv(ModelBuilder& m, const std::string& in, const std::string& out, int64_t cin, int64_t cout,
          int64_t k, int64_t group, int64_t stride, int64_t pad) {
  m.Initializer(out + "_w", {cout, cin / group, k, k},
                Values(static_cast<size_t>(cout * cin / group * k * k)));
  m.Initializer(out + "_b", {cout}, Values(static_cast<size_t>(cout)));
  auto& n = m.Node("Conv", {in, out + "_w", out + "_b"}, {out});
  SetAttr(n, "kernel_shape", std::vector<int64_t>{k, k});
  SetAttr(n, "strides", std::vector<int64_t>{stride, stride});
  SetAttr(n, "pads", std::vector<int64_t>{pad, pad, pad, pad});
  SetAttr(n, "group", group);
}

// A MobileFaceNet block: conv, PRelu, depthwise, PRelu, linear conv, residual Add, Reshape.
ModelBuilder FaceBlock() {
  ModelBuilder m(9);
  m.Input("x", {1, 3, 12, 12});
  Conv(m, "x", "a", 3, 8, 3, 1, 2, 1);
  m.Initializer("s1", {8, 1, 1}, Values(8));
  m.Node("PRelu", {"a", "s1"}, {"b"});
  Conv(m, "b", "c", 8, 8, 3, 8, 1, 1);
  m.Initializer("s2", {8, 1, 1}, Values(8));
  m.Node("PRelu", {"c", "s2"}, {"d"});
  Conv(m, "d", "e", 8, 8, 1, 1, 1, 0);
  m.Node("Add", {"e", "b"}, {"f"});
  Conv(m, "f", "g", 8, 8, 6, 8, 1, 0);
  m.IntInitializer("shape", {2}, {1, 8});
  m.Node("Reshape", {"g", "shape"}, {"y"});
  m.Output("y", {1, 8});
  return m;
}

// Landmark-style head: BatchNormalization, Relu, MaxPool, Flatten, Gemm (transB), Clip.
ModelBuilder Head() {
  ModelBuilder m(11);
  m.Input("x", {1, 2, 8, 8});
  Conv(m, "x", "a", 2, 4, 3, 1, 1, 1);
  for (const char* p : {"g", "bt", "mu", "var"}) m.Initializer(p, {4}, std::vector<float>(4, 0.5f));
  m.Node("BatchNormalization", {"a", "g", "bt", "mu", "var"}, {"b"});
  m.Node("Relu", {"b"}, {"c"});
  auto& pool = m.Node("MaxPool", {"c"}, {"d"});
  SetAttr(pool, "kernel_shape", std::vector<int64_t>{3, 3});
  SetAttr(pool, "strides", std::vector<int64_t>{2, 2});
  SetAttr(pool, "pads", std::vector<int64_t>{1, 1, 1, 1});
  SetAttr(pool, "ceil_mode", int64_t{1});
  SetAttr(m.Node("Flatten", {"d"}, {"e"}), "axis", int64_t{1});
  m.Initializer("B", {5, 100}, Values(500));  // 4 channels × 5 × 5 (ceil_mode)
  m.Initializer("C", {5}, Values(5));
  SetAttr(m.Node("Gemm", {"e", "B", "C"}, {"f"}), "transB", int64_t{1});
  m.Initializer("lo", {}, {0.f});
  m.Initializer("hi", {}, {6.f});
  m.Node("Clip", {"f", "lo", "hi"}, {"y"});
  m.Output("y", {1, 5});
  return m;
}

// Shape arithmetic, Concat, broadcasting, pooling, Sigmoid, LeakyRelu, MatMul, symbolic size.
ModelBuilder Mixed() {
  ModelBuilder m(13);
  m.Input("x", {-1, 3, -1, -1});
  m.Node("GlobalAveragePool", {"x"}, {"p"});
  m.Node("Sigmoid", {"p"}, {"s"});
  m.Node("Mul", {"x", "s"}, {"a"});
  m.Initializer("k", {3, 1, 1}, Values(3));
  m.Node("Sub", {"a", "k"}, {"b"});
  SetAttr(m.Node("LeakyRelu", {"b"}, {"c"}), "alpha", 0.1f);
  SetAttr(m.Node("Concat", {"c", "x"}, {"d"}), "axis", int64_t{1});
  auto& avg = m.Node("AveragePool", {"d"}, {"e"});
  SetAttr(avg, "kernel_shape", std::vector<int64_t>{2, 2});
  SetAttr(avg, "strides", std::vector<int64_t>{2, 2});
  m.Node("Shape", {"e"}, {"shape"});
  m.IntInitializer("zero", {}, {0});
  m.Node("Gather", {"shape", "zero"}, {"n"});
  m.IntInitializer("axes", {1}, {0});
  m.Node("Unsqueeze", {"n", "axes"}, {"n1"});
  m.IntInitializer("rest", {1}, {-1});
  SetAttr(m.Node("Concat", {"n1", "rest"}, {"target"}), "axis", int64_t{0});
  m.Node("Reshape", {"e", "target"}, {"f"});
  m.Node("GlobalMaxPool", {"d"}, {"g"});
  m.Node("Flatten", {"g"}, {"h"});
  m.Initializer("M", {6, 4}, Values(24));
  m.Node("MatMul", {"h", "M"}, {"y"});
  m.Output("y");
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_onnx_seeds DIR\n");
    return 2;
  }
  const std::pair<const char*, ModelBuilder> seeds[] = {
      {"face_block.onnx", FaceBlock()}, {"head.onnx", Head()}, {"mixed.onnx", Mixed()}};
  for (const auto& [name, model] : seeds) {
    std::ofstream out(std::string(argv[1]) + "/" + name, std::ios::binary);
    out << model.Bytes();
    if (!out) {
      std::fprintf(stderr, "make_onnx_seeds: cannot write %s\n", name);
      return 1;
    }
  }
  return 0;
}
