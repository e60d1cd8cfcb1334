#include "service/search_response_json.h"

#include <cmath>
#include <limits>

namespace facetrail::service {

namespace {

nlohmann::json Upper(double hi) {
  return std::isinf(hi) ? nlohmann::json(nullptr) : nlohmann::json(hi);
}
double UpperOf(const nlohmann::json& j) {
  return j.is_null() ? std::numeric_limits<double>::infinity() : j.get<double>();
}

}  // namespace

nlohmann::json StepsJson(const std::vector<ProcessingStep>& steps) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : steps) {
    out.push_back({{"kind", s.kind},
                   {"params", nlohmann::json::parse(s.params, nullptr, false)},
                   {"why", s.why.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.why)},
                   {"enhancement", s.enhancement}});
  }
  return out;
}

nlohmann::json ProbeExpectationJson(const std::optional<ProbeExpectation>& expectation) {
  if (!expectation) return nullptr;
  const ProbeExpectation& e = *expectation;
  nlohmann::json out = {
      {"model", e.model},
      {"fnir", e.fnir ? nlohmann::json(*e.fnir) : nlohmann::json(nullptr)},
      {"note", e.note},
      {"searches_measured", e.searches_measured},
      {"threshold", e.threshold},
      {"bin",
       {{"effective_eye_distance_px", {e.eye_lo, Upper(e.eye_hi)}},
        {"detail", {e.detail_lo, Upper(e.detail_hi)}}}},
      {"probe", {{"effective_eye_distance_px", e.effective_eye_distance_px}, {"detail", e.detail}}},
      {"source", e.source}};
  return out;
}

std::string ProbeExpectationText(const std::optional<ProbeExpectation>& expectation) {
  if (!expectation) return "expected FNIR: not recorded (request made before it was recorded)";
  const ProbeExpectation& e = *expectation;
  char figures[160];
  std::snprintf(figures, sizeof figures, "probe: effective eye distance %.1f px, detail %.2f",
                e.effective_eye_distance_px, e.detail);
  if (!e.fnir) return "expected FNIR: not stated: " + e.note + " (" + figures + ")";
  const auto edge = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return std::isinf(v) ? std::string("inf") : std::string(b);
  };
  char line[512];
  std::snprintf(line, sizeof line,
                "expected FNIR %.1f %% at score %.4f: the share of searches with a probe of this "
                "quality whose mate was not listed first, for the worst degradation measured so "
                "(%s; bin %s-%s px x detail %s-%s, %lld searches measured on the degradation "
                "ladder)",
                *e.fnir * 100, e.threshold, figures, edge(e.eye_lo).c_str(), edge(e.eye_hi).c_str(),
                edge(e.detail_lo).c_str(), edge(e.detail_hi).c_str(),
                static_cast<long long>(e.searches_measured));
  return line;
}

Expected<std::optional<ProbeExpectation>> ParseProbeExpectation(
    const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::optional<ProbeExpectation>();
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  try {
    if (!j.is_object()) throw nlohmann::json::type_error::create(302, "not an object", nullptr);
    ProbeExpectation e;
    e.model = j.at("model").get<std::string>();
    if (!j.at("fnir").is_null()) e.fnir = j.at("fnir").get<double>();
    e.note = j.at("note").get<std::string>();
    e.searches_measured = j.at("searches_measured").get<int64_t>();
    e.threshold = j.at("threshold").get<double>();
    const nlohmann::json& bin = j.at("bin");
    e.eye_lo = bin.at("effective_eye_distance_px").at(0).get<double>();
    e.eye_hi = UpperOf(bin.at("effective_eye_distance_px").at(1));
    e.detail_lo = bin.at("detail").at(0).get<double>();
    e.detail_hi = UpperOf(bin.at("detail").at(1));
    const nlohmann::json& probe = j.at("probe");
    // NaN figures were written as null.
    const auto num = [](const nlohmann::json& v) {
      return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
    };
    e.effective_eye_distance_px = num(probe.at("effective_eye_distance_px"));
    e.detail = num(probe.at("detail"));
    e.source = j.at("source").get<std::string>();
    return std::optional<ProbeExpectation>(std::move(e));
  } catch (const nlohmann::json::exception& ex) {
    return DataLoss(std::string("the stored expected FNIR is damaged: ") + ex.what());
  }
}

nlohmann::json CandidatePolicyJson(const CandidateList& list) {
  return {{"threshold", list.threshold},
          {"threshold_source", list.threshold_source},
          {"max_list_length", list.max_list_length},
          {"model", {{"id", list.model.id}, {"version", list.model.version}}}};
}

nlohmann::json ProbeViewJson(const ProbeView& v) {
  nlohmann::json out = {{"request_id", v.request_id},
                        {"case", v.case_number},
                        {"probe_sha256", v.sha256},
                        {"format", v.format},
                        {"content_type", v.content_type},
                        {"size_bytes", v.bytes.size()},
                        {"steps", StepsJson(v.steps)},
                        {"quality_override", nullptr},
                        {"expected_fnir", ProbeExpectationJson(v.expected_fnir)}};
  if (v.quality_override) {
    const ProbeOverrideInfo& o = *v.quality_override;
    out["quality_override"] = {{"id", o.id},
                               {"supervisor", o.supervisor},
                               {"reason", o.reason},
                               {"created_at", o.created_at}};
  }
  return out;
}

nlohmann::json SearchResponseJson(const SearchResponse& r) {
  nlohmann::json candidates = nlohmann::json::array();
  for (const Candidate& c : r.list.candidates) {
    candidates.push_back({{"rank", c.rank},
                          {"booking_number", c.booking_number},
                          {"score", c.score},
                          {"photo_id", c.photo_id},
                          {"template_id", c.template_id}});
  }
  nlohmann::json steps = StepsJson(r.steps);
  return {{"notice", r.notice},
          {"request_id", r.request_id},
          {"case", r.case_number},
          {"created_at", r.created_at},
          {"probe_sha256", r.probe_sha256},
          {"status", r.status},
          {"model", {{"id", r.list.model.id}, {"version", r.list.model.version}}},
          {"gallery_version", r.list.gallery_version},
          {"threshold", r.list.threshold},
          {"policy", CandidatePolicyJson(r.list)},
          {"quality_override_used", r.quality_override_used},
          {"expected_fnir", ProbeExpectationJson(r.expected_fnir)},
          {"steps", steps},
          {"candidates", candidates}};
}

nlohmann::json QualityJson(const vision::FaceQuality& q) {
  return {{"eye_distance_px", q.eye_distance_px},
          {"detector_score", q.detector_score},
          {"sharpness", q.sharpness},
          {"yaw_deg", q.yaw_deg},
          {"pitch_deg", q.pitch_deg},
          {"roll_deg", q.roll_deg},
          {"noise_sigma", q.noise_sigma},
          {"detail", q.detail},
          {"effective_scale", q.effective_scale},
          {"effective_eye_distance_px", q.effective_eye_distance_px},
          {"blockiness", q.blockiness}};  // NaN (not measured) becomes null
}

}  // namespace facetrail::service
