// SSD MobileNetV1 face detector (PIPELINE.md §4).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

#include "vision/internal/networks.h"

namespace facetrail::vision::internal {

namespace {

constexpr int kInput = 512;  // the size the network was trained and published for
constexpr int kSmallInput = SsdDetector::kSmallInput;
constexpr int kNumAnchors = 5118;                            // at 512×512
constexpr float kBatchNormEpsilon = 0.0010000000474974513f;  // from the TF graph
constexpr float kInputScale = 0.007843137718737125f;         // 2/255, Preprocessor/mul/x

// Fetches a tensor or returns its error from the enclosing function.
#define FT_WEIGHT(var, map, name, ...) \
  FT_ASSIGN_OR_RETURN(const nn::WeightTensor* var, (map).Get(name, __VA_ARGS__))

}  // namespace

double BoxIou(const Detection& a, const Detection& b) {
  const double ix = std::max(0.0, std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x));
  const double iy = std::max(0.0, std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y));
  const double inter = ix * iy;
  const double uni = a.width * a.height + b.width * b.height - inter;
  return uni > 0 ? inter / uni : 0.0;
}

// The network built for one input size (its convolutions have fixed shapes), with the anchors
// of that size's feature-map grids.
struct SsdDetector::Layers {
  int size = kInput;
  int num_anchors = 0;
  std::vector<float> anchors;  // num_anchors × [ymin, xmin, ymax, xmax], relative
  std::vector<std::unique_ptr<nn::Conv2d>> backbone;                // conv0, then dw/pw pairs 1..13
  std::vector<std::unique_ptr<nn::Conv2d>> extras;                  // 8
  std::vector<std::unique_ptr<nn::Conv2d>> box_heads, class_heads;  // 6 each
  bool quantized = false;  // kU8S8: activations after the first layer stay uint8 (q*)
  nn::Tensor input, a, b, conv11;
  std::vector<nn::Tensor> features;  // extras outputs
  nn::QTensor qa, qb, qconv11;
  std::vector<nn::QTensor> qfeatures;
  nn::Tensor head_out;
  std::vector<float> box_codes, class_logits;  // 5118×4, 5118×3
};

SsdDetector::~SsdDetector() = default;

