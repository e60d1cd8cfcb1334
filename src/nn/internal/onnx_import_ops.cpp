// The handlers of the operators that compute on activations (onnx_import.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "nn/internal/onnx_import.h"

namespace facetrail::nn::internal {

namespace {

// The sliding window of a Conv or pool along y and x, resolved for one input size.
struct Window {
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  Pads pads;
  int out_h = 0, out_w = 0;
};

std::string IntsToString(const std::vector<int64_t>& v) {
  return DimsToString(v);
}

// Output size along one axis; ceil_mode follows PyTorch/onnxruntime (a last window that would
// start in the padding after the input is dropped).
int64_t WindowOutput(int64_t in, int64_t kernel, int64_t stride, int64_t before, int64_t after,
                     bool ceil_mode) {
  const int64_t span = in + before + after - kernel;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + before) --out;
  return out;
}

// Reads strides, dilations, pads and auto_pad for a 2-D window of kernel kh × kw over an input
// of in_h × in_w (ONNX pads order: top, left, bottom, right).
Expected<Window> ReadWindow(const Attributes& a, int64_t kh, int64_t kw, int64_t in_h, int64_t in_w,
                            bool ceil_mode) {
  FT_ASSIGN_OR_RETURN(const std::vector<int64_t> strides, a.Ints("strides", {1, 1}));
  FT_ASSIGN_OR_RETURN(const std::vector<int64_t> dilations, a.Ints("dilations", {1, 1}));
  FT_ASSIGN_OR_RETURN(const std::string auto_pad, a.String("auto_pad", "NOTSET"));
  FT_ASSIGN_OR_RETURN(std::vector<int64_t> pads, a.Ints("pads", {0, 0, 0, 0}));
  if (strides.size() != 2 || strides[0] < 1 || strides[1] < 1 || strides[0] > in_h + 1 ||
      strides[1] > in_w + 1) {
    return DataLoss("strides " + IntsToString(strides) + " are not two positive values");
  }
  if (dilations.size() != 2) return DataLoss("dilations " + IntsToString(dilations) + " bad");
  if (dilations[0] != 1 || dilations[1] != 1) {
    return InvalidArgument("dilations " + IntsToString(dilations) + " not supported");
  }
  if (kh < 1 || kw < 1 || kh > in_h + 2 * kMaxInputSide || kw > in_w + 2 * kMaxInputSide) {
    return DataLoss("kernel " + IntsToString({kh, kw}) + " is not positive or too large");
  }
  if (a.has("pads") && auto_pad != "NOTSET") {
    return DataLoss("pads given together with auto_pad " + auto_pad);
  }
  if (pads.size() != 4) return DataLoss("pads " + IntsToString(pads) + " are not 4 values");
  if (auto_pad == "VALID") {
    pads = {0, 0, 0, 0};
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const int64_t in[2] = {in_h, in_w}, k[2] = {kh, kw};
    for (size_t i = 0; i < 2; ++i) {
      const int64_t out = (in[i] + strides[i] - 1) / strides[i];
      const int64_t total = std::max<int64_t>((out - 1) * strides[i] + k[i] - in[i], 0);
      const int64_t before = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pads[i] = before;
      pads[i + 2] = total - before;
    }
  } else if (auto_pad != "NOTSET") {
    return DataLoss("auto_pad '" + auto_pad + "' is not an ONNX value");
  }
  for (size_t i = 0; i < 4; ++i) {
    if (pads[i] < 0)
      return InvalidArgument("negative pads " + IntsToString(pads) + " not supported");
    if (pads[i] >= (i % 2 == 0 ? kh : kw)) {
      return InvalidArgument("pads " + IntsToString(pads) + " not smaller than the kernel " +
                             IntsToString({kh, kw}) + ": not supported");
    }
  }
  Window w;
  const int64_t out_h = WindowOutput(in_h, kh, strides[0], pads[0], pads[2], ceil_mode);
  const int64_t out_w = WindowOutput(in_w, kw, strides[1], pads[1], pads[3], ceil_mode);
  if (out_h < 1 || out_w < 1) {
    return InvalidArgument("input " + std::to_string(in_h) + "x" + std::to_string(in_w) +
                           " is smaller than the kernel " + IntsToString({kh, kw}) + " with pads " +
                           IntsToString(pads));
  }
  w.kernel_h = static_cast<int>(kh);
  w.kernel_w = static_cast<int>(kw);
  w.stride_h = static_cast<int>(strides[0]);
  w.stride_w = static_cast<int>(strides[1]);
  w.pads = {static_cast<int>(pads[0]), static_cast<int>(pads[1]), static_cast<int>(pads[2]),
            static_cast<int>(pads[3])};
  w.out_h = static_cast<int>(out_h);
  w.out_w = static_cast<int>(out_w);
  return w;
}

// The values of constant `c` when, broadcast against a tensor of `dims`, it varies only along
// axis 1 (the channels) and leaves `dims` unchanged: one value (a scalar) or dims[1] values.
std::optional<std::vector<float>> PerChannel(const Constant& c, const std::vector<int64_t>& dims) {
  if (!c.is_float || c.dims.size() > dims.size()) return std::nullopt;
  const size_t offset = dims.size() - c.dims.size();
  for (size_t j = 0; j < c.dims.size(); ++j) {
    const size_t axis = offset + j;
    if (c.dims[j] != 1 && !(axis == 1 && c.dims[j] == dims[1])) return std::nullopt;
  }
  return std::vector<float>(c.floats().begin(), c.floats().end());
}

// A constant float vector input of `n` values ("scale", "B", ...) for a node.
Status CheckVector(const Constant& c, int64_t n, const std::string& what) {
  if (!c.is_float || c.dims.size() != 1 || c.dims[0] != n) {
    return DataLoss(what + " has shape " + DimsToString(c.dims) + ", expected [" +
                    std::to_string(n) + "] floats");
  }
  return Status::Ok();
}

}  // namespace

