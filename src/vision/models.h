// Recognition models as data: each model is a file of weights plus a small manifest
// (`<models dir>/<name>.model.json`) that says how to feed it and what its templates are.
// docs/MODELS.md describes the manifest fields and carries each shipped model's card.
//
// WHAT THIS REPRESENTS
//   A ModelManifest names a recognition model (`--model NAME`), the template model id stored with
//   every template it makes, the template dimension, the weights file and its pinned SHA-256,
//   the input geometry (size, colour order, normalisation), the five-point alignment template,
//   and optionally a Calibration: the thresholds and
//   quality limits that `facetrail eval` derived for it, with the data and protocol they came
//   from. A model without a calibration can make templates but cannot be activated for search
//   (service/models.h): a department certifies a model with its own evaluation first.
//
//   Three kinds: "onnx" (any ONNX network with one [1, 3, H, W] input and one output of `dim`
//   numbers, run on nn::OnnxNetwork), "faceapi-resnet29" (the face-api.js dlib ResNet in its
//   TF.js weight files, with its own alignment modes and the faceapi parity mode) and "fusion"
//   (score-level fusion of other models of the same folder, its `members`: a template is the
//   members' unit templates, each scaled by 1/sqrt(m), one after another, so the score of two
//   templates is the mean of the members' cosine similarities and one exact search pass over
//   the concatenation ranks by it; it has no weights file of its own).
//
//   An onnx or faceapi-resnet29 model may carry a `projection`: a fixed dim × dim matrix P
//   applied to each unit template t, the template then being P t made unit again. Shipped use:
//   `fr_feature-robust`, whose P shrinks the directions along which blur, downscaling and JPEG
//   move a face's template (docs/MODELS.md, "Projection"; docs/ACCURACY.md, session 12). The
//   network and its alignment stay those of the model without it; the templates differ, so the
//   model has its own id.
//
// THREAD SAFETY
//   Plain data and reentrant functions.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace facetrail::vision {

// The model `facetrail` uses when none is named.
inline constexpr std::string_view kDefaultModelName = "fr_feature-robust";

enum class ModelKind { kOnnx, kFaceApiResnet29, kFusion };
std::string_view ModelKindName(ModelKind kind);  // "onnx", "faceapi-resnet29", "fusion"

enum class ColorOrder { kRgb, kBgr };

// How an aligned face becomes the network's input tensor (ONNX models): channel c of the input
// holds (v − mean[c]) · scale[c], v the 0..255 value of colour channel c in `color` order.
struct ModelInput {
  int width = 112, height = 112;
  ColorOrder color = ColorOrder::kBgr;
  std::array<float, 3> mean{127.f, 127.f, 127.f};
  std::array<float, 3> scale{1 / 128.f, 1 / 128.f, 1 / 128.f};
};

// Where five landmarks go in the network's input (pixels, centres at integer coordinates): the
// centres of the subject's right and left eye (image left, image right), the nose tip, the mouth
// corners (image left, image right). The face is aligned by the least-squares similarity
// transform from the five detected points (landmark means 36–41, 42–47, point 30, 48, 54).
struct AlignmentTemplate {
  std::array<std::array<double, 2>, 5> points{};
};

// One threshold with what it gives on the data it was derived from.
struct CalibratedThreshold {
  double score = 0;          // cosine similarity
  double false_rate = 0;     // FPIR (candidate lists) or FAR (1:1)
  double miss_rate = 0;      // FNIR at rank 1 (candidate lists) or FNMR (1:1) there
  int64_t gallery_size = 0;  // candidate lists: the gallery size the FPIR was measured with
};

// The expected FNIR at the candidate threshold for a probe of given quality, measured on a
// degradation ladder (`facetrail eval report --degrade-probes … --calibrate`, docs/EVAL.md):
// a grid over the probe's effective eye distance (px) and detail. Bin [edge[i], edge[i+1]) of
// each axis; the last bin is [edge.back(), +inf). The first edge of each axis is 0. Since
// session 10 a bin states the highest FNIR among the ladder's rungs with enough searches in it
// (eval::DerivedCalibration), not the pooled average, so no degradation is told less than it
// missed; tables written before state the average (same format: re-calibrate to replace them).
struct ExpectedFnirTable {
  std::string source;    // the data, rungs and protocol, in words
  double threshold = 0;  // the candidate score the FNIRs are read at (= Calibration::candidate)
  std::vector<double> eye_distance_edges;  // effective eye distance, px, increasing, from 0
  std::vector<double> detail_edges;        // detail, increasing, from 0
  // [eye bin][detail bin]: the share of mated searches whose mate is not first at or above the
  // threshold (the worst rung's); nullopt where too few searches were measured to state one.
  std::vector<std::vector<std::optional<double>>> fnir;
  std::vector<std::vector<int64_t>> mated;  // [eye bin][detail bin]: searches measured
};

// What the table says for one probe.
struct ExpectedFnir {
  std::optional<double> fnir;  // nullopt: too few searches measured in its bin
  int64_t mated = 0;           // searches measured in its bin
  double eye_lo = 0, eye_hi = 0, detail_lo = 0, detail_hi = 0;  // its bin; hi = +inf last
  double threshold = 0;                                         // the score the FNIR is read at
};
// The bin of a probe with `effective_eye_distance_px` and `detail` (NaN or negative: nullopt,
// nothing can be said).
std::optional<ExpectedFnir> LookupExpectedFnir(const ExpectedFnirTable& table,
                                               double effective_eye_distance_px, double detail);

