// facetrail models list | show | register: the recognition models this installation has
// (vision/models.h; docs/MODELS.md).
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/file.h"
#include "vision/models.h"

namespace facetrail::cli {

namespace {

struct ModelArgs {
  std::string models_dir = "models";
  std::string name;
  std::string manifest;
  bool json = false;
};

nlohmann::json ThresholdJson(const vision::CalibratedThreshold& t) {
  nlohmann::json j = {{"score", t.score}, {"false_rate", t.false_rate}, {"miss_rate", t.miss_rate}};
  if (t.gallery_size > 0) j["gallery_size"] = t.gallery_size;
  return j;
}

nlohmann::json ModelJson(const vision::ModelManifest& m, const Status& file_status) {
  nlohmann::json j = nlohmann::json::parse(vision::ModelManifestJson(m));
  j["manifest_path"] = m.manifest_path;
  j["file_ok"] = file_status.ok();
  if (!file_status.ok()) j["file_error"] = file_status.ToString();
  j["certified"] = m.calibration.has_value();
  if (m.calibration) {
    j["calibration"]["candidate"] = ThresholdJson(m.calibration->candidate);
    j["calibration"]["compare"] = ThresholdJson(m.calibration->compare);
  }
  return j;
}

int RunList(const ModelArgs& a) {
  auto models = vision::ListModels(a.models_dir);
  if (!models.ok()) return PrintError(models.status());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : *models) out.push_back(ModelJson(m, vision::VerifyModelFile(m)));
    std::cout << out.dump() << '\n';
    return 0;
  }
  std::cout << std::left << std::setw(16) << "name" << std::setw(34) << "id" << std::setw(5)
            << "dim" << std::setw(18) << "kind" << std::setw(11) << "certified"
            << "file\n";
  for (const auto& m : *models) {
    const Status file = vision::VerifyModelFile(m);
    std::cout << std::setw(16) << m.name << std::setw(34) << m.id << std::setw(5) << m.dim
              << std::setw(18) << vision::ModelKindName(m.kind) << std::setw(11)
              << (m.calibration ? "yes" : "no")
              << (file.ok() ? "ok" : std::string(StatusCodeName(file.code()))) << '\n';
  }
  std::cout << "default: " << vision::kDefaultModelName
            << "; `facetrail models show NAME` for a model's card\n";
  return 0;
}

int RunShow(const ModelArgs& a) {
  auto m = vision::FindModel(a.models_dir, a.name);
  if (!m.ok()) return PrintError(m.status());
  const Status file = vision::VerifyModelFile(*m);
  if (a.json) {
    std::cout << ModelJson(*m, file).dump() << '\n';
    return 0;
  }
  std::cout << "name          " << m->name << (m->name == vision::kDefaultModelName ? " (default)" : "")
            << "\nid            " << m->id << "\nversion       " << m->version
            << "\ndimension     " << m->dim << "\nkind          " << vision::ModelKindName(m->kind)
            << "\nfile          " << m->file_path() << " ("
            << (file.ok() ? "matches its SHA-256" : file.ToString()) << ")\nsha256        "
            << m->sha256;
  if (m->kind == vision::ModelKind::kOnnx) {
    std::cout << "\ninput         " << m->input.width << "x" << m->input.height << ", "
              << (m->input.color == vision::ColorOrder::kBgr ? "BGR" : "RGB") << ", (v - "
              << m->input.mean[0] << ") * " << m->input.scale[0] << "\nalignment     ";
    for (const auto& p : m->alignment.points) std::cout << "(" << p[0] << ", " << p[1] << ") ";
  } else {
    std::cout << "\ninput         150x150 RGB chip, dlib's similarity alignment (or face-api's "
                 "crop: --align faceapi)";
  }
  std::cout << "\nsource        " << m->source << "\nlicence       " << m->licence
            << "\ntraining data " << m->training_data << "\nmodel card    " << m->card << '\n';
  if (!m->calibration) {
    std::cout << "calibration   none: this model cannot be activated for search until it is "
                 "certified (facetrail eval report --model "
              << m->name << " --calibrate)\n";
    return 0;
  }
  const auto& c = *m->calibration;
  std::cout << "calibration   " << c.source << " (" << c.created << ")\n"
            << "  candidate list threshold " << c.candidate.score << ": FPIR "
            << FormatRate(c.candidate.false_rate) << " with a gallery of " << c.candidate.gallery_size
            << ", FNIR " << FormatRate(c.candidate.miss_rate) << "\n"
            << "  1:1 compare threshold    " << c.compare.score << ": FAR "
            << FormatRate(c.compare.false_rate) << ", FNMR " << FormatRate(c.compare.miss_rate)
            << "\n"
            << "  quality gate             eye distance >= " << c.min_eye_distance_px
            << " px, sharpness >= " << c.min_sharpness << "\n";
  if (!c.quality_basis.empty()) std::cout << "                           " << c.quality_basis << '\n';
  if (!c.command.empty()) std::cout << "  made by: " << c.command << '\n';
  return 0;
}

