#include "vision/internal/recognizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "nn/onnx.h"

namespace facetrail::vision::internal {

namespace {

// The face-api.js dlib ResNet-29: a 150×150 similarity chip (dlib's geometry) with its mirror,
// optionally face-api's axis-aligned crop too; or face-api's crop alone (parity mode).
class FaceApiResnetRecognizer final : public Recognizer {
 public:
  FaceApiResnetRecognizer(std::unique_ptr<RecognitionNet> net, RecognizerOptions options)
      : net_(std::move(net)), options_(options) {}

  std::vector<float> Describe(const Image& image, const Detection& det, const Landmarks& pts,
                              const FloatImage& quality_chip) override {
    if (options_.align == AlignMode::kFaceApi) {
      IntRect r = FaceApiRect(image, det, pts);
      if (r.width <= 0 || r.height <= 0) return {};
      return net_->Run(
          CropPadResize(image, r.x, r.y, r.width, r.height, true, RecognitionNet::kInputSize));
    }
    // Mean of the views the options ask for: the chip, its mirror, face-api's crop and its mirror.
    FloatImage chip = quality_chip;
    std::vector<float> sum = net_->Run(chip);
    int views = 1;
    auto add = [&](const std::vector<float>& v) {
      for (size_t i = 0; i < v.size(); ++i) sum[i] += v[i];
      ++views;
    };
    if (options_.flip_average) {
      FlipHorizontal(chip);
      add(net_->Run(chip));
    }
    if (options_.two_crops) {
      IntRect r = FaceApiRect(image, det, pts);
      if (r.width > 0 && r.height > 0) {
        FloatImage crop =
            CropPadResize(image, r.x, r.y, r.width, r.height, true, RecognitionNet::kInputSize);
        add(net_->Run(crop));
        if (options_.flip_average) {
          FlipHorizontal(crop);
          add(net_->Run(crop));
        }
      }
    }
    for (float& v : sum) v /= static_cast<float>(views);
    return sum;
  }

  double flops() const override { return net_->flops(); }

 private:
  static IntRect FaceApiRect(const Image& image, const Detection& det, const Landmarks& pts) {
    // The landmark crop's size enters face-api's rectangle (an upstream quirk).
    const double cx = std::max(det.x, 0.0), cy = std::max(det.y, 0.0);
    const int crop_w =
        static_cast<int>(std::floor(std::min(det.x + det.width - cx, image.width - cx)));
    const int crop_h =
        static_cast<int>(std::floor(std::min(det.y + det.height - cy, image.height - cy)));
    return FaceApiRecognitionRect(pts, crop_w, crop_h, image.width, image.height);
  }

  std::unique_ptr<RecognitionNet> net_;
  RecognizerOptions options_;
};

// Any ONNX network described by a manifest: five-point similarity alignment onto the manifest's
// template, the input made in its colour order and normalisation, and the mirrored face's
// output added in (flip_average).
class OnnxRecognizer final : public Recognizer {
 public:
  OnnxRecognizer(std::unique_ptr<nn::OnnxNetwork> net, ModelManifest manifest,
                 RecognizerOptions options)
      : net_(std::move(net)), manifest_(std::move(manifest)), options_(options) {}

  std::vector<float> Describe(const Image& image, const Detection& /*det*/, const Landmarks& pts,
                              const FloatImage& /*quality_chip*/) override {
    const int size = manifest_.input.width;
    const Interpolation enlarge = ToInterpolation(options_.chip_interpolation);
    std::vector<float> sum, view;
    for (const Affine& m :
         ChipViewTransforms(FivePointChipTransform(FivePoints(pts), manifest_.alignment), size,
                            options_.chip_views)) {
      FloatImage chip = WarpAffine(image, m, size, enlarge);
      if (!Run(chip, view)) return {};
      Add(view, sum);
      if (options_.flip_average) {
        FlipHorizontal(chip);
        if (!Run(chip, view)) return {};
        Add(view, sum);
      }
    }
    return sum;
  }

