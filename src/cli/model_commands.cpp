// facetrail models list | show | register: the recognition models this installation has
// (vision/models.h; docs/MODELS.md); and moving a gallery to another model: gallery retemplate,
// admin model activate, gallery prune-templates (service/models.h).
#include <atomic>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/accountability_cli.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/file.h"
#include "common/progress.h"
#include "gallery/face_search.h"
#include "gallery/gallery_index.h"
#include "gallery/retemplate.h"
#include "service/models.h"
#include "vision/face_pipeline.h"
#include "vision/models.h"

namespace facetrail::cli {

namespace {

struct ModelArgs {
  std::string models_dir;
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
  std::cout << std::left << std::setw(20) << "name" << std::setw(38) << "id" << std::setw(5)
            << "dim" << std::setw(18) << "kind" << std::setw(11) << "certified"
            << "file\n";
  for (const auto& m : *models) {
    const Status file = vision::VerifyModelFile(m);
    std::cout << std::setw(20) << m.name << std::setw(38) << m.id << std::setw(5) << m.dim
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
  std::cout << "name          " << m->name
            << (m->name == vision::kDefaultModelName ? " (default)" : "") << "\nid            "
            << m->id << "\nversion       " << m->version << "\ndimension     " << m->dim
            << "\nkind          " << vision::ModelKindName(m->kind);
  if (m->kind == vision::ModelKind::kFusion) {
    std::cout << "\nmembers       ";
    for (size_t i = 0; i < m->members.size(); ++i) std::cout << (i ? ", " : "") << m->members[i];
    std::cout << " (the mean of their cosine similarities; "
              << (file.ok() ? "every member's file matches its SHA-256" : file.ToString()) << ")";
  } else {
    std::cout << "\nfile          " << m->file_path() << " ("
              << (file.ok() ? "matches its SHA-256" : file.ToString()) << ")\nsha256        "
              << m->sha256;
  }
  if (m->projection) {
    std::cout << "\nprojection    " << m->projection_path() << " (sha256 " << m->projection->sha256
              << "; " << m->projection->fitted << ")";
  }
  if (m->kind == vision::ModelKind::kOnnx) {
    std::cout << "\ninput         " << m->input.width << "x" << m->input.height << ", "
              << (m->input.color == vision::ColorOrder::kBgr ? "BGR" : "RGB") << ", (v - "
              << m->input.mean[0] << ") * " << m->input.scale[0] << "\nalignment     ";
    for (const auto& p : m->alignment.points) std::cout << "(" << p[0] << ", " << p[1] << ") ";
  } else if (m->kind == vision::ModelKind::kFaceApiResnet29) {
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
            << FormatRate(c.candidate.false_rate) << " with a gallery of "
            << c.candidate.gallery_size << ", FNIR " << FormatRate(c.candidate.miss_rate) << "\n"
            << "  1:1 compare threshold    " << c.compare.score << ": FAR "
            << FormatRate(c.compare.false_rate) << ", FNMR " << FormatRate(c.compare.miss_rate)
            << "\n"
            << "  quality gate             eye distance >= " << c.min_eye_distance_px
            << " px, sharpness >= " << c.min_sharpness << "\n";
  if (!c.quality_basis.empty())
    std::cout << "                           " << c.quality_basis << '\n';
  if (!c.command.empty()) std::cout << "  made by: " << c.command << '\n';
  return 0;
}

// Checks a department's model and copies it (manifest + weights) into the models folder.
int RunRegister(const ModelArgs& a) {
  auto m = vision::LoadModelManifest(a.manifest);
  if (!m.ok()) return Finish(m.status(), a.json);
  if (m->kind != vision::ModelKind::kOnnx) {
    return Finish(InvalidArgument(a.manifest + ": only onnx models can be registered"), a.json);
  }
  auto models_dir = vision::ResolveModelsDir(a.models_dir);
  if (!models_dir.ok()) return Finish(models_dir.status(), a.json);
  auto existing = vision::ListModels(*models_dir);
  if (!existing.ok()) return Finish(existing.status(), a.json);
  for (const auto& e : *existing) {
    if (e.name == m->name || e.id == m->id) {
      return Finish(
          AlreadyExists("a model named '" + e.name + "' (id " + e.id + ") is already in " +
                        *models_dir + ": choose another name and id"),
          a.json);
    }
  }
  auto check = vision::CheckModel(*m);
  if (!check.ok()) return Finish(check.status().WithContext("models register"), a.json);
  namespace fs = std::filesystem;
  const fs::path target_file = fs::path(*models_dir) / m->file;
  const fs::path target_manifest = fs::path(*models_dir) / (m->name + ".model.json");
  // What is copied (from → to): the weights, and the projection when it has one; the manifest
  // last, so the folder never lists a model whose files are not all there.
  std::vector<std::pair<std::string, fs::path>> copies = {{m->file_path(), target_file}};
  if (m->projection) {
    copies.emplace_back(m->projection_path(), fs::path(*models_dir) / m->projection->file);
  }
  std::vector<fs::path> targets = {target_manifest};
  for (const auto& copy : copies) targets.push_back(copy.second);
  for (const fs::path& target : targets) {
    std::error_code ec;
    if (fs::exists(target, ec)) {
      return Finish(AlreadyExists(target.string() + " exists: rename the model's files or name"),
                    a.json);
    }
  }
  Status s = Status::Ok();
  for (const auto& [from, to] : copies) {
    auto bytes = ReadFileBytes(from);
    if (!bytes.ok()) return Finish(bytes.status(), a.json);
    s = WriteFileAtomically(to.string(), *bytes);
    if (!s.ok()) break;
  }
  if (s.ok()) {
    const std::string json = vision::ModelManifestJson(*m);
    s = WriteFileAtomically(target_manifest.string(),
                            std::span(reinterpret_cast<const uint8_t*>(json.data()), json.size()));
  }
  if (!s.ok()) return Finish(s.WithContext("models register"), a.json);
  if (a.json) {
    std::cout << nlohmann::json{{"registered", m->name},
                                {"id", m->id},
                                {"dim", m->dim},
                                {"manifest", target_manifest.string()},
                                {"file", target_file.string()},
                                {"load_ms", check->load_ms},
                                {"forward_ms", check->forward_ms},
                                {"gflops", check->gflops},
                                {"calibrated", m->calibration.has_value()}}
                     .dump()
              << '\n';
    return 0;
  }
  std::cout << "registered '" << m->name << "' (" << m->id << ", " << m->dim
            << " dimensions): loads in " << check->load_ms << " ms, one pass " << check->forward_ms
            << " ms (" << check->gflops << " GFLOP)\n";
  if (!m->calibration) {
    std::cout << "next: certify it on labelled data with facetrail eval report --model " << m->name
              << " --calibrate; a model without a calibration cannot be activated for search\n";
  }
  return 0;
}

}  // namespace

void RegisterModelCommands(CLI::App& app, CommandResult& result) {
  // One argument set per subcommand: CLI11 applies an option's environment variable
  // (FACETRAIL_MODELS) even when another subcommand's option of the same name was given, so
  // subcommands must not share the variable their options write to.
  static ModelArgs list_args, show_args, register_args;
  CLI::App* models = app.add_subcommand("models", "The recognition models: list, show, register");
  models->require_subcommand(1);
  auto add_dir = [](CLI::App* cmd, ModelArgs& args) {
    cmd->add_option("--models", args.models_dir, kModelsOptionHelp)->envname("FACETRAIL_MODELS");
  };
  CLI::App* list = models->add_subcommand("list", "Every model: name, id, dimension, status");
  add_dir(list, list_args);
  list->add_flag("--json", list_args.json, "JSON output");
  list->callback([&result] { result.exit_code = RunList(list_args); });
  CLI::App* show = models->add_subcommand("show", "One model: geometry, hash, card, calibration");
  add_dir(show, show_args);
  show->add_option("name", show_args.name, "Model name or id")->required();
  show->add_flag("--json", show_args.json, "JSON output");
  show->callback([&result] { result.exit_code = RunShow(show_args); });
  CLI::App* reg = models->add_subcommand(
      "register", "Check a department's ONNX model and add it (manifest + weights)");
  add_dir(reg, register_args);
  reg->add_option("manifest", register_args.manifest,
                  "The model's NAME.model.json (docs/MODELS.md)")
      ->required();
  reg->add_flag("--json", register_args.json, "JSON output (errors too)");
  reg->callback([&result] { result.exit_code = RunRegister(register_args); });
}

}  // namespace facetrail::cli

// ---- Migrating a gallery: gallery retemplate, admin model activate, gallery prune-templates ----

namespace facetrail::cli {

namespace {

struct MigrationArgs {
  std::string db, model, models_dir, user, reason;
  std::string snapshot_dir;  // gallery::StoreOptions::snapshot_dir
  int workers = 1;
  int64_t max_photos = 0;
  bool json = false;
};

std::atomic<bool> g_stop_retemplate{false};

extern "C" void StopRetemplate(int /*signal*/) {
  g_stop_retemplate.store(true);
}

// The manifest and the template model `--model` names (with default pipeline options).
Expected<std::pair<vision::ModelManifest, vision::TemplateModel>> ModelFromArgs(
    const MigrationArgs& a, vision::PipelineOptions& options) {
  options.models_dir = a.models_dir;
  FT_ASSIGN_OR_RETURN(auto manifest, vision::FindModel(a.models_dir, a.model));
  options.model = manifest.name;
  vision::TemplateModel model = vision::TemplateModelFor(manifest, options);
  return std::pair{std::move(manifest), std::move(model)};
}

// Opens the gallery, as `a.user` under accountability (a development gallery: directly).
struct MigrationContext {
  std::optional<Session> session;
  std::unique_ptr<gallery::GalleryStore> store;
};

Expected<MigrationContext> OpenForMigration(const MigrationArgs& a, const std::string& what,
                                            const gallery::ModelRef& model) {
  if (!DatabaseExists(a.db)) return NotFound(a.db + ": no gallery database");
  FT_ASSIGN_OR_RETURN(bool under, a.user.empty() ? UnderAccountability(a.db) : true);
  MigrationContext c;
  if (under && a.user.empty()) {
    return RefuseWithoutUser(a.db, "model.refused",
                             "model:" + model.id + "/v" + std::to_string(model.version), what,
                             "this database is under accountability ('admin init' ran): " + what +
                                 " needs --user (a supervisor or an admin) and --reason");
  }
  if (under) {
    FT_ASSIGN_OR_RETURN(Session s, OpenAndLogin(a.db, a.user));
    FT_ASSIGN_OR_RETURN(c.store,
                        gallery::GalleryStore::OpenOn(
                            *s.db, {.create_if_missing = true, .snapshot_dir = a.snapshot_dir}));
    c.session = std::move(s);
  } else {
    FT_ASSIGN_OR_RETURN(c.store,
                        gallery::GalleryStore::Open(
                            a.db, {.create_if_missing = false, .snapshot_dir = a.snapshot_dir}));
  }
  return c;
}

int RunRetemplate(const MigrationArgs& a) {
  vision::PipelineOptions po;
  auto m = ModelFromArgs(a, po);
  if (!m.ok()) return PrintError(m.status());
  const gallery::ModelRef ref = service::ToModelRef(m->second);
  auto c = OpenForMigration(a, "retemplate", ref);
  if (!c.ok()) return Finish(c.status(), a.json);
  gallery::RetemplateOptions o;
  o.num_workers = a.workers;
  o.max_photos = a.max_photos;
  o.stop = &g_stop_retemplate;
  std::signal(SIGINT, StopRetemplate);
  std::signal(SIGTERM, StopRetemplate);
  o.on_progress = [](const gallery::RetemplateProgress& p) {
    std::cerr << "retemplate: " << p.photos_done << "/" << p.photos_total << " photos, "
              << std::fixed << std::setprecision(1) << p.photos_per_second << " photos/s, "
              << (p.finished ? std::string("done")
                             : EtaText(p.seconds, p.photos_done, p.photos_total))
              << '\n';
  };
  auto factory = gallery::PipelineExtractorFactory(po);
  auto summary = c->session ? service::RetemplateGallery(*c->session->ctx, c->session->actor,
                                                         factory, ref, a.reason, o)
                            : gallery::Retemplate(*c->store, factory, ref, o);
  if (!summary.ok()) return Finish(summary.status(), a.json);
  const auto& s = *summary;
  if (a.json) {
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& f : s.failures) {
      failures.push_back(
          {{"photo_id", f.photo_id}, {"booking", f.booking_number}, {"reason", f.reason}});
    }
    std::cout << nlohmann::json{{"model", ref.id},      {"photos", s.photos},
                                {"added", s.added},     {"already", s.already},
                                {"failures", failures}, {"remaining", s.remaining},
                                {"stopped", s.stopped}, {"seconds", s.seconds}}
                     .dump()
              << '\n';
    return 0;
  }
  std::cout << "model " << ref.id << ": " << s.added << " photos got their template, " << s.already
            << " had one, " << s.failures.size() << " failed, " << s.remaining
            << " still without one (" << std::fixed << std::setprecision(1) << s.seconds << " s)\n";
  for (const auto& f : s.failures) {
    std::cout << "  photo " << f.photo_id << " (booking " << f.booking_number << "): " << f.reason
              << '\n';
  }
  if (s.remaining == 0) {
    std::cout << "every photo has a template of this model: `facetrail admin model activate "
              << m->first.name << "` switches searches to it\n";
  } else if (s.stopped) {
    std::cout << "stopped; run the same command again to go on\n";
  }
  return 0;
}

int RunActivate(const MigrationArgs& a) {
  vision::PipelineOptions po;
  auto m = ModelFromArgs(a, po);
  if (!m.ok()) return PrintError(m.status());
  const gallery::ModelRef ref = service::ToModelRef(m->second);
  auto c = OpenForMigration(a, "model activation", ref);
  if (!c.ok()) return Finish(c.status(), a.json);
  Status s;
  if (c->session) {
    s = service::ActivateModel(*c->session->ctx, c->session->actor, m->first, m->second, a.reason)
            .status();
  } else if (!m->first.calibration) {
    s = FailedPrecondition("model '" + m->first.name +
                           "' is not certified: run facetrail eval report --model " +
                           m->first.name + " --calibrate first");
  } else {
    s = c->store->SetActiveModel(ref);
  }
  if (!s.ok()) return Finish(s, a.json);
  if (a.json) {
    std::cout << nlohmann::json{{"active_model", ref.id},
                                {"version", ref.version},
                                {"dim", ref.dim}}
                     .dump()
              << '\n';
    return 0;
  }
  std::cout << "searches now use " << ref.id << " v" << ref.version << " (" << ref.dim
            << " numbers a template)\n";
  return 0;
}

int RunPrune(const MigrationArgs& a) {
  vision::PipelineOptions po;
  auto m = ModelFromArgs(a, po);
  if (!m.ok()) return PrintError(m.status());
  const gallery::ModelRef ref = service::ToModelRef(m->second);
  auto c = OpenForMigration(a, "pruning templates", ref);
  if (!c.ok()) return Finish(c.status(), a.json);
  Expected<int64_t> deleted = int64_t{0};
  if (c->session) {
    deleted =
        service::PruneModelTemplates(*c->session->ctx, c->session->actor, ref, a.reason,
                                     {.create_if_missing = false, .snapshot_dir = a.snapshot_dir});
  } else {
    int64_t total = 0;
    for (;;) {
      auto n = c->store->DeleteModelTemplates(ref, 10000);
      if (!n.ok()) {
        deleted = n.status();
        break;
      }
      if (*n == 0) break;
      total += *n;
      deleted = total;
    }
    if (deleted.ok()) {
      Status r = gallery::RemoveSnapshot(*c->store, ref);
      if (!r.ok()) deleted = r;
    }
  }
  if (!deleted.ok()) return Finish(deleted.status(), a.json);
  if (a.json) {
    std::cout << nlohmann::json{{"model", ref.id}, {"deleted_templates", *deleted}}.dump() << '\n';
    return 0;
  }
  std::cout << "deleted " << *deleted << " templates of " << ref.id << '\n';
  return 0;
}

}  // namespace

void RegisterModelMigrationCommands(CLI::App& app, CommandResult& result) {
  // One argument set per subcommand (see RegisterModelCommands).
  static MigrationArgs retemplate_args, prune_args, activate_args;
  auto common = [](CLI::App* cmd, MigrationArgs& args, bool positional_model) {
    AddDatabaseOption(cmd, args.db, "Gallery database");
    AddSnapshotDirOption(cmd, args.snapshot_dir);
    if (positional_model) {
      cmd->add_option("model", args.model, "Model name or id (facetrail models list)")->required();
    } else {
      cmd->add_option("--model", args.model, "Model name or id (facetrail models list)")
          ->required();
    }
    cmd->add_option("--models", args.models_dir, kModelsOptionHelp)->envname("FACETRAIL_MODELS");
    cmd->add_option("--user", args.user,
                    "Act as this user (a supervisor or an admin); required once 'admin init' "
                    "ran. Password from FACETRAIL_PASSWORD or the terminal");
    cmd->add_option("--reason", args.reason, "The decision behind it (required with --user)");
    cmd->add_flag("--json", args.json, "JSON output");
  };
  CLI::App* gallery = app.get_subcommand("gallery");
  CLI::App* re = gallery->add_subcommand(
      "retemplate",
      "Compute a model's templates from the stored photos while searches go on (resumable)");
  common(re, retemplate_args, false);
  re->add_option("--workers", retemplate_args.workers,
                 "Worker threads (default 1: the other cores keep serving searches; 0 = all)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  re->add_option("--max-photos", retemplate_args.max_photos,
                 "Stop after this many photos (0 = all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  re->callback([&result] { result.exit_code = RunRetemplate(retemplate_args); });
  CLI::App* prune = gallery->add_subcommand(
      "prune-templates", "Delete the templates of a model that searches no longer use");
  common(prune, prune_args, false);
  prune->callback([&result] { result.exit_code = RunPrune(prune_args); });

  CLI::App* admin = app.get_subcommand("admin");
  CLI::App* model = admin->add_subcommand("model", "The model searches use");
  model->require_subcommand(1);
  CLI::App* activate = model->add_subcommand(
      "activate", "Switch searches to a certified model once every photo has its template");
  common(activate, activate_args, true);
  activate->callback([&result] { result.exit_code = RunActivate(activate_args); });
}

}  // namespace facetrail::cli
