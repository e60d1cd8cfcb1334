#include "nn/internal/onnx_plan.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "nn/internal/onnx_kernels.h"

namespace facetrail::nn::internal {

struct Plan::PlanValue {
  std::vector<int64_t> dims;
  bool nhwc = false;                    // stored NHWC (else ONNX row-major order)
  size_t size = 0;                      // floats
  bool constant = false;                // read from constants_, never written
  int constant_index = -1;              // constants_[constant_index], once a step reads it
  std::span<const float> graph_floats;  // a graph constant's data (valid during Build)
  int slot = -1;
  int last_use = -1;    // index of the last step reading it
  bool pinned = false;  // the graph output: its slot is never given back
  std::vector<int64_t> strides() const { return StorageStrides(dims, nhwc); }
};

namespace {
bool OnnxOrdered(const Plan::PlanValue& v) {
  return !v.nhwc || InOnnxOrder(v.dims);
}
}  // namespace

class Plan::Step {
 public:
  virtual ~Step() = default;
  virtual void Run(const std::vector<float*>& p) = 0;
  virtual std::string Name() const = 0;

  std::vector<int> reads;
  int write = -1;
  int in_place = -1;   // a read whose slot the written value may take over when it dies here
  bool alias = false;  // no work: `write` is reads[0] under other dims
  std::string node;    // the ONNX node, for Describe
};

namespace {

using Step = Plan::Step;

size_t Count(const std::vector<int64_t>& dims) {
  size_t n = 1;
  for (int64_t d : dims) n *= static_cast<size_t>(d);
  return n;
}

std::vector<int> StorageOrder(size_t rank, bool nhwc) {
  if (nhwc) return {0, 2, 3, 1};
  std::vector<int> order(rank);
  for (size_t i = 0; i < rank; ++i) order[i] = static_cast<int>(i);
  return order;
}

class ConvStep : public Step {
 public:
  ConvStep(std::unique_ptr<Conv2d> conv, int src, int dst, int shortcut, std::string type)
      : conv_(std::move(conv)), src_(src), dst_(dst), shortcut_(shortcut), type_(std::move(type)) {}
  void Run(const std::vector<float*>& p) override {
    const size_t in = conv_->input_shape().size(), out = conv_->output_shape().size();
    float* dst = p[static_cast<size_t>(dst_)];
    if (shortcut_ >= 0 && p[static_cast<size_t>(shortcut_)] != dst) {
      std::memcpy(dst, p[static_cast<size_t>(shortcut_)], out * sizeof(float));
    }
    conv_->Forward(std::span<const float>(p[static_cast<size_t>(src_)], in),
                   std::span<float>(dst, out));
  }
  std::string Name() const override { return type_; }
  const Conv2d& conv() const { return *conv_; }

 private:
  std::unique_ptr<Conv2d> conv_;
  int src_, dst_, shortcut_;
  std::string type_;
};

// One elementwise map, or several into one output (Concat).
class MapStep : public Step {
 public:
  struct Part {
    MapKind kind = MapKind::kCopy;
    LoopNest nest;
    int64_t out_offset = 0;
    int a = -1, b = -1, c = -1;
  };
  MapStep(std::vector<Part> parts, std::string type)
      : parts_(std::move(parts)), type_(std::move(type)) {}
  void Run(const std::vector<float*>& p) override {
    float* out = p[static_cast<size_t>(write)];
    for (const Part& part : parts_) {
      auto operand = [&](int id) -> const float* {
        return id < 0 ? nullptr : p[static_cast<size_t>(id)];
      };
      RunMap(part.kind, part.nest, out + part.out_offset, operand(part.a), operand(part.b),
             operand(part.c));
    }
  }
  std::string Name() const override { return type_; }

 private:
  std::vector<Part> parts_;
  std::string type_;
};

class ActivationStep : public Step {
 public:
  ActivationStep(ActivationOp op, size_t n) : op_(std::move(op)), n_(n) {}
  void Run(const std::vector<float*>& p) override {
    ApplyActivation(op_.kind, op_.alpha, op_.beta, p[static_cast<size_t>(reads[0])],
                    p[static_cast<size_t>(write)], n_);
  }
  std::string Name() const override { return "Activation"; }

