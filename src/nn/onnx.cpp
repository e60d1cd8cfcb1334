#include "nn/onnx.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "nn/internal/onnx_graph.h"
#include "nn/internal/onnx_model.h"
#include "nn/internal/onnx_plan.h"

namespace facetrail::nn {

struct OnnxNetwork::Impl {
  OnnxModelInfo info;
  std::unique_ptr<internal::Plan> plan;
};

namespace {

// A model file mapped read-only, its pages populated in one call from the page cache: reading it
// into fresh memory instead costs a page fault per 4 KiB, which dominates loading on the target
// VMs (~12 µs each, 2026-12).
class MappedFile {
 public:
  static Expected<std::unique_ptr<MappedFile>> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      const std::string message = path + ": " + ErrnoMessage(err);
      if (err == ENOENT) {
        return NotFound(message + " (scripts/fetch-models fetches the models)");
      }
      return IoError(message);
    }
    auto file = std::unique_ptr<MappedFile>(new MappedFile());
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return IoError(path + ": not a regular file");
    }
    file->size_ = static_cast<size_t>(st.st_size);
    if (file->size_ > internal::kMaxModelBytes) {
      ::close(fd);
      return ResourceExhausted(path + ": " + std::to_string(file->size_) +
                               " bytes, more than the limit of " +
                               std::to_string(internal::kMaxModelBytes));
    }
    if (file->size_ > 0) {
      void* p = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (p == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        return IoError(path + ": mmap: " + ErrnoMessage(err));
      }
      file->data_ = p;
    }
    ::close(fd);
    return file;
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::span<const uint8_t> bytes() const {
    return {static_cast<const uint8_t*>(data_), data_ != nullptr ? size_ : 0};
  }

 private:
  MappedFile() = default;
  void* data_ = nullptr;
  size_t size_ = 0;
};

std::string FileName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

Expected<OnnxModelInfo> InspectOnnx(const std::string& path) {
  FT_ASSIGN_OR_RETURN(const auto file, MappedFile::Open(path));
  onnx::ModelProto model;
  Status parsed = internal::ParseModel(file->bytes(), model);
  if (!parsed.ok()) return parsed.WithContext(FileName(path));
  auto info = internal::ReadModelInfo(model);
  if (!info.ok()) return info.status().WithContext(FileName(path));
  return info;
}

OnnxNetwork::OnnxNetwork() : impl_(std::make_unique<Impl>()) {}
OnnxNetwork::~OnnxNetwork() = default;

Expected<std::unique_ptr<OnnxNetwork>> OnnxNetwork::Load(const std::string& path,
                                                         const OnnxLoadOptions& options) {
  FT_ASSIGN_OR_RETURN(const auto file, MappedFile::Open(path));
  return LoadFromBytes(file->bytes(), FileName(path), options);
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
