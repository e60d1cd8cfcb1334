// 68-point landmark net (PIPELINE.md §5).
#include <algorithm>
#include <cmath>

#include "vision/internal/networks.h"

namespace facetrail::vision::internal {

namespace {
constexpr int kInput = 112;
constexpr float kMeanRgb[3] = {122.782f, 117.001f, 104.298f};  // face-api normalize()
}  // namespace

nn::Tensor NormalizeMean255(const FloatImage& img) {
  nn::Tensor t({img.height, img.width, 3});
  for (size_t i = 0; i < img.data.size(); ++i) t.data[i] = (img.data[i] - kMeanRgb[i % 3]) / 255.f;
  return t;
}

struct LandmarkNet::Layers {
  // Per dense block: conv0 (plain or separable), then separable convs 1..3.
  // A separable conv is a depthwise conv (no bias) followed by a pointwise conv with bias.
  struct Block {
    std::unique_ptr<nn::Conv2d> conv0, conv0_pw;  // conv0_pw null in block 0 (plain conv)
    std::unique_ptr<nn::Conv2d> dw[3], pw[3];
  };
  Block blocks[4];
  std::vector<float> fc_w, fc_b;
  nn::Tensor x, tmp, acc, act;
};

LandmarkNet::~LandmarkNet() = default;

Expected<std::unique_ptr<LandmarkNet>> LandmarkNet::Load(const std::string& models_dir,
                                                         nn::Precision precision) {
  FT_ASSIGN_OR_RETURN(nn::WeightMap w, nn::WeightMap::Load(models_dir, "face_landmark_68_model"));
  auto net = std::unique_ptr<LandmarkNet>(new LandmarkNet());
  net->layers_ = std::make_unique<Layers>();
  Layers& layers = *net->layers_;
  nn::Shape shape{kInput, kInput, 3};
  const int channels[4] = {32, 64, 128, 256};
  for (int b = 0; b < 4; ++b) {
    const std::string p = "dense" + std::to_string(b) + "/";
    const int cout = channels[b];
    const int cin = shape.c;
    auto& blk = layers.blocks[b];
    if (b == 0) {
      FT_ASSIGN_OR_RETURN(auto f, w.Get(p + "conv0/filters", {3, 3, cin, cout}));
      FT_ASSIGN_OR_RETURN(auto bias, w.Get(p + "conv0/bias", {cout}));
      nn::ConvSpec spec{3,    3, cin, cout, 2, nn::Padding::kSame, false, nn::Activation::kRelu,
                        false};
      FT_ASSIGN_OR_RETURN(
          blk.conv0, nn::Conv2d::Create(spec, shape, f->values, bias->values, {}, {}, precision));
      shape = blk.conv0->output_shape();
    } else {
      FT_ASSIGN_OR_RETURN(auto dwf, w.Get(p + "conv0/depthwise_filter", {3, 3, cin, 1}));
      FT_ASSIGN_OR_RETURN(auto pwf, w.Get(p + "conv0/pointwise_filter", {1, 1, cin, cout}));
      FT_ASSIGN_OR_RETURN(auto bias, w.Get(p + "conv0/bias", {cout}));
      nn::ConvSpec dspec{3, 3, cin, cin, 2, nn::Padding::kSame, true, nn::Activation::kNone, false};
      FT_ASSIGN_OR_RETURN(blk.conv0,
                          nn::Conv2d::Create(dspec, shape, dwf->values, {}, {}, {}, precision));
      nn::ConvSpec pspec{1,    1, cin, cout, 1, nn::Padding::kSame, false, nn::Activation::kRelu,
                         false};
      FT_ASSIGN_OR_RETURN(blk.conv0_pw,
                          nn::Conv2d::Create(pspec, blk.conv0->output_shape(), pwf->values,
                                             bias->values, {}, {}, precision));
      shape = blk.conv0_pw->output_shape();
    }
    for (int k = 0; k < 3; ++k) {
      const std::string q = p + "conv" + std::to_string(k + 1) + "/";
      FT_ASSIGN_OR_RETURN(auto dwf, w.Get(q + "depthwise_filter", {3, 3, cout, 1}));
      FT_ASSIGN_OR_RETURN(auto pwf, w.Get(q + "pointwise_filter", {1, 1, cout, cout}));
      FT_ASSIGN_OR_RETURN(auto bias, w.Get(q + "bias", {cout}));
      nn::ConvSpec dspec{3,    3, cout, cout, 1, nn::Padding::kSame, true, nn::Activation::kNone,
                         false};
      FT_ASSIGN_OR_RETURN(blk.dw[k],
                          nn::Conv2d::Create(dspec, shape, dwf->values, {}, {}, {}, precision));
      // The pointwise output is added into the running sum a + b + c (+ d).
      nn::ConvSpec pspec{1,   1, cout, cout, 1, nn::Padding::kSame, false, nn::Activation::kNone,
                         true};
      FT_ASSIGN_OR_RETURN(blk.pw[k], nn::Conv2d::Create(pspec, shape, pwf->values, bias->values, {},
                                                        {}, precision));
    }
  }
  FT_ASSIGN_OR_RETURN(auto fcw, w.Get("fc/weights", {256, 136}));
  FT_ASSIGN_OR_RETURN(auto fcb, w.Get("fc/bias", {136}));
  layers.fc_w = fcw->values;
  layers.fc_b = fcb->values;
  return net;
}

double LandmarkNet::flops() const {
  double f = 0;
  for (const auto& blk : layers_->blocks) {
    f += blk.conv0->flops() + (blk.conv0_pw ? blk.conv0_pw->flops() : 0);
    for (int k = 0; k < 3; ++k) f += blk.dw[k]->flops() + blk.pw[k]->flops();
  }
  return f;
}

std::vector<std::array<double, 2>> LandmarkNet::Run(const Image& image, const Detection& det,
                                                    bool clip_to_image) {
  // Clip the float box to the image, then floor each part (Box.clipAtImageBorders + floor).
  const double cx = clip_to_image ? std::max(det.x, 0.0) : det.x;
  const double cy = clip_to_image ? std::max(det.y, 0.0) : det.y;
  const double cw = clip_to_image ? std::min(det.x + det.width - cx, image.width - cx) : det.width;
  const double ch =
      clip_to_image ? std::min(det.y + det.height - cy, image.height - cy) : det.height;
  const int x = static_cast<int>(std::floor(cx)), y = static_cast<int>(std::floor(cy));
  const int w = static_cast<int>(std::floor(cw)), h = static_cast<int>(std::floor(ch));
  if (w <= 0 || h <= 0) return {};
  if (x >= image.width || y >= image.height || x + w <= 0 || y + h <= 0) return {};
  Layers& net = *layers_;
  net.x = NormalizeMean255(CropPadResize(image, x, y, w, h, true, kInput));
  for (auto& blk : net.blocks) {
    // a = relu(conv0(x)); acc = a
    if (blk.conv0_pw) {
      blk.conv0->Forward(net.x, net.tmp);
      blk.conv0_pw->Forward(net.tmp, net.acc);
    } else {
      blk.conv0->Forward(net.x, net.acc);
    }
    // b = sep(a); c = sep(relu(a+b)); d = sep(relu(a+b+c)); out = relu(a+b+c+d)
    net.act = net.acc;  // a is already non-negative
    for (int k = 0; k < 3; ++k) {
      blk.dw[k]->Forward(net.act, net.tmp);
      blk.pw[k]->Forward(net.tmp, net.acc);  // acc += sep(act)
      nn::ReluInto(net.acc, net.act);
    }
    std::swap(net.x, net.act);
  }
  // Average pool 7×7 (valid) = mean over the 7×7 map, then fc.
  std::vector<float> pooled(256, 0.f);
  const nn::Shape s = net.x.shape;
  for (int i = 0; i < s.h * s.w; ++i) {
    for (int c = 0; c < s.c; ++c)
      pooled[static_cast<size_t>(c)] += net.x.data[static_cast<size_t>(i) * s.c + c];
  }
  for (float& v : pooled) v /= static_cast<float>(s.h * s.w);
  std::vector<float> out(136);
  nn::Dense(pooled, net.fc_w, net.fc_b, out);

  // Back to image pixels (postProcess + extendWithFaceLandmarks), face-api's sub-pixel quirks:
  // exact-half padding and the unclipped, unfloored detector corner.
  const double scale = static_cast<double>(kInput) / std::max(w, h);
  const double sw = w * scale, sh = h * scale;
  const double px = sw < sh ? (sh - sw) / 2 : 0, py = sh < sw ? (sw - sh) / 2 : 0;
  std::vector<std::array<double, 2>> pts(68);
  for (size_t i = 0; i < 68; ++i) {
    pts[i] = {(out[2 * i] * kInput - px) / sw * w + det.x,
              (out[2 * i + 1] * kInput - py) / sh * h + det.y};
  }
  return pts;
}

}  // namespace facetrail::vision::internal