 private:
  ActivationOp op_;
  size_t n_;
};

class PoolStep : public Step {
 public:
  PoolStep(const PoolSpec& spec, Shape in, Shape out) : spec_(spec), in_(in), out_(out) {}
  void Run(const std::vector<float*>& p) override {
    PoolNhwc(spec_, in_, p[static_cast<size_t>(reads[0])], out_, p[static_cast<size_t>(write)]);
  }
  std::string Name() const override { return spec_.max ? "MaxPool" : "AveragePool"; }

 private:
  PoolSpec spec_;
  Shape in_, out_;
};

class AliasStep : public Step {
 public:
  void Run(const std::vector<float*>& /*p*/) override {}
  std::string Name() const override { return "Reshape (no copy)"; }
};

Shape NhwcShape(const std::vector<int64_t>& dims) {
  return {static_cast<int>(dims[2]), static_cast<int>(dims[3]), static_cast<int>(dims[1])};
}

}  // namespace

// Lowers the live ops of a graph into steps, then hands out slots.
struct Plan::Builder {
  const Graph& graph;
  const OnnxLoadOptions& options;
  Plan& plan;

  int NewValue(std::vector<int64_t> dims, bool nhwc) {
    PlanValue v;
    v.size = Count(dims);
    v.dims = std::move(dims);
    v.nhwc = nhwc;
    plan.values_.push_back(std::move(v));
    return static_cast<int>(plan.values_.size() - 1);
  }
  // A constant operand of `dims` (row-major) holding `data`.
  int NewConstant(std::vector<int64_t> dims, std::vector<float> data) {
    const int id = NewValue(std::move(dims), false);
    PlanValue& v = plan.values_[static_cast<size_t>(id)];
    v.constant = true;
    v.constant_index = static_cast<int>(plan.constants_.size());
    plan.constants_.push_back(std::move(data));
    return id;
  }
  // A per-channel vector (1 or dims[1] values) as an operand over a value of rank `rank`:
  // dims [C, 1, ..., 1], aligned right to the value's axes 1 and up.
  int ChannelConstant(size_t rank, const std::vector<float>& v) {
    std::vector<int64_t> cdims(rank > 1 ? rank - 1 : 1, 1);
    if (v.size() > 1) cdims[0] = static_cast<int64_t>(v.size());
    return NewConstant(std::move(cdims), v);
  }
  const PlanValue& value(int id) const { return plan.values_[static_cast<size_t>(id)]; }
  // A graph constant a step reads is copied into the plan (the graph does not outlive Build);
  // the rest (weights, shape arithmetic) are not.
  void Materialize(int id) {
    PlanValue& v = plan.values_[static_cast<size_t>(id)];
    if (!v.constant || v.constant_index >= 0) return;
    v.constant_index = static_cast<int>(plan.constants_.size());
    plan.constants_.emplace_back(v.graph_floats.begin(), v.graph_floats.end());
  }

  void Add(std::unique_ptr<Step> step, const Op& op, std::vector<int> reads, int write,
           int in_place) {
    step->reads = std::move(reads);
    step->write = write;
    step->in_place = in_place;
    step->node = op.node;
    plan.steps_.push_back(std::move(step));
  }

  // out = kind(a, b, c) over out's dims, each operand broadcast from its own dims and storage.
  MapStep::Part MapPart(MapKind kind, int out, int a, int b = -1, int c = -1) {
    const PlanValue& o = value(out);
    std::vector<std::vector<int64_t>> strides = {o.strides()};
    for (int id : {a, b, c}) {
      if (id < 0) {
        strides.emplace_back(o.dims.size(), 0);
        continue;
      }
      Materialize(id);
      strides.push_back(BroadcastOperandStrides(value(id).dims, value(id).strides(), o.dims));
    }
    MapStep::Part part;
    part.kind = kind;
    part.nest = MakeLoopNest(o.dims, StorageOrder(o.dims.size(), o.nhwc), strides);
    part.a = a;
    part.b = b;
    part.c = c;
    return part;
  }
  // The same elements in ONNX order under `out`'s dims: a copy across storage orders.
  void Reorder(const Op& op, int in, int out) {
    const PlanValue &i = value(in), &o = value(out);
    MapStep::Part part;
    if (!OnnxOrdered(i)) {
      // Iterate over the input's dims; the output, in ONNX order, is row-major over them.
      const std::vector<int64_t> row_major = StorageStrides(i.dims, false);
      part.nest = MakeLoopNest(i.dims, StorageOrder(4, true), {row_major, i.strides()});
    } else {
      const std::vector<int64_t> row_major = StorageStrides(o.dims, false);
      part.nest =
          MakeLoopNest(o.dims, StorageOrder(o.dims.size(), o.nhwc), {o.strides(), row_major});
    }
    part.a = in;
    std::vector<MapStep::Part> parts = {part};
    Add(std::make_unique<MapStep>(std::move(parts), "Reorder"), op, {in}, out, -1);
  }
  // `in` as a value in ONNX order (itself when it is already).
  int InOnnxOrderValue(const Op& op, int in) {
    if (OnnxOrdered(value(in))) return in;
    const int tmp = NewValue(value(in).dims, false);
    Reorder(op, in, tmp);
    return tmp;
  }