Status Importer::Conv(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 2, 3));
  FT_RETURN_IF_ERROR(RequireRunTime(node, 0));
  const Value& x = value(node.inputs[0]);
  if (!IsNhwc(x.dims)) {
    return InvalidArgument("input '" + x.name + "' has shape " + DimsToString(x.dims) +
                           ": only 2-D convolutions of [1, C, H, W] are supported");
  }
  FT_ASSIGN_OR_RETURN(const Constant* w, RequireConstant(node, 1));
  if (!w->is_float || w->dims.size() != 4) {
    return DataLoss("weights '" + InputName(node, 1) + "' " + DimsToString(w->dims) +
                    " are not float [M, C/group, kH, kW]");
  }
  FT_ASSIGN_OR_RETURN(const int64_t group, node.attributes.Int("group", 1));
  const int64_t c = x.dims[1], m = w->dims[0], cpg = w->dims[1], kh = w->dims[2], kw = w->dims[3];
  if (group < 1 || c % group != 0 || cpg != c / group || m % group != 0 || m < 1) {
    return DataLoss("weights " + DimsToString(w->dims) + " do not fit " + std::to_string(c) +
                    " input channels in " + std::to_string(group) + " groups");
  }
  FT_ASSIGN_OR_RETURN(const std::vector<int64_t> kernel,
                      node.attributes.Ints("kernel_shape", {kh, kw}));
  if (kernel != std::vector<int64_t>{kh, kw}) {
    return DataLoss("kernel_shape " + IntsToString(kernel) + " differs from the weights " +
                    DimsToString(w->dims));
  }
  std::vector<float> bias;
  if (node.inputs.size() > 2 && node.inputs[2] >= 0) {
    FT_ASSIGN_OR_RETURN(const Constant* b, RequireConstant(node, 2));
    FT_RETURN_IF_ERROR(CheckVector(*b, m, "bias '" + InputName(node, 2) + "'"));
    bias.assign(b->floats().begin(), b->floats().end());
  }
  FT_ASSIGN_OR_RETURN(const Window win,
                      ReadWindow(node.attributes, kh, kw, x.dims[2], x.dims[3], false));
  ConvOp op;
  op.input = {static_cast<int>(x.dims[2]), static_cast<int>(x.dims[3]), static_cast<int>(c)};
  op.spec.kernel_h = win.kernel_h;
  op.spec.kernel_w = win.kernel_w;
  op.spec.in_channels = static_cast<int>(c);
  op.spec.out_channels = static_cast<int>(m);
  op.spec.stride = win.stride_h;
  op.spec.stride_w = win.stride_w;
  op.spec.groups = static_cast<int>(group);
  op.spec.pads = win.pads;
  op.spec.weight_layout = WeightLayout::kOihw;  // ONNX's own: oneDNN reorders it directly
  op.weights = w->floats();
  op.bias = std::move(bias);
  return DefineOp(node, std::move(op), {node.inputs[0]}, {1, m, win.out_h, win.out_w});
}