// Thresholds and quality limits derived by `facetrail eval report --calibrate`.
struct Calibration {
  std::string source;             // data set and protocol, e.g. "LFW dev folds 1-5, facetrail eval"
  std::string command;            // the command line that produced it
  std::string created;            // UTC, ISO 8601
  CalibratedThreshold candidate;  // lowest score a candidate list shows
  CalibratedThreshold compare;    // the 1:1 `compare` threshold
  // Quality gate: below these a probe is refused unless a supervisor overrides.
  float min_eye_distance_px = 0;
  float min_sharpness = 0;
  std::string quality_basis;  // how the limits were chosen, with the FNIR they give
  // From a degradation ladder: the expected FNIR per quality bin at candidate.score (a probe
  // between the limits is searched and its bin's FNIR shown to the searcher and examiners).
  std::optional<ExpectedFnirTable> expected_fnir;
};

// A fixed linear map of templates (ModelManifest::projection): `file` beside the manifest holds
// dim × dim little-endian float32, row-major (row i gives output number i), pinned by `sha256`.
struct ModelProjection {
  std::string file;
  std::string sha256;
  std::string fitted;  // how it was made (data, command), in words
};

struct ModelManifest {
  std::string name;  // what --model takes, e.g. "fr_feature"
  std::string id;    // template model id prefix, e.g. "faceplugin-0.0.1-fr_feature"
  int version = 1;   // template model version
  int dim = 0;       // numbers per template
  ModelKind kind = ModelKind::kOnnx;
  std::string file;    // weights, relative to the manifest's folder (not kFusion)
  std::string sha256;  // of `file`, lower-case hex (not kFusion)
  // kFusion: the member models' names (2 to 4, other kinds, no repeats), in template order; their
  // manifests sit in the same folder and their dims add up to `dim` (FusionMembers checks).
  std::vector<std::string> members;
  std::optional<ModelProjection> projection;  // not kFusion
  ModelInput input;                           // kOnnx
  AlignmentTemplate alignment;                // kOnnx
  std::optional<Calibration> calibration;
  // Model card, short fields (docs/MODELS.md has the whole card).
  std::string source;         // where the weights come from (package, version, path)
  std::string licence;        // as the source states it
  std::string training_data;  // as far as known
  std::string card;           // pointer to the full card, e.g. "docs/MODELS.md#fr_feature"

  std::string manifest_path;  // where it was read from (set by LoadModelManifest)
  // The folder holding the manifest: `file` is relative to it.
  std::string dir() const;
  std::string file_path() const { return dir() + "/" + file; }
  // The projection's file (empty without one).
  std::string projection_path() const { return projection ? dir() + "/" + projection->file : ""; }
};

// Parses a manifest. kInvalidArgument names `origin` and the field ("fr_feature.model.json:
// input.color: expected \"rgb\" or \"bgr\", got \"hsv\""). Unknown fields are refused too (a
// misspelt field must not be silently ignored).
Expected<ModelManifest> ParseModelManifest(std::string_view json, const std::string& origin);
// The manifest as JSON (the format ParseModelManifest reads).
std::string ModelManifestJson(const ModelManifest& manifest);

Expected<ModelManifest> LoadModelManifest(const std::string& path);
// The models folder: `models_dir` when not empty (--models, FACETRAIL_MODELS), else
// /usr/share/facetrail/models (the package's), else models/ in the checkout the running binary
// was built in; never the current working directory (common/install_paths.h). kNotFound names
// every place looked at. Every function here that takes a models_dir resolves an empty one so.
Expected<std::string> ResolveModelsDir(const std::string& models_dir);
// Every `*.model.json` in `models_dir`, sorted by name. kNotFound when the folder is missing;
// a malformed manifest fails the listing, naming the file.
Expected<std::vector<ModelManifest>> ListModels(const std::string& models_dir);
// The manifest whose name or id is `name_or_id`. kNotFound lists the models there are.
Expected<ModelManifest> FindModel(const std::string& models_dir, std::string_view name_or_id);
// Checks the weights file against the pinned SHA-256: kNotFound (missing: run
// scripts/fetch-models) or kDataLoss (different bytes). A fusion model: each member's file.
// A projection's file is checked the same way.
Status VerifyModelFile(const ModelManifest& manifest);

// The projection matrix of `manifest` (dim × dim floats, row-major), after VerifyModelFile.
// kInvalidArgument when the model has none; kDataLoss when the file is not dim × dim × 4 bytes
// or holds a value that is not finite.
Expected<std::vector<float>> LoadProjection(const ModelManifest& manifest);

// The member manifests of a fusion model, read from its folder, in template order.
// kInvalidArgument when `manifest` is not a fusion, a member is itself a fusion or named twice,
// or the members' dims do not add up to the fusion's; kNotFound names a missing member.
Expected<std::vector<ModelManifest>> FusionMembers(const ModelManifest& manifest);

// What CheckModel found.
struct ModelCheck {
  double load_ms = 0;     // building the network
  double forward_ms = 0;  // one pass
  double gflops = 0;      // of one pass (multiply-adds × 2 / 1e9)
};
// Loads the model's network as the pipeline would and runs one pass on a grey face-sized input:
// the file matches its hash, the network loads (every operator supported), takes the manifest's
// input and gives `dim` finite numbers that are not all equal. Errors name what failed.
Expected<ModelCheck> CheckModel(const ModelManifest& manifest);

}  // namespace facetrail::vision
