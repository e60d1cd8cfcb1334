// FuseGraph (onnx_graph.h): a convolution absorbs, one after another, the ops that alone read
// its output — affines (batch norm, per-channel constants) into its weights and bias while no
// activation is fused yet, then one activation, or a residual Add as accumulation followed by
// one activation. The fused op takes the place of the last op it absorbed, so the other input
// of an Add is computed before it runs.
#include <algorithm>

#include "nn/internal/onnx_graph.h"

namespace facetrail::nn::internal {

namespace {

// Channel vectors of an AffineOp or PReLU are per channel along ONNX axis 1 (or one value). A
// convolution's channels are its output's axis 1 (NHWC) — a dense op's are its last axis, the
// same axis only for a matrix output.
bool ChannelsMatch(const ConvOp& conv, const Value& out, size_t num_values) {
  return num_values <= 1 || !conv.is_dense || out.dims.size() == 2;
}

std::vector<float> Expand(const std::vector<float>& v, int n, float fallback) {
  std::vector<float> out(static_cast<size_t>(n), fallback);
  for (size_t i = 0; i < out.size() && !v.empty(); ++i) out[i] = v[v.size() == 1 ? 0 : i];
  return out;
}

// Folds y·scale + shift (per output channel) into the weights and bias.
void FoldAffine(ConvOp& conv, const AffineOp& affine) {
  const int n = conv.spec.out_channels;
  const std::vector<float> scale = Expand(affine.scale, n, 1.f);
  const std::vector<float> shift = Expand(affine.shift, n, 0.f);
  if (conv.bias.empty()) conv.bias.assign(static_cast<size_t>(n), 0.f);
  for (size_t o = 0; o < conv.bias.size(); ++o) conv.bias[o] = conv.bias[o] * scale[o] + shift[o];
  if (affine.scale.empty()) return;
  if (conv.owned_weights.empty()) {
    conv.owned_weights.assign(conv.weights.begin(), conv.weights.end());
    conv.weights = conv.owned_weights;
  }
  // The output channel is the first axis of OIHW weights, the last of TF ones.
  const size_t per_out = conv.owned_weights.size() / static_cast<size_t>(n);
  const bool oihw = conv.spec.weight_layout == WeightLayout::kOihw;
  for (size_t i = 0; i < conv.owned_weights.size(); ++i) {
    conv.owned_weights[i] *= scale[oihw ? i / per_out : i % static_cast<size_t>(n)];
  }
}

// Absorbs `next` (which reads the convolution's output `out` and nothing else of it) into
// `conv`, or returns false.
bool Absorb(Graph& g, ConvOp& conv, std::vector<int>& inputs, int out, const Op& next) {
  const Value& v = g.values[static_cast<size_t>(out)];
  const bool plain = conv.spec.activation == Activation::kNone && !conv.spec.accumulate;
  if (const auto* affine = std::get_if<AffineOp>(&next.kind)) {
    if (!plain || !ChannelsMatch(conv, v, std::max(affine->scale.size(), affine->shift.size()))) {
      return false;
    }
    FoldAffine(conv, *affine);
    return true;
  }
  if (const auto* act = std::get_if<ActivationOp>(&next.kind)) {
    if (conv.spec.activation != Activation::kNone || !ChannelsMatch(conv, v, act->slopes.size())) {
      return false;
    }
    conv.spec.activation = act->kind;
    conv.spec.alpha = act->alpha;
    conv.spec.beta = act->beta;
    conv.spec.prelu_slopes = act->slopes;
    return true;
  }
  if (const auto* binary = std::get_if<BinaryOp>(&next.kind)) {
    if (binary->kind != BinaryKind::kAdd || !plain || next.inputs.size() != 2) return false;
    const int other = next.inputs[0] == out ? next.inputs[1] : next.inputs[0];
    const Value& o = g.values[static_cast<size_t>(other)];
    const Value& sum = g.values[static_cast<size_t>(next.output)];
    // dst = conv + other in place: same shape and storage order, computed at run time.
    if (other == out || o.constant || o.dims != v.dims || sum.dims != v.dims ||
        (conv.is_dense && !InOnnxOrder(v.dims))) {
      return false;
    }
    conv.spec.accumulate = true;
    conv.accumulate_into = other;
    inputs.push_back(other);
    return true;
  }
  return false;
}

}  // namespace

void FuseGraph(Graph& g) {
  // The one op that reads a value, for values read exactly once (and not the graph output).
  std::vector<int> reader(g.values.size(), -1);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    for (int in : g.ops[i].inputs) reader[static_cast<size_t>(in)] = static_cast<int>(i);
  }
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].removed || !std::holds_alternative<ConvOp>(g.ops[i].kind)) continue;
    size_t at = i;
    while (true) {
      const int out = g.ops[at].output;
      const Value& v = g.values[static_cast<size_t>(out)];
      if (v.uses != 1 || out == g.output) break;
      const int next_index = reader[static_cast<size_t>(out)];
      if (next_index <= static_cast<int>(at)) break;
      Op& next = g.ops[static_cast<size_t>(next_index)];
      Op& fused = g.ops[at];
      // Absorb changes the convolution only when it returns true.
      if (!Absorb(g, std::get<ConvOp>(fused.kind), fused.inputs, out, next)) break;
      fused.output = next.output;
      fused.op_type += "+" + next.op_type;
      g.values[static_cast<size_t>(out)].uses = 0;
      g.values[static_cast<size_t>(next.output)].producer = next_index;
      for (int in : fused.inputs) {
        if (reader[static_cast<size_t>(in)] == static_cast<int>(at)) {
          reader[static_cast<size_t>(in)] = next_index;
        }
      }
      next = std::move(fused);
      g.ops[at].removed = true;
      at = static_cast<size_t>(next_index);
    }
  }
}

}  // namespace facetrail::nn::internal