Status Importer::Gemm(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 2, 3));
  FT_RETURN_IF_ERROR(RequireRunTime(node, 0));
  const Value& a = value(node.inputs[0]);
  if (a.dims.size() != 2) {
    return DataLoss("A '" + a.name + "' has shape " + DimsToString(a.dims) + ", not a matrix");
  }
  FT_ASSIGN_OR_RETURN(const int64_t trans_a, node.attributes.Int("transA", 0));
  FT_ASSIGN_OR_RETURN(const int64_t trans_b, node.attributes.Int("transB", 0));
  FT_ASSIGN_OR_RETURN(const float alpha, node.attributes.Float("alpha", 1.f));
  FT_ASSIGN_OR_RETURN(const float beta, node.attributes.Float("beta", 1.f));
  if (trans_a != 0) return InvalidArgument("transA=" + std::to_string(trans_a) + " not supported");
  FT_ASSIGN_OR_RETURN(const Constant* b, RequireConstant(node, 1));
  if (!b->is_float || b->dims.size() != 2) {
    return DataLoss("B '" + InputName(node, 1) + "' " + DimsToString(b->dims) +
                    " is not a float matrix");
  }
  const int64_t m = a.dims[0], k = a.dims[1];
  const int64_t bk = trans_b != 0 ? b->dims[1] : b->dims[0];
  const int64_t n = trans_b != 0 ? b->dims[0] : b->dims[1];
  if (bk != k || n < 1) {
    return DataLoss("A " + DimsToString(a.dims) + " and B " + DimsToString(b->dims) +
                    (trans_b != 0 ? " (transposed)" : "") + " do not multiply");
  }
  ConvOp op;
  op.is_dense = true;
  op.input = {1, static_cast<int>(m), static_cast<int>(k)};
  op.spec.in_channels = static_cast<int>(k);
  op.spec.out_channels = static_cast<int>(n);
  // B is [K][N] (a 1×1 convolution's TF layout) or, transposed, [N][K] (its OIHW layout).
  op.spec.weight_layout = trans_b != 0 ? WeightLayout::kOihw : WeightLayout::kTensorFlow;
  op.weights = b->floats();
  if (alpha != 1.f) {
    op.owned_weights.assign(b->floats().begin(), b->floats().end());
    for (float& v : op.owned_weights) v *= alpha;
    op.weights = op.owned_weights;
  }
  if (node.inputs.size() > 2 && node.inputs[2] >= 0) {
    FT_ASSIGN_OR_RETURN(const Constant* c, RequireConstant(node, 2));
    FT_ASSIGN_OR_RETURN(const auto out, BroadcastDims(c->dims, {m, n}));
    // A bias per output column: C may not vary along the rows (unless there is one row).
    const bool per_column = c->is_float && out == std::vector<int64_t>{m, n} &&
                            (m == 1 || c->dims.size() < 2 || c->dims[0] == 1);
    if (!per_column) {
      return InvalidArgument("C '" + InputName(node, 2) + "' of shape " + DimsToString(c->dims) +
                             " not supported (a bias per column)");
    }
    op.bias.resize(static_cast<size_t>(n));
    const bool one = c->dims.empty() || c->dims.back() == 1;
    for (int64_t j = 0; j < n; ++j) {
      op.bias[static_cast<size_t>(j)] = beta * c->floats()[static_cast<size_t>(one ? 0 : j)];
    }
  }
  return DefineOp(node, std::move(op), {node.inputs[0]}, {m, n});
}

Status Importer::MatMul(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 2, 2));
  FT_RETURN_IF_ERROR(RequireRunTime(node, 0));
  const Value& a = value(node.inputs[0]);
  FT_ASSIGN_OR_RETURN(const Constant* b, RequireConstant(node, 1));
  if (a.dims.size() < 2) {
    return InvalidArgument("A '" + a.name + "' of shape " + DimsToString(a.dims) +
                           " not supported (rank 2 or more)");
  }
  if (!b->is_float || b->dims.size() != 2) {
    return InvalidArgument("B '" + InputName(node, 1) + "' of shape " + DimsToString(b->dims) +
                           " not supported (a constant float matrix)");
  }
  const int64_t k = a.dims.back(), n = b->dims[1];
  if (b->dims[0] != k || n < 1) {
    return DataLoss("A " + DimsToString(a.dims) + " and B " + DimsToString(b->dims) +
                    " do not multiply");
  }
  const int64_t rows = a.size() / std::max<int64_t>(k, 1);
  ConvOp op;
  op.is_dense = true;
  op.input = {1, static_cast<int>(rows), static_cast<int>(k)};
  op.spec.in_channels = static_cast<int>(k);
  op.spec.out_channels = static_cast<int>(n);
  op.weights = b->floats();  // [K][N]: the TF layout of a 1×1 convolution (the default)
  std::vector<int64_t> dims = a.dims;
  dims.back() = n;
  return DefineOp(node, std::move(op), {node.inputs[0]}, std::move(dims));
}

