#include "vision/face_pipeline.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>

#include "common/file.h"
#include "vision/internal/alignment.h"
#include "vision/internal/networks.h"
#include "vision/internal/recognizer.h"

namespace facetrail::vision {

namespace {

using internal::Detection;
using internal::Landmarks;

// Geometry of the quality chip (and the face-api ResNet's input): dlib's dnn_face_recognition_ex,
// get_face_chip_details(shape, 150, 0.25). The quality figures use it whatever the model, so a
// quality gate means the same for every model.
constexpr int kChipSize = 150;
constexpr double kChipPadding = 0.25;

class FacePipelineImpl final : public FacePipeline {
 public:
  FacePipelineImpl(PipelineOptions options, ModelManifest manifest,
                   std::unique_ptr<internal::SsdDetector> detector,
                   std::unique_ptr<internal::LandmarkNet> landmarks,
                   std::unique_ptr<internal::Recognizer> recognizer)
      : options_(std::move(options)),
        manifest_(std::move(manifest)),
        detector_(std::move(detector)),
        landmarks_(std::move(landmarks)),
        recognizer_(std::move(recognizer)) {
    model_ = TemplateModelFor(manifest_, options_);
  }

  Expected<std::vector<Face>> Process(const Image& image) override {
    if (options_.network_threads > 0) nn::SetThreadsForCurrentThread(options_.network_threads);
    if (image.empty()) return InvalidArgument("empty image");
    if (static_cast<uint64_t>(image.width) * image.height > options_.max_pixels) {
      return ResourceExhausted("image has " + std::to_string(image.width) + "x" +
                               std::to_string(image.height) + " pixels, more than the limit of " +
                               std::to_string(options_.max_pixels));
    }
    std::vector<Detection> detections = DetectFaces(image);
    std::vector<Face> faces;
    faces.reserve(detections.size());
    for (const Detection& det : detections) {
      Face face;
      face.box = {static_cast<float>(det.x), static_cast<float>(det.y),
                  static_cast<float>(det.width), static_cast<float>(det.height)};
      face.score = static_cast<float>(det.score);
      face.quality.detector_score = face.score;
      if (options_.landmarks || options_.templates) {
        Landmarks pts = landmarks_->Run(image, det, options_.align == AlignMode::kFaceApi);
        if (pts.size() != kNumLandmarks) continue;  // box outside the image (face-api drops it)
        for (size_t i = 0; i < pts.size(); ++i) {
          face.landmarks[i] = {static_cast<float>(pts[i][0]), static_cast<float>(pts[i][1])};
        }
        const internal::Affine to_image =
            internal::SimilarityChipTransform(pts, kChipSize, kChipPadding);
        internal::FloatImage chip = internal::WarpAffine(image, to_image, kChipSize);
        face.quality = internal::EstimateQuality(pts, det.score, chip, to_image, image);
        if (options_.templates) {
          face.descriptor = recognizer_->Describe(image, det, pts, chip);
          if (face.descriptor.empty()) continue;
          face.templ = Normalize(face.descriptor);
        }
      }
      faces.push_back(std::move(face));
    }
    return faces;
  }

  const TemplateModel& template_model() const override { return model_; }
  const ModelManifest& model_manifest() const override { return manifest_; }
  const PipelineOptions& options() const override { return options_; }

