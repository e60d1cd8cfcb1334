// The face pipeline: image → faces (box, score, 68 landmarks, quality) → templates.
//
// WHAT THIS REPRESENTS
//   A loaded detector and landmark net (face-api.js's SSD MobileNetV1 and 68-point net, weights
//   from @vladmandic/face-api 1.7.15) and one recognition model chosen by name (vision/models.h:
//   `fr_feature` by default, an ONNX network aligned on five points; or `faceapi-resnet`, the
//   face-api.js dlib ResNet-29 with its parity mode), plus the pre- and post-processing around
//   them. Every model file is checked against the SHA-256 its manifest pins before it is used.
//   All coordinates are in pixels of the upright (EXIF-corrected) image.
//
// TEMPLATES
//   A template is the recognition model's output (TemplateModel::dim numbers) scaled to unit L2
//   norm; two templates are compared by cosine similarity (their dot product, in [-1, 1]; higher
//   is more alike). `descriptor` keeps the raw network output (for the face-api ResNet, as
//   face-api.js reports it). Scores mean different things for different models (docs/MODELS.md:
//   the face-api ResNet puts different people at 0.84 on average, fr_feature near 0.0), so
//   thresholds are per model (ModelManifest::calibration). A template is only comparable with
//   templates of the same TemplateModel id and version; gallery and search refuse to mix them.
//
// THREAD SAFETY
//   Process() is not thread-safe (it reuses scratch buffers); give each thread its own pipeline
//   (vision::ProcessImageFiles in vision/batch.h does) or guard it.
#pragma once

#include <array>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "vision/image.h"
#include "vision/models.h"

namespace facetrail::vision {

inline constexpr int kNumLandmarks = 68;

// How the face-api ResNet's input is cut out (other models align on their manifest's points).
enum class AlignMode {
  kFaceApi,     // face-api.js's axis-aligned crop, reproduced exactly (parity proof)
  kSimilarity,  // similarity transform: a model's own geometry (the default for every model)
};
std::string_view AlignModeName(AlignMode mode);
Expected<AlignMode> ParseAlignMode(std::string_view name);

// How an ONNX model's chip is sampled where it ENLARGES the face (eyes closer than the
// template's ≈35 px: small faces); faces at or above the chip's scale get the same chip whatever
// is chosen (bilinear, box-filtered past 2×). docs/PIPELINE.md, "Small faces".
enum class ChipInterpolation {
  kBilinear,  // 2 × 2 taps
  kBicubic,   // Keys' cubic convolution, a = −0.5, 4 × 4 taps
  kLanczos3,  // 6 × 6 taps
};
std::string_view ChipInterpolationName(ChipInterpolation mode);  // bilinear, bicubic, lanczos3
Expected<ChipInterpolation> ParseChipInterpolation(std::string_view name);

// Test-time augmentation of an ONNX model's input: further chips of the same face, each sampled
// from a slightly moved alignment, whose outputs (and their mirrors', with flip_average) are
// added in before normalising. Each view costs one more network pass (two with flip_average).
enum class ChipViews {
  kOne,     // the aligned chip alone
  kScales,  // + the chip scaled 0.95 and 1.05 about its centre (3 views)
  kShifts,  // + the chip moved by half an image pixel left, right, up, down (5 views)
};
std::string_view ChipViewsName(ChipViews views);  // one, scales, shifts
Expected<ChipViews> ParseChipViews(std::string_view name);

struct Box {
  float x = 0, y = 0, width = 0, height = 0;
};
struct Point {
  float x = 0, y = 0;
};

struct FaceQuality {
  float eye_distance_px = 0;  // between the eye centroids (landmarks 36–41, 42–47)
  float detector_score = 0;   // SSD score, 0..1
  float sharpness = 0;        // variance of the Laplacian on the aligned grey chip
  float yaw_deg = 0;          // estimated from landmarks; 0 = frontal, + = turned to image right
  float roll_deg = 0;         // angle of the eye line; + = clockwise in the image
  float pitch_deg = 0;        // rough estimate from landmarks; + = looking down
  // What the face really carries (docs/PIPELINE.md, "Quality figures that cannot be faked"):
  // added noise raises `sharpness` and enlarging raises `eye_distance_px`, not these.
  // NaN: not measured (figures made before these existed); the gate then reads the ones above.
  float noise_sigma = kUnmeasured;  // additive noise on the chip, grey levels (Immerkær)
  float detail = kUnmeasured;  // sharpness without the noise's share: sharpness − 20σ², ≥ 0
  float effective_scale = kUnmeasured;  // ≥ 1: how far the face was enlarged beyond its detail
  float effective_eye_distance_px = kUnmeasured;  // eye_distance_px / effective_scale
  float blockiness = kUnmeasured;  // JPEG 8×8 block artefacts around the face (≈1 none, >1.5 heavy)

