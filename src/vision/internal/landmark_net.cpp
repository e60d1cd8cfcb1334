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

std::vector<float> LandmarkNet::Infer(const FloatImage& chip) {
  Layers& net = *layers_;
  net.x = NormalizeMean255(chip);
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
  return out;
}

std::vector<std::array<double, 2>> LandmarkNet::Run(const Image& image, const Detection& det,
                                                    bool clip_to_image) {
  if (!clip_to_image) return RunPrecise(image, det);
  // Clip the float box to the image, then floor each part (Box.clipAtImageBorders + floor).
  const double cx = std::max(det.x, 0.0), cy = std::max(det.y, 0.0);
  const double cw = std::min(det.x + det.width - cx, image.width - cx);
  const double ch = std::min(det.y + det.height - cy, image.height - cy);
  const int x = static_cast<int>(std::floor(cx)), y = static_cast<int>(std::floor(cy));
  const int w = static_cast<int>(std::floor(cw)), h = static_cast<int>(std::floor(ch));
  if (w <= 0 || h <= 0) return {};
  if (x >= image.width || y >= image.height || x + w <= 0 || y + h <= 0) return {};
  const std::vector<float> out = Infer(CropPadResize(image, x, y, w, h, true, kInput));

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

namespace {
// The iBUG 68-point index of each point's mirror image (left eye ↔ right eye, …).
constexpr std::array<int, 68> kMirror = {
    16, 15, 14, 13, 12, 11, 10, 9,  8,  7,  6,  5,  4,  3,  2,  1,  0,   // jaw
    26, 25, 24, 23, 22, 21, 20, 19, 18, 17,                              // brows
    27, 28, 29, 30, 35, 34, 33, 32, 31,                                  // nose
    45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,                      // eyes
    54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60,  // outer mouth, inner
    67, 66, 65};
// A point the network puts at column u' of the mirrored chip is put at column kMirrorColumn − u'
// of the chip itself, on average: measured over 324 LFW faces, 109.95 ± 0.08 (a pixel-exact
// mirror would be kInput − 1 = 111; the network places points about one chip pixel to the left
// on mirrored faces). With it, averaging the two lowers the points' noise without moving them.
constexpr double kMirrorColumn = 110;
}  // namespace

// The box squared about its centre at sub-pixel precision (no integer crop: at a 30-pixel face
// the floor of face-api's crop moves every point by up to 3 % of the face), sampled with the
// convention the network was trained with (chip pixel c at box corner + c · side / 112), with
// the anti-aliasing reduction when the face is large; black outside the image. The mirrored chip
// is run too and the two sets of points averaged (points swapped with their mirror partners).
std::vector<std::array<double, 2>> LandmarkNet::RunPrecise(const Image& image,
                                                           const Detection& det) {
  const double side = std::max(det.width, det.height);
  if (!(side > 0)) return {};
  const double x0 = det.x + (det.width - side) / 2, y0 = det.y + (det.height - side) / 2;
  if (x0 >= image.width || y0 >= image.height || x0 + side <= 0 || y0 + side <= 0) return {};
  const double step = side / kInput;
  Affine m;
  m.a = m.d = step;
  m.tx = x0;
  m.ty = y0;
  FloatImage chip = WarpAffine(image, m, kInput);
  const std::vector<float> direct = Infer(chip);
  FlipHorizontal(chip);
  const std::vector<float> mirrored = Infer(chip);
  std::vector<std::array<double, 2>> pts(68);
  for (size_t i = 0; i < 68; ++i) {
    const auto j = static_cast<size_t>(kMirror[i]);
    const double u = (direct[2 * i] * kInput + kMirrorColumn - mirrored[2 * j] * kInput) / 2;
    const double v = (direct[2 * i + 1] + mirrored[2 * j + 1]) * kInput / 2;
    pts[i] = {x0 + u * step, y0 + v * step};
  }
  return pts;
}

}  // namespace facetrail::vision::internal