Status Importer::BatchNormalization(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 5, 5));
  FT_RETURN_IF_ERROR(RequireRunTime(node, 0));
  const Value& x = value(node.inputs[0]);
  if (x.dims.size() < 2) {
    return DataLoss("input '" + x.name + "' of shape " + DimsToString(x.dims) +
                    " has no channel axis");
  }
  FT_ASSIGN_OR_RETURN(const float epsilon, node.attributes.Float("epsilon", 1e-5f));
  FT_ASSIGN_OR_RETURN(const int64_t spatial, node.attributes.Int("spatial", 1));
  FT_ASSIGN_OR_RETURN(const int64_t training, node.attributes.Int("training_mode", 0));
  if (spatial != 1) return InvalidArgument("spatial=" + std::to_string(spatial) + " not supported");
  if (training != 0) return InvalidArgument("training_mode=1 not supported (inference only)");
  const int64_t c = x.dims[1];
  const Constant* p[4] = {};
  const char* names[4] = {"scale", "B", "mean", "var"};
  for (int i = 0; i < 4; ++i) {
    FT_ASSIGN_OR_RETURN(p[i], RequireConstant(node, i + 1));
    FT_RETURN_IF_ERROR(
        CheckVector(*p[i], c, std::string(names[i]) + " '" + InputName(node, i + 1) + "'"));
  }
  AffineOp op;
  op.scale.resize(static_cast<size_t>(c));
  op.shift.resize(static_cast<size_t>(c));
  for (size_t i = 0; i < op.scale.size(); ++i) {
    const double var = static_cast<double>(p[3]->floats()[i]) + epsilon;
    if (!(var > 0)) {
      return DataLoss("var + epsilon is not positive for channel " + std::to_string(i));
    }
    const double s = p[0]->floats()[i] / std::sqrt(var);
    op.scale[i] = static_cast<float>(s);
    op.shift[i] = static_cast<float>(p[1]->floats()[i] - p[2]->floats()[i] * s);
  }
  return DefineOp(node, std::move(op), {node.inputs[0]}, x.dims);
}

Status Importer::Arithmetic(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 2, 2));
  const std::string& type = node.proto.op_type();
  const BinaryKind kind = type == "Add"   ? BinaryKind::kAdd
                          : type == "Sub" ? BinaryKind::kSub
                          : type == "Mul" ? BinaryKind::kMul
                                          : BinaryKind::kDiv;
  const int ia = node.inputs[0], ib = node.inputs[1];
  if (IsConstant(ia) && IsConstant(ib)) {
    FT_ASSIGN_OR_RETURN(const auto dims, BroadcastDims(value(ia).dims, value(ib).dims));
    FT_RETURN_IF_ERROR(ReserveFolded(dims));
    FT_ASSIGN_OR_RETURN(Constant c, FoldArithmetic(kind, *value(ia).constant, *value(ib).constant));
    return DefineConstant(node, 0, std::move(c));
  }
  for (int i = 0; i < 2; ++i) {
    const int id = node.inputs[static_cast<size_t>(i)];
    if (IsConstant(id) && !value(id).constant->is_float) {
      return DataLoss("input '" + value(id).name + "' holds integers, the other input floats");
    }
  }
  FT_ASSIGN_OR_RETURN(std::vector<int64_t> dims, BroadcastDims(value(ia).dims, value(ib).dims));
  // One constant that is a scalar or per channel: an affine the convolution before may absorb.
  const bool a_const = IsConstant(ia);
  if (a_const || IsConstant(ib)) {
    const int x = a_const ? ib : ia;
    const Constant& c = *value(a_const ? ia : ib).constant;
    auto v = PerChannel(c, value(x).dims);
    if (v && dims == value(x).dims && !(kind == BinaryKind::kDiv && a_const)) {
      AffineOp op;
      switch (kind) {
        case BinaryKind::kAdd: op.shift = *v; break;
        case BinaryKind::kMul: op.scale = *v; break;
        case BinaryKind::kSub:
          op.shift = *v;
          if (a_const) {
            op.scale = {-1.f};  // c − x
          } else {
            for (float& s : op.shift) s = -s;  // x − c
          }
          break;
        case BinaryKind::kDiv:
          op.scale = *v;
          for (float& s : op.scale) s = 1.f / s;
          break;
        case BinaryKind::kPRelu: break;
      }
      return DefineOp(node, std::move(op), {x}, std::move(dims));
    }
  }
  BinaryOp op;
  op.kind = kind;
  return DefineOp(node, op, {ia, ib}, std::move(dims));
}

