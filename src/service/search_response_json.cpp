#include "service/search_response_json.h"

namespace facetrail::service {

nlohmann::json SearchResponseJson(const SearchResponse& r) {
  nlohmann::json candidates = nlohmann::json::array();
  for (const Candidate& c : r.list.candidates) {
    candidates.push_back({{"rank", c.rank},
                          {"booking_number", c.booking_number},
                          {"score", c.score},
                          {"photo_id", c.photo_id},
                          {"template_id", c.template_id}});
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : r.steps) {
    steps.push_back(
        {{"kind", s.kind}, {"params", nlohmann::json::parse(s.params, nullptr, false)}});
  }
  return {{"notice", r.notice},
          {"request_id", r.request_id},
          {"case", r.case_number},
          {"created_at", r.created_at},
          {"probe_sha256", r.probe_sha256},
          {"status", r.status},
          {"model", {{"id", r.list.model.id}, {"version", r.list.model.version}}},
          {"gallery_version", r.list.gallery_version},
          {"threshold", r.list.threshold},
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
