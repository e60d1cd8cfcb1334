// libFuzzer target for the ONNX loader: OnnxNetwork::LoadFromBytes on arbitrary bytes must
// return an error or a network whose shapes hold together, never crash, hang, leak or read out
// of bounds (address and undefined-behaviour sanitizers on); a network that loads is run once
// on a fixed input, so the run-time kernels see the shapes a hostile graph can make. Build and
// run with scripts/fuzz (seeds: fuzz/make_onnx_seeds.cpp).
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "nn/onnx.h"

namespace {

// Lower limits than the product's keep every input fast and within -rss_limit_mb; the checks
// are the same code at any value.
constexpr size_t kFuzzMaxActivationBytes = size_t{64} << 20;
constexpr double kFuzzMaxRunFlops = 2e7;

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace facetrail::nn;
  OnnxLoadOptions options;
  options.max_activation_bytes = kFuzzMaxActivationBytes;
  // Two bits of the first byte pick bf16, and a small input size for symbolic dimensions (a
  // model with fixed ones then refuses it), so that all those paths are explored.
  if (size > 0 && (data[0] & 1) != 0) options.precision = Precision::kBf16;
  if (size > 0 && (data[0] & 2) != 0) {
    options.input_height = 9;
    options.input_width = 7;
  }
  auto net = OnnxNetwork::LoadFromBytes(std::span<const uint8_t>(data, size), "fuzz.onnx", options);
  if (!net.ok()) {
    Check(!net.status().message().empty());
    return 0;
  }
  OnnxNetwork& n = **net;
  size_t elements = 1;
  for (int64_t d : n.output_dims()) {
    Check(d > 0);
    elements *= static_cast<size_t>(d);
  }
  Check(elements == n.output_size());
  const Shape in = n.input_shape();
  Check(in.h > 0 && in.w > 0 && in.c > 0);
  Check(n.activation_bytes() <= kFuzzMaxActivationBytes);
  if (n.flops() > kFuzzMaxRunFlops || in.size() * sizeof(float) > kFuzzMaxActivationBytes) {
    return 0;
  }
  Tensor input(in);
  for (size_t i = 0; i < input.data.size(); ++i) {
    input.data[i] = static_cast<float>(static_cast<int>(i % 17) - 8) / 8.f;
  }
  std::vector<float> output;
  Check(n.Run(input, output).ok());
  Check(output.size() == n.output_size());
  return 0;
}
