// report.html: one self-contained page (inline CSS and SVG; no script, no external asset), so it
// can be archived, mailed and opened offline. Every table puts the systems side by side.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "eval/internal/report_format.h"
#include "eval/internal/svg_plot.h"

namespace facetrail::eval::internal {
namespace {

constexpr const char* kColors[] = {"#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400"};

std::string Color(size_t system) {
  return kColors[system % std::size(kColors)];
}

constexpr char kStyle[] = R"(
body{font-family:sans-serif;margin:24px auto;max-width:1120px;color:#222;line-height:1.4}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
h3{font-size:15px}table{border-collapse:collapse;margin:8px 0 16px}
td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
.note{font-size:12px;color:#555}.plots{display:flex;flex-wrap:wrap;gap:12px}
.na{color:#999}code{background:#f4f4f4;padding:0 3px}
)";

std::string Cell(const std::string& s) {
  return s == "n/a" ? "<td class=\"na\">n/a</td>" : "<td>" + HtmlEscape(s) + "</td>";
}

std::string PointCell(const OperatingPoint& p) {
  if (std::isnan(p.rate) || std::isnan(p.hit)) return Cell("n/a");
  if (!p.resolved) {
    return "<td class=\"na\" title=\"needs at least 1/target negatives\">not measurable</td>";
  }
  return "<td>" + Percent(p.hit) + "<br><span class=\"note\">at " + Number(p.threshold, 4) +
         ", achieved " + Number(p.rate, 3) + "</span></td>";
}

std::string FnirCell(const IdentificationPoint& p) {
  if (std::isnan(p.fnir) || std::isnan(p.point.rate)) return Cell("n/a");
  if (!p.point.resolved) return "<td class=\"na\">not measurable</td>";
  return "<td>" + Percent(p.fnir) + "<br><span class=\"note\">T " + Number(p.point.threshold, 4) +
         ", FPIR " + Number(p.point.rate, 3) + "</span></td>";
}

std::string Header(const Report& r, const std::string& first) {
  std::string h = "<tr><th>" + HtmlEscape(first) + "</th>";
  for (const SystemReport& s : r.systems) h += "<th>" + HtmlEscape(s.name) + "</th>";
  return h + "</tr>";
}

// A table row with one cell per system.
template <typename F>
std::string Row(const Report& r, const std::string& label, F cell) {
  std::string row = "<tr><td>" + label + "</td>";
  for (const SystemReport& s : r.systems) row += cell(s);
  return row + "</tr>";
}

// Marks a summary cell that falls back to the official pairs (no per-image results).
std::string OfficialOnly() {
  return "<br><span class=\"note\">official pairs only</span>";
}

const VerificationFigures* MainVerification(const SystemReport& s) {
  return s.all_pairs ? &*s.all_pairs : (s.pairs ? &*s.pairs : nullptr);
}

void Summary(std::ostringstream& o, const Report& r) {
  o << "<h2>Summary</h2><table>" << Header(r, "figure");
  o << Row(r, "images without a face", [](const SystemReport& s) {
    return s.num_images ? Cell(std::to_string(s.num_images_without_face) + " of " +
                               std::to_string(s.num_images))
                        : Cell("n/a");
  });
  o << Row(r,
           "LFW accuracy, leave-one-fold-out<br><span class=\"note\">all pairs; missing = error; "
           "mean ± standard error over folds</span>",
           [](const SystemReport& s) {
             return s.lfw ? Cell(Percent(s.lfw->mean) + " ± " + Percent(s.lfw->std_error))
                          : Cell("n/a");
           });
  o << Row(r,
           "accuracy at the system's own threshold<br><span class=\"note\">scored pairs only, "
           "as run.mjs prints it</span>",
           [](const SystemReport& s) {
             return s.fixed_threshold && s.pairs ? Cell(Percent(s.accuracy_scored_at_fixed) +
                                                        " at " + Number(*s.fixed_threshold))
                                                 : Cell("n/a");
           });
  o << Row(r, "ROC AUC (official pairs, scored / all)", [](const SystemReport& s) {
    return s.pairs ? Cell(Number(s.pairs->roc_scored.auc, 4) + " / " + Number(s.pairs->roc.auc, 4))
                   : Cell("n/a");
  });
  for (size_t k = 0; k < r.options.target_fars.size(); ++k) {
    o << Row(r,
             "TAR at FAR = " + Number(r.options.target_fars[k]) +
                 "<br><span class=\"note\">all pairs of images when known</span>",
             [k](const SystemReport& s) {
               const VerificationFigures* v = MainVerification(s);
               if (!v) return Cell("n/a");
               std::string cell = PointCell(v->tar_at_far[k]);
               if (!s.all_pairs) cell.insert(cell.size() - 5, OfficialOnly());
               return cell;
             });
  }
  o << Row(r, "EER (all pairs when known)", [](const SystemReport& s) {
    const VerificationFigures* v = MainVerification(s);
    if (!v) return Cell("n/a");
    return "<td>" + Percent(v->roc.eer) + (s.all_pairs ? "" : OfficialOnly()) + "</td>";
  });
  o << Row(r, "1:N rank-1 / rank-10", [](const SystemReport& s) {
    if (!s.identification || s.identification->cmc.size() < 10) return Cell("n/a");
    return Cell(Percent(s.identification->cmc[0]) + " / " + Percent(s.identification->cmc[9]));
  });
  for (size_t k = 0; k < r.options.target_fpirs.size(); ++k) {
    o << Row(r, "FNIR at FPIR = " + Number(r.options.target_fpirs[k]), [k](const SystemReport& s) {
      return s.identification ? FnirCell(s.identification->fnir_at_fpir[k]) : Cell("n/a");
    });
  }
  o << "</table>";
}

void Verification(std::ostringstream& o, const Report& r) {
  o << "<h2>Verification (1:1)</h2>";
  const bool any_lfw = std::any_of(r.systems.begin(), r.systems.end(),
                                   [](const SystemReport& s) { return s.lfw.has_value(); });
  if (any_lfw) {
    o << "<h3>Official pairs, leave-one-fold-out (LFW View 2 protocol)</h3>"
      << "<p class=\"note\">Each fold's threshold is the most accurate one on the other folds; a "
         "pair with a missed face is an error.</p><table>"
      << Header(r, "fold");
    std::vector<int> folds;
    for (const SystemReport& s : r.systems) {
      if (s.lfw && folds.empty()) {
        for (const FoldAccuracy& f : s.lfw->folds) folds.push_back(f.fold);
      }
    }
    for (size_t k = 0; k < folds.size(); ++k) {
      o << Row(r, "fold " + std::to_string(folds[k]), [k](const SystemReport& s) {
        if (!s.lfw || k >= s.lfw->folds.size()) return Cell("n/a");
        const FoldAccuracy& f = s.lfw->folds[k];
        return "<td>" + Percent(f.accuracy) + "<br><span class=\"note\">T " +
               Number(f.threshold, 4) + ", " + std::to_string(f.num_missing) + " of " +
               std::to_string(f.num_pairs) + " missing</span></td>";
      });
    }
    o << Row(r, "<b>mean ± SE</b>", [](const SystemReport& s) {
      return s.lfw ? Cell(Percent(s.lfw->mean) + " ± " + Percent(s.lfw->std_error) + " (sd " +
                          Percent(s.lfw->std_dev) + ")")
                   : Cell("n/a");
    });
    o << "</table>";
  }
  for (const auto& [title, member] : {std::pair{"Official pairs", &SystemReport::pairs},
                                      std::pair{"All pairs of images", &SystemReport::all_pairs}}) {
    const bool any =
        std::any_of(r.systems.begin(), r.systems.end(),
                    [m = member](const SystemReport& s) { return (s.*m).has_value(); });
    if (!any) continue;
    o << "<h3>" << title << "</h3><table>" << Header(r, "figure");
    o << Row(r, "genuine / impostor comparisons", [m = member](const SystemReport& s) {
      const auto& v = s.*m;
      return v ? Cell(std::to_string(v->num_genuine) + " / " + std::to_string(v->num_impostor))
               : Cell("n/a");
    });
    o << Row(r, "without a score (missed face)", [m = member](const SystemReport& s) {
      const auto& v = s.*m;
      return v ? Cell(std::to_string(v->num_genuine_missing) + " / " +
                      std::to_string(v->num_impostor_missing))
               : Cell("n/a");
    });
    o << Row(r, "mean score genuine / impostor", [m = member](const SystemReport& s) {
      const auto& v = s.*m;
      return v ? Cell(Number(v->genuine_summary.mean, 4) + " / " +
                      Number(v->impostor_summary.mean, 4))
               : Cell("n/a");
    });
    o << Row(r, "AUC (missing as −∞) / scored only", [m = member](const SystemReport& s) {
      const auto& v = s.*m;
      return v ? Cell(Number(v->roc.auc, 4) + " / " + Number(v->roc_scored.auc, 4)) : Cell("n/a");
    });
    o << Row(r, "EER / scored only", [m = member](const SystemReport& s) {
      const auto& v = s.*m;
      return v ? Cell(Percent(v->roc.eer) + " / " + Percent(v->roc_scored.eer)) : Cell("n/a");
    });
    for (size_t k = 0; k < r.options.target_fars.size(); ++k) {
      o << Row(r, "TAR at FAR = " + Number(r.options.target_fars[k]),
               [k, m = member](const SystemReport& s) {
                 const auto& v = s.*m;
                 return v ? PointCell(v->tar_at_far[k]) : Cell("n/a");
               });
    }
    o << "</table>";
  }
}

std::vector<double> PowersOfTen(double lo, double hi) {
  std::vector<double> t;
  const int first = static_cast<int>(std::ceil(std::log10(lo)));
  const int last = static_cast<int>(std::floor(std::log10(hi) + 1e-9));
  for (int e = first; e <= last; ++e) t.push_back(std::pow(10.0, e));
  return t;
}

void VerificationPlots(std::ostringstream& o, const Report& r) {
  size_t max_impostors = 1;
  for (const SystemReport& s : r.systems) {
    if (const VerificationFigures* v = MainVerification(s)) {
      max_impostors = std::max(max_impostors, v->num_impostor);
    }
  }
  const double far_min = std::max(
      1e-7, std::pow(10, std::floor(std::log10(1.0 / static_cast<double>(max_impostors)))));
  std::vector<Series> roc, det;
  for (size_t k = 0; k < r.systems.size(); ++k) {
    const SystemReport& s = r.systems[k];
    for (const auto& [suffix, v, dashed] : {std::tuple{" (all pairs)", &s.all_pairs, false},
                                            std::tuple{" (official pairs)", &s.pairs, true}}) {
      if (!*v) continue;
      Series a{s.name + suffix, Color(k), dashed, {}};
      Series b = a;
      for (const RocPoint& p : (*v)->roc.points) {
        a.points.emplace_back(p.far, p.tar);
        b.points.emplace_back(p.far, 1 - p.tar);
      }
      roc.push_back(std::move(a));
      det.push_back(std::move(b));
    }
  }
  if (roc.empty()) return;
  Axis far_axis{"false accept rate (FAR, log scale)",
                far_min,
                1,
                AxisScale::kLog10,
                PowersOfTen(far_min, 1),
                {}};
  Axis tar_axis{"true accept rate (TAR)", 0, 1, AxisScale::kLinear, {0, 0.2, 0.4, 0.6, 0.8, 1}, {}};
  const std::vector<double> det_ticks = {1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5};
  Axis det_x{"false match rate (FMR, normal deviate scale)",
             std::max(far_min, 1e-5),
             0.5,
             AxisScale::kProbit,
             {},
             [](double v) { return Percent(v, v < 0.01 ? 3 : 0); }};
  Axis det_y{"false non-match rate (FNMR)", 1e-3, 0.5, AxisScale::kProbit, {}, [](double v) {
               return Percent(v, v < 0.01 ? 1 : 0);
             }};
  for (double t : det_ticks) {
    if (t >= det_x.min) det_x.ticks.push_back(t);
    if (t >= det_y.min) det_y.ticks.push_back(t);
  }
  o << "<div class=\"plots\">" << LinePlot("ROC", far_axis, tar_axis, roc)
    << LinePlot("DET", det_x, det_y, det) << "</div>";
}

void Identification(std::ostringstream& o, const Report& r) {
  const bool any = std::any_of(r.systems.begin(), r.systems.end(),
                               [](const SystemReport& s) { return s.identification.has_value(); });
  if (!any) return;
  o << "<h2>Identification (1:N)</h2><p class=\"note\">Gallery: each identity's first image (all "
       "identities, so single-image identities are distractors). Mated searches: every other "
       "image. Non-mated searches: the same probes with their own mate left out of the gallery. "
       "FNIR counts a mate that is not the top candidate at or above the threshold (R = "
    << r.options.fnir_rank << ").</p><table>" << Header(r, "figure");
  o << Row(r, "gallery (without a template)", [](const SystemReport& s) {
    return s.identification ? Cell(std::to_string(s.identification->gallery_size) + " (" +
                                   std::to_string(s.identification->gallery_without_template) + ")")
                            : Cell("n/a");
  });
  o << Row(r, "mated / non-mated searches (probes without a face)", [](const SystemReport& s) {
    if (!s.identification) return Cell("n/a");
    const IdentificationFigures& f = *s.identification;
    return Cell(std::to_string(f.num_mated) + " / " + std::to_string(f.num_non_mated) + " (" +
                std::to_string(f.probes_without_template) + ")");
  });
  for (int rank : {1, 5, 10, 20, 50}) {
    o << Row(r, "rank-" + std::to_string(rank), [rank](const SystemReport& s) {
      if (!s.identification || s.identification->cmc.size() < size_t(rank)) return Cell("n/a");
      return Cell(Percent(s.identification->cmc[size_t(rank - 1)]));
    });
  }
  for (size_t k = 0; k < r.options.target_fpirs.size(); ++k) {
    o << Row(r, "FNIR at FPIR = " + Number(r.options.target_fpirs[k]), [k](const SystemReport& s) {
      return s.identification ? FnirCell(s.identification->fnir_at_fpir[k]) : Cell("n/a");
    });
  }
  o << Row(r, "FPIR / FNIR at the system's own threshold", [](const SystemReport& s) {
    if (!s.identification || !s.fixed_threshold) return Cell("n/a");
    return "<td>" + Percent(s.identification->fpir_at_fixed) + " / " +
           Percent(s.identification->fnir_at_fixed) + "<br><span class=\"note\">at " +
           Number(*s.fixed_threshold) + "</span></td>";
  });
  o << "</table>";
  o << "<h3>Threshold recommendation</h3><p>For a target FPIR of at most "
    << Number(r.options.recommend_fpir)
    << " (the share of searches for someone not enrolled that return any candidate):</p><table>"
    << Header(r, "figure");
  o << Row(r, "recommended threshold", [](const SystemReport& s) {
    return s.identification ? Cell(Number(s.identification->recommendation.point.threshold, 5))
                            : Cell("n/a");
  });
  o << Row(r, "FPIR achieved", [](const SystemReport& s) {
    return s.identification ? Cell(Percent(s.identification->recommendation.point.rate))
                            : Cell("n/a");
  });
  o << Row(r, "cost: FNIR (mate missed or below the threshold)", [](const SystemReport& s) {
    return s.identification ? Cell(Percent(s.identification->recommendation.fnir)) : Cell("n/a");
  });
  o << "</table>";
  std::vector<Series> cmc;
  double lowest = 1;
  int max_rank = 1;
  for (size_t k = 0; k < r.systems.size(); ++k) {
    const SystemReport& s = r.systems[k];
    if (!s.identification) continue;
    Series c{s.name, Color(k), false, {}};
    for (size_t i = 0; i < s.identification->cmc.size(); ++i) {
      if (std::isnan(s.identification->cmc[i])) continue;
      c.points.emplace_back(double(i + 1), s.identification->cmc[i]);
      lowest = std::min(lowest, s.identification->cmc[i]);
    }
    max_rank = std::max(max_rank, int(s.identification->cmc.size()));
    cmc.push_back(std::move(c));
  }
  const double y_min = std::max(0.0, std::floor(lowest * 10 - 0.5) / 10);
  std::vector<double> y_ticks;
  const double y_step = 1 - y_min <= 0.3 ? 0.05 : (1 - y_min <= 0.6 ? 0.1 : 0.2);
  for (int k = 0; 1 - k * y_step >= y_min - 1e-9; ++k) y_ticks.push_back(1 - k * y_step);
  std::vector<double> x_ticks = {1};
  for (int t = 5; t <= max_rank; t += 5) x_ticks.push_back(t);
  Axis rank_axis{"rank", 1, double(std::max(2, max_rank)), AxisScale::kLinear, x_ticks, {}};
  Axis rate_axis{"identification rate", y_min,   1,
                 AxisScale::kLinear,    y_ticks, [](double v) { return Percent(v, 0); }};
  o << "<div class=\"plots\">" << LinePlot("CMC", rank_axis, rate_axis, cmc) << "</div>";
}

// Error versus discard (quality): FNIR as the lowest-quality probes are discarded, per figure,
// and what the configured quality gate refuses and buys.
void ErrorVsDiscardSection(std::ostringstream& o, const Report& r) {
  const bool any = std::any_of(r.systems.begin(), r.systems.end(), [](const SystemReport& s) {
    return s.identification && !s.identification->error_vs_discard.empty();
  });
  if (!any) return;
  o << "<h2>Error versus discard (probe quality)</h2><p class=\"note\">Probes sorted by one "
       "quality figure; the lowest fraction is discarded (as a quality gate would refuse them) "
       "and FNIR is measured on the rest at each system's recommended threshold. A curve that "
       "falls steeply means the figure predicts failures and a gate on it pays; a flat curve "
       "means refusals cost searches and buy nothing. The suggested limit is just above the "
       "highest band of probes whose FNIR exceeds the stated maximum (docs/EVAL.md).</p>";
  std::vector<std::string> measures = {"eye_distance_px", "sharpness"};
  o << "<div class=\"plots\">";
  for (const std::string& m : measures) {
    std::vector<Series> series;
    double top = 0.05;
    for (size_t k = 0; k < r.systems.size(); ++k) {
      const SystemReport& s = r.systems[k];
      if (!s.identification) continue;
      for (const ErrorVsDiscard& e : s.identification->error_vs_discard) {
        if (e.measure != m) continue;
        Series c{s.name, Color(k), false, {}};
        for (const DiscardPoint& p : e.points) {
          if (std::isnan(p.fnir)) continue;
          c.points.emplace_back(p.fraction, p.fnir);
          top = std::max(top, p.fnir);
        }
        series.push_back(std::move(c));
      }
    }
    const double y_max = std::min(1.0, std::ceil(top * 10 + 0.5) / 10);
    std::vector<double> y_ticks;
    for (int k = 0; k <= 5; ++k) y_ticks.push_back(y_max * k / 5);
    Axis x{"fraction of probes discarded (lowest " + m + ")",
           0,
           0.5,
           AxisScale::kLinear,
           {0, 0.1, 0.2, 0.3, 0.4, 0.5},
           [](double v) { return Percent(v, 0); }};
    Axis y{"FNIR", 0, y_max, AxisScale::kLinear, y_ticks, [](double v) { return Percent(v, 0); }};
    o << LinePlot("Error versus discard: " + m, x, y, series);
  }
  o << "</div><table>" << Header(r, "figure");
  for (const std::string& m : measures) {
    o << Row(r, "suggested limit: " + m, [&m](const SystemReport& s) {
      if (!s.identification) return Cell("n/a");
      for (const ErrorVsDiscard& e : s.identification->error_vs_discard) {
        if (e.measure != m) continue;
        return "<td>" + Number(e.suggested_limit) + "<br><span class=\"note\">bands of " +
               std::to_string(e.band) + " mated probes, max FNIR " + Percent(e.max_fnir) +
               ", worst band " + Percent(e.worst_band_fnir) + "</span></td>";
      }
      return Cell("n/a");
    });
  }
  o << Row(r, "quality gate: probes refused", [](const SystemReport& s) {
    if (!s.identification || !s.identification->gate) return Cell("n/a");
    const GateEffect& g = *s.identification->gate;
    return "<td>" + std::to_string(g.refused) + " of " + std::to_string(g.probes) + " (" +
           Percent(g.probes ? double(g.refused) / double(g.probes) : 0) +
           ")<br><span class=\"note\">eye distance &ge; " + Number(g.gate.min_eye_distance_px) +
           " px, sharpness &ge; " + Number(g.gate.min_sharpness) + "</span></td>";
  });
  o << Row(r, "FNIR without / with the gate", [](const SystemReport& s) {
    if (!s.identification || !s.identification->gate) return Cell("n/a");
    const GateEffect& g = *s.identification->gate;
    return Cell(Percent(g.fnir_all) + " / " + Percent(g.fnir_passed));
  });
  o << Row(r, "FPIR without / with the gate", [](const SystemReport& s) {
    if (!s.identification || !s.identification->gate) return Cell("n/a");
    const GateEffect& g = *s.identification->gate;
    return Cell(Percent(g.fpir_all) + " / " + Percent(g.fpir_passed));
  });
  o << "</table>";
}

// The degradation ladder: probes degraded rung by rung against the clean gallery, and the mated
// searches of every rung by the probe's eye distance.
void LadderSection(std::ostringstream& o, const Report& r) {
  const bool any = std::any_of(r.systems.begin(), r.systems.end(),
                               [](const SystemReport& s) { return !s.ladder.empty(); });
  if (!any) return;
  o << "<h2>Degraded probes (the degradation ladder)</h2><p class=\"note\">Every probe image "
       "degraded as a security-camera still is (downscaled by area averaging, Gaussian blur, "
       "JPEG round trip; docs/EVAL.md), searched against the untouched gallery. Rank-1/10 and "
       "FNIR at FPIR = 1 % use each rung's own threshold; FNIR/FPIR at the clean threshold is "
       "what a deployment calibrated on good probes sees. Landmark NME: mean landmark distance "
       "to the same face's landmarks in the clean image, over its outer-eye-corner distance.</p>";
  for (const SystemReport& s : r.systems) {
    if (s.ladder.empty()) continue;
    o << "<h3>" << HtmlEscape(s.name)
      << "</h3><table><tr><th>rung</th><th>probes with a "
         "face</th><th>median eye distance</th><th>rank-1</th><th>rank-10</th><th>FNIR @ FPIR "
         "1 %</th><th>FNIR / FPIR at the clean threshold "
      << Number(s.ladder.front().clean_threshold)
      << "</th><th>landmark NME mean / median "
         "(&gt; 10 %)</th><th>quality gate: refused / FNIR of the rest</th></tr>";
    for (const LadderFigures& f : s.ladder) {
      const IdentificationFigures& id = f.identification;
      std::string fnir1 = "n/a";
      for (const IdentificationPoint& p : id.fnir_at_fpir) {
        if (p.point.target == 0.01 && p.point.resolved) fnir1 = Percent(p.fnir);
      }
      o << "<tr><td>" << HtmlEscape(f.rung) << "</td><td>" << f.probes_with_face << " of "
        << f.probes << "</td><td>" << Number(f.median_eye_distance_px, 3) << " px</td><td>"
        << Percent(id.cmc.empty() ? std::nan("") : id.cmc[0]) << "</td><td>"
        << Percent(id.cmc.size() >= 10 ? id.cmc[9] : std::nan("")) << "</td><td>" << fnir1
        << "</td><td>" << Percent(f.fnir_at_clean_threshold) << " / "
        << Percent(f.fpir_at_clean_threshold) << "</td><td>" << Percent(f.landmark_nme_mean)
        << " / " << Percent(f.landmark_nme_median) << " (" << Percent(f.landmark_failure_rate)
        << ")</td><td>";
      if (r.options.gate) {
        o << f.gate_refused << " / " << Percent(f.gate_fnir_passed);
        if (f.gate_passed_with_expectation > 0) {
          o << "<br><span class=\"note\">expected FNIR stated for "
            << f.gate_passed_with_expectation << " of " << f.gate_passed_with_face << ": mean "
            << Percent(f.gate_expected_fnir_mean) << ", measured "
            << Percent(f.gate_fnir_passed_with_expectation) << "</span>";
        }
      } else {
        o << "n/a";
      }
      o << "</td></tr>";
    }
    o << "</table>";
    for (const ErrorVsDiscard& e : s.ladder_error_vs_discard) {
      o << "<p>Quality limit the ladder supports: <b>" << HtmlEscape(e.measure) << " &ge; "
        << Number(e.suggested_limit) << "</b> <span class=\"note\">(every rung's probes "
        << "together, bands of " << e.band << " mated probes; a band is unacceptable above FNIR "
        << Percent(e.max_fnir) << ", twice the clean FNIR + 5 points; worst band "
        << Percent(e.worst_band_fnir) << ")</span></p>";
    }
    if (!s.ladder_quality_bins.empty()) {
      const std::vector<double>& de = QualityBinDetailEdges();
      o << "<p>Mated searches of every rung by the probe's blur-aware figures: FNIR at the clean "
           "threshold (searches); rows effective eye distance (px), columns detail.</p>"
           "<table><tr><th>effective eye distance</th>";
      for (double d : de) o << "<th>detail &ge; " << Number(d) << "</th>";
      o << "</tr>";
      for (size_t i = 0; i < s.ladder_quality_bins.size(); ++i) {
        const QualityBin& b = s.ladder_quality_bins[i];
        if (i % de.size() == 0) o << "<tr><th>&ge; " << Number(b.eye_lo) << " px</th>";
        o << "<td>" << (b.mated >= 30 ? Percent(b.fnir) : std::string("&ndash;")) << " (" << b.mated
          << ")</td>" << ((i + 1) % de.size() == 0 ? "</tr>" : "");
      }
      o << "</table>";
    }
  }
  std::vector<Series> series;
  for (size_t k = 0; k < r.systems.size(); ++k) {
    const SystemReport& s = r.systems[k];
    Series rank1{s.name + ": rank-1", Color(k), false, {}};
    Series fnir{s.name + ": FNIR at the clean threshold", Color(k), true, {}};
    for (const EyeDistanceBin& b : s.ladder_by_eye_distance) {
      const double mid = std::isinf(b.hi) ? b.lo + 10 : (b.lo + b.hi) / 2;
      rank1.points.emplace_back(mid, b.rank1);
      fnir.points.emplace_back(mid, b.fnir);
    }
    if (!rank1.points.empty()) {
      series.push_back(std::move(rank1));
      series.push_back(std::move(fnir));
    }
  }
  Axis x{"probe eye distance (px, bin middle)", 0,      70, AxisScale::kLinear,
         {0, 10, 20, 30, 40, 50, 60, 70},       nullptr};
  Axis y{"rate", 0, 1, AxisScale::kLinear, {0, 0.2, 0.4, 0.6, 0.8, 1}, [](double v) {
           return Percent(v, 0);
         }};
  o << "<div class=\"plots\">"
    << LinePlot("Mated searches of every rung by eye distance", x, y, series) << "</div>";
}

std::vector<double> Shares(const std::vector<size_t>& counts) {
  double total = 0;
  for (size_t c : counts) total += double(c);
  std::vector<double> out;
  out.reserve(counts.size());
  for (size_t c : counts) out.push_back(total > 0 ? double(c) / total : 0);
  return out;
}

void Histograms(std::ostringstream& o, const Report& r) {
  o << "<h2>Score distributions</h2><div class=\"plots\">";
  for (size_t k = 0; k < r.systems.size(); ++k) {
    const SystemReport& s = r.systems[k];
    if (const VerificationFigures* v = MainVerification(s)) {
      std::vector<Marker> markers;
      if (s.fixed_threshold) markers.push_back({*s.fixed_threshold, "own threshold", "#555"});
      markers.push_back(
          {v->tar_at_far.size() > 1 ? v->tar_at_far[1].threshold : s.global_threshold,
           "FAR " + Number(r.options.target_fars.size() > 1 ? r.options.target_fars[1] : 0),
           "#000"});
      o << HistogramPlot(s.name + ": 1:1 " + (s.all_pairs ? "all pairs" : "official pairs"),
                         "score", v->histogram.lo, v->histogram.hi,
                         {{"genuine", "#2e8b57", Shares(v->histogram.positive)},
                          {"impostor", "#c0392b", Shares(v->histogram.negative)}},
                         markers);
    }
    if (s.identification) {
      const IdentificationFigures& f = *s.identification;
      o << HistogramPlot(s.name + ": 1:N", "score", f.histogram.lo, f.histogram.hi,
                         {{"mate score", "#2e8b57", Shares(f.histogram.positive)},
                          {"non-mated top score", "#c0392b", Shares(f.histogram.negative)}},
                         {{f.recommendation.point.threshold, "recommended", "#000"}});
    }
  }
  o << "</div>";
}

void Groups(std::ostringstream& o, const Report& r) {
  const bool any = std::any_of(r.systems.begin(), r.systems.end(),
                               [](const SystemReport& s) { return !s.groups.empty(); });
  if (!any) return;
  o << "<h2>Per group</h2><p class=\"note\">Comparisons and searches within each group. The "
       "global threshold is the all-pairs threshold at FAR = "
    << Number(r.options.group_far)
    << " (1:1) and the recommended threshold (1:N); a group whose FMR or FPIR there is well "
       "above the others' is treated worse. Empty groups show n/a.</p>";
  for (const SystemReport& s : r.systems) {
    if (s.groups.empty()) continue;
    o << "<h3>" << HtmlEscape(s.name) << " (1:1 threshold " << Number(s.global_threshold, 4)
      << ")</h3><table><tr><th>group</th><th>images</th><th>genuine / impostor</th><th>FMR at "
         "global</th><th>FNMR at global</th><th>EER</th><th>TAR at FAR "
      << Number(r.options.group_far)
      << " (own threshold)</th><th>mated searches</th><th>rank-1</th><th>FPIR at "
         "global</th><th>FNIR at global</th></tr>";
    for (const GroupFigures& g : s.groups) {
      o << "<tr><td>" << HtmlEscape(g.column) << " = " << HtmlEscape(g.value) << "</td>"
        << Cell(std::to_string(g.num_images));
      if (g.verification) {
        const VerificationFigures& v = *g.verification;
        const auto own =
            std::find_if(v.tar_at_far.begin(), v.tar_at_far.end(),
                         [&r](const OperatingPoint& p) { return p.target == r.options.group_far; });
        o << Cell(std::to_string(v.num_genuine) + " / " + std::to_string(v.num_impostor))
          << Cell(Percent(g.at_global_threshold.fmr, 3))
          << Cell(Percent(g.at_global_threshold.fnmr)) << Cell(Percent(v.roc.eer))
          << (own != v.tar_at_far.end() ? PointCell(*own) : Cell("n/a"));
      } else {
        o << Cell("n/a") << Cell("n/a") << Cell("n/a") << Cell("n/a") << Cell("n/a");
      }
      if (g.identification) {
        o << Cell(std::to_string(g.identification->num_mated))
          << Cell(Percent(g.identification->cmc.empty() ? std::nan("") : g.identification->cmc[0]))
          << Cell(Percent(g.fpir_at_global, 3)) << Cell(Percent(g.fnir_at_global));
      } else {
        o << Cell("n/a") << Cell("n/a") << Cell("n/a") << Cell("n/a");
      }
      o << "</tr>";
    }
    o << "</table>";
  }
}

void Definitions(std::ostringstream& o) {
  o << "<h2>Definitions</h2><ul class=\"note\">"
       "<li>Scores: higher = more alike. facetrail: cosine similarity of unit templates. "
       "face-api.js: −Euclidean distance of its descriptors (its threshold 0.6 reads −0.6). A "
       "comparison matches when score ≥ threshold.</li>"
       "<li>A missing score (no face found) is never a match: a false non-match for genuine "
       "pairs and mated searches, a correct rejection for impostor pairs and non-mated "
       "searches. In the LFW protocol a pair with a missing score is an error either way.</li>"
       "<li>TAR at FAR = x: the lowest threshold whose FAR ≤ x; tied impostor scores are never "
       "split, so the achieved FAR can be lower. When x × impostors &lt; 1 the data cannot "
       "measure it: “not measurable”.</li>"
       "<li>FNIR and FPIR follow NIST FRTE 1:N; the FNIR at an FPIR uses the same threshold "
       "rule.</li>"
       "<li>Full definitions and protocol choices: docs/EVAL.md in the facetrail source.</li>"
       "</ul>";
}

}  // namespace

std::string ReportHtml(const Report& r) {
  std::ostringstream o;
  o << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>facetrail "
       "accuracy report</title><style>"
    << kStyle << "</style></head><body><h1>facetrail accuracy report</h1>";
  o << "<p>Data: <code>" << HtmlEscape(r.dataset_root) << "</code> — " << r.num_images
    << " images, " << r.num_identities << " identities, " << r.num_pairs
    << " official pairs.<br>Systems: ";
  for (size_t k = 0; k < r.systems.size(); ++k) {
    o << (k ? "; " : "") << "<b style=\"color:" << Color(k) << "\">"
      << HtmlEscape(r.systems[k].name) << "</b> (" << HtmlEscape(r.systems[k].description) << ")";
  }
  o << ".<br><span class=\"note\">Created " << HtmlEscape(r.created_utc) << " by <code>"
    << HtmlEscape(r.command_line) << "</code></span></p>";
  Summary(o, r);
  Verification(o, r);
  VerificationPlots(o, r);
  Identification(o, r);
  ErrorVsDiscardSection(o, r);
  LadderSection(o, r);
  Groups(o, r);
  Histograms(o, r);
  Definitions(o);
  o << "</body></html>\n";
  return o.str();
}

}  // namespace facetrail::eval::internal
