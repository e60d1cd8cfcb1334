// report.json, the CSVs and the terminal summary. The HTML report is internal/html_report.cpp.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <sstream>

#include "common/file.h"
#include "common/text.h"
#include "eval/evaluation.h"
#include "eval/internal/report_format.h"

namespace facetrail::eval {
namespace {

using nlohmann::json;

// JSON has no NaN/inf: non-finite numbers become null (NaN) or the strings "inf"/"-inf".
json Num(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}
json NumList(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(Num(x));
  return a;
}

json ToJson(const OperatingPoint& p) {
  return {{"target", Num(p.target)},
          {"threshold", Num(p.threshold)},
          {"rate", Num(p.rate)},
          {"hit", Num(p.hit)},
          {"resolved", p.resolved}};
}

json ToJson(const ScoreSummary& s) {
  return {{"n", s.num},          {"missing", s.num_missing},
          {"mean", Num(s.mean)}, {"median", Num(s.median)},
          {"min", Num(s.min)},   {"max", Num(s.max)}};
}

json ToJson(const VerificationFigures& v) {
  json j = {{"genuine", v.num_genuine},
            {"impostor", v.num_impostor},
            {"genuine_missing", v.num_genuine_missing},
            {"impostor_missing", v.num_impostor_missing},
            {"auc", Num(v.roc.auc)},
            {"eer", Num(v.roc.eer)},
            {"eer_threshold", Num(v.roc.eer_threshold)},
            {"auc_scored", Num(v.roc_scored.auc)},
            {"eer_scored", Num(v.roc_scored.eer)},
            {"genuine_scores", ToJson(v.genuine_summary)},
            {"impostor_scores", ToJson(v.impostor_summary)},
            {"roc_points", v.roc.points.size()}};
  for (const OperatingPoint& p : v.tar_at_far) j["tar_at_far"].push_back(ToJson(p));
  return j;
}

json ToJson(const ErrorVsDiscard& e) {
  json ej = {{"measure", e.measure},
             {"suggested_limit", Num(e.suggested_limit)},
             {"band", e.band},
             {"max_fnir", Num(e.max_fnir)},
             {"worst_band_fnir", Num(e.worst_band_fnir)}};
  for (const DiscardPoint& p : e.points) {
    ej["points"].push_back({{"fraction", Num(p.fraction)},
                            {"limit", Num(p.limit)},
                            {"kept", p.kept},
                            {"fnir", Num(p.fnir)},
                            {"fpir", Num(p.fpir)}});
  }
  return ej;
}

json ToJson(const IdentificationFigures& f) {
  json j = {{"gallery_size", f.gallery_size},
            {"gallery_without_template", f.gallery_without_template},
            {"mated_searches", f.num_mated},
            {"non_mated_searches", f.num_non_mated},
            {"probes_without_template", f.probes_without_template}};
  for (double c : f.cmc) j["cmc"].push_back(Num(c));
  for (const IdentificationPoint& p : f.fnir_at_fpir) {
    json q = ToJson(p.point);
    q["fnir"] = Num(p.fnir);
    j["fnir_at_fpir"].push_back(q);
  }
  j["fpir_at_fixed_threshold"] = Num(f.fpir_at_fixed);
  j["fnir_at_fixed_threshold"] = Num(f.fnir_at_fixed);
  j["recommendation"] = ToJson(f.recommendation.point);
  j["recommendation"]["fnir"] = Num(f.recommendation.fnir);
  for (const ErrorVsDiscard& e : f.error_vs_discard) {
    j["error_vs_discard"].push_back(ToJson(e));
  }
  if (f.gate) {
    const GateEffect& g = *f.gate;
    j["quality_gate"] = {{"min_eye_distance_px", Num(g.gate.min_eye_distance_px)},
                         {"min_sharpness", Num(g.gate.min_sharpness)},
                         {"probes", g.probes},
                         {"refused", g.refused},
                         {"fnir_all", Num(g.fnir_all)},
                         {"fnir_passed", Num(g.fnir_passed)},
                         {"fpir_all", Num(g.fpir_all)},
                         {"fpir_passed", Num(g.fpir_passed)}};
  }
  return j;
}

json ToJson(const SystemReport& s) {
  json j = {
      {"name", s.name},
      {"description", s.description},
      {"score", s.kind == ScoreKind::kDotProduct ? "cosine similarity of unit templates"
                                                 : "-euclidean distance of descriptors"},
      {"images", s.num_images},
      // Unknown (null) for systems that only gave pair scores.
      {"images_without_face", s.num_images ? json(s.num_images_without_face) : json(nullptr)}};
  if (s.lfw) {
    json l = {{"mean", s.lfw->mean},           {"std_dev", s.lfw->std_dev},
              {"std_error", s.lfw->std_error}, {"pairs", s.lfw->num_pairs},
              {"missing", s.lfw->num_missing}, {"correct", s.lfw->num_correct}};
    for (const FoldAccuracy& f : s.lfw->folds) {
      l["folds"].push_back({{"fold", f.fold},
                            {"pairs", f.num_pairs},
                            {"missing", f.num_missing},
                            {"correct", f.num_correct},
                            {"threshold", Num(f.threshold)},
                            {"accuracy", f.accuracy}});
    }
    j["lfw_leave_one_fold_out"] = l;
  }
  if (s.pairs) j["official_pairs"] = ToJson(*s.pairs);
  if (s.fixed_threshold) {
    j["fixed_threshold"] = {{"threshold", *s.fixed_threshold},
                            {"accuracy_scored_pairs", Num(s.accuracy_scored_at_fixed)},
                            {"accuracy_all_pairs", Num(s.accuracy_all_at_fixed)}};
  }
  if (s.all_pairs) j["all_pairs"] = ToJson(*s.all_pairs);
  j["global_threshold"] = Num(s.global_threshold);
  if (s.identification) j["identification"] = ToJson(*s.identification);
  for (const GroupFigures& g : s.groups) {
    json gj = {{"column", g.column}, {"value", g.value}, {"images", g.num_images}};
    if (g.verification) gj["verification"] = ToJson(*g.verification);
    gj["fmr_at_global_threshold"] = Num(g.at_global_threshold.fmr);
    gj["fnmr_at_global_threshold"] = Num(g.at_global_threshold.fnmr);
    if (g.identification) {
      gj["identification"] = ToJson(*g.identification);
      gj["fpir_at_global_threshold"] = Num(g.fpir_at_global);
      gj["fnir_at_global_threshold"] = Num(g.fnir_at_global);
    }
    j["groups"].push_back(gj);
  }
  for (const LadderFigures& f : s.ladder) {
    json lj = {{"rung", f.rung},
               {"scale", f.scale},
               {"probes", f.probes},
               {"probes_with_face", f.probes_with_face},
               {"median_eye_distance_px", Num(f.median_eye_distance_px)},
               {"identification", ToJson(f.identification)},
               {"clean_threshold", Num(f.clean_threshold)},
               {"fnir_at_clean_threshold", Num(f.fnir_at_clean_threshold)},
               {"fpir_at_clean_threshold", Num(f.fpir_at_clean_threshold)},
               {"gate_refused", f.gate_refused},
               {"gate_fnir_passed", Num(f.gate_fnir_passed)},
               {"gate_passed_with_face", f.gate_passed_with_face},
               {"gate_passed_with_expectation", f.gate_passed_with_expectation},
               {"gate_expected_fnir_mean", Num(f.gate_expected_fnir_mean)},
               {"gate_fnir_passed_with_expectation", Num(f.gate_fnir_passed_with_expectation)},
               {"landmark_faces", f.landmark_faces},
               {"landmark_nme_mean", Num(f.landmark_nme_mean)},
               {"landmark_nme_median", Num(f.landmark_nme_median)},
               {"landmark_failure_rate", Num(f.landmark_failure_rate)},
               {"fnir_at_quality_bin_thresholds", Num(f.fnir_at_quality_bin_thresholds)},
               {"fpir_at_quality_bin_thresholds", Num(f.fpir_at_quality_bin_thresholds)}};
    j["degradation_ladder"].push_back(lj);
  }
  for (const ErrorVsDiscard& e : s.ladder_error_vs_discard) {
    j["ladder_error_vs_discard"].push_back(ToJson(e));
  }
  for (const EyeDistanceBin& b : s.ladder_by_eye_distance) {
    j["ladder_by_eye_distance"].push_back({{"lo", Num(b.lo)},
                                           {"hi", Num(b.hi)},
                                           {"mated", b.mated},
                                           {"rank1", Num(b.rank1)},
                                           {"fnir_at_clean_threshold", Num(b.fnir)}});
  }
  for (const QualityBin& b : s.ladder_quality_bins) {
    j["ladder_quality_bins"].push_back({{"effective_eye_distance_lo", Num(b.eye_lo)},
                                        {"effective_eye_distance_hi", Num(b.eye_hi)},
                                        {"detail_lo", Num(b.detail_lo)},
                                        {"detail_hi", Num(b.detail_hi)},
                                        {"mated", b.mated},
                                        {"rank1", Num(b.rank1)},
                                        {"fnir_at_clean_threshold", Num(b.fnir)},
                                        {"mated_per_rung", b.per_rung},
                                        {"fnir_per_rung", NumList(b.per_rung_fnir)}});
  }
  return j;
}

std::string Csv(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string Quote(const std::string& s) {
  return CsvCell(s);  // quoted, and never a spreadsheet formula (common/text.h)
}

Status WriteText(const std::string& path, const std::string& text) {
  return WriteFileAtomically(path,
                             std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::string CsvFiles(const Report& r, const std::string& which) {
  std::ostringstream o;
  if (which == "lfw_folds") {
    o << "system,fold,pairs,missing,correct,threshold,accuracy\n";
    for (const SystemReport& s : r.systems) {
      if (!s.lfw) continue;
      for (const FoldAccuracy& f : s.lfw->folds) {
        o << Quote(s.name) << ',' << f.fold << ',' << f.num_pairs << ',' << f.num_missing << ','
          << f.num_correct << ',' << Csv(f.threshold) << ',' << Csv(f.accuracy) << '\n';
      }
    }
  } else if (which == "operating_points") {
    o << "system,protocol,measure,target,threshold,achieved,tar_or_1_minus_fnir,resolved\n";
    for (const SystemReport& s : r.systems) {
      for (const auto& [name, v] :
           {std::pair{"official_pairs", &s.pairs}, std::pair{"all_pairs", &s.all_pairs}}) {
        if (!*v) continue;
        for (const OperatingPoint& p : (*v)->tar_at_far) {
          o << Quote(s.name) << ',' << name << ",TAR@FAR," << Csv(p.target) << ','
            << Csv(p.threshold) << ',' << Csv(p.rate) << ',' << Csv(p.hit) << ','
            << (p.resolved ? 1 : 0) << '\n';
        }
      }
      if (s.identification) {
        for (const IdentificationPoint& p : s.identification->fnir_at_fpir) {
          o << Quote(s.name) << ",identification,FNIR@FPIR," << Csv(p.point.target) << ','
            << Csv(p.point.threshold) << ',' << Csv(p.point.rate) << ',' << Csv(p.point.hit) << ','
            << (p.point.resolved ? 1 : 0) << '\n';
        }
      }
    }
  } else if (which == "roc") {
    o << "system,protocol,threshold,far,tar\n";
    for (const SystemReport& s : r.systems) {
      for (const auto& [name, v] :
           {std::pair{"official_pairs", &s.pairs}, std::pair{"all_pairs", &s.all_pairs}}) {
        if (!*v) continue;
        for (const RocPoint& p : (*v)->roc.points) {
          o << Quote(s.name) << ',' << name << ',' << Csv(p.threshold) << ',' << Csv(p.far) << ','
            << Csv(p.tar) << '\n';
        }
      }
    }
  } else if (which == "cmc") {
    o << "system,rank,identification_rate\n";
    for (const SystemReport& s : r.systems) {
      if (!s.identification) continue;
      for (size_t k = 0; k < s.identification->cmc.size(); ++k) {
        o << Quote(s.name) << ',' << k + 1 << ',' << Csv(s.identification->cmc[k]) << '\n';
      }
    }
  } else if (which == "error_vs_discard") {
    o << "system,measure,discarded_fraction,limit,kept,fnir,fpir\n";
    for (const SystemReport& s : r.systems) {
      if (!s.identification) continue;
      for (const ErrorVsDiscard& e : s.identification->error_vs_discard) {
        for (const DiscardPoint& p : e.points) {
          o << Quote(s.name) << ',' << e.measure << ',' << Csv(p.fraction) << ',' << Csv(p.limit)
            << ',' << p.kept << ',' << Csv(p.fnir) << ',' << Csv(p.fpir) << '\n';
        }
      }
    }
  } else if (which == "ladder") {
    o << "system,rung,scale,probes,probes_with_face,median_eye_distance_px,rank1,rank10,"
         "fnir_at_fpir_1pct,threshold_at_fpir_1pct,fnir_at_clean_threshold,"
         "fpir_at_clean_threshold,gate_refused,gate_fnir_passed,landmark_nme_mean,"
         "landmark_nme_median,landmark_failure_rate,fnir_at_quality_bin_thresholds,"
         "fpir_at_quality_bin_thresholds,gate_passed_with_face,gate_passed_with_expectation,"
         "gate_expected_fnir_mean,gate_fnir_passed_with_expectation\n";
    for (const SystemReport& s : r.systems) {
      for (const LadderFigures& f : s.ladder) {
        const IdentificationFigures& id = f.identification;
        double fnir1 = std::nan(""), t1 = std::nan("");
        for (const IdentificationPoint& p : id.fnir_at_fpir) {
          if (p.point.target == 0.01) {
            fnir1 = p.fnir;
            t1 = p.point.threshold;
          }
        }
        o << Quote(s.name) << ',' << Quote(f.rung) << ',' << Csv(f.scale) << ',' << f.probes << ','
          << f.probes_with_face << ',' << Csv(f.median_eye_distance_px) << ','
          << Csv(id.cmc.empty() ? std::nan("") : id.cmc[0]) << ','
          << Csv(id.cmc.size() >= 10 ? id.cmc[9] : std::nan("")) << ',' << Csv(fnir1) << ','
          << Csv(t1) << ',' << Csv(f.fnir_at_clean_threshold) << ','
          << Csv(f.fpir_at_clean_threshold) << ',' << f.gate_refused << ','
          << Csv(f.gate_fnir_passed) << ',' << Csv(f.landmark_nme_mean) << ','
          << Csv(f.landmark_nme_median) << ',' << Csv(f.landmark_failure_rate) << ','
          << Csv(f.fnir_at_quality_bin_thresholds) << ',' << Csv(f.fpir_at_quality_bin_thresholds)
          << ',' << f.gate_passed_with_face << ',' << f.gate_passed_with_expectation << ','
          << Csv(f.gate_expected_fnir_mean) << ',' << Csv(f.gate_fnir_passed_with_expectation)
          << '\n';
      }
    }
  } else if (which == "ladder_eye_distance") {
    o << "system,eye_distance_lo,eye_distance_hi,mated,rank1,fnir_at_clean_threshold\n";
    for (const SystemReport& s : r.systems) {
      for (const EyeDistanceBin& b : s.ladder_by_eye_distance) {
        o << Quote(s.name) << ',' << Csv(b.lo) << ',' << Csv(b.hi) << ',' << b.mated << ','
          << Csv(b.rank1) << ',' << Csv(b.fnir) << '\n';
      }
    }
  } else if (which == "ladder_quality_bins") {
    o << "system,effective_eye_distance_lo,effective_eye_distance_hi,detail_lo,detail_hi,mated,"
         "rank1,fnir_at_clean_threshold";
    if (!r.systems.empty()) {
      for (const LadderFigures& f : r.systems.front().ladder) o << ",mated " << Quote(f.rung);
      for (const LadderFigures& f : r.systems.front().ladder) o << ",fnir " << Quote(f.rung);
    }
    o << '\n';
    for (const SystemReport& s : r.systems) {
      for (const QualityBin& b : s.ladder_quality_bins) {
        o << Quote(s.name) << ',' << Csv(b.eye_lo) << ',' << Csv(b.eye_hi) << ','
          << Csv(b.detail_lo) << ',' << Csv(b.detail_hi) << ',' << b.mated << ',' << Csv(b.rank1)
          << ',' << Csv(b.fnir);
        for (size_t n : b.per_rung) o << ',' << n;
        for (double v : b.per_rung_fnir) o << ',' << Csv(v);
        o << '\n';
      }
    }
  } else if (which == "groups") {
    o << "system,column,value,images,genuine,impostor,fmr_at_global,fnmr_at_global,eer,"
         "mated,non_mated,rank1,fpir_at_global,fnir_at_global\n";
    for (const SystemReport& s : r.systems) {
      for (const GroupFigures& g : s.groups) {
        o << Quote(s.name) << ',' << Quote(g.column) << ',' << Quote(g.value) << ',' << g.num_images
          << ',';
        if (g.verification) {
          o << g.verification->num_genuine << ',' << g.verification->num_impostor << ','
            << Csv(g.at_global_threshold.fmr) << ',' << Csv(g.at_global_threshold.fnmr) << ','
            << Csv(g.verification->roc.eer) << ',';
        } else {
          o << ",,,,,";
        }
        if (g.identification) {
          o << g.identification->num_mated << ',' << g.identification->num_non_mated << ','
            << Csv(g.identification->cmc.empty() ? std::nan("") : g.identification->cmc[0]) << ','
            << Csv(g.fpir_at_global) << ',' << Csv(g.fnir_at_global) << '\n';
        } else {
          o << ",,,,\n";
        }
      }
    }
  }
  return o.str();
}

}  // namespace

namespace internal {
std::string ReportJson(const Report& r) {
  json j = {{"dataset", r.dataset_root},      {"images", r.num_images},
            {"identities", r.num_identities}, {"pairs", r.num_pairs},
            {"command", r.command_line},      {"created_utc", r.created_utc},
            {"definitions", "docs/EVAL.md"}};
  j["options"] = {
      {"target_fars", r.options.target_fars},       {"target_fpirs", r.options.target_fpirs},
      {"recommend_fpir", r.options.recommend_fpir}, {"max_rank", r.options.max_rank},
      {"fnir_rank", r.options.fnir_rank},           {"group_far", r.options.group_far}};
  for (const SystemReport& s : r.systems) j["systems"].push_back(ToJson(s));
  return j.dump(2) + "\n";
}
}  // namespace internal

Status WriteReport(const Report& report, const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return IoError(out_dir + ": cannot create the report folder: " + ec.message());
  FT_RETURN_IF_ERROR(WriteText(out_dir + "/report.json", internal::ReportJson(report)));
  for (const char* name :
       {"lfw_folds", "operating_points", "roc", "cmc", "groups", "error_vs_discard", "ladder",
        "ladder_eye_distance", "ladder_quality_bins"}) {
    FT_RETURN_IF_ERROR(WriteText(out_dir + "/" + name + ".csv", CsvFiles(report, name)));
  }
  return WriteText(out_dir + "/report.html", internal::ReportHtml(report));
}

std::string TextSummary(const Report& r) {
  std::ostringstream o;
  o << "dataset " << r.dataset_root << ": " << r.num_images << " images, " << r.num_identities
    << " identities, " << r.num_pairs << " official pairs\n";
  for (const SystemReport& s : r.systems) {
    o << "\n" << s.name << "\n";
    if (s.num_images) {
      o << "  images without a face: " << s.num_images_without_face << " of " << s.num_images
        << " (" << internal::Percent(double(s.num_images_without_face) / double(s.num_images))
        << ")\n";
    }
    if (s.lfw) {
      o << "  LFW leave-one-fold-out accuracy (missing = error): " << internal::Percent(s.lfw->mean)
        << " ± " << internal::Percent(s.lfw->std_error) << " (" << s.lfw->num_correct << " of "
        << s.lfw->num_pairs << " pairs; " << s.lfw->num_missing << " without a score)\n";
    }
    if (s.fixed_threshold && s.pairs) {
      o << "  accuracy at its threshold " << internal::Number(*s.fixed_threshold)
        << " on scored pairs: " << internal::Percent(s.accuracy_scored_at_fixed) << " of "
        << s.pairs->num_genuine + s.pairs->num_impostor - s.pairs->num_genuine_missing -
               s.pairs->num_impostor_missing
        << "; AUC on scored pairs " << internal::Number(s.pairs->roc_scored.auc, 4) << "\n";
    }
    for (const auto& [label, v] :
         {std::pair{"official pairs", &s.pairs}, std::pair{"all pairs", &s.all_pairs}}) {
      if (!*v) continue;
      o << "  " << label << ": AUC " << internal::Number((*v)->roc.auc, 4) << ", EER "
        << internal::Percent((*v)->roc.eer);
      for (const OperatingPoint& p : (*v)->tar_at_far) {
        o << ", TAR@FAR=" << internal::Number(p.target) << " "
          << (p.resolved ? internal::Percent(p.hit) : std::string("n/a"));
      }
      o << "\n";
    }
    if (s.identification) {
      const IdentificationFigures& f = *s.identification;
      o << "  1:N (" << f.gallery_size << " enrolled, " << f.num_mated << " searches): rank-1 "
        << internal::Percent(f.cmc.empty() ? std::nan("") : f.cmc[0]) << ", rank-10 "
        << internal::Percent(f.cmc.size() >= 10 ? f.cmc[9] : std::nan(""));
      for (const IdentificationPoint& p : f.fnir_at_fpir) {
        o << ", FNIR@FPIR=" << internal::Number(p.point.target) << " "
          << (p.point.resolved ? internal::Percent(p.fnir) : std::string("n/a")) << " (T "
          << internal::Number(p.point.threshold, 4) << ")";
      }
      if (s.fixed_threshold) {
        o << "\n  at its threshold " << internal::Number(*s.fixed_threshold) << ": FPIR "
          << internal::Percent(f.fpir_at_fixed) << ", FNIR " << internal::Percent(f.fnir_at_fixed);
      }
      o << "\n  recommended threshold for FPIR <= " << internal::Number(r.options.recommend_fpir)
        << ": " << internal::Number(f.recommendation.point.threshold, 4) << " (FPIR "
        << internal::Percent(f.recommendation.point.rate) << ", FNIR "
        << internal::Percent(f.recommendation.fnir) << ")\n";
    }
    if (!s.ladder.empty()) {
      o << "  degraded probes (clean gallery): rung, probes with a face, median eye distance, "
           "rank-1, rank-10, FNIR@FPIR=0.01, FNIR at the clean threshold ("
        << internal::Number(s.ladder.front().clean_threshold, 4)
        << "), landmark NME, FNIR/FPIR at per-quality-bin thresholds\n";
    }
    for (const LadderFigures& f : s.ladder) {
      const IdentificationFigures& id = f.identification;
      double fnir1 = std::nan("");
      for (const IdentificationPoint& p : id.fnir_at_fpir) {
        if (p.point.target == 0.01) fnir1 = p.point.resolved ? p.fnir : std::nan("");
      }
      char line[256];
      std::snprintf(line, sizeof line, "    %-22s %5zu/%-5zu %6.1f px  %s  %s  %s  %s  %s  %s/%s\n",
                    f.rung.c_str(), f.probes_with_face, f.probes, f.median_eye_distance_px,
                    internal::Percent(id.cmc.empty() ? std::nan("") : id.cmc[0]).c_str(),
                    internal::Percent(id.cmc.size() >= 10 ? id.cmc[9] : std::nan("")).c_str(),
                    internal::Percent(fnir1).c_str(),
                    internal::Percent(f.fnir_at_clean_threshold).c_str(),
                    internal::Percent(f.landmark_nme_mean).c_str(),
                    internal::Percent(f.fnir_at_quality_bin_thresholds).c_str(),
                    internal::Percent(f.fpir_at_quality_bin_thresholds).c_str());
      o << line;
    }
    if (!s.ladder.empty() && r.options.gate) {
      o << "  quality gate per rung (eye distance >= "
        << internal::Number(r.options.gate->min_eye_distance_px)
        << " px, sharpness/detail >= " << internal::Number(r.options.gate->min_sharpness)
        << "): refused, FNIR of the rest at the clean threshold; of the rest with a stated "
           "expected FNIR: how many, their mean expected FNIR, their measured FNIR\n";
      for (const LadderFigures& f : s.ladder) {
        char line[256];
        std::snprintf(line, sizeof line,
                      "    %-22s refused %5zu/%-5zu  %s  stated %5zu/%-5zu  %s  %s\n",
                      f.rung.c_str(), f.gate_refused, f.probes,
                      internal::Percent(f.gate_fnir_passed).c_str(), f.gate_passed_with_expectation,
                      f.gate_passed_with_face, internal::Percent(f.gate_expected_fnir_mean).c_str(),
                      internal::Percent(f.gate_fnir_passed_with_expectation).c_str());
        o << line;
      }
    }
    for (const ErrorVsDiscard& e : s.ladder_error_vs_discard) {
      o << "  quality limit from the ladder: " << e.measure
        << " >= " << internal::Number(e.suggested_limit) << " (bands of " << e.band
        << " mated probes, FNIR above " << internal::Percent(e.max_fnir) << " unacceptable)\n";
    }
    if (!s.ladder_quality_bins.empty()) {
      // FNIR at the clean threshold per bin of effective eye distance (rows) × detail (columns).
      o << "  FNIR at the clean threshold by effective eye distance (rows, px) and detail "
           "(columns); (n) searches, '-' fewer than 30:\n  "
        << std::string(9, ' ');
      const std::vector<double>& de = QualityBinDetailEdges();
      for (double d : de) {
        char h[32];
        std::snprintf(h, sizeof h, " %13s", (">=" + internal::Number(d)).c_str());
        o << h;
      }
      o << '\n';
      for (size_t i = 0; i < s.ladder_quality_bins.size(); ++i) {
        const QualityBin& b = s.ladder_quality_bins[i];
        if (i % de.size() == 0) {
          char h[32];
          std::snprintf(h, sizeof h, "  >=%-6s", internal::Number(b.eye_lo).c_str());
          o << h;
        }
        char cell[48];
        std::snprintf(cell, sizeof cell, " %6s (%5zu)",
                      b.mated >= 30 ? internal::Percent(b.fnir).c_str() : "-", b.mated);
        o << cell << ((i + 1) % de.size() == 0 ? "\n" : "");
      }
    }
  }
  return o.str();
}

}  // namespace facetrail::eval