 private:
  // face-api's detector alone in parity mode. Otherwise, when no face found covers a tenth of
  // the image, more passes on the image centred in a black frame: the SSD misses faces that fill
  // the frame (tightly framed booking photos; 9.6 % of LFW), and a frame brings them to the scale
  // it was trained on. The first framed pass (2× the image) runs whenever no large face was
  // found; the later ones (1.5×, 3×, then the same at 0.6× the detector threshold) only while
  // nothing at all was found. Passes are merged by IoU > 0.5, highest score first.
  std::vector<Detection> DetectFaces(const Image& image) {
    std::vector<Detection> dets = detector_->Detect(image, options_.min_score, options_.max_faces);
    if (options_.align == AlignMode::kFaceApi) return dets;
    if (options_.small_faces) AddTiledDetections(image, dets);
    const double area = static_cast<double>(image.width) * image.height;
    for (const auto& d : dets) {
      if (d.width * d.height >= 0.1 * area) return dets;
    }
    struct Attempt {
      double pad_fraction;  // of the longer side, on each side
      double score_factor;
    };
    constexpr Attempt kAttempts[] = {{0.5, 1.0}, {0.25, 1.0}, {1.0, 1.0}, {0.5, 0.6}, {0.25, 0.6}};
    for (size_t k = 0; k < std::size(kAttempts); ++k) {
      if (k > 0 && !dets.empty()) break;
      const auto& at = kAttempts[k];
      const int pad = static_cast<int>(std::max(image.width, image.height) * at.pad_fraction);
      const int framed_w = image.width + 2 * pad, framed_h = image.height + 2 * pad;
      if (static_cast<uint64_t>(framed_w) * framed_h > options_.max_pixels) continue;
      // A small image keeps to the small detector input: the frame is built at the scale that
      // fits it (the frame adds no detail an upsampling could bring out).
      const int small = internal::SsdDetector::kSmallInput;
      const double f =
          options_.small_image_detector && std::max(image.width, image.height) <= small
              ? std::min(1.0, static_cast<double>(small) / std::max(framed_w, framed_h))
              : 1.0;
      Image framed;
      if (f < 1.0) {
        // Framed pixel c covers image pixels [c / f, (c + 1) / f) − pad: sample at the centre of
        // that span (at f = 1/2, the bilinear weights average each 2×2 block).
        internal::Affine m;
        m.a = m.d = 1.0 / f;
        m.tx = m.ty = 0.5 / f - 0.5 - pad;
        framed = internal::WarpAffineToImage(
            image, m, std::min(small, static_cast<int>(std::lround(framed_w * f))),
            std::min(small, static_cast<int>(std::lround(framed_h * f))));
      } else {
        framed.width = framed_w;
        framed.height = framed_h;
        framed.rgb.assign(static_cast<size_t>(framed.width) * framed.height * 3, 0);
        for (int y = 0; y < image.height; ++y) {
          std::copy(image.row(y), image.row(y) + static_cast<size_t>(image.width) * 3,
                    framed.row(y + pad) + static_cast<size_t>(pad) * 3);
        }
      }
      for (Detection d :
           detector_->Detect(framed, options_.min_score * at.score_factor, options_.max_faces)) {
        // Back to image coordinates; the box may reach past the image edge (the landmark crop
        // reads black there, as in the framed pass).
        d.x = d.x / f - pad;
        d.y = d.y / f - pad;
        d.width /= f;
        d.height /= f;
        if (d.x + d.width <= 1 || d.y + d.height <= 1 || d.x >= image.width - 1 ||
            d.y >= image.height - 1) {
          continue;
        }
        bool overlaps = false;
        for (const auto& e : dets) overlaps = overlaps || internal::BoxIou(d, e) > 0.5;
        if (!overlaps) dets.push_back(d);
      }
    }
    std::stable_sort(dets.begin(), dets.end(),
                     [](const Detection& a, const Detection& b) { return a.score > b.score; });
    if (static_cast<int>(dets.size()) > options_.max_faces) {
      dets.resize(static_cast<size_t>(options_.max_faces));
    }
    return dets;
  }

  // Small faces in large stills: the 512×512 resize shrinks a 20-pixel face in a 1920-pixel
  // frame to 5 pixels, below what the SSD sees (its smallest anchors are 51 px of the 512 input).
  // Two tilings restore the scale: 512-pixel tiles at native resolution (faces ≥ ~25 px), and
  // 256-pixel tiles upscaled 2× (faces ≥ ~12 px); tiles overlap by a quarter. A detection that
  // overlaps one already found (IoU > 0.5, or > 60 % of the smaller box: a face cut by a tile
  // edge) keeps the higher score.
  void AddTiledDetections(const Image& image, std::vector<Detection>& dets) {
    struct Level {
      int tile;      // tile side in image pixels
      double scale;  // upscaling of the tile to the 512 input
    };
    constexpr Level kLevels[] = {{512, 1.0}, {256, 2.0}};
    for (const Level& level : kLevels) {
      if (std::max(image.width, image.height) <= level.tile * 5 / 4) continue;
      const int step = level.tile * 3 / 4;
      for (int y0 = 0; y0 < image.height; y0 += step) {
        for (int x0 = 0; x0 < image.width; x0 += step) {
          const int w = std::min(level.tile, image.width - x0);
          const int h = std::min(level.tile, image.height - y0);
          if (w < level.tile / 4 || h < level.tile / 4) continue;
          const int out_w = static_cast<int>(w * level.scale),
                    out_h = static_cast<int>(h * level.scale);
          internal::Affine m;
          m.a = m.d = 1.0 / level.scale;
          m.tx = x0, m.ty = y0;
          Image tile = internal::WarpAffineToImage(image, m, out_w, out_h);
          for (Detection d : detector_->Detect(tile, options_.min_score, options_.max_faces)) {
            d.x = d.x / level.scale + x0;
            d.y = d.y / level.scale + y0;
            d.width /= level.scale;
            d.height /= level.scale;
            MergeDetection(d, dets);
          }
          if (x0 + w >= image.width) break;
        }
        if (y0 + std::min(level.tile, image.height - y0) >= image.height) break;
      }
    }
    std::stable_sort(dets.begin(), dets.end(),
                     [](const Detection& a, const Detection& b) { return a.score > b.score; });
  }

