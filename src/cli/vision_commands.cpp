// facetrail detect | template | compare: the face pipeline on image files.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "cli/output.h"
#include "vision/batch.h"

namespace facetrail::cli {

namespace {

struct VisionArgs {
  std::vector<std::string> images;
  std::string list_file;
  std::string models_dir;
  std::string model = std::string(vision::kDefaultModelName);
  std::string align = "similarity";
  bool json = false;
  int threads = 0;
  float min_score = 0.5f;
  bool no_flip = false;
  bool small_faces = false;
  bool fp32 = false;
  bool bf16_detector = false;
  bool detector_512 = false;
  bool two_crops = false;
};

void AddCommon(CLI::App* cmd, VisionArgs& a) {
  cmd->add_option("images", a.images, "Image files (JPEG, PNG, WebP, BMP, PPM)");
  cmd->add_option("--list", a.list_file, "File with one image path per line");
  cmd->add_option("--models", a.models_dir, kModelsOptionHelp)->envname("FACETRAIL_MODELS");
  cmd->add_option("--model", a.model, "Recognition model (facetrail models list)")
      ->envname("FACETRAIL_MODEL")
      ->capture_default_str();
  cmd->add_option("--align", a.align,
                  "similarity (default), or faceapi: the face-api ResNet's parity mode")
      ->check(CLI::IsMember({"similarity", "faceapi"}))
      ->capture_default_str();
  cmd->add_flag("--json", a.json, "One JSON object per line per image");
  cmd->add_option("--threads", a.threads, "Worker threads (0 = one per core)")
      ->check(CLI::Range(0, 256));
  cmd->add_option("--min-score", a.min_score, "Detector threshold")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_flag("--no-flip", a.no_flip, "Do not average with the mirrored face (similarity mode)");
  cmd->add_flag(
      "--small-faces", a.small_faces,
      "Also search tiles at native and 2x scale for small faces in large stills (slower)");
  cmd->add_flag("--fp32", a.fp32, "float32 convolutions instead of bfloat16 (similarity mode)");
  cmd->add_flag("--bf16-detector", a.bf16_detector,
                "bfloat16 detector instead of its default uint8/int8 layers (similarity mode)");
  cmd->add_flag("--detector-512", a.detector_512,
                "Upsample images smaller than 256x256 to the detector's 512x512 (similarity mode)");
  cmd->add_flag("--two-crops", a.two_crops,
                "Also average face-api's axis-aligned crop into the template (similarity mode)");
}

Expected<std::vector<std::string>> CollectPaths(const VisionArgs& a) {
  std::vector<std::string> paths = a.images;
  if (!a.list_file.empty()) {
    std::ifstream in(a.list_file);
    if (!in) return NotFound(a.list_file + ": cannot open the --list file");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) paths.push_back(line);
    }
  }
  if (paths.empty()) return InvalidArgument("no images given (pass paths or --list FILE)");
  return paths;
}

Expected<vision::BatchOptions> MakeBatchOptions(const VisionArgs& a, bool templates) {
  vision::BatchOptions o;
  o.threads = a.threads;
  o.pipeline.models_dir = a.models_dir;
  o.pipeline.model = a.model;
  FT_ASSIGN_OR_RETURN(o.pipeline.align, vision::ParseAlignMode(a.align));
  o.pipeline.templates = templates;
  o.pipeline.min_score = a.min_score;
  o.pipeline.flip_average = !a.no_flip;
  o.pipeline.small_faces = a.small_faces;
  o.pipeline.reduced_precision = !a.fp32;
  o.pipeline.int8_detector = !a.bf16_detector;
  o.pipeline.small_image_detector = !a.detector_512;
  o.pipeline.two_crops = a.two_crops;
  return o;
}

int RunBatch(const VisionArgs& a, bool templates) {
  auto paths = CollectPaths(a);
  if (!paths.ok()) return PrintError(paths.status());
  auto options = MakeBatchOptions(a, templates);
  if (!options.ok()) return PrintError(options.status());
  std::optional<vision::TemplateModel> model;
  if (templates) {
    auto m = vision::TemplateModelFor(options->pipeline);
    if (!m.ok()) return PrintError(m.status());
    model = *m;
  }
  int failures = 0;
  Status s = vision::ProcessImageFiles(*paths, *options, [&](size_t, vision::ImageResult&& r) {
    if (!r.status.ok()) ++failures;
    if (a.json) {
      std::cout << ImageResultJson(r, model ? &*model : nullptr).dump() << '\n';
    } else {
      PrintImageResultText(std::cout, r, model ? &*model : nullptr);
    }
    std::cout.flush();
  });
  if (!s.ok()) return PrintError(s);
  return failures > 0 ? 1 : 0;
}

