#include "service/search_response_json.h"

namespace facetrail::service {

namespace {

nlohmann::json StepsJson(const std::vector<ProcessingStep>& steps) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : steps) {
    out.push_back({{"kind", s.kind}, {"params", nlohmann::json::parse(s.params, nullptr, false)}});
  }
  return out;
}

}  // namespace

nlohmann::json CandidatePolicyJson(const CandidateList& list) {
  return {{"threshold", list.threshold},
          {"threshold_source", list.threshold_source},
          {"max_list_length", list.max_list_length},
          {"model", {{"id", list.model.id}, {"version", list.model.version}}}};
}

nlohmann::json ProbeViewJson(const ProbeView& v) {
  nlohmann::json out = {{"request_id", v.request_id},     {"case", v.case_number},
                        {"probe_sha256", v.sha256},       {"format", v.format},
                        {"content_type", v.content_type}, {"size_bytes", v.bytes.size()},
                        {"steps", StepsJson(v.steps)},    {"quality_override", nullptr}};
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