  static void MergeDetection(const Detection& d, std::vector<Detection>& dets) {
    for (auto& e : dets) {
      const double ix = std::max(0.0, std::min(d.x + d.width, e.x + e.width) - std::max(d.x, e.x));
      const double iy =
          std::max(0.0, std::min(d.y + d.height, e.y + e.height) - std::max(d.y, e.y));
      const double smaller = std::min(d.width * d.height, e.width * e.height);
      if (internal::BoxIou(d, e) > 0.5 || (smaller > 0 && ix * iy > 0.6 * smaller)) {
        if (d.score > e.score) e = d;
        return;
      }
    }
    dets.push_back(d);
  }

  static std::vector<float> Normalize(const std::vector<float>& v) {
    const double norm = internal::L2Norm(v);
    std::vector<float> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = norm > 0 ? static_cast<float>(v[i] / norm) : 0.f;
    return out;
  }

  PipelineOptions options_;
  ModelManifest manifest_;
  TemplateModel model_;
  std::unique_ptr<internal::SsdDetector> detector_;
  std::unique_ptr<internal::LandmarkNet> landmarks_;
  std::unique_ptr<internal::Recognizer> recognizer_;
};

}  // namespace

std::string_view AlignModeName(AlignMode mode) {
  return mode == AlignMode::kFaceApi ? "faceapi" : "similarity";
}

Expected<AlignMode> ParseAlignMode(std::string_view name) {
  if (name == "faceapi") return AlignMode::kFaceApi;
  if (name == "similarity") return AlignMode::kSimilarity;
  return InvalidArgument("unknown alignment mode '" + std::string(name) +
                         "' (expected faceapi or similarity)");
}

std::string_view ChipInterpolationName(ChipInterpolation mode) {
  switch (mode) {
    case ChipInterpolation::kBicubic: return "bicubic";
    case ChipInterpolation::kLanczos3: return "lanczos3";
    case ChipInterpolation::kBilinear: break;
  }
  return "bilinear";
}

Expected<ChipInterpolation> ParseChipInterpolation(std::string_view name) {
  for (ChipInterpolation m :
       {ChipInterpolation::kBilinear, ChipInterpolation::kBicubic, ChipInterpolation::kLanczos3}) {
    if (name == ChipInterpolationName(m)) return m;
  }
  return InvalidArgument("unknown chip interpolation '" + std::string(name) +
                         "' (expected bilinear, bicubic or lanczos3)");
}

std::string_view ChipViewsName(ChipViews views) {
  switch (views) {
    case ChipViews::kScales: return "scales";
    case ChipViews::kShifts: return "shifts";
    case ChipViews::kOne: break;
  }
  return "one";
}

Expected<ChipViews> ParseChipViews(std::string_view name) {
  for (ChipViews v : {ChipViews::kOne, ChipViews::kScales, ChipViews::kShifts}) {
    if (name == ChipViewsName(v)) return v;
  }
  return InvalidArgument("unknown chip views '" + std::string(name) +
                         "' (expected one, scales or shifts)");
}

Status CheckModelFiles(const PipelineOptions& given) {
  FT_ASSIGN_OR_RETURN(const std::string dir, ResolveModelsDir(given.models_dir));
  FT_ASSIGN_OR_RETURN(const ModelManifest manifest, FindModel(dir, given.model));
  std::vector<std::string> files = {dir + "/ssd_mobilenetv1_model-weights_manifest.json",
                                    dir + "/face_landmark_68_model-weights_manifest.json"};
  if (manifest.kind == ModelKind::kFusion) {
    FT_ASSIGN_OR_RETURN(const std::vector<ModelManifest> members, FusionMembers(manifest));
    for (const ModelManifest& member : members) files.push_back(member.file_path());
  } else {
    files.push_back(manifest.file_path());
    if (manifest.projection) files.push_back(manifest.projection_path());
  }
  for (const std::string& f : files) {
    if (!FileExists(f)) {
      return NotFound(f + ": missing model file (run scripts/fetch-models, or give --models)");
    }
  }
  return Status::Ok();
}

Expected<std::unique_ptr<FacePipeline>> FacePipeline::Create(const PipelineOptions& given) {
  PipelineOptions options = given;
  FT_ASSIGN_OR_RETURN(options.models_dir, ResolveModelsDir(given.models_dir));
  // Preparing the weights runs oneDNN reorders: with network_threads set, on that many threads,
  // so no OpenMP team is started here that would then idle beside the pipelines.
  struct ThreadsScope {
    int saved;
    explicit ThreadsScope(int threads) : saved(nn::ThreadsForCurrentThread()) {
      if (threads > 0) nn::SetThreadsForCurrentThread(threads);
    }
    ~ThreadsScope() { nn::SetThreadsForCurrentThread(saved); }
  } threads_scope(options.network_threads);
  FT_ASSIGN_OR_RETURN(auto manifest, FindModel(options.models_dir, options.model));
  if (options.align == AlignMode::kFaceApi && manifest.kind != ModelKind::kFaceApiResnet29) {
    return InvalidArgument(
        "--align faceapi is the face-api ResNet's parity mode (--model "
        "faceapi-resnet); model '" +
        manifest.name + "' aligns on five points");
  }
  const nn::Precision precision = options.reduced_precision && options.align != AlignMode::kFaceApi
                                      ? nn::Precision::kBf16
                                      : nn::Precision::kF32;
  const nn::Precision detector_precision =
      precision == nn::Precision::kBf16 && options.int8_detector ? nn::Precision::kU8S8 : precision;
  FT_ASSIGN_OR_RETURN(auto detector,
                      internal::SsdDetector::Load(
                          options.models_dir, detector_precision,
                          options.small_image_detector && options.align != AlignMode::kFaceApi));
  FT_ASSIGN_OR_RETURN(auto landmarks, internal::LandmarkNet::Load(options.models_dir, precision));
  std::unique_ptr<internal::Recognizer> recognizer;
  if (options.templates) {
    internal::RecognizerOptions ro;
    ro.align = options.align;
    ro.flip_average = options.flip_average;
    ro.two_crops = options.two_crops;
    ro.chip_interpolation = options.chip_interpolation;
    ro.chip_views = options.chip_views;
    ro.precision = precision;
    FT_ASSIGN_OR_RETURN(recognizer, internal::MakeRecognizer(manifest, ro));
  }
  return std::unique_ptr<FacePipeline>(
      new FacePipelineImpl(options, std::move(manifest), std::move(detector), std::move(landmarks),
                           std::move(recognizer)));
}

TemplateModel TemplateModelFor(const ModelManifest& manifest, const PipelineOptions& options) {
  const bool similarity = options.align == AlignMode::kSimilarity;
  TemplateModel m;
  if (manifest.kind == ModelKind::kFaceApiResnet29) {
    m.id = manifest.id + "/" + std::string(AlignModeName(options.align)) +
           (similarity && options.flip_average ? "-flip" : "") +
           (similarity && options.two_crops ? "-2crop" : "");
  } else {
    // A fusion's members take the same options (each the ones it has), so its id carries them
    // like an ONNX model's.
    m.id = manifest.id + (manifest.kind == ModelKind::kFusion ? "/members" : "/5point") +
           (options.flip_average ? "-flip" : "");
    if (options.chip_interpolation != ChipInterpolation::kBilinear) {
      m.id.append("-").append(ChipInterpolationName(options.chip_interpolation));
    }
    if (options.chip_views != ChipViews::kOne) {
      m.id.append("-views-").append(ChipViewsName(options.chip_views));
    }
  }
  m.version = manifest.version;
  m.dim = manifest.dim;
  return m;
}

Expected<TemplateModel> TemplateModelFor(const PipelineOptions& options) {
  FT_ASSIGN_OR_RETURN(auto manifest, FindModel(options.models_dir, options.model));
  return TemplateModelFor(manifest, options);
}

Expected<PipelineOptions> PipelineOptionsFor(const TemplateModel& model,
                                             const PipelineOptions& base) {
  FT_ASSIGN_OR_RETURN(auto manifests, ListModels(base.models_dir));
  std::string known;
  for (const ModelManifest& m : manifests) {
    known += (known.empty() ? "" : ", ") + m.name;
    for (AlignMode align : {AlignMode::kSimilarity, AlignMode::kFaceApi}) {
      for (bool flip : {true, false}) {
        for (bool two_crops : {false, true}) {
          for (ChipInterpolation interpolation :
               {ChipInterpolation::kBilinear, ChipInterpolation::kBicubic,
                ChipInterpolation::kLanczos3}) {
            for (ChipViews views : {ChipViews::kOne, ChipViews::kScales, ChipViews::kShifts}) {
              PipelineOptions o = base;
              o.model = m.name;
              o.align = align;
              o.flip_average = flip;
              o.two_crops = two_crops;
              o.chip_interpolation = interpolation;
              o.chip_views = views;
              if (TemplateModelFor(m, o) == model) return o;
            }
          }
        }
      }
    }
  }
  return NotFound("no model in " + base.models_dir + " makes templates " + model.id + " v" +
                  std::to_string(model.version) + " (" + std::to_string(model.dim) +
                  " numbers); models there: " + known);
}

float TemplateSimilarity(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 0;
  double dot = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(dot);
}

}  // namespace facetrail::vision