// The network for a `size`×`size` input, with its per-layer feature-map shapes.
Expected<std::unique_ptr<SsdDetector::Layers>> SsdDetector::Build(const nn::WeightMap& w, int size,
                                                                  nn::Precision precision,
                                                                  std::vector<nn::Shape>* grids) {
  auto layers = std::make_unique<Layers>();
  Layers& net = *layers;
  net.size = size;

  auto add = [&](std::vector<std::unique_ptr<nn::Conv2d>>& list, const nn::ConvSpec& spec,
                 nn::Shape in, std::span<const float> weights, std::span<const float> bias,
                 std::span<const float> scale = {},
                 std::span<const float> shift = {}) -> Expected<nn::Shape> {
    // The image input of the first convolution is not a ReLU6 output.
    const bool first = list.empty() && &list == &net.backbone;
    const nn::Precision p =
        first && precision == nn::Precision::kU8S8 ? nn::Precision::kBf16 : precision;
    FT_ASSIGN_OR_RETURN(auto conv, nn::Conv2d::Create(spec, in, weights, bias, scale, shift, p));
    nn::Shape out = conv->output_shape();
    list.push_back(std::move(conv));
    return out;
  };

  nn::Shape shape{size, size, 3};
  {
    FT_WEIGHT(wt, w, "MobilenetV1/Conv2d_0_pointwise/weights", {3, 3, 3, 32});
    FT_WEIGHT(bt, w, "MobilenetV1/Conv2d_0_pointwise/convolution_bn_offset", {32});
    nn::ConvSpec spec{3, 3, 3, 32, 2, nn::Padding::kSame, false, nn::Activation::kRelu6, false};
    FT_ASSIGN_OR_RETURN(shape, add(net.backbone, spec, shape, wt->values, bt->values));
  }
  const int channels[14] = {32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024};
  nn::Shape conv11_shape;
  for (int i = 1; i <= 13; ++i) {
    const std::string dw = "MobilenetV1/Conv2d_" + std::to_string(i) + "_depthwise/";
    const std::string pw = "MobilenetV1/Conv2d_" + std::to_string(i) + "_pointwise/";
    const int cin = channels[i - 1], cout = channels[i];
    const int stride = (i == 2 || i == 4 || i == 6 || i == 12) ? 2 : 1;
    FT_WEIGHT(dwt, w, dw + "depthwise_weights", {3, 3, cin, 1});
    FT_WEIGHT(gamma, w, dw + "BatchNorm/gamma", {cin});
    FT_WEIGHT(beta, w, dw + "BatchNorm/beta", {cin});
    FT_WEIGHT(mean, w, dw + "BatchNorm/moving_mean", {cin});
    FT_WEIGHT(var, w, dw + "BatchNorm/moving_variance", {cin});
    std::vector<float> scale(static_cast<size_t>(cin)), shift(static_cast<size_t>(cin));
    for (size_t c = 0; c < scale.size(); ++c) {
      scale[c] = gamma->values[c] / std::sqrt(var->values[c] + kBatchNormEpsilon);
      shift[c] = beta->values[c] - mean->values[c] * scale[c];
    }
    nn::ConvSpec dspec{3,    3, cin, cin, stride, nn::Padding::kSame, true, nn::Activation::kRelu6,
                       false};
    FT_ASSIGN_OR_RETURN(shape, add(net.backbone, dspec, shape, dwt->values, {}, scale, shift));
    FT_WEIGHT(pwt, w, pw + "weights", {1, 1, cin, cout});
    FT_WEIGHT(pwb, w, pw + "convolution_bn_offset", {cout});
    nn::ConvSpec pspec{1,    1, cin, cout, 1, nn::Padding::kSame, false, nn::Activation::kRelu6,
                       false};
    FT_ASSIGN_OR_RETURN(shape, add(net.backbone, pspec, shape, pwt->values, pwb->values));
    if (i == 11) conv11_shape = shape;
  }
  const int extra_channels[8] = {256, 512, 128, 256, 128, 256, 64, 128};
  std::vector<nn::Shape> feature_shapes = {conv11_shape, shape};
  int cin = 1024;
  for (int i = 0; i < 8; ++i) {
    const std::string p = "Prediction/Conv2d_" + std::to_string(i) + "_pointwise/";
    const int k = (i % 2) ? 3 : 1, stride = (i % 2) ? 2 : 1, cout = extra_channels[i];
    FT_WEIGHT(wt, w, p + "weights", {k, k, cin, cout});
    FT_WEIGHT(bt, w, p + "convolution_bn_offset", {cout});
    nn::ConvSpec spec{k,    k, cin, cout, stride, nn::Padding::kSame, false, nn::Activation::kRelu6,
                      false};
    FT_ASSIGN_OR_RETURN(shape, add(net.extras, spec, shape, wt->values, bt->values));
    if (i % 2) feature_shapes.push_back(shape);
    cin = cout;
  }
  int total_anchors = 0;
  for (int k = 0; k < 6; ++k) {
    const std::string p = "Prediction/BoxPredictor_" + std::to_string(k) + "/";
    const nn::Shape fs = feature_shapes[static_cast<size_t>(k)];
    const int per_cell = k == 0 ? 3 : 6;
    const int box_channels = 4 * per_cell, class_channels = 3 * per_cell;
    total_anchors += fs.h * fs.w * per_cell;
    FT_WEIGHT(bw, w, p + "BoxEncodingPredictor/weights", {1, 1, fs.c, box_channels});
    FT_WEIGHT(bb, w, p + "BoxEncodingPredictor/biases", {box_channels});
    FT_WEIGHT(cw, w, p + "ClassPredictor/weights", {1, 1, fs.c, class_channels});
    FT_WEIGHT(cb, w, p + "ClassPredictor/biases", {class_channels});
    nn::ConvSpec bspec{
        1, 1, fs.c, box_channels, 1, nn::Padding::kSame, false, nn::Activation::kNone, false};
    nn::ConvSpec cspec{
        1, 1, fs.c, class_channels, 1, nn::Padding::kSame, false, nn::Activation::kNone, false};
    FT_ASSIGN_OR_RETURN(nn::Shape s1, add(net.box_heads, bspec, fs, bw->values, bb->values));
    FT_ASSIGN_OR_RETURN(nn::Shape s2, add(net.class_heads, cspec, fs, cw->values, cb->values));
    (void)s1;
    (void)s2;
  }
  net.num_anchors = total_anchors;
  net.features.resize(8);
  net.qfeatures.resize(8);
  net.quantized = precision == nn::Precision::kU8S8;
  net.box_codes.resize(static_cast<size_t>(total_anchors) * 4);
  net.class_logits.resize(static_cast<size_t>(total_anchors) * 3);
  *grids = feature_shapes;
  return layers;
}