  static constexpr float kUnmeasured = std::numeric_limits<float>::quiet_NaN();
};

struct Face {
  Box box;
  float score = 0;
  std::array<Point, kNumLandmarks> landmarks{};
  FaceQuality quality;
  std::vector<float> descriptor;  // raw recognition output, TemplateModel::dim floats (or empty)
  std::vector<float> templ;       // unit-norm template, TemplateModel::dim floats (or empty)
};

// Identifies what produced a template; stored with every template.
struct TemplateModel {
  // The manifest's id and the alignment variant, e.g. "faceplugin-0.0.1-fr_feature/5point-flip",
  // "faceapi-1.7.15-resnet29/similarity-flip".
  std::string id;
  int version = 1;
  int dim = 0;  // numbers per template
  friend bool operator==(const TemplateModel&, const TemplateModel&) = default;
};

struct PipelineOptions {
  // Empty: the default lookup (vision::ResolveModelsDir), never the current working directory.
  std::string models_dir;
  // The recognition model: a manifest's name or id in models_dir (vision/models.h).
  std::string model = std::string(kDefaultModelName);
  // face-api ResNet only: kFaceApi is its parity mode. Other models refuse kFaceApi.
  AlignMode align = AlignMode::kSimilarity;
  float min_score = 0.5f;  // detector threshold (strict >), face-api's default
  int max_faces = 100;
  bool templates = true;  // run the recognition net
  bool landmarks = true;  // run the landmark net (needed for templates)
  // Detection at several scales/tiles for small faces in large stills (costs more time).
  bool small_faces = false;
  // Add the network's output for the horizontally mirrored face before normalising (similarity
  // mode, every model).
  bool flip_average = true;
  // ONNX models only: the chip's sampling where it enlarges a small face, and extra views.
  // Either one other than its default changes the template id (TemplateModelFor).
  ChipInterpolation chip_interpolation = ChipInterpolation::kBilinear;
  ChipViews chip_views = ChipViews::kOne;
  // face-api ResNet only: also add the descriptors of face-api's axis-aligned crop (and its
  // mirror, with flip_average): two differently framed views of the face (docs/ACCURACY.md).
  bool two_crops = false;
  uint64_t max_pixels = 64'000'000;
  // Convolutions in bfloat16 (AVX512-BF16 or AMX; accumulation stays float32): 1.7× faster
  // with the same LFW accuracy within one pair in 3,000 (docs/ACCURACY.md). Ignored in faceapi
  // mode, which is always float32 to stay a parity proof.
  bool reduced_precision = true;
  // With reduced_precision: the detector's layers after the first in uint8/int8 (AVX512-VNNI;
  // every one of them reads a ReLU6 output, whose fixed range [0, 6] sets the scale), the rest
  // of the detector and the other networks in bfloat16. docs/PERFORMANCE.md, docs/ACCURACY.md.
  bool int8_detector = true;
  // Images no larger than 256×256 are detected at 256×256 instead of being upsampled to 512×512
  // (a quarter of the detector's work; larger images are unaffected). Ignored in faceapi mode.
  bool small_image_detector = true;
  // OpenMP threads the networks use: set on the thread that calls Process, and used (then
  // restored) while Create prepares the weights; 0 leaves the thread's setting alone (all cores
  // unless OMP_NUM_THREADS says otherwise). One by default: the networks are small at batch 1,
  // and with two OpenMP threads every layer ends at a barrier where one thread spins until the
  // other gets a core: on the shared 2-core machines an image took 6× to 100× the CPU time
  // (docs/PERFORMANCE.md, "Start-up"). Several pipelines side by side need 1 each anyway.
  int network_threads = 1;
};

class FacePipeline {
 public:
  // Loads and checks the model files. kNotFound/kDataLoss name the bad file and the fix;
  // kInvalidArgument for options the model does not take (--align faceapi on an ONNX model).
  static Expected<std::unique_ptr<FacePipeline>> Create(const PipelineOptions& options);
  virtual ~FacePipeline() = default;

  // Faces in detector-score order (highest first). An image without faces gives an empty list.
  virtual Expected<std::vector<Face>> Process(const Image& image) = 0;

  virtual const TemplateModel& template_model() const = 0;
  virtual const ModelManifest& model_manifest() const = 0;
  virtual const PipelineOptions& options() const = 0;
};

// Checks, without loading a network, that the files Create would read are there: the models
// folder (resolved), the model's manifest and weights file, the detector's and the landmark
// network's weight manifests. kNotFound names the missing file and the fix. What `serve` checks
// before it reports itself ready.
Status CheckModelFiles(const PipelineOptions& options);

// The template model a pipeline with these options produces (reads the model's manifest; loads
// no network). Errors as FindModel.
Expected<TemplateModel> TemplateModelFor(const PipelineOptions& options);
// The same for a manifest already read.
TemplateModel TemplateModelFor(const ModelManifest& manifest, const PipelineOptions& options);

// The pipeline options (model name and alignment variant, the rest from `base`) whose templates
// are `model`: how a gallery's stored model id becomes a pipeline again. kNotFound when no
// manifest in base.models_dir makes them (the message names the id and the models there are).
Expected<PipelineOptions> PipelineOptionsFor(const TemplateModel& model,
                                             const PipelineOptions& base);

// Cosine similarity of two unit templates of one model (0 when the sizes differ).
float TemplateSimilarity(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace facetrail::vision