  Precision ConvPrecision(const Op& op, const ConvOp& conv) const {
    if (options.precision != Precision::kU8S8) return options.precision;
    // uint8 input needs a proven range [0, 6]: the output of a ReLU6 convolution.
    const int producer = graph.values[static_cast<size_t>(op.inputs[0])].producer;
    if (producer >= 0 && !conv.spec.accumulate) {
      const auto* in = std::get_if<ConvOp>(&graph.ops[static_cast<size_t>(producer)].kind);
      if (in != nullptr && in->spec.activation == Activation::kRelu6) return Precision::kU8S8;
    }
    return Precision::kBf16;
  }

  Status LowerConv(const Op& op, const ConvOp& conv) {
    int src = op.inputs[0];
    if (conv.is_dense) src = InOnnxOrderValue(op, src);
    const Precision precision = ConvPrecision(op, conv);
    FT_ASSIGN_OR_RETURN(auto layer, Conv2d::Create(conv.spec, conv.input, conv.weights, conv.bias,
                                                   {}, {}, precision, &plan.arena_));
    plan.flops_ += layer->flops();
    const bool direct = !conv.is_dense || OnnxOrdered(value(op.output));
    const int dst = direct ? op.output : NewValue(value(op.output).dims, false);
    const int shortcut = conv.spec.accumulate ? conv.accumulate_into : -1;
    std::vector<int> reads = {src};
    if (shortcut >= 0) reads.push_back(shortcut);
    // Accumulating over the shortcut's own memory saves a copy, unless it is also the input.
    const int in_place = shortcut >= 0 && shortcut != src ? shortcut : -1;
    const std::string type = op.op_type + (precision == Precision::kBf16   ? " [bf16]"
                                           : precision == Precision::kU8S8 ? " [u8s8]"
                                                                           : "");
    Add(std::make_unique<ConvStep>(std::move(layer), src, dst, shortcut, type), op,
        std::move(reads), dst, in_place);
    if (!direct) Reorder(op, dst, op.output);
    return Status::Ok();
  }

  void LowerAffine(const Op& op, const AffineOp& affine) {
    const int x = op.inputs[0];
    const size_t rank = value(x).dims.size();
    const int scale = affine.scale.empty() ? -1 : ChannelConstant(rank, affine.scale);
    const int shift = affine.shift.empty() ? -1 : ChannelConstant(rank, affine.shift);
    MapStep::Part part = scale >= 0 && shift >= 0
                             ? MapPart(MapKind::kMulAdd, op.output, x, scale, shift)
                         : scale >= 0 ? MapPart(MapKind::kMul, op.output, x, scale)
                         : shift >= 0 ? MapPart(MapKind::kAdd, op.output, x, shift)
                                      : MapPart(MapKind::kCopy, op.output, x);
    std::vector<MapStep::Part> parts = {part};
    Add(std::make_unique<MapStep>(std::move(parts), op.op_type), op, {x}, op.output, x);
  }

  void LowerActivation(const Op& op, const ActivationOp& act) {
    const int x = op.inputs[0];
    if (act.kind == Activation::kPRelu) {
      const int slopes = ChannelConstant(value(x).dims.size(), act.slopes);
      std::vector<MapStep::Part> parts = {MapPart(MapKind::kPRelu, op.output, x, slopes)};
      Add(std::make_unique<MapStep>(std::move(parts), op.op_type), op, {x}, op.output, x);
      return;
    }
    Add(std::make_unique<ActivationStep>(act, value(x).size), op, {x}, op.output, x);
  }

