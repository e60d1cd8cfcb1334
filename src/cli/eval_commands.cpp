// facetrail eval verify | identify | report: accuracy on a labelled image folder, with the
// face-api.js reference side by side (docs/EVAL.md).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/file.h"
#include "common/progress.h"
#include "eval/evaluation.h"
#include "vision/batch.h"
#include "vision/degrade.h"
#include "vision/enhance.h"
#include "vision/models.h"

namespace facetrail::cli {
namespace {

struct EvalArgs {
  std::string data_dir;
  std::string model = std::string(vision::kDefaultModelName);
  std::string align = "similarity";
  std::vector<std::string> references;
  std::string groups_csv;
  std::string out_dir = "out/eval";
  double target_fpir = 0.01;
  std::string models_dir;
  std::string pick = "center";
  int threads = 0;
  float min_score = 0.5f;
  bool no_flip = false;
  bool bf16_detector = false;
  bool detector_512 = false;
  bool no_cache = false;
  bool reference_only = false;
  bool no_all_pairs = false;
  bool calibrate = false;
  bool calibrate_expected_fnir_only = false;  // --calibrate rewrites the table only
  bool ladder_at_model_threshold = false;     // the ladder read at the model's candidate threshold
  std::optional<double> gate_eye_distance, gate_sharpness;  // default: the model's calibration
  double gate_max_fnir = std::nan("");
  std::string degrade_probes;  // a degradation ladder (vision/degrade.h); empty: none
  bool degrade_gallery = false;
  // The degraded probes' chip sampling (vision::PipelineOptions); empty: the pipeline's default.
  std::string probe_chip_interpolation, probe_chip_views;
  std::string probe_enhance;  // "" or "deblock": applied to the degraded probes (measuring only)
};

// Progress on stderr: a self-overwriting line on a terminal, a line every 10 % otherwise.
class Progress {
 public:
  explicit Progress(size_t total) : total_(total), tty_(isatty(STDERR_FILENO) != 0) {}
  void Update(size_t done) {
    const double elapsed = Seconds();
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
    const size_t decile = total_ ? done * 10 / total_ : 10;
    if (!tty_ && decile == last_decile_ && done != total_) return;
    last_decile_ = decile;
    char line[160];
    std::snprintf(
        line, sizeof line, "templates: %zu/%zu (%.1f %%), %.1f images/s, %s", done, total_,
        total_ ? 100.0 * double(done) / double(total_) : 100.0, rate,
        EtaText(elapsed, static_cast<int64_t>(done), static_cast<int64_t>(total_)).c_str());
    std::cerr << (tty_ ? "\r" : "") << line << (tty_ && done != total_ ? "" : "\n") << std::flush;
  }
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  size_t total_;
  bool tty_;
  size_t last_decile_ = size_t(-1);
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// What one pass of our pipeline gives per dataset image (entries of images not asked for stay
// empty).
struct PassOutput {
  std::vector<std::vector<double>> vectors;
  std::vector<eval::ImageQuality> quality;
  std::vector<std::vector<float>> landmarks;
};

// The cache id of a pass: the pipeline's id, the degradation and the probe enhancement (both
// change the templates, so each has its own entries; the undegraded rung with an enhancement
// too, never the clean pass's).
std::string PassCacheId(const std::string& cache_id, const vision::Degradation& degradation,
                        const std::string& enhance) {
  return cache_id + (degradation.identity() ? "" : "/degrade=" + degradation.Name()) +
         (enhance.empty() ? "" : "/enhance=" + enhance);
}

// Our pipeline over `images` (dataset indices), each image first degraded by `degradation` then
// restored by `enhance` ("" none, "deblock"), from the cache or computed on every core. `label`
// names the pass in progress lines.
Expected<PassOutput> RunPass(const eval::Dataset& d, const EvalArgs& a,
                             const vision::BatchOptions& base, const std::string& cache_id,
                             eval::TemplateCache& cache, const std::vector<size_t>& images,
                             const vision::Degradation& degradation, const std::string& enhance,
                             const std::string& label) {
  PassOutput out;
  out.vectors.assign(d.images.size(), {});
  out.quality.assign(d.images.size(), {});
  out.landmarks.assign(d.images.size(), {});
  const std::string id = PassCacheId(cache_id, degradation, enhance);
  std::vector<std::string> pending;
  std::vector<size_t> pending_index;
  const auto take = [&out](size_t i, const eval::TemplateCache::Entry& e) {
    if (!e.has_face) return;
    out.vectors[i].assign(e.templ.begin(), e.templ.end());
    out.quality[i] = {e.eye_distance_px, e.sharpness,       e.noise_sigma,
                      e.detail,          e.effective_scale, e.effective_eye_distance_px,
                      e.blockiness};
    out.landmarks[i] = e.landmarks;
  };
  for (size_t i : images) {
    // Canonical, so that the cache hits however the data folder was spelled or linked.
    std::error_code ec;
    std::string path = std::filesystem::weakly_canonical(d.AbsolutePath(i), ec).string();
    if (ec) path = d.AbsolutePath(i);
    if (std::optional<eval::TemplateCache::Entry> e = cache.Find(path, id)) {
      take(i, *e);
    } else {
      pending.push_back(path);
      pending_index.push_back(i);
    }
  }
  std::cerr << label << ": " << images.size() - pending.size() << " of " << images.size()
            << " templates from the cache " << a.out_dir << "/templates.cache\n";
  if (pending.empty()) return out;
  vision::BatchOptions options = base;
  if (!degradation.identity() || !enhance.empty()) {
    const bool deblock = enhance == "deblock";
    options.transform = [degradation,
                         deblock](const vision::Image& img) -> Expected<vision::Image> {
      FT_ASSIGN_OR_RETURN(vision::Image degraded, vision::Degrade(img, degradation));
      if (!deblock) return degraded;
      return vision::DeblockJpeg(degraded);
    };
  }
  Progress progress(pending.size());
  size_t done = 0, failures = 0;
  Status save_status;
  Status s = vision::ProcessImageFiles(pending, options, [&](size_t k, vision::ImageResult&& r) {
    eval::TemplateCache::Entry entry;
    if (r.status.ok()) {
      const vision::Face* face = PickFace(r, a.pick);
      if (face && !face->templ.empty()) {
        entry.has_face = true;
        entry.templ = face->templ;
        entry.eye_distance_px = face->quality.eye_distance_px;
        entry.sharpness = face->quality.sharpness;
        entry.noise_sigma = face->quality.noise_sigma;
        entry.detail = face->quality.detail;
        entry.effective_scale = face->quality.effective_scale;
        entry.effective_eye_distance_px = face->quality.effective_eye_distance_px;
        entry.blockiness = face->quality.blockiness;
        for (const vision::Point& p : face->landmarks) {
          entry.landmarks.push_back(p.x);
          entry.landmarks.push_back(p.y);
        }
        take(pending_index[k], entry);
      }
      cache.Put(pending[k], id, std::move(entry));  // failed images are retried next time
    } else {
      ++failures;
      std::cerr << "\nfacetrail: " << r.status.ToString() << "\n";
    }
    progress.Update(++done);
    if (!a.no_cache && done % 500 == 0 && save_status.ok()) save_status = cache.Save();
  });
  if (!s.ok()) return s.WithContext("compute templates");
  std::cerr << label << ": " << pending.size() << " images in " << progress.Seconds() << " s ("
            << double(pending.size()) / progress.Seconds() << " images/s), " << failures
            << " unreadable\n";
  if (!a.no_cache) {
    if (!save_status.ok()) return save_status;
    FT_RETURN_IF_ERROR(cache.Save());
  }
  return out;
}

// Our pipeline's vectors for every dataset image, and for the probes of every ladder rung.
Expected<eval::SystemResults> ComputeOurs(const eval::Dataset& d, const EvalArgs& a,
                                          const vision::ModelManifest& manifest,
                                          const std::vector<vision::Degradation>& ladder) {
  vision::BatchOptions options;
  options.threads = a.threads;
  options.pipeline.models_dir = a.models_dir;
  options.pipeline.model = manifest.name;
  FT_ASSIGN_OR_RETURN(options.pipeline.align, vision::ParseAlignMode(a.align));
  options.pipeline.min_score = a.min_score;
  options.pipeline.flip_average = !a.no_flip;
  options.pipeline.int8_detector = !a.bf16_detector;
  options.pipeline.small_image_detector = !a.detector_512;
  // The ladder's degraded probes may be sampled differently (probe-side methods; the gallery
  // and the clean pass keep the pipeline's defaults).
  vision::BatchOptions probe_options = options;
  if (!a.probe_chip_interpolation.empty()) {
    FT_ASSIGN_OR_RETURN(probe_options.pipeline.chip_interpolation,
                        vision::ParseChipInterpolation(a.probe_chip_interpolation));
  }
  if (!a.probe_chip_views.empty()) {
    FT_ASSIGN_OR_RETURN(probe_options.pipeline.chip_views,
                        vision::ParseChipViews(a.probe_chip_views));
  }
  std::string model_id;
  {
    FT_ASSIGN_OR_RETURN(auto pipeline, vision::FacePipeline::Create(options.pipeline));
    model_id =
        pipeline->template_model().id + "/v" + std::to_string(pipeline->template_model().version);
  }
  char min_score[32];
  std::snprintf(min_score, sizeof min_score, "%g", double(a.min_score));
  // bf16 and fp32 templates share a model id (they agree to 0.9996) but are not the same numbers.
  const bool bf16 =
      options.pipeline.reduced_precision && options.pipeline.align != vision::AlignMode::kFaceApi;
  const std::string cache_suffix =
      "/" + a.align + (a.no_flip ? "/no-flip" : "") + (bf16 ? "/bf16" : "/fp32") +
      (bf16 && !a.bf16_detector ? "/int8-detector" : "") +
      (a.detector_512 ? "" : "/small-image-detector") + "/min-score=" + min_score +
      "/pick=" + a.pick + (a.align == "faceapi" ? "" : "/landmarks=precise-flip");
  const std::string cache_id = model_id + cache_suffix;
  std::string probe_cache_id = cache_id;
  if (!(probe_options.pipeline.chip_interpolation == options.pipeline.chip_interpolation &&
        probe_options.pipeline.chip_views == options.pipeline.chip_views)) {
    const vision::TemplateModel probe_model =
        vision::TemplateModelFor(manifest, probe_options.pipeline);
    probe_cache_id = probe_model.id + "/v" + std::to_string(probe_model.version) + cache_suffix;
  }

  eval::TemplateCache cache(a.out_dir + "/templates.cache");
  if (!a.no_cache) {
    std::string warning;
    cache.Open(&warning);
    if (!warning.empty()) std::cerr << "facetrail: " << warning << "\n";
  }
  eval::SystemResults ours;
  ours.name = "facetrail " + manifest.name + (a.align == "faceapi" ? " (faceapi parity)" : "");
  ours.description = "template " + model_id + ", face = " + a.pick + ", min score " + min_score;
  ours.kind = eval::ScoreKind::kDotProduct;
  if (manifest.calibration) ours.fixed_threshold = manifest.calibration->compare.score;
  std::vector<size_t> all(d.images.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  FT_ASSIGN_OR_RETURN(PassOutput clean, RunPass(d, a, options, cache_id, cache, all,
                                                vision::Degradation{}, "", "templates"));
  ours.image_vectors = std::move(clean.vectors);
  ours.image_quality = std::move(clean.quality);
  ours.image_landmarks = std::move(clean.landmarks);

  // The ladder degrades probes only: the gallery stays as enrolled.
  const std::vector<bool> gallery = eval::IdentificationGallery(d);
  std::vector<size_t> probes;
  for (size_t i = 0; i < d.images.size(); ++i) {
    if (!gallery[i]) probes.push_back(i);
  }
  for (const vision::Degradation& rung : ladder) {
    eval::LadderResults r;
    r.rung = rung.Name();
    r.scale = rung.scale;
    // The undegraded rung is the clean pass, unless the probes are sampled differently or
    // enhanced (probe-side methods): then its probes get their own pass, so that the method's
    // clean figures are measured too.
    if (rung.identity() && probe_cache_id == cache_id && a.probe_enhance.empty()) {
      r.image_vectors = ours.image_vectors;
      r.image_quality = ours.image_quality;
      r.image_landmarks = ours.image_landmarks;
    } else {
      r.gallery_degraded = a.degrade_gallery;
      FT_ASSIGN_OR_RETURN(PassOutput p, RunPass(d, a, probe_options, probe_cache_id, cache,
                                                a.degrade_gallery ? all : probes, rung,
                                                a.probe_enhance, "probes degraded " + r.rung));
      r.image_vectors = std::move(p.vectors);
      r.image_quality = std::move(p.quality);
      r.image_landmarks = std::move(p.landmarks);
    }
    ours.ladder.push_back(std::move(r));
  }
  return ours;
}

std::string NowUtc() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

int RunEval(const std::string& mode, const EvalArgs& a, const std::string& command_line) {
  Expected<eval::Dataset> d = eval::LoadDataset(a.data_dir);
  if (!d.ok()) return PrintError(d.status().WithContext("eval"));
  for (const std::string& w : d->warnings) std::cerr << "facetrail: eval: warning: " << w << "\n";
  if (!a.groups_csv.empty()) {
    size_t unmatched = 0;
    const Status s = eval::LoadGroups(a.groups_csv, *d, &unmatched);
    if (!s.ok()) return PrintError(s.WithContext("eval --groups"));
    if (unmatched) std::cerr << "groups: " << unmatched << " rows name no image of the data\n";
  }
  std::error_code ec;
  std::filesystem::create_directories(a.out_dir, ec);
  if (ec) return PrintError(IoError(a.out_dir + ": cannot create: " + ec.message()));

  // Our model's manifest (not needed to evaluate references alone).
  std::optional<vision::ModelManifest> manifest;
  if (!a.reference_only) {
    auto m = vision::FindModel(a.models_dir, a.model);
    if (!m.ok()) return PrintError(m.status().WithContext("eval"));
    manifest = std::move(*m);
  }
  if (a.calibrate && (a.reference_only || mode != "report")) {
    return PrintError(InvalidArgument(
        "eval: --calibrate needs `eval report` with our pipeline (not --reference-only)"));
  }
  if (a.calibrate_expected_fnir_only && (!a.calibrate || a.degrade_probes.empty())) {
    return PrintError(InvalidArgument(
        "eval: --expected-fnir-only needs --calibrate and --degrade-probes (the table comes "
        "from the degradation ladder)"));
  }
  if (a.ladder_at_model_threshold && a.calibrate && !a.calibrate_expected_fnir_only) {
    return PrintError(InvalidArgument(
        "eval: --ladder-at-model-threshold with --calibrate would write a table read at the old "
        "threshold beside a new one (add --expected-fnir-only, or drop it)"));
  }
  if (!a.probe_enhance.empty() && a.probe_enhance != "deblock") {
    return PrintError(InvalidArgument("eval --probe-enhance: '" + a.probe_enhance +
                                      "' is not an enhancement (expected deblock)"));
  }
  std::vector<vision::Degradation> ladder;
  if (!a.degrade_probes.empty()) {
    if (a.reference_only || mode == "verify") {
      return PrintError(InvalidArgument(
          "eval: --degrade-probes needs 1:N figures of our pipeline (eval identify or report)"));
    }
    Expected<std::vector<vision::Degradation>> l = vision::ParseDegradationLadder(a.degrade_probes);
    if (!l.ok()) return PrintError(l.status().WithContext("eval --degrade-probes"));
    ladder = std::move(l).value();
  }
  std::vector<eval::SystemResults> systems;
  if (!a.reference_only) {
    Expected<eval::SystemResults> ours = ComputeOurs(*d, a, *manifest, ladder);
    if (!ours.ok()) return PrintError(ours.status().WithContext("eval"));
    systems.push_back(std::move(ours).value());
  }
  for (const std::string& ref : a.references) {
    const bool is_csv = ref.size() > 4 && ref.substr(ref.size() - 4) == ".csv";
    Expected<eval::SystemResults> r =
        is_csv ? eval::ReadPairDistancesCsv(ref, *d) : eval::ReadFaceApiJsonl(ref, *d);
    if (!r.ok()) return PrintError(r.status().WithContext("eval --reference"));
    systems.push_back(std::move(r).value());
  }
  if (systems.empty()) {
    return PrintError(InvalidArgument("eval: --reference-only needs at least one --reference"));
  }
  eval::EvalOptions options;
  options.recommend_fpir = a.target_fpir;
  options.all_pairs = !a.no_all_pairs;
  options.verification = mode != "identify";
  options.identification = mode != "verify";
  options.gate_max_fnir = a.gate_max_fnir;
  // --expected-fnir-only keeps the manifest's thresholds, so its table is read at them.
  if (a.ladder_at_model_threshold || a.calibrate_expected_fnir_only) {
    if (!manifest || !manifest->calibration) {
      return PrintError(FailedPrecondition(
          "eval: the model has no calibrated candidate threshold to read the ladder at"));
    }
    options.ladder_threshold = manifest->calibration->candidate.score;
  }
  // The gate whose effect is reported: the one given, else the model's calibrated one.
  if (a.gate_eye_distance || a.gate_sharpness || (manifest && manifest->calibration)) {
    eval::QualityGate gate;
    if (manifest && manifest->calibration) {
      gate.min_eye_distance_px = manifest->calibration->min_eye_distance_px;
      gate.min_sharpness = manifest->calibration->min_sharpness;
    }
    if (a.gate_eye_distance) gate.min_eye_distance_px = *a.gate_eye_distance;
    if (a.gate_sharpness) gate.min_sharpness = *a.gate_sharpness;
    options.gate = gate;
  }
  // What a search would state for each probe the gate passes: the model's expected-FNIR table.
  if (manifest && manifest->calibration && manifest->calibration->expected_fnir) {
    options.expected_fnir = [table = *manifest->calibration->expected_fnir](
                                double eye, double detail) -> std::optional<double> {
      const std::optional<vision::ExpectedFnir> e = vision::LookupExpectedFnir(table, eye, detail);
      return e ? e->fnir : std::nullopt;
    };
  }
  Expected<eval::Report> report = eval::Evaluate(*d, systems, options);
  if (!report.ok()) return PrintError(report.status().WithContext("eval"));
  report->command_line = command_line;
  report->created_utc = NowUtc();
  const Status w = eval::WriteReport(*report, a.out_dir);
  if (!w.ok()) return PrintError(w.WithContext("eval"));
  std::cout << eval::TextSummary(*report) << "\nreport: " << a.out_dir << "/report.html ("
            << "report.json and CSVs beside it)\n";
  if (a.calibrate) {
    auto derived = eval::DeriveCalibration(*report, report->systems.front());
    if (!derived.ok()) return PrintError(derived.status().WithContext("eval --calibrate"));
    vision::Calibration calibration;
    calibration.source = derived->source;
    calibration.command = command_line;
    calibration.created = report->created_utc;
    calibration.candidate = {derived->candidate_score, derived->candidate_fpir,
                             derived->candidate_fnir, derived->gallery_size};
    calibration.compare = {derived->compare_score, derived->compare_far, derived->compare_fnmr, 0};
    calibration.min_eye_distance_px = static_cast<float>(derived->min_eye_distance_px);
    calibration.min_sharpness = static_cast<float>(derived->min_sharpness);
    calibration.quality_basis = derived->quality_basis;
    if (!derived->bin_fnir.empty()) {
      vision::ExpectedFnirTable t;
      t.source = derived->bin_source;
      t.threshold = derived->candidate_score;
      t.eye_distance_edges = derived->bin_eye_edges;
      t.detail_edges = derived->bin_detail_edges;
      t.mated = derived->bin_mated;
      for (const std::vector<double>& row : derived->bin_fnir) {
        std::vector<std::optional<double>>& out = t.fnir.emplace_back();
        for (double v : row) out.push_back(std::isnan(v) ? std::nullopt : std::optional(v));
      }
      calibration.expected_fnir = std::move(t);
    }
    vision::ModelManifest updated = *manifest;
    if (a.calibrate_expected_fnir_only) {
      // Only the table: the thresholds and gate stay as certified, so the table must have been
      // measured at the manifest's candidate threshold (the same data and pipeline).
      if (!manifest->calibration || !calibration.expected_fnir) {
        return PrintError(FailedPrecondition(
            "eval --expected-fnir-only: " +
            std::string(manifest->calibration ? "this run measured no expected-FNIR table"
                                              : "the model has no calibration to keep") +
            " (run --calibrate without --expected-fnir-only)"));
      }
      // The table was read at the manifest's threshold (options.ladder_threshold); this run's
      // own recommended one may differ by a CPU's rounding, not by other data or pipeline.
      const double own = calibration.candidate.score;
      const double shipped = manifest->calibration->candidate.score;
      if (std::fabs(own - shipped) > 0.005) {
        return PrintError(FailedPrecondition(
            "eval --expected-fnir-only: this run's recommended threshold " + std::to_string(own) +
            " is far from the manifest's " + std::to_string(shipped) +
            " (other data or pipeline?): calibrate the whole model instead"));
      }
      vision::Calibration kept = *manifest->calibration;
      kept.expected_fnir = std::move(calibration.expected_fnir);
      kept.expected_fnir->threshold = shipped;
      char own_text[32];
      std::snprintf(own_text, sizeof own_text, "%.6f", own);
      kept.expected_fnir->source +=
          "; read at the manifest's candidate threshold (this run's own recommended one: " +
          std::string(own_text) + "); measured by: " + command_line + " (" + report->created_utc +
          ")";
      calibration = std::move(kept);
    }
    updated.calibration = calibration;
    const std::string json = vision::ModelManifestJson(updated);
    const Status s =
        WriteFileAtomically(manifest->manifest_path,
                            std::span(reinterpret_cast<const uint8_t*>(json.data()), json.size()));
    if (!s.ok()) return PrintError(s.WithContext("eval --calibrate"));
    const auto& c = calibration;
    if (a.calibrate_expected_fnir_only) {
      std::cout << "expected-FNIR table of '" << manifest->name << "' written to "
                << manifest->manifest_path << " (thresholds and quality gate kept)\n";
      return 0;
    }
    std::cout << "calibration of '" << manifest->name << "' written to " << manifest->manifest_path
              << ":\n  candidate threshold " << c.candidate.score << " (FPIR "
              << FormatRate(c.candidate.false_rate) << ", gallery " << c.candidate.gallery_size
              << ", FNIR " << FormatRate(c.candidate.miss_rate) << ")\n  compare threshold "
              << c.compare.score << " (FAR " << FormatRate(c.compare.false_rate) << ", FNMR "
              << FormatRate(c.compare.miss_rate)
              << ")\n  quality gate: eye distance >= " << c.min_eye_distance_px
              << " px, sharpness >= " << c.min_sharpness << "\n"
              << (c.expected_fnir ? "  expected FNIR per quality bin: from the degradation ladder\n"
                                  : "");
  }
  return 0;
}

}  // namespace

void RegisterEvalCommands(CLI::App& app, CommandResult& result) {
  CLI::App* eval_cmd = app.add_subcommand(
      "eval", "Accuracy on a labelled image folder: LFW protocol, ROC/DET, CMC, FNIR@FPIR");
  eval_cmd->require_subcommand(1);
  // One argument set per subcommand: CLI11 applies an option's environment variable
  // (FACETRAIL_MODELS, FACETRAIL_MODEL) even when another subcommand's option of the same name was
  // given, so subcommands must not share the variables their options write to.
  static EvalArgs all_args[3];
  static std::string command_line;
  int index = 0;
  for (const char* mode : {"verify", "identify", "report"}) {
    const std::string m = mode;
    EvalArgs& args = all_args[index++];
    CLI::App* cmd = eval_cmd->add_subcommand(
        m, m == "verify"     ? "1:1 figures only"
           : m == "identify" ? "1:N figures only"
                             : "1:1 and 1:N figures, groups, threshold recommendation");
    cmd->add_option("--data", args.data_dir,
                    "Labelled folder: identities.csv (path,identity); optional pairs.csv, "
                    "folds.csv")
        ->required();
    cmd->add_option("--model", args.model, "Recognition model (facetrail models list)")
        ->envname("FACETRAIL_MODEL")
        ->capture_default_str();
    cmd->add_option("--align", args.align,
                    "similarity, or faceapi (the face-api ResNet's parity mode)")
        ->check(CLI::IsMember({"similarity", "faceapi"}))
        ->capture_default_str();
    cmd->add_option("--reference", args.references,
                    "face-api.js results beside ours: run.mjs JSON lines, or a pair distance "
                    ".csv (repeatable)");
    cmd->add_option("--groups", args.groups_csv,
                    "CSV: path or identity, then group columns (e.g. sex,age_group)");
    cmd->add_option("--out", args.out_dir, "Report folder (also holds templates.cache)")
        ->capture_default_str();
    cmd->add_option("--target-fpir", args.target_fpir, "FPIR for the threshold recommendation")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    cmd->add_option("--models", args.models_dir, kModelsOptionHelp)->envname("FACETRAIL_MODELS");
    cmd->add_option("--pick", args.pick, "The face that stands for an image")
        ->check(CLI::IsMember({"score", "center", "largest"}))
        ->capture_default_str();
    cmd->add_option("--threads", args.threads, "Worker threads (0 = one per core)")
        ->check(CLI::Range(0, 256));
    cmd->add_option("--min-score", args.min_score, "Detector threshold")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    cmd->add_flag("--no-flip", args.no_flip, "No mirrored-face averaging (similarity mode)");
    cmd->add_option("--probe-chip-interpolation", args.probe_chip_interpolation,
                    "With --degrade-probes, ONNX models: the degraded probes' sampling where the "
                    "chip enlarges a small face: bilinear, bicubic or lanczos3 (default: the "
                    "pipeline's; docs/PIPELINE.md)");
    cmd->add_option("--probe-enhance", args.probe_enhance,
                    "With --degrade-probes: restore the degraded probes before the pipeline "
                    "(measuring only): deblock (JPEG block edges, vision/enhance.h)");
    cmd->add_option("--probe-chip-views", args.probe_chip_views,
                    "With --degrade-probes, ONNX models: test-time augmentation of the degraded "
                    "probes: one, scales (0.95/1.05) or shifts (half an image pixel, 4 ways)");
    cmd->add_flag("--bf16-detector", args.bf16_detector,
                  "bfloat16 detector instead of its default uint8/int8 layers");
    cmd->add_flag("--detector-512", args.detector_512,
                  "Upsample images smaller than 256x256 to the detector's 512x512");
    cmd->add_flag("--no-cache", args.no_cache, "Neither read nor write templates.cache");
    cmd->add_flag("--reference-only", args.reference_only,
                  "Do not run our pipeline; evaluate the --reference results only");
    cmd->add_flag("--no-all-pairs", args.no_all_pairs,
                  "Skip 1:1 over every pair of images (official pairs only)");
    cmd->add_option("--gate-eye-distance", args.gate_eye_distance,
                    "Quality gate to report on: min eye distance in px (default: the model's)");
    cmd->add_option("--gate-sharpness", args.gate_sharpness,
                    "Quality gate to report on: min sharpness (default: the model's)");
    cmd->add_option("--gate-max-fnir", args.gate_max_fnir,
                    "FNIR above which a quality band is unacceptable (default: 2 x FNIR + 0.05)")
        ->check(CLI::Range(0.0, 1.0));
    if (m != "verify") {
      cmd->add_flag("--ladder-at-model-threshold", args.ladder_at_model_threshold,
                    "With --degrade-probes: read the ladder's figures at the model's calibrated "
                    "candidate threshold instead of this run's recommended one");
      cmd->add_option("--degrade-probes", args.degrade_probes,
                      "Also search with every probe degraded by each rung of a ladder: "
                      "'standard' or rungs like 0.5,0.5+blur+jpeg (SCALE[+blur[SIGMA]]"
                      "[+jpeg[QUALITY]]); the gallery stays clean (docs/EVAL.md)");
      cmd->add_flag("--degrade-gallery-too", args.degrade_gallery,
                    "Degrade the gallery like the probes at each rung: the bound a gallery "
                    "matched to every probe's degradation would reach");
    }
    if (m == "report") {
      cmd->add_flag("--calibrate", args.calibrate,
                    "Write the thresholds and quality limits derived here into the model's "
                    "manifest (certifies it for activation; docs/MODELS.md)");
      cmd->add_flag("--expected-fnir-only", args.calibrate_expected_fnir_only,
                    "With --calibrate and --degrade-probes: rewrite only the manifest's "
                    "expected-FNIR table, read at its candidate threshold, keeping its "
                    "thresholds and quality gate");
    }
    cmd->callback([&result, &args, m, cmd]() {
      std::ostringstream line;
      line << "facetrail eval " << m;
      for (const CLI::Option* opt : cmd->get_options()) {
        if (opt->count() == 0) continue;
        if (opt->get_expected_min() == 0) {
          line << ' ' << opt->get_name();
          continue;
        }
        for (const std::string& v : opt->results()) line << ' ' << opt->get_name() << ' ' << v;
      }
      command_line = line.str();
      result.exit_code = RunEval(m, args, command_line);
    });
  }
}

}  // namespace facetrail::cli