// Checks a department's model and copies it (manifest + weights) into the models folder.
int RunRegister(const ModelArgs& a) {
  auto m = vision::LoadModelManifest(a.manifest);
  if (!m.ok()) return PrintError(m.status());
  if (m->kind != vision::ModelKind::kOnnx) {
    return PrintError(InvalidArgument(a.manifest + ": only onnx models can be registered"));
  }
  auto existing = vision::ListModels(a.models_dir);
  if (!existing.ok()) return PrintError(existing.status());
  for (const auto& e : *existing) {
    if (e.name == m->name || e.id == m->id) {
      return PrintError(AlreadyExists("a model named '" + e.name + "' (id " + e.id +
                                      ") is already in " + a.models_dir +
                                      ": choose another name and id"));
    }
  }
  auto check = vision::CheckModel(*m);
  if (!check.ok()) return PrintError(check.status().WithContext("models register"));
  namespace fs = std::filesystem;
  const fs::path target_file = fs::path(a.models_dir) / m->file;
  const fs::path target_manifest = fs::path(a.models_dir) / (m->name + ".model.json");
  std::error_code ec;
  if (fs::exists(target_file, ec) || fs::exists(target_manifest, ec)) {
    return PrintError(AlreadyExists((fs::exists(target_file) ? target_file : target_manifest)
                                        .string() +
                                    " exists: rename the model's file or name"));
  }
  auto bytes = ReadFileBytes(m->file_path());
  if (!bytes.ok()) return PrintError(bytes.status());
  Status s = WriteFileAtomically(target_file.string(), *bytes);
  if (s.ok()) {
    const std::string json = vision::ModelManifestJson(*m);
    s = WriteFileAtomically(target_manifest.string(),
                            std::span(reinterpret_cast<const uint8_t*>(json.data()), json.size()));
  }
  if (!s.ok()) return PrintError(s.WithContext("models register"));
  std::cout << "registered '" << m->name << "' (" << m->id << ", " << m->dim
            << " dimensions): loads in " << check->load_ms << " ms, one pass " << check->forward_ms
            << " ms (" << check->gflops << " GFLOP)\n";
  if (!m->calibration) {
    std::cout << "next: certify it on labelled data with facetrail eval report --model "
              << m->name
              << " --calibrate; a model without a calibration cannot be activated for search\n";
  }
  return 0;
}

}  // namespace

void RegisterModelCommands(CLI::App& app, CommandResult& result) {
  static ModelArgs args;
  CLI::App* models = app.add_subcommand("models", "The recognition models: list, show, register");
  models->require_subcommand(1);
  auto add_dir = [](CLI::App* cmd) {
    cmd->add_option("--models", args.models_dir, "Folder with the model files and manifests")
        ->envname("FACETRAIL_MODELS")
        ->capture_default_str();
  };
  CLI::App* list = models->add_subcommand("list", "Every model: name, id, dimension, status");
  add_dir(list);
  list->add_flag("--json", args.json, "JSON output");
  list->callback([&result] { result.exit_code = RunList(args); });
  CLI::App* show = models->add_subcommand("show", "One model: geometry, hash, card, calibration");
  add_dir(show);
  show->add_option("name", args.name, "Model name or id")->required();
  show->add_flag("--json", args.json, "JSON output");
  show->callback([&result] { result.exit_code = RunShow(args); });
  CLI::App* reg = models->add_subcommand(
      "register", "Check a department's ONNX model and add it (manifest + weights)");
  add_dir(reg);
  reg->add_option("manifest", args.manifest, "The model's NAME.model.json (docs/MODELS.md)")
      ->required();
  reg->callback([&result] { result.exit_code = RunRegister(args); });
}

}  // namespace facetrail::cli