  void LowerBinary(const Op& op, const BinaryOp& binary) {
    static const std::map<BinaryKind, MapKind> kKinds = {{BinaryKind::kAdd, MapKind::kAdd},
                                                         {BinaryKind::kSub, MapKind::kSub},
                                                         {BinaryKind::kMul, MapKind::kMul},
                                                         {BinaryKind::kDiv, MapKind::kDiv},
                                                         {BinaryKind::kPRelu, MapKind::kPRelu}};
    const int a = op.inputs[0], b = op.inputs[1];
    std::vector<MapStep::Part> parts = {MapPart(kKinds.at(binary.kind), op.output, a, b)};
    // Pointwise over the same positions: the output may take over a's (or b's) slot.
    const PlanValue& o = value(op.output);
    auto same = [&](int id) {
      return !value(id).constant && value(id).dims == o.dims && value(id).nhwc == o.nhwc;
    };
    const int in_place = same(a) ? a : same(b) ? b : -1;
    std::vector<int> reads;
    for (int id : {a, b}) {
      if (!value(id).constant) reads.push_back(id);
    }
    Add(std::make_unique<MapStep>(std::move(parts), op.op_type), op, std::move(reads), op.output,
        in_place);
  }

  void LowerPool(const Op& op, const PoolOp& pool) {
    PoolSpec spec{pool.max,      pool.kernel_h, pool.kernel_w,         pool.stride_h,
                  pool.stride_w, pool.pads,     pool.count_include_pad};
    Add(std::make_unique<PoolStep>(spec, NhwcShape(value(op.inputs[0]).dims),
                                   NhwcShape(value(op.output).dims)),
        op, {op.inputs[0]}, op.output, -1);
  }

  void LowerReshape(const Op& op) {
    const int in = op.inputs[0], out = op.output;
    if (OnnxOrdered(value(in)) && OnnxOrdered(value(out))) {
      Add(std::make_unique<AliasStep>(), op, {in}, out, -1);
      plan.steps_.back()->alias = true;
      return;
    }
    if (!OnnxOrdered(value(in)) && !OnnxOrdered(value(out))) {
      const int tmp = NewValue(value(in).dims, false);
      Reorder(op, in, tmp);
      const int flat = NewValue(value(out).dims, false);  // tmp's elements under out's dims
      Add(std::make_unique<AliasStep>(), op, {tmp}, flat, -1);
      plan.steps_.back()->alias = true;
      Reorder(op, flat, out);
      return;
    }
    Reorder(op, in, out);
  }

  void LowerConcat(const Op& op, const ConcatOp& concat) {
    const PlanValue& o = value(op.output);
    const std::vector<int64_t> out_strides = o.strides();
    std::vector<MapStep::Part> parts;
    std::vector<int> reads;
    int64_t position = 0;
    for (int id : op.inputs) {
      Materialize(id);
      const PlanValue& in = value(id);
      MapStep::Part part;
      part.nest =
          MakeLoopNest(in.dims, StorageOrder(in.dims.size(), o.nhwc), {out_strides, in.strides()});
      part.out_offset = position * out_strides[static_cast<size_t>(concat.axis)];
      part.a = id;
      position += in.dims[static_cast<size_t>(concat.axis)];
      if (in.size > 0) parts.push_back(part);
      if (!in.constant) reads.push_back(id);
    }
    Add(std::make_unique<MapStep>(std::move(parts), op.op_type), op, std::move(reads), op.output,
        -1);
  }

  Status Lower(const Op& op) {
    if (const auto* conv = std::get_if<ConvOp>(&op.kind)) return LowerConv(op, *conv);
    if (const auto* affine = std::get_if<AffineOp>(&op.kind)) LowerAffine(op, *affine);
    if (const auto* act = std::get_if<ActivationOp>(&op.kind)) LowerActivation(op, *act);
    if (const auto* binary = std::get_if<BinaryOp>(&op.kind)) LowerBinary(op, *binary);
    if (const auto* pool = std::get_if<PoolOp>(&op.kind)) LowerPool(op, *pool);
    if (std::holds_alternative<ReshapeOp>(op.kind)) LowerReshape(op);
    if (const auto* concat = std::get_if<ConcatOp>(&op.kind)) LowerConcat(op, *concat);
    return Status::Ok();
  }

