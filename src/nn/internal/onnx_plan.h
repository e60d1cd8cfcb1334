// What OnnxNetwork runs: the fused graph (onnx_graph.h) as a list of steps over a few reused
// buffers. Each step reads values and writes one; buffers ("slots") are handed out in step order
// and taken back after a value's last reader, and an elementwise step or a convolution that
// accumulates may write over an input that dies there. Layout changes (NHWC ↔ ONNX order) are
// steps of their own, inserted where an op needs the other order; a reshape that keeps the
// element order is free (its output shares the input's slot).
//
// THREAD SAFETY
//   Run uses the slots: one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/internal/onnx_graph.h"
#include "nn/tensor.h"

namespace facetrail::nn::internal {

class Plan {
 public:
  // Builds the steps of `graph` (after FuseGraph) for options.precision. kResourceExhausted when
  // the slots would exceed options.max_activation_bytes; a layer oneDNN cannot build is named.
  static Expected<std::unique_ptr<Plan>> Build(const Graph& graph, const OnnxLoadOptions& options);
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  Shape input_shape() const { return input_shape_; }
  const std::vector<int64_t>& output_dims() const { return output_dims_; }
  size_t output_size() const { return output_size_; }
  double flops() const { return flops_; }
  size_t activation_bytes() const { return activation_bytes_; }
  // Bytes mapped for weights, layer buffers and activations.
  size_t arena_bytes() const { return arena_.bytes_mapped(); }
  // One line per step ("Conv+PRelu 'Conv_0': [1,3,112,112] -> [1,64,56,56]"), for tests and docs.
  std::string Describe() const;

  // requires: input.shape == input_shape(). Writes output_size() floats in ONNX order.
  void Run(const Tensor& input, std::vector<float>& output);

  class Step;
  struct PlanValue;

 private:
  Plan();
  struct Builder;

  Shape input_shape_;
  std::vector<int64_t> output_dims_;
  size_t output_size_ = 0;
  double flops_ = 0;
  size_t activation_bytes_ = 0;
  int input_ = -1, output_ = -1;
  std::vector<PlanValue> values_;
  // The layers' weights and buffers and the slots, in huge pages (nn/layers.h); declared before
  // steps_ so that it outlives the layers that point into it.
  MemoryArena arena_;
  std::vector<std::unique_ptr<Step>> steps_;
  std::vector<std::vector<float>> constants_;  // floats the steps read, owned here
  std::vector<float*> slots_;                  // in arena_, or in fallback_slots_
  std::vector<std::vector<float>> fallback_slots_;
  std::vector<float*> pointers_;  // per value: its slot's memory or its constant's
};

}  // namespace facetrail::nn::internal