struct CompareArgs {
  std::string a, b;
  std::string models_dir;
  std::string model = std::string(vision::kDefaultModelName);
  std::string align = "similarity";
  std::string pick = "largest";
  std::optional<float> threshold;  // default: the model's calibrated 1:1 threshold
  bool json = false;
};

int RunCompare(const CompareArgs& c) {
  vision::BatchOptions o;
  o.pipeline.models_dir = c.models_dir;
  o.pipeline.model = c.model;
  auto align = vision::ParseAlignMode(c.align);
  if (!align.ok()) return PrintError(align.status());
  o.pipeline.align = *align;
  auto manifest = vision::FindModel(c.models_dir, c.model);
  if (!manifest.ok()) return PrintError(manifest.status());
  float threshold = 0;
  std::string threshold_basis;
  if (c.threshold) {
    threshold = *c.threshold;
    threshold_basis = "--threshold";
  } else if (manifest->calibration) {
    const auto& t = manifest->calibration->compare;
    threshold = static_cast<float>(t.score);
    threshold_basis =
        "calibrated: FAR " + FormatRate(t.false_rate) + " on " + manifest->calibration->source;
  } else {
    return PrintError(FailedPrecondition(
        "model '" + manifest->name +
        "' has no calibration: give --threshold, or calibrate it with facetrail eval report "
        "--calibrate (docs/MODELS.md)"));
  }
  const vision::TemplateModel model = vision::TemplateModelFor(*manifest, o.pipeline);
  std::vector<vision::ImageResult> results(2);
  Status s = vision::ProcessImageFiles(
      {c.a, c.b}, o, [&](size_t i, vision::ImageResult&& r) { results[i] = std::move(r); });
  if (!s.ok()) return PrintError(s);
  nlohmann::json out;
  const vision::Face* faces[2] = {nullptr, nullptr};
  for (size_t i = 0; i < 2; ++i) {
    if (!results[i].status.ok()) return PrintError(results[i].status);
    faces[i] = PickFace(results[i], c.pick);
    if (!faces[i]) {
      return PrintError(InvalidArgument(results[i].path + ": no face found"));
    }
  }
  const float sim = vision::TemplateSimilarity(faces[0]->templ, faces[1]->templ);
  const double dist = std::sqrt(std::max(0.0, 2.0 - 2.0 * sim));
  const bool match = sim >= threshold;
  if (c.json) {
    out = {{"a", c.a},
           {"b", c.b},
           {"similarity", sim},
           {"distance", dist},
           {"threshold", threshold},
           {"threshold_basis", threshold_basis},
           {"passes_threshold", match},
           {"model", model.id},
           {"model_version", model.version},
           {"dim", model.dim},
           {"pick", c.pick}};
    std::cout << out.dump() << '\n';
  } else {
    std::cout << "model " << model.id << "; similarity " << sim << " (distance " << dist
              << "), threshold " << threshold << " (" << threshold_basis << "): "
              << (match
                      ? "passes the threshold (possible same person; a lead, not an identification)"
                      : "below the threshold")
              << '\n';
  }
  return 0;
}

}  // namespace

void RegisterVisionCommands(CLI::App& app, CommandResult& result) {
  static VisionArgs detect_args, template_args;
  static CompareArgs compare_args;
  auto* detect = app.add_subcommand("detect", "Find faces: boxes, 68 landmarks, quality");
  AddCommon(detect, detect_args);
  detect->callback([&result] { result.exit_code = RunBatch(detect_args, false); });

  auto* templ = app.add_subcommand("template", "Faces plus their templates (the model's numbers)");
  AddCommon(templ, template_args);
  templ->callback([&result] { result.exit_code = RunBatch(template_args, true); });

  auto* compare = app.add_subcommand("compare", "Similarity of the main face of two images");
  compare->add_option("a", compare_args.a, "First image")->required();
  compare->add_option("b", compare_args.b, "Second image")->required();
  compare->add_option("--models", compare_args.models_dir, kModelsOptionHelp)
      ->envname("FACETRAIL_MODELS");
  compare->add_option("--model", compare_args.model, "Recognition model (facetrail models list)")
      ->envname("FACETRAIL_MODEL")
      ->capture_default_str();
  compare->add_option("--align", compare_args.align, "similarity or faceapi")
      ->check(CLI::IsMember({"similarity", "faceapi"}));
  compare
      ->add_option("--pick", compare_args.pick, "Which face of each image: largest, score, center")
      ->check(CLI::IsMember({"largest", "score", "center"}))
      ->capture_default_str();
  compare->add_option("--threshold", compare_args.threshold,
                      "Similarity threshold (default: the model's calibrated 1:1 threshold)");
  compare->add_flag("--json", compare_args.json, "JSON output");
  compare->callback([&result] { result.exit_code = RunCompare(compare_args); });
}

}  // namespace facetrail::cli
