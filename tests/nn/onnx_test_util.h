// Helpers for the ONNX loader's tests: tiny models built with the protobuf API, and a naive
// NCHW reference (plain loops over ONNX's own layout) to compare the loader's output with.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "nn/onnx.h"
#include "nn/tensor.h"

namespace facetrail::nn::onnx_testing {

// A model under construction: one graph, default-domain opset `opset`.
class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 13) {
    model_.set_ir_version(7);
    model_.set_producer_name("facetrail-test");
    auto* o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
  }
  onnx::ModelProto& proto() { return model_; }
  onnx::GraphProto& graph() { return *model_.mutable_graph(); }

  // A float graph input or output; -1 in dims is a symbolic dimension. An output declared
  // without dims has no shape (unknown).
  void Input(const std::string& name, const std::vector<int64_t>& dims) {
    Describe(graph().add_input(), name, dims, true);
  }
  void Output(const std::string& name, const std::vector<int64_t>& dims = {}) {
    Describe(graph().add_output(), name, dims, !dims.empty());
  }
  // A FLOAT initializer as raw_data.
  onnx::TensorProto& Initializer(const std::string& name, const std::vector<int64_t>& dims,
                                 const std::vector<float>& values) {
    onnx::TensorProto& t = *graph().add_initializer();
    t.set_name(name);
    for (int64_t d : dims) t.add_dims(d);
    t.set_data_type(onnx::TensorProto::FLOAT);
    t.set_raw_data(
        std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    return t;
  }
  onnx::TensorProto& IntInitializer(const std::string& name, const std::vector<int64_t>& dims,
                                    const std::vector<int64_t>& values) {
    onnx::TensorProto& t = *graph().add_initializer();
    t.set_name(name);
    for (int64_t d : dims) t.add_dims(d);
    t.set_data_type(onnx::TensorProto::INT64);
    for (int64_t v : values) t.add_int64_data(v);
    return t;
  }
  onnx::NodeProto& Node(const std::string& op_type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    onnx::NodeProto& n = *graph().add_node();
    n.set_op_type(op_type);
    n.set_name(name.empty() ? std::string(op_type).append("_").append(
                                  std::to_string(graph().node_size() - 1))
                            : name);
    for (const auto& i : inputs) n.add_input(i);
    for (const auto& o : outputs) n.add_output(o);
    return n;
  }
  std::string Bytes() const { return model_.SerializeAsString(); }

 private:
  static void Describe(onnx::ValueInfoProto* v, const std::string& name,
                       const std::vector<int64_t>& dims, bool with_shape) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    if (!with_shape) return;
    auto* shape = t->mutable_shape();
    for (int64_t d : dims) {
      auto* dim = shape->add_dim();
      if (d >= 0) {
        dim->set_dim_value(d);
      } else {
        dim->set_dim_param(std::string("n").append(std::to_string(shape->dim_size())));
      }
    }
  }
  onnx::ModelProto model_;
};

inline void SetAttr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void SetAttr(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
inline void SetAttr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}
inline void SetAttr(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

inline Expected<std::unique_ptr<OnnxNetwork>> LoadModel(const ModelBuilder& m,
                                                        const OnnxLoadOptions& options = {}) {
  const std::string bytes = m.Bytes();
  return OnnxNetwork::LoadFromBytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
      "test.onnx", options);
}

// A tensor in ONNX's own layout (row-major over dims), for the reference computations.
struct Ref {
  std::vector<int64_t> dims;
  std::vector<float> v;

  static Ref Random(std::vector<int64_t> dims, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
    Ref r;
    r.dims = std::move(dims);
    size_t n = 1;
    for (int64_t d : r.dims) n *= static_cast<size_t>(d);
    std::uniform_real_distribution<float> dist(lo, hi);
    r.v.resize(n);
    for (float& x : r.v) x = dist(rng);
    return r;
  }
  float& at(int64_t n, int64_t c, int64_t y, int64_t x) {
    return v[static_cast<size_t>(((n * dims[1] + c) * dims[2] + y) * dims[3] + x)];
  }
  float at(int64_t n, int64_t c, int64_t y, int64_t x) const {
    return v[static_cast<size_t>(((n * dims[1] + c) * dims[2] + y) * dims[3] + x)];
  }
};

// [1, C, H, W] in ONNX order → the NHWC tensor OnnxNetwork::Run takes.
inline Tensor ToNhwc(const Ref& r) {
  Tensor t({static_cast<int>(r.dims[2]), static_cast<int>(r.dims[3]), static_cast<int>(r.dims[1])});
  for (int c = 0; c < t.shape.c; ++c) {
    for (int y = 0; y < t.shape.h; ++y) {
      for (int x = 0; x < t.shape.w; ++x) t.at(y, x)[c] = r.at(0, c, y, x);
    }
  }
  return t;
}

struct ConvGeometry {
  int64_t stride_h = 1, stride_w = 1, groups = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

// Direct convolution in NCHW with OIHW weights (ONNX semantics).
inline Ref RefConv(const Ref& x, const Ref& w, const std::vector<float>& bias,
                   const ConvGeometry& g) {
  const int64_t c = x.dims[1], h = x.dims[2], wd = x.dims[3];
  const int64_t m = w.dims[0], cpg = w.dims[1], kh = w.dims[2], kw = w.dims[3];
  Ref out;
  out.dims = {1, m, (h + g.pad_top + g.pad_bottom - kh) / g.stride_h + 1,
              (wd + g.pad_left + g.pad_right - kw) / g.stride_w + 1};
  out.v.assign(static_cast<size_t>(m * out.dims[2] * out.dims[3]), 0.f);
  const int64_t opg = m / g.groups;
  for (int64_t o = 0; o < m; ++o) {
    const int64_t group = o / opg;
    for (int64_t oy = 0; oy < out.dims[2]; ++oy) {
      for (int64_t ox = 0; ox < out.dims[3]; ++ox) {
        double s = bias.empty() ? 0 : bias[static_cast<size_t>(o)];
        for (int64_t i = 0; i < cpg; ++i) {
          for (int64_t ky = 0; ky < kh; ++ky) {
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t iy = oy * g.stride_h - g.pad_top + ky;
              const int64_t ix = ox * g.stride_w - g.pad_left + kx;
              if (iy < 0 || ix < 0 || iy >= h || ix >= wd) continue;
              s += double{x.at(0, group * cpg + i, iy, ix)} * w.at(o, i, ky, kx);
            }
          }
        }
        out.at(0, o, oy, ox) = static_cast<float>(s);
      }
    }
  }
  (void)c;
  return out;
}

// L∞ distance, for EXPECT_LE(MaxDiff(a, b), tolerance).
inline double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 1e30;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::abs(a[i] - b[i])));
  }
  return worst;
}

}  // namespace facetrail::nn::onnx_testing