Status Importer::PRelu(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 2, 2));
  FT_RETURN_IF_ERROR(RequireRunTime(node, 0));
  const Value& x = value(node.inputs[0]);
  const Value& slope = value(node.inputs[1]);
  FT_ASSIGN_OR_RETURN(const std::vector<int64_t> dims, BroadcastDims(x.dims, slope.dims));
  if (dims != x.dims) {
    return DataLoss("slope " + DimsToString(slope.dims) + " does not broadcast to the input " +
                    DimsToString(x.dims));
  }
  if (slope.constant) {
    if (!slope.constant->is_float) return DataLoss("slope '" + slope.name + "' holds integers");
    if (auto v = PerChannel(*slope.constant, x.dims)) {
      ActivationOp op;
      op.kind = nn::Activation::kPRelu;
      op.slopes = std::move(*v);
      return DefineOp(node, std::move(op), {node.inputs[0]}, dims);
    }
  }
  BinaryOp op;
  op.kind = BinaryKind::kPRelu;
  return DefineOp(node, op, {node.inputs[0], node.inputs[1]}, dims);
}

Status Importer::Activation(const Node& node) {
  const std::string& type = node.proto.op_type();
  FT_RETURN_IF_ERROR(RequireInputCount(node, 1, type == "Clip" ? 3 : 1));
  FT_RETURN_IF_ERROR(RequireRunTime(node, 0));
  ActivationOp op;
  if (type == "Relu") {
    op.kind = nn::Activation::kRelu;
  } else if (type == "Sigmoid") {
    op.kind = nn::Activation::kSigmoid;
  } else if (type == "LeakyRelu") {
    op.kind = nn::Activation::kLeakyRelu;
    FT_ASSIGN_OR_RETURN(op.alpha, node.attributes.Float("alpha", 0.01f));
  } else {  // Clip: bounds are attributes before opset 11, optional scalar inputs since
    float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
    if (opset() < 11) {
      FT_ASSIGN_OR_RETURN(lo, node.attributes.Float("min", lo));
      FT_ASSIGN_OR_RETURN(hi, node.attributes.Float("max", hi));
    } else {
      if (node.attributes.has("min") || node.attributes.has("max")) {
        return DataLoss("min/max are inputs since opset 11, not attributes");
      }
      float* bound[2] = {&lo, &hi};
      for (int i = 1; i < 3; ++i) {
        if (static_cast<int>(node.inputs.size()) <= i || node.inputs[static_cast<size_t>(i)] < 0) {
          continue;
        }
        FT_ASSIGN_OR_RETURN(const Constant* c, RequireConstant(node, i));
        if (!c->is_float || c->size() != 1) {
          return DataLoss("bound '" + InputName(node, i) + "' is not one float");
        }
        *bound[i - 1] = c->floats()[0];
      }
    }
    if (!(lo <= hi)) return DataLoss("min " + std::to_string(lo) + " > max " + std::to_string(hi));
    op.alpha = lo;
    op.beta = hi;
    op.kind = lo == 0.f && hi == 6.f                                 ? nn::Activation::kRelu6
              : lo == 0.f && hi == std::numeric_limits<float>::max() ? nn::Activation::kRelu
                                                                     : nn::Activation::kClip;
  }
  return DefineOp(node, std::move(op), {node.inputs[0]}, value(node.inputs[0]).dims);
}