  // Slots in step order: best fit among free slots, growing the largest free one, else new.
  int Allocate(size_t size, std::vector<size_t>& capacity, std::vector<int>& free_slots) {
    int best = -1;
    for (int s : free_slots) {
      const size_t c = capacity[static_cast<size_t>(s)];
      if (best < 0) {
        best = s;
        continue;
      }
      const size_t b = capacity[static_cast<size_t>(best)];
      const bool fits = c >= size, best_fits = b >= size;
      if ((fits && (!best_fits || c < b)) || (!fits && !best_fits && c > b)) best = s;
    }
    if (best < 0) {
      capacity.push_back(size);
      return static_cast<int>(capacity.size() - 1);
    }
    free_slots.erase(std::find(free_slots.begin(), free_slots.end(), best));
    capacity[static_cast<size_t>(best)] = std::max(capacity[static_cast<size_t>(best)], size);
    return best;
  }

  void AssignSlots() {
    auto& values = plan.values_;
    for (size_t k = 0; k < plan.steps_.size(); ++k) {
      for (int r : plan.steps_[k]->reads)
        values[static_cast<size_t>(r)].last_use = static_cast<int>(k);
    }
    std::vector<size_t> capacity;
    std::vector<int> refs, free_slots;
    auto take = [&](int id, int slot) {
      values[static_cast<size_t>(id)].slot = slot;
      if (static_cast<size_t>(slot) >= refs.size()) refs.resize(static_cast<size_t>(slot) + 1, 0);
      refs[static_cast<size_t>(slot)] += 1;
    };
    auto release = [&](int id) {
      const int slot = values[static_cast<size_t>(id)].slot;
      if (--refs[static_cast<size_t>(slot)] == 0) free_slots.push_back(slot);
    };
    take(plan.input_,
         Allocate(values[static_cast<size_t>(plan.input_)].size, capacity, free_slots));
    for (size_t k = 0; k < plan.steps_.size(); ++k) {
      const Step& step = *plan.steps_[k];
      PlanValue& w = values[static_cast<size_t>(step.write)];
      int transferred = -1;
      if (step.alias) {
        take(step.write, values[static_cast<size_t>(step.reads[0])].slot);
      } else if (step.in_place >= 0) {
        const PlanValue& in = values[static_cast<size_t>(step.in_place)];
        if (in.last_use == static_cast<int>(k) && !in.pinned && in.size == w.size &&
            refs[static_cast<size_t>(in.slot)] == 1) {
          w.slot = in.slot;  // the input's reference passes to the output
          transferred = step.in_place;
        }
      }
      if (w.slot < 0) take(step.write, Allocate(w.size, capacity, free_slots));
      std::vector<int> reads = step.reads;
      std::sort(reads.begin(), reads.end());
      reads.erase(std::unique(reads.begin(), reads.end()), reads.end());
      for (int r : reads) {
        const PlanValue& v = values[static_cast<size_t>(r)];
        if (r != transferred && v.last_use == static_cast<int>(k) && !v.pinned) release(r);
      }
      if (w.last_use < 0 && !w.pinned) release(step.write);  // nobody reads it
    }
    plan.activation_bytes_ = 0;
    for (size_t cap : capacity) plan.activation_bytes_ += cap * sizeof(float);
    slot_sizes = std::move(capacity);
  }
  std::vector<size_t> slot_sizes;  // set by AssignSlots
};

Plan::Plan() = default;
Plan::~Plan() = default;

Expected<std::unique_ptr<Plan>> Plan::Build(const Graph& graph, const OnnxLoadOptions& options) {
  auto plan = std::unique_ptr<Plan>(new Plan());
  Builder b{graph, options, *plan, {}};
  for (const Value& v : graph.values) {
    const bool run_time = !v.constant;
    const int id = b.NewValue(v.dims, run_time && IsNhwc(v.dims));
    if (!run_time && v.constant->is_float) {
      PlanValue& pv = plan->values_[static_cast<size_t>(id)];
      pv.constant = true;
      pv.graph_floats = v.constant->floats();
    }
  }
  plan->input_ = graph.input;
  plan->output_ = graph.output;
  plan->values_[static_cast<size_t>(graph.output)].pinned = true;
  plan->input_shape_ = NhwcShape(graph.values[static_cast<size_t>(graph.input)].dims);
  plan->output_dims_ = graph.values[static_cast<size_t>(graph.output)].dims;
  plan->output_size_ = Count(plan->output_dims_);

  // Every run-time value must fit the limit on its own: checked before any layer is built
  // (a layer allocates buffers the size of its input and output).
  for (const Value& v : graph.values) {
    if (!v.constant &&
        static_cast<size_t>(v.size()) * sizeof(float) > options.max_activation_bytes) {
      return ResourceExhausted("value '" + v.name + "' " + DimsToString(v.dims) + " needs " +
                               std::to_string(static_cast<size_t>(v.size()) * sizeof(float)) +
                               " bytes, more than max_activation_bytes (" +
                               std::to_string(options.max_activation_bytes) + ")");
    }
  }
  // Only ops whose results reach the output run.
  std::vector<bool> needed(graph.values.size(), false), live(graph.ops.size(), false);
  needed[static_cast<size_t>(graph.output)] = true;
  for (size_t i = graph.ops.size(); i-- > 0;) {
    const Op& op = graph.ops[i];
    if (op.removed || !needed[static_cast<size_t>(op.output)]) continue;
    live[i] = true;
    for (int in : op.inputs) needed[static_cast<size_t>(in)] = true;
  }
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    if (!live[i]) continue;
    const Op& op = graph.ops[i];
    FT_RETURN_IF_ERROR(b.Lower(op).WithContext("node '" + op.node + "' (" + op.op_type + ")"));
  }
  b.AssignSlots();
  if (plan->activation_bytes_ > options.max_activation_bytes) {
    return ResourceExhausted("the activations need " + std::to_string(plan->activation_bytes_) +
                             " bytes, more than max_activation_bytes (" +
                             std::to_string(options.max_activation_bytes) + ")");
  }
  // Sized once: slots never reallocate, so the pointers below stay valid.
  for (size_t size : b.slot_sizes) {
    auto* slot = static_cast<float*>(plan->arena_.Allocate(size * sizeof(float)));
    if (slot == nullptr) slot = plan->fallback_slots_.emplace_back(size).data();
    plan->slots_.push_back(slot);
  }
  plan->pointers_.resize(plan->values_.size(), nullptr);
  for (size_t i = 0; i < plan->values_.size(); ++i) {
    const PlanValue& v = plan->values_[i];
    if (v.slot >= 0) {
      plan->pointers_[i] = plan->slots_[static_cast<size_t>(v.slot)];
    } else if (v.constant && v.constant_index >= 0) {
      // Constants are only read (steps take const views of their operands a, b, c).
      plan->pointers_[i] = plan->constants_[static_cast<size_t>(v.constant_index)].data();
    }
  }
  return plan;
}

