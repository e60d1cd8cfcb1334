// dlib's ResNet-29 face recognition net as face-api.js runs it (PIPELINE.md §6).
#include <algorithm>

#include "vision/internal/networks.h"

namespace facetrail::vision::internal {

struct RecognitionNet::Layers {
  struct Block {
    bool down = false;
    std::unique_ptr<nn::Conv2d> conv1, conv2;
  };
  std::unique_ptr<nn::Conv2d> stem;  // conv32_down
  std::vector<Block> blocks;
  std::vector<float> fc;  // [256][128]
  nn::Tensor x, t, u, shortcut;
};

RecognitionNet::~RecognitionNet() = default;

Expected<std::unique_ptr<RecognitionNet>> RecognitionNet::Load(const std::string& models_dir,
                                                               nn::Precision precision) {
  FT_ASSIGN_OR_RETURN(nn::WeightMap w, nn::WeightMap::Load(models_dir, "face_recognition_model"));
  auto net = std::unique_ptr<RecognitionNet>(new RecognitionNet());
  net->layers_ = std::make_unique<Layers>();
  Layers& layers = *net->layers_;

  // conv + bias, then dlib's per-channel scale layer, folded; `accumulate` adds into dst.
  auto conv = [&](const std::string& p, nn::Shape in, int k, int cout, int stride,
                  nn::Padding padding, nn::Activation act,
                  bool accumulate) -> Expected<std::unique_ptr<nn::Conv2d>> {
    FT_ASSIGN_OR_RETURN(auto f, w.Get(p + "/conv/filters", {k, k, in.c, cout}));
    FT_ASSIGN_OR_RETURN(auto b, w.Get(p + "/conv/bias", {cout}));
    FT_ASSIGN_OR_RETURN(auto s, w.Get(p + "/scale/weights", {cout}));
    FT_ASSIGN_OR_RETURN(auto t, w.Get(p + "/scale/biases", {cout}));
    nn::ConvSpec spec{k, k, in.c, cout, stride, padding, false, act, accumulate};
    return nn::Conv2d::Create(spec, in, f->values, b->values, s->values, t->values, precision);
  };

  nn::Shape shape{kInputSize, kInputSize, 3};
  FT_ASSIGN_OR_RETURN(layers.stem, conv("conv32_down", shape, 7, 32, 2, nn::Padding::kValid,
                                        nn::Activation::kRelu, false));
  shape = layers.stem->output_shape();  // 72×72×32
  shape = {nn::OutputSize(shape.h, 3, 2, nn::Padding::kValid),
           nn::OutputSize(shape.w, 3, 2, nn::Padding::kValid), shape.c};  // max pool: 35×35×32
  const std::pair<const char*, int> plan[] = {
      {"conv32_1", 32},   {"conv32_2", 32},         {"conv32_3", 32},      {"conv64_down", 64},
      {"conv64_1", 64},   {"conv64_2", 64},         {"conv64_3", 64},      {"conv128_down", 128},
      {"conv128_1", 128}, {"conv128_2", 128},       {"conv256_down", 256}, {"conv256_1", 256},
      {"conv256_2", 256}, {"conv256_down_out", 256}};
  for (const auto& [name, cout] : plan) {
    Layers::Block blk;
    const std::string p = name;
    blk.down = p.find("down") != std::string::npos;
    if (blk.down) {
      FT_ASSIGN_OR_RETURN(blk.conv1, conv(p + "/conv1", shape, 3, cout, 2, nn::Padding::kValid,
                                          nn::Activation::kRelu, false));
      FT_ASSIGN_OR_RETURN(blk.conv2, conv(p + "/conv2", blk.conv1->output_shape(), 3, cout, 1,
                                          nn::Padding::kSame, nn::Activation::kNone, false));
      shape = {nn::OutputSize(shape.h, 2, 2, nn::Padding::kValid),
               nn::OutputSize(shape.w, 2, 2, nn::Padding::kValid), cout};
    } else {
      FT_ASSIGN_OR_RETURN(blk.conv1, conv(p + "/conv1", shape, 3, cout, 1, nn::Padding::kSame,
                                          nn::Activation::kRelu, false));
      // relu(x + conv2(...)): accumulate into a copy of the input.
      FT_ASSIGN_OR_RETURN(blk.conv2, conv(p + "/conv2", shape, 3, cout, 1, nn::Padding::kSame,
                                          nn::Activation::kRelu, true));
    }
    layers.blocks.push_back(std::move(blk));
  }
  FT_ASSIGN_OR_RETURN(auto fc, w.Get("fc", {256, 128}));
  layers.fc = fc->values;
  return net;
}

double RecognitionNet::flops() const {
  double f = layers_->stem->flops();
  for (const auto& blk : layers_->blocks) f += blk.conv1->flops() + blk.conv2->flops();
  return f;
}

std::vector<float> RecognitionNet::Run(const FloatImage& chip) {
  Layers& net = *layers_;
  net.x = NormalizeMean255(chip);
  net.stem->Forward(net.x, net.t);
  nn::MaxPool(net.t, 3, 2, nn::Padding::kValid, net.x);
  for (auto& blk : net.blocks) {
    if (!blk.down) {
      blk.conv1->Forward(net.x, net.t);
      blk.conv2->Forward(net.t, net.x);  // x = relu(x + conv2(t))
      continue;
    }
    blk.conv1->Forward(net.x, net.t);
    blk.conv2->Forward(net.t, net.u);
    // Shortcut: 2×2 average pool, zero channels appended; the main path is zero-padded at the
    // bottom/right when smaller.
    nn::AvgPool(net.x, 2, 2, nn::Padding::kValid, net.t);
    const nn::Shape sc = net.t.shape, main = net.u.shape;
    net.shortcut.Resize({sc.h, sc.w, main.c});
    for (int y = 0; y < sc.h; ++y) {
      for (int x = 0; x < sc.w; ++x) {
        float* dst = net.shortcut.at(y, x);
        const float* s = net.t.at(y, x);
        const bool inside = y < main.h && x < main.w;
        const float* m = inside ? net.u.at(y, x) : nullptr;
        for (int c = 0; c < main.c; ++c) {
          float v = c < sc.c ? s[c] : 0.f;
          if (m) v += m[c];
          dst[c] = std::max(v, 0.f);
        }
      }
    }
    std::swap(net.x, net.shortcut);
  }
  // Mean over positions, then fc (no bias).
  const nn::Shape s = net.x.shape;
  std::vector<float> pooled(static_cast<size_t>(s.c), 0.f);
  for (int i = 0; i < s.h * s.w; ++i) {
    for (int c = 0; c < s.c; ++c)
      pooled[static_cast<size_t>(c)] += net.x.data[static_cast<size_t>(i) * s.c + c];
  }
  for (float& v : pooled) v /= static_cast<float>(s.h * s.w);
  std::vector<float> out(128);
  nn::Dense(pooled, net.fc, {}, out);
  return out;
}

}  // namespace facetrail::vision::internal