Expected<std::unique_ptr<SsdDetector>> SsdDetector::Load(const std::string& models_dir,
                                                         nn::Precision precision,
                                                         bool small_input) {
  FT_ASSIGN_OR_RETURN(nn::WeightMap w, nn::WeightMap::Load(models_dir, "ssd_mobilenetv1_model"));
  auto det = std::unique_ptr<SsdDetector>(new SsdDetector());
  std::vector<nn::Shape> grids;
  FT_ASSIGN_OR_RETURN(det->layers_, Build(w, kInput, precision, &grids));
  if (det->layers_->num_anchors != kNumAnchors) {
    return DataLoss(w.source() + ": the network yields " +
                    std::to_string(det->layers_->num_anchors) + " anchors, expected 5118");
  }
  FT_WEIGHT(anchors, w, "Output/extra_dim", {1, kNumAnchors, 4});
  det->layers_->anchors = anchors->values;
  if (small_input) {
    // The published anchors belong to the 512 grids (32, 16, 8, 4, 2, 1 cells a side): each
    // cell of a layer holds the same anchor sizes, centred on the cell. Take each layer's sizes
    // from its first cell and check that the file really is such a grid. A layer responds to
    // faces of a size in pixels (its receptive field and stride do not change with the input),
    // so on the smaller input's grids (16, 8, 4, 2, 1, 1) its anchors keep their size in
    // pixels: twice their size relative to the image.
    constexpr double kPixelScale = static_cast<double>(kInput) / kSmallInput;
    std::vector<nn::Shape> small_grids;
    FT_ASSIGN_OR_RETURN(det->small_, Build(w, kSmallInput, precision, &small_grids));
    Layers& small = *det->small_;
    small.anchors.clear();
    size_t at = 0;
    for (size_t k = 0; k < grids.size(); ++k) {
      const size_t per_cell = k == 0 ? 3 : 6;
      const int g = grids[k].h;
      const float* first = &anchors->values[at * 4];
      for (int y = 0; y < g; ++y) {
        for (int x = 0; x < g; ++x) {
          for (size_t a = 0; a < per_cell; ++a, ++at) {
            const float* v = &anchors->values[at * 4];
            const double cy = (v[0] + v[2]) / 2, cx = (v[1] + v[3]) / 2;
            const double h0 = first[a * 4 + 2] - first[a * 4],
                         w0 = first[a * 4 + 3] - first[a * 4 + 1];
            if (std::abs(cy - (y + 0.5) / g) > 1e-4 || std::abs(cx - (x + 0.5) / g) > 1e-4 ||
                std::abs((v[2] - v[0]) - h0) > 1e-4 || std::abs((v[3] - v[1]) - w0) > 1e-4) {
              return DataLoss(w.source() + ": the detector's anchors are not a regular grid");
            }
          }
        }
      }
      const int sg = small_grids[k].h;
      for (int y = 0; y < sg; ++y) {
        for (int x = 0; x < sg; ++x) {
          for (size_t a = 0; a < per_cell; ++a) {
            const double h0 = (first[a * 4 + 2] - first[a * 4]) * kPixelScale,
                         w0 = (first[a * 4 + 3] - first[a * 4 + 1]) * kPixelScale;
            const double cy = (y + 0.5) / sg, cx = (x + 0.5) / sg;
            for (double v : {cy - h0 / 2, cx - w0 / 2, cy + h0 / 2, cx + w0 / 2}) {
              small.anchors.push_back(static_cast<float>(v));
            }
          }
        }
      }
    }
    if (static_cast<int>(small.anchors.size()) != small.num_anchors * 4) {
      return Internal("small detector: anchors do not match its grids");
    }
  }
  return det;
}

double SsdDetector::flops() const {
  double f = 0;
  for (const auto* list :
       {&layers_->backbone, &layers_->extras, &layers_->box_heads, &layers_->class_heads}) {
    for (const auto& c : *list) f += c->flops();
  }
  return f;
}

