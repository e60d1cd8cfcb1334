#include "nn/onnx.h"

#include <filesystem>

#include "common/file.h"
#include "nn/internal/onnx_graph.h"
#include "nn/internal/onnx_model.h"
#include "nn/internal/onnx_plan.h"

namespace facetrail::nn {

struct OnnxNetwork::Impl {
  OnnxModelInfo info;
  std::unique_ptr<internal::Plan> plan;
};

namespace {

Expected<std::vector<uint8_t>> ReadModelFile(const std::string& path) {
  auto bytes = ReadFileBytes(path, internal::kMaxModelBytes);
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) {
    return Status(StatusCode::kNotFound,
                  bytes.status().message() + " (scripts/fetch-models fetches the models)");
  }
  return bytes;
}

std::string FileName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

Expected<OnnxModelInfo> InspectOnnx(const std::string& path) {
  FT_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, ReadModelFile(path));
  onnx::ModelProto model;
  Status parsed = internal::ParseModel(bytes, model);
  if (!parsed.ok()) return parsed.WithContext(FileName(path));
  auto info = internal::ReadModelInfo(model);
  if (!info.ok()) return info.status().WithContext(FileName(path));
  return info;
}

OnnxNetwork::OnnxNetwork() : impl_(std::make_unique<Impl>()) {}
OnnxNetwork::~OnnxNetwork() = default;

Expected<std::unique_ptr<OnnxNetwork>> OnnxNetwork::Load(const std::string& path,
                                                         const OnnxLoadOptions& options) {
  FT_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, ReadModelFile(path));
  return LoadFromBytes(bytes, FileName(path), options);
}

Expected<std::unique_ptr<OnnxNetwork>> OnnxNetwork::LoadFromBytes(std::span<const uint8_t> bytes,
                                                                  const std::string& name,
                                                                  const OnnxLoadOptions& options) {
  auto build = [&]() -> Expected<std::unique_ptr<OnnxNetwork>> {
    onnx::ModelProto model;
    FT_RETURN_IF_ERROR(internal::ParseModel(bytes, model));
    auto net = std::unique_ptr<OnnxNetwork>(new OnnxNetwork());
    FT_ASSIGN_OR_RETURN(net->impl_->info, internal::ReadModelInfo(model));
    FT_ASSIGN_OR_RETURN(internal::Graph graph, internal::ImportGraph(model, options));
    internal::FuseGraph(graph);
    FT_ASSIGN_OR_RETURN(net->impl_->plan, internal::Plan::Build(graph, options));
    return net;
  };
  auto net = build();
  if (!net.ok()) return net.status().WithContext(name);
  return net;
}

const OnnxModelInfo& OnnxNetwork::info() const {
  return impl_->info;
}
Shape OnnxNetwork::input_shape() const {
  return impl_->plan->input_shape();
}
const std::vector<int64_t>& OnnxNetwork::output_dims() const {
  return impl_->plan->output_dims();
}
size_t OnnxNetwork::output_size() const {
  return impl_->plan->output_size();
}
double OnnxNetwork::flops() const {
  return impl_->plan->flops();
}
size_t OnnxNetwork::activation_bytes() const {
  return impl_->plan->activation_bytes();
}
std::string OnnxNetwork::Summary() const {
  return impl_->plan->Describe();
}

Status OnnxNetwork::Run(const Tensor& input, std::vector<float>& output) {
  const Shape want = input_shape();
  if (input.shape != want || input.data.size() != want.size()) {
    return InvalidArgument("onnx network: input is " + std::to_string(input.shape.h) + "x" +
                           std::to_string(input.shape.w) + "x" + std::to_string(input.shape.c) +
                           " (HxWxC), the network was built for " + std::to_string(want.h) + "x" +
                           std::to_string(want.w) + "x" + std::to_string(want.c));
  }
  impl_->plan->Run(input, output);
  return Status::Ok();
}

}  // namespace facetrail::nn