  double flops() const override { return net_->flops(); }

 private:
  static Interpolation ToInterpolation(ChipInterpolation mode) {
    switch (mode) {
      case ChipInterpolation::kBicubic: return Interpolation::kBicubic;
      case ChipInterpolation::kLanczos3: return Interpolation::kLanczos3;
      case ChipInterpolation::kBilinear: break;
    }
    return Interpolation::kBilinear;
  }

  static void Add(const std::vector<float>& v, std::vector<float>& sum) {
    if (sum.empty()) {
      sum = v;
      return;
    }
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += v[i];
  }

  bool Run(const FloatImage& chip, std::vector<float>& out) {
    const ModelInput& in = manifest_.input;
    input_.Resize({chip.height, chip.width, 3});
    const bool bgr = in.color == ColorOrder::kBgr;
    const size_t pixels = static_cast<size_t>(chip.width) * chip.height;
    for (size_t p = 0; p < pixels; ++p) {
      const float* rgb = &chip.data[p * 3];
      float* dst = &input_.data[p * 3];
      for (int c = 0; c < 3; ++c) {
        const float v = rgb[bgr ? 2 - c : c];
        dst[c] = (v - in.mean[static_cast<size_t>(c)]) * in.scale[static_cast<size_t>(c)];
      }
    }
    return net_->Run(input_, out).ok() && out.size() == static_cast<size_t>(manifest_.dim);
  }

  std::unique_ptr<nn::OnnxNetwork> net_;
  ModelManifest manifest_;
  RecognizerOptions options_;
  nn::Tensor input_;
};

// A fusion model's recognizer: each member's output made unit length and scaled by 1/sqrt(m),
// one after another (models.h). A face one member cannot describe is not described.
class FusionRecognizer final : public Recognizer {
 public:
  explicit FusionRecognizer(std::vector<std::unique_ptr<Recognizer>> members)
      : members_(std::move(members)) {}

  std::vector<float> Describe(const Image& image, const Detection& det, const Landmarks& pts,
                              const FloatImage& quality_chip) override {
    const double share = 1.0 / std::sqrt(static_cast<double>(members_.size()));
    std::vector<float> out;
    for (const auto& member : members_) {
      const std::vector<float> v = member->Describe(image, det, pts, quality_chip);
      const double norm = L2Norm(v);
      if (v.empty() || !(norm > 0) || !std::isfinite(norm)) return {};
      for (float x : v) out.push_back(static_cast<float>(x * share / norm));
    }
    return out;
  }

  double flops() const override {
    double sum = 0;
    for (const auto& member : members_) sum += member->flops();
    return sum;
  }

 private:
  std::vector<std::unique_ptr<Recognizer>> members_;
};

// A model with a projection (models.h): the network's template made unit, then multiplied by
// the fixed matrix P (the pipeline makes the result unit again).
class ProjectedRecognizer final : public Recognizer {
 public:
  ProjectedRecognizer(std::unique_ptr<Recognizer> network, std::vector<float> matrix, int dim)
      : network_(std::move(network)), matrix_(std::move(matrix)), dim_(static_cast<size_t>(dim)) {}

  std::vector<float> Describe(const Image& image, const Detection& det, const Landmarks& pts,
                              const FloatImage& quality_chip) override {
    const std::vector<float> v = network_->Describe(image, det, pts, quality_chip);
    const double norm = L2Norm(v);
    if (v.size() != dim_ || !(norm > 0) || !std::isfinite(norm)) return {};
    std::vector<float> out(dim_);
    for (size_t i = 0; i < dim_; ++i) {
      const float* row = matrix_.data() + i * dim_;
      double sum = 0;
      for (size_t j = 0; j < dim_; ++j) sum += static_cast<double>(row[j]) * v[j];
      out[i] = static_cast<float>(sum / norm);
    }
    return out;
  }

  double flops() const override {
    return network_->flops() + 2.0 * static_cast<double>(dim_) * static_cast<double>(dim_);
  }