std::vector<Detection> SsdDetector::Detect(const Image& image, double min_score, int max_results) {
  // An image that fits the small input is not upsampled to 512 (docs/PIPELINE.md).
  Layers& net = small_ && std::max(image.width, image.height) <= small_->size ? *small_ : *layers_;
  const int size = net.size;
  const int num_anchors = net.num_anchors;
  // Pre-processing: pad to a square at the bottom/right, resize to the input size (512, or 256
  // for a small image), v·(2/255) − 1.
  FloatImage square = CropPadResize(image, 0, 0, image.width, image.height, false, size);
  net.input.Resize({size, size, 3});
  for (size_t i = 0; i < square.data.size(); ++i) {
    net.input.data[i] = square.data[i] * kInputScale - 1.f;
  }
  // Backbone: conv0, then (depthwise, pointwise) × 13; extras; then the box and class heads on
  // six feature maps. The same chain on float or on uint8 activations.
  auto run = [&](auto& a, auto& b, auto& conv11, auto& features) {
    for (size_t i = 1; i <= 13; ++i) {
      net.backbone[2 * i - 1]->Forward(a, b);
      net.backbone[2 * i]->Forward(b, a);
      if (i == 11) conv11 = a;
    }
    for (size_t i = 0; i < 8; ++i)
      net.extras[i]->Forward(i == 0 ? a : features[i - 1], features[i]);
    const std::remove_reference_t<decltype(a)>* feats[6] = {
        &conv11, &a, &features[1], &features[3], &features[5], &features[7]};
    size_t box_at = 0, class_at = 0;
    for (size_t k = 0; k < 6; ++k) {
      net.box_heads[k]->Forward(*feats[k], net.head_out);
      std::copy(net.head_out.data.begin(), net.head_out.data.end(),
                net.box_codes.begin() + static_cast<long>(box_at));
      box_at += net.head_out.data.size();
      net.class_heads[k]->Forward(*feats[k], net.head_out);
      std::copy(net.head_out.data.begin(), net.head_out.data.end(),
                net.class_logits.begin() + static_cast<long>(class_at));
      class_at += net.head_out.data.size();
    }
  };
  net.backbone[0]->Forward(net.input, net.a);
  if (net.quantized) {
    nn::Quantize(net.a, net.qa);
    run(net.qa, net.qb, net.qconv11, net.qfeatures);
  } else {
    run(net.a, net.b, net.conv11, net.features);
  }

  // Decode (outputLayer.ts) and score = sigmoid(logit 1).
  std::vector<std::array<double, 4>> boxes(num_anchors);
  std::vector<double> scores(num_anchors);
  for (int i = 0; i < num_anchors; ++i) {
    const float* a = &net.anchors[static_cast<size_t>(i) * 4];
    const float* e = &net.box_codes[static_cast<size_t>(i) * 4];
    const double ha = a[2] - a[0], wa = a[3] - a[1];
    const double cya = a[0] + ha / 2, cxa = a[1] + wa / 2;
    const double cy = e[0] / 10.0 * ha + cya, cx = e[1] / 10.0 * wa + cxa;
    const double hh = std::exp(e[2] / 5.0) * ha / 2, hw = std::exp(e[3] / 5.0) * wa / 2;
    boxes[static_cast<size_t>(i)] = {cy - hh, cx - hw, cy + hh, cx + hw};
    scores[static_cast<size_t>(i)] =
        1.0 /
        (1.0 + std::exp(-static_cast<double>(net.class_logits[static_cast<size_t>(i) * 3 + 1])));
  }
  // NMS (nonMaxSuppression.ts): strict score threshold, stable sort by score, IoU ≤ 0.5 kept.
  std::vector<int> candidates;
  for (int i = 0; i < num_anchors; ++i) {
    if (scores[static_cast<size_t>(i)] > min_score) candidates.push_back(i);
  }
  std::stable_sort(candidates.begin(), candidates.end(), [&](int p, int q) {
    return scores[static_cast<size_t>(p)] > scores[static_cast<size_t>(q)];
  });
  auto iou = [&](int i, int j) {
    const auto& p = boxes[static_cast<size_t>(i)];
    const auto& q = boxes[static_cast<size_t>(j)];
    const double y0 = std::min(p[0], p[2]), x0 = std::min(p[1], p[3]);
    const double y1 = std::max(p[0], p[2]), x1 = std::max(p[1], p[3]);
    const double v0 = std::min(q[0], q[2]), u0 = std::min(q[1], q[3]);
    const double v1 = std::max(q[0], q[2]), u1 = std::max(q[1], q[3]);
    const double area_p = (y1 - y0) * (x1 - x0), area_q = (v1 - v0) * (u1 - u0);
    if (area_p <= 0 || area_q <= 0) return 0.0;
    const double inter = std::max(std::min(y1, v1) - std::max(y0, v0), 0.0) *
                         std::max(std::min(x1, u1) - std::max(x0, u0), 0.0);
    return inter / (area_p + area_q - inter);
  };
  std::vector<int> selected;
  for (int i : candidates) {
    if (static_cast<int>(selected.size()) >= max_results) break;
    bool keep =
        std::all_of(selected.begin(), selected.end(), [&](int j) { return iou(i, j) <= 0.5; });
    if (keep) selected.push_back(i);
  }
  // To pixels (locateFaces): note the rounding of the padded extent.
  const double s = static_cast<double>(size) / std::max(image.width, image.height);
  const double pad_x = size / std::round(image.width * s);
  const double pad_y = size / std::round(image.height * s);
  std::vector<Detection> out;
  for (int i : selected) {
    const auto& b = boxes[static_cast<size_t>(i)];
    const double top = std::max(0.0, b[0]) * pad_y, bottom = std::min(1.0, b[2]) * pad_y;
    const double left = std::max(0.0, b[1]) * pad_x, right = std::min(1.0, b[3]) * pad_x;
    out.push_back({left * image.width, top * image.height, (right - left) * image.width,
                   (bottom - top) * image.height, scores[static_cast<size_t>(i)]});
  }
  return out;
}

}  // namespace facetrail::vision::internal