Status Importer::Pool(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 1, 1));
  FT_RETURN_IF_ERROR(RequireRunTime(node, 0));
  const Value& x = value(node.inputs[0]);
  if (!IsNhwc(x.dims)) {
    return InvalidArgument("input '" + x.name + "' has shape " + DimsToString(x.dims) +
                           ": only 2-D pooling of [1, C, H, W] is supported");
  }
  FT_ASSIGN_OR_RETURN(const std::vector<int64_t> kernel, node.attributes.Ints("kernel_shape", {}));
  if (kernel.size() != 2) {
    return DataLoss("kernel_shape " + IntsToString(kernel) + " is not two values");
  }
  FT_ASSIGN_OR_RETURN(const int64_t ceil_mode, node.attributes.Int("ceil_mode", 0));
  FT_ASSIGN_OR_RETURN(const int64_t include_pad, node.attributes.Int("count_include_pad", 0));
  FT_ASSIGN_OR_RETURN(const int64_t storage_order, node.attributes.Int("storage_order", 0));
  if (storage_order != 0 && storage_order != 1) {
    return DataLoss("storage_order " + std::to_string(storage_order) + " is not 0 or 1");
  }
  FT_ASSIGN_OR_RETURN(const Window win, ReadWindow(node.attributes, kernel[0], kernel[1], x.dims[2],
                                                   x.dims[3], ceil_mode != 0));
  PoolOp op;
  op.max = node.proto.op_type() == "MaxPool";
  op.kernel_h = win.kernel_h;
  op.kernel_w = win.kernel_w;
  op.stride_h = win.stride_h;
  op.stride_w = win.stride_w;
  op.pads = win.pads;
  op.count_include_pad = include_pad != 0;
  return DefineOp(node, op, {node.inputs[0]}, {1, x.dims[1], win.out_h, win.out_w});
}

Status Importer::GlobalPool(const Node& node) {
  FT_RETURN_IF_ERROR(RequireInputCount(node, 1, 1));
  FT_RETURN_IF_ERROR(RequireRunTime(node, 0));
  const Value& x = value(node.inputs[0]);
  if (!IsNhwc(x.dims)) {
    return InvalidArgument("input '" + x.name + "' has shape " + DimsToString(x.dims) +
                           ": only [1, C, H, W] is supported");
  }
  PoolOp op;
  op.max = node.proto.op_type() == "GlobalMaxPool";
  op.kernel_h = static_cast<int>(x.dims[2]);
  op.kernel_w = static_cast<int>(x.dims[3]);
  return DefineOp(node, op, {node.inputs[0]}, {1, x.dims[1], 1, 1});
}

Status Importer::Concat(const Node& node) {
  if (node.proto.input_size() < 1) return DataLoss("takes at least one input, has none");
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i] < 0) return DataLoss("input #" + std::to_string(i) + " is empty");
  }
  if (!node.attributes.has("axis")) return DataLoss("attribute 'axis' is required");
  FT_ASSIGN_OR_RETURN(int64_t axis, node.attributes.Int("axis", 0));
  const std::vector<int64_t>& first = value(node.inputs[0]).dims;
  const auto rank = static_cast<int64_t>(first.size());
  if (axis < -rank || axis >= rank) {
    return DataLoss("axis " + std::to_string(axis) + " is outside rank " + std::to_string(rank));
  }
  if (axis < 0) axis += rank;
  std::vector<int64_t> dims = first;
  dims[static_cast<size_t>(axis)] = 0;
  bool all_constant = true, any_int = false;
  for (int id : node.inputs) {
    const Value& v = value(id);
    bool fits = static_cast<int64_t>(v.dims.size()) == rank;
    for (size_t d = 0; fits && d < v.dims.size(); ++d) {
      fits = static_cast<int64_t>(d) == axis || v.dims[d] == first[d];
    }
    if (!fits) {
      return DataLoss("input '" + v.name + "' " + DimsToString(v.dims) + " does not join " +
                      DimsToString(first) + " along axis " + std::to_string(axis));
    }
    dims[static_cast<size_t>(axis)] += v.dims[static_cast<size_t>(axis)];
    all_constant = all_constant && v.constant.has_value();
    any_int = any_int || (v.constant && !v.constant->is_float);
  }
  if (all_constant) {
    FT_RETURN_IF_ERROR(ReserveFolded(dims));
    FT_ASSIGN_OR_RETURN(Constant c, FoldConcat(node, static_cast<int>(axis), dims));
    return DefineConstant(node, 0, std::move(c));
  }
  if (any_int) return DataLoss("joins integer constants with float tensors");
  ConcatOp op;
  op.axis = static_cast<int>(axis);
  return DefineOp(node, op, node.inputs, std::move(dims));
}

}  // namespace facetrail::nn::internal