 private:
  std::unique_ptr<Recognizer> network_;
  std::vector<float> matrix_;  // dim × dim, row-major
  size_t dim_;
};

Expected<std::unique_ptr<Recognizer>> MakeNetworkRecognizer(const ModelManifest& manifest,
                                                            const RecognizerOptions& options);

}  // namespace

double L2Norm(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

std::array<std::array<double, 2>, 5> FivePoints(const Landmarks& pts) {
  auto mean = [&](size_t begin, size_t end) {
    double x = 0, y = 0;
    for (size_t i = begin; i < end; ++i) {
      x += pts[i][0];
      y += pts[i][1];
    }
    const auto n = static_cast<double>(end - begin);
    return std::array<double, 2>{x / n, y / n};
  };
  return {mean(36, 42), mean(42, 48), pts[30], pts[48], pts[54]};
}

std::vector<Affine> ChipViewTransforms(const Affine& aligned, int size, ChipViews views) {
  std::vector<Affine> out = {aligned};
  const double centre = (size - 1) / 2.0;
  if (views == ChipViews::kScales) {
    // Chip pixel p of the view samples where the aligned chip's pixel centre + s·(p − centre)
    // does: s < 1 shows the face larger.
    for (double s : {0.95, 1.05}) {
      Affine m = aligned;
      m.a *= s, m.b *= s, m.c *= s, m.d *= s;
      m.tx = aligned.a * centre * (1 - s) + aligned.b * centre * (1 - s) + aligned.tx;
      m.ty = aligned.c * centre * (1 - s) + aligned.d * centre * (1 - s) + aligned.ty;
      out.push_back(m);
    }
  } else if (views == ChipViews::kShifts) {
    for (const auto& [dx, dy] : {std::pair{0.5, 0.0}, {-0.5, 0.0}, {0.0, 0.5}, {0.0, -0.5}}) {
      Affine m = aligned;
      m.tx += dx;
      m.ty += dy;
      out.push_back(m);
    }
  }
  return out;
}

Affine FivePointChipTransform(const std::array<std::array<double, 2>, 5>& face,
                              const AlignmentTemplate& chip_template) {
  return FitSimilarity(chip_template.points, face);
}

Expected<std::unique_ptr<Recognizer>> MakeRecognizer(const ModelManifest& manifest,
                                                     const RecognizerOptions& options) {
  if (manifest.kind == ModelKind::kFusion) {
    FT_ASSIGN_OR_RETURN(const std::vector<ModelManifest> members, FusionMembers(manifest));
    std::vector<std::unique_ptr<Recognizer>> made;
    for (const ModelManifest& member : members) {
      auto r = MakeRecognizer(member, options);
      if (!r.ok()) return r.status().WithContext("fusion model '" + manifest.name + "'");
      made.push_back(std::move(*r));
    }
    return std::unique_ptr<Recognizer>(new FusionRecognizer(std::move(made)));
  }
  FT_ASSIGN_OR_RETURN(auto network, MakeNetworkRecognizer(manifest, options));
  if (!manifest.projection) return network;
  auto matrix = LoadProjection(manifest);
  if (!matrix.ok()) return matrix.status().WithContext("model '" + manifest.name + "'");
  return std::unique_ptr<Recognizer>(
      new ProjectedRecognizer(std::move(network), std::move(*matrix), manifest.dim));
}

namespace {

// An onnx or faceapi-resnet29 model's network, without its projection.
Expected<std::unique_ptr<Recognizer>> MakeNetworkRecognizer(const ModelManifest& manifest,
                                                            const RecognizerOptions& options) {
  FT_RETURN_IF_ERROR(VerifyModelFile(manifest));
  if (manifest.kind == ModelKind::kFaceApiResnet29) {
    FT_ASSIGN_OR_RETURN(auto net, RecognitionNet::Load(manifest.dir(), options.precision));
    return std::unique_ptr<Recognizer>(new FaceApiResnetRecognizer(std::move(net), options));
  }
  if (options.align != AlignMode::kSimilarity || options.two_crops) {
    return InvalidArgument("model '" + manifest.name +
                           "': --align faceapi and --two-crops belong to the face-api ResNet "
                           "(--model faceapi-resnet); this model aligns on five points");
  }
  nn::OnnxLoadOptions load;
  load.precision =
      options.precision == nn::Precision::kU8S8 ? nn::Precision::kBf16 : options.precision;
  load.input_height = manifest.input.height;
  load.input_width = manifest.input.width;
  auto net = nn::OnnxNetwork::Load(manifest.file_path(), load);
  if (!net.ok()) return net.status().WithContext("model '" + manifest.name + "'");
  const nn::Shape in = (*net)->input_shape();
  if (in.c != 3 || in.h != manifest.input.height || in.w != manifest.input.width) {
    return InvalidArgument(manifest.file_path() + ": the network takes " + std::to_string(in.c) +
                           "×" + std::to_string(in.h) + "×" + std::to_string(in.w) +
                           ", its manifest says 3×" + std::to_string(manifest.input.height) + "×" +
                           std::to_string(manifest.input.width));
  }
  if ((*net)->output_size() != static_cast<size_t>(manifest.dim)) {
    return InvalidArgument(manifest.file_path() + ": the network gives " +
                           std::to_string((*net)->output_size()) + " numbers, its manifest says " +
                           std::to_string(manifest.dim));
  }
  return std::unique_ptr<Recognizer>(new OnnxRecognizer(std::move(*net), manifest, options));
}

}  // namespace

}  // namespace facetrail::vision::internal

namespace facetrail::vision {

Expected<ModelCheck> CheckModel(const ModelManifest& manifest) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  const auto t0 = Clock::now();
  internal::RecognizerOptions options;
  options.flip_average = false;
  FT_ASSIGN_OR_RETURN(auto recognizer, internal::MakeRecognizer(manifest, options));
  const auto t1 = Clock::now();
  // A grey image with two darker eye spots and a mouth, at the template's positions.
  Image image;
  image.width = image.height = 200;
  image.rgb.assign(static_cast<size_t>(200) * 200 * 3, 150);
  internal::Landmarks pts(kNumLandmarks, {100.0, 100.0});
  auto put = [&](size_t begin, size_t end, double x, double y) {
    for (size_t i = begin; i < end; ++i) pts[i] = {x + static_cast<double>(i - begin) * 0.5, y};
  };
  put(36, 42, 70, 80);
  put(42, 48, 125, 80);
  pts[30] = {100, 110};
  pts[48] = {75, 140};
  pts[54] = {125, 140};
  internal::Detection det{50, 40, 100, 130, 0.99};
  const internal::FloatImage chip =
      internal::WarpAffine(image, internal::SimilarityChipTransform(pts, 150, 0.25), 150);
  const auto t2 = Clock::now();
  std::vector<float> out = recognizer->Describe(image, det, pts, chip);
  const auto t3 = Clock::now();
  const std::string what = manifest.kind == ModelKind::kFusion
                               ? "fusion model '" + manifest.name + "'"
                               : manifest.file_path();
  if (out.size() != static_cast<size_t>(manifest.dim)) {
    return InvalidArgument(what + ": gave " + std::to_string(out.size()) +
                           " numbers, the manifest says dim " + std::to_string(manifest.dim));
  }
  bool all_equal = true;
  for (float v : out) {
    if (!std::isfinite(v)) {
      return InvalidArgument(what + ": gave a value that is not finite");
    }
    all_equal = all_equal && v == out[0];
  }
  if (all_equal) {
    return InvalidArgument(what + ": gave " + std::to_string(out.size()) +
                           " equal numbers (a broken or wrongly fed network)");
  }
  return ModelCheck{ms(t0, t1), ms(t2, t3), recognizer->flops() / 1e9};
}

}  // namespace facetrail::vision