std::string Plan::Describe() const {
  std::string s;
  for (const auto& step : steps_) {
    // (appends, not "x" + string: GCC 12 -O3 reports a false -Wrestrict on the latter)
    s.append(step->Name()).append(" '").append(step->node).append("':");
    for (int r : step->reads) {
      s.append(" ").append(DimsToString(values_[static_cast<size_t>(r)].dims));
    }
    s.append(" -> ").append(DimsToString(values_[static_cast<size_t>(step->write)].dims));
    if (values_[static_cast<size_t>(step->write)].slot ==
        (step->reads.empty() ? -2 : values_[static_cast<size_t>(step->reads[0])].slot)) {
      s += " (in place)";
    }
    s += "\n";
  }
  return s;
}

void Plan::Run(const Tensor& input, std::vector<float>& output) {
  std::copy(input.data.begin(), input.data.end(), pointers_[static_cast<size_t>(input_)]);
  for (const auto& step : steps_) step->Run(pointers_);
  const PlanValue& out = values_[static_cast<size_t>(output_)];
  const float* src = pointers_[static_cast<size_t>(output_)];
  output.resize(output_size_);
  if (OnnxOrdered(out)) {
    std::copy(src, src + output_size_, output.begin());
    return;
  }
  // NHWC → ONNX order [C][H][W].
  const auto c = static_cast<size_t>(out.dims[1]);
  const size_t hw = output_size_ / c;
  for (size_t p = 0; p < hw; ++p) {
    for (size_t ch = 0; ch < c; ++ch) output[ch * hw + p] = src[p * c + ch];
  }
}

}  // namespace facetrail::nn::internal
