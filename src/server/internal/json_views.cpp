#include "server/internal/json_views.h"

#include "common/text.h"
#include "service/search_response_json.h"

namespace facetrail::server::internal {

using nlohmann::json;

namespace {

json Opt(const std::optional<std::string>& v) {
  return v ? json(*v) : json();
}

json CandidateJson(const service::Candidate& c) {
  return {{"rank", c.rank},
          {"booking_number", c.booking_number},
          {"score", c.score},
          {"photo_id", c.photo_id},
          {"template_id", c.template_id}};
}

}  // namespace

json AnalysisJson(const service::ProbeAnalysis& a, const policy::QualityGate& gate,
                  const std::string& probe_sha256) {
  json faces = json::array();
  for (size_t i = 0; i < a.faces.size(); ++i) {
    const service::ProbeFace& f = a.faces[i];
    auto refusal = policy::CheckProbeQuality(f.quality, gate);
    faces.push_back(
        {{"index", i},
         {"box",
          {{"x", f.box.x}, {"y", f.box.y}, {"width", f.box.width}, {"height", f.box.height}}},
         {"quality", service::QualityJson(f.quality)},
         {"quality_ok", !refusal.has_value()},
         {"quality_problem", refusal ? json(refusal->reason) : json()}});
  }
  return {{"format", a.format},
          {"width", a.width},
          {"height", a.height},
          {"probe_sha256", probe_sha256},
          {"faces", faces}};
}

json RequestSummaryJson(const service::RequestSummary& s) {
  return {{"request_id", s.request_id},
          {"created_at", s.created_at},
          {"case", s.case_number},
          {"purpose", s.purpose},
          {"status", s.status},
          {"outcome", Opt(s.outcome)},
          {"num_candidates", s.num_candidates}};
}

json LeadJson(const service::Lead& l) {
  json c = json::array();
  for (const auto& x : l.candidates) {
    json j = CandidateJson(x.candidate);
    j["conclusion"] = x.conclusion ? json(*x.conclusion) : json();
    j["notes"] = x.notes;
    c.push_back(j);
  }
  json examinations = json::array();
  for (const service::ExaminationRecord& e : l.examinations) {
    examinations.push_back({{"id", e.id},
                            {"stage", e.stage},
                            {"examiner", e.examiner},
                            {"created_at", e.created_at},
                            {"superseded", e.superseded},
                            {"candidates", service::ExaminationJson(e.candidates)}});
  }
  json history = json::array();
  for (const service::HistoryEvent& h : l.history) {
    history.push_back(
        {{"time", h.time}, {"actor", h.actor}, {"event", h.event}, {"detail", h.detail}});
  }
  json components = json::array();
  for (service::Component k : service::AllComponents()) {
    components.push_back(
        {{"component", service::ComponentName(k)}, {"label", service::ComponentLabel(k)}});
  }
  return {{"notice", l.notice},
          {"request_id", l.request_id},
          {"requester", l.requester},
          {"case", l.case_number},
          {"purpose", l.purpose},
          {"created_at", l.created_at},
          {"probe_sha256", l.probe_sha256},
          {"status", l.status},
          {"examiner", l.examiner},
          {"verified_by", l.verified_by},
          {"blind", l.blind},
          {"decision", Opt(l.decision)},
          {"outcome", Opt(l.outcome)},
          {"policy", service::CandidatePolicyJson(l.policy)},
          {"probe_steps", service::StepsJson(l.probe_steps)},
          {"expected_fnir", service::ProbeExpectationJson(l.expected_fnir)},
          {"conclusion_scale", l.conclusion_scale},
          {"components", components},
          {"examinations", examinations},
          {"history", history},
          {"candidates", c}};
}

json BookingJson(const service::BookingView& v) {
  const gallery::BookingRecord& b = v.record;
  json photos = json::array();
  for (const auto& p : v.photos) {
    // origin: what the photo's source said that no booking field holds (an ANSI/NIST-ITL
    // import: the transaction header, the Type-10 attributes, the unmapped Type-2 fields as
    // written); null for a photo without one. race_ethnicity is a booking field, never in it.
    json origin =
        p.origin.empty() ? json(nullptr) : json::parse(SanitizeUtf8(p.origin), nullptr, false);
    if (origin.is_discarded()) origin = nullptr;
    photos.push_back({{"id", p.id},
                      {"sha256", p.sha256},
                      {"size_bytes", p.size_bytes},
                      {"capture_date", Opt(p.capture_date)},
                      {"num_templates", p.num_templates},
                      {"source", p.source},
                      {"note", p.note},
                      {"searchable", p.searchable},
                      {"origin", std::move(origin)}});
  }
  return {{"booking_number", b.booking_number},
          {"name", b.name},
          {"dob", Opt(b.dob)},
          {"sex", Opt(b.sex)},
          {"booking_date", Opt(b.booking_date)},
          {"agency", Opt(b.agency)},
          {"charge", Opt(b.charge)},
          {"status", gallery::RecordStatusName(b.status)},
          {"photos", photos}};
}

json EntryJson(const audit::Entry& e) {
  // Details stored before the edge checks may hold bytes that are not UTF-8 (shown as U+FFFD),
  // or not be JSON at all (shown as the stored text): an export never fails on them.
  json details = json::parse(SanitizeUtf8(e.details), nullptr, false);
  if (details.is_discarded()) details = e.details;
  return {{"seq", e.seq},
          {"time", e.time},
          {"actor", e.actor},
          {"action", e.action},
          {"subject", e.subject},
          {"details", std::move(details)},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

json CaseHoldJson(const service::CaseHold& h) {
  return {{"case", h.case_number},
          {"set_by", h.set_by},
          {"set_at", h.set_at},
          {"reason", h.reason},
          {"num_requests", h.num_requests}};
}

json QualityOverrideJson(const service::QualityOverride& o) {
  return {{"override_id", o.id},
          {"probe_sha256", o.probe_sha256},
          {"case", o.case_number},
          {"supervisor", o.supervisor},
          {"reason", o.reason},
          {"created_at", o.created_at},
          {"used_by_request", o.used_by_request ? json(*o.used_by_request) : json()}};
}

}  // namespace facetrail::server::internal
