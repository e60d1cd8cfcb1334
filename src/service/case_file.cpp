// BuildCaseFile and its JSON (service/case_file.h).
#include "service/case_file.h"

#include "common/sha256.h"
#include "common/text.h"
#include "service/internal/base64.h"
#include "service/internal/guard.h"
#include "service/internal/lead_record.h"
#include "service/search_response_json.h"

namespace facetrail::service {

namespace {

using internal::AuditRefusal;
using internal::RunRefusable;
using policy::Refusal;
using policy::RefusalCode;

using internal::Base64;

nlohmann::json Opt(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// The reader's view of the candidates' bookings, or a refusal. Roles are checked in the order
// that gives the most the reader is entitled to.
struct Reader {
  std::optional<Refusal> refusal;
  BookingDetail detail = BookingDetail::kRestricted;
};

Reader CheckReader(const policy::User& user, bool is_requester, std::string_view today) {
  Reader r;
  if (user.locked) {
    r.refusal = Refusal{RefusalCode::kAccountLocked, "the account of " + user.name + " is locked"};
    return r;
  }
  const auto valid = [&](policy::Role role) { return !policy::CheckActor(user, role, today); };
  if (valid(policy::Role::kExaminer) || valid(policy::Role::kSupervisor) || is_requester) {
    r.detail = BookingDetail::kFull;
  } else if (valid(policy::Role::kAuditor)) {
    r.detail = BookingDetail::kRestricted;
  } else {
    r.refusal = Refusal{RefusalCode::kWrongRole,
                        "only the requester, certified examiners, supervisors and auditors may "
                        "have a request's case file"};
  }
  return r;
}

// The booking and photo of an examined candidate, as `detail` allows.
Status FillBooking(gallery::GalleryStore& gallery, BookingDetail detail, CaseCandidate& c) {
  auto record = gallery.GetBooking(c.candidate.booking_number);
  if (!record.ok()) {
    if (record.status().code() != StatusCode::kNotFound) return record.status();
    CaseBooking missing;
    missing.booking_number = c.candidate.booking_number;
    missing.status = "not in the gallery";
    c.booking = std::move(missing);
    return Status::Ok();
  }
  CaseBooking b;
  b.booking_number = record->booking_number;
  b.status = std::string(gallery::RecordStatusName(record->status));
  const bool active = record->status == gallery::RecordStatus::kActive;
  if (active) {
    b.booking_date = record->booking_date;
    b.agency = record->agency;
    if (detail == BookingDetail::kFull) {
      b.name = record->name;
      b.dob = record->dob;
      b.sex = record->sex;
      b.charge = record->charge;
    }
    // record->race_ethnicity is never copied: not in a case file, for any role.
  }
  c.booking = std::move(b);
  if (!active) return Status::Ok();
  auto bytes = gallery.ReadPhoto(c.candidate.photo_id);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) return Status::Ok();
    return bytes.status();
  }
  CasePhoto photo{c.candidate.photo_id,
                  Sha256Hex(*bytes),
                  ProbeContentType(*bytes),
                  static_cast<int64_t>(bytes->size()),
                  {},
                  {},
                  true};
  FT_ASSIGN_OR_RETURN(std::vector<gallery::PhotoInfo> infos,
                      gallery.ListPhotos(c.candidate.booking_number));
  for (const gallery::PhotoInfo& info : infos) {
    if (info.id != c.candidate.photo_id) continue;
    photo.searchable = info.searchable;
    if (detail == BookingDetail::kFull) photo.origin = info.origin;
  }
  if (detail == BookingDetail::kFull) photo.bytes = std::move(*bytes);
  c.photo = std::move(photo);
  return Status::Ok();
}

nlohmann::json EntryJson(const audit::Entry& e) {
  nlohmann::json details = nlohmann::json::parse(SanitizeUtf8(e.details), nullptr, false);
  if (details.is_discarded()) details = SanitizeUtf8(e.details);
  return {{"seq", e.seq},
          {"time", e.time},
          {"actor", e.actor},
          {"action", e.action},
          {"subject", e.subject},
          {"details", details},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

}  // namespace

std::string_view CaseFileUseName(CaseFileUse use) {
  return use == CaseFileUse::kExport ? "export" : "view";
}

std::string ImageExtension(std::span<const uint8_t> bytes) {
  const std::string type = ProbeContentType(bytes);
  if (type == "image/jpeg") return "jpg";
  if (type == "image/tiff") return "tif";
  if (type.rfind("image/", 0) == 0) return type.substr(6);
  return "bin";
}

Expected<CaseFile> BuildCaseFile(Context& ctx, const Actor& actor, gallery::GalleryStore& gallery,
                                 int64_t request_id, CaseFileUse use) {
  CaseFile file;
  const std::string subject = "request:" + std::to_string(request_id);
  Status s = RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    file = CaseFile{};
    auto user = ctx.store().GetUser(actor.user_id);
    if (!user.ok()) {
      if (user.status().code() == StatusCode::kNotFound) {
        return Unauthenticated("unauthenticated: user '" + actor.name + "' no longer exists");
      }
      return user.status();
    }
    // Who may have it is decided before anything about the request is revealed.
    FT_ASSIGN_OR_RETURN(std::optional<internal::LeadRecord> record,
                        internal::ReadLeadRecord(ctx, request_id));
    const bool is_requester = record && record->requester_id == user->id;
    Reader reader = CheckReader(*user, is_requester, ctx.Today());
    if (reader.refusal) {
      refusal = reader.refusal;
      return AuditRefusal(ctx, actor.name, "case.file.refused", subject, *refusal,
                          {{"step", CaseFileUseName(use)}});
    }
    if (!record) return NotFound("no search request " + std::to_string(request_id));
    const Lead& lead = record->lead;
    if (lead.status != "released") {
      return FailedPrecondition("request " + std::to_string(request_id) + " is " + lead.status +
                                "; a case file is made of a released lead only");
    }
    Expected<ProbeView> probe = internal::ReadProbeRecord(ctx, request_id);
    if (probe.ok()) {
      file.probe = std::move(*probe);
    } else if (probe.status().code() == StatusCode::kFailedPrecondition) {
      // Purged under retention: the file says so and keeps the hash.
      file.probe.request_id = request_id;
      file.probe.case_number = lead.case_number;
      file.probe.sha256 = lead.probe_sha256;
      file.probe_purged = probe.status().message();
      FT_RETURN_IF_ERROR(internal::ReadProbeProcessing(ctx, request_id, file.probe));
    } else {
      return probe.status();
    }
    file.request_id = request_id;
    file.generated_at = ctx.NowText();
    file.generated_by = actor.name;
    file.use = use;
    file.booking_detail = reader.detail;
    file.requester = lead.requester;
    file.case_number = lead.case_number;
    file.purpose = lead.purpose;
    file.offense = record->offense;
    file.justification = record->justification;
    file.agency = record->agency;
    file.created_at = lead.created_at;
    file.status = lead.status;
    file.outcome = lead.outcome;
    file.outcome_note = record->outcome_note;
    file.policy = lead.policy;
    file.examinations = lead.examinations;
    file.history = lead.history;
    if (record->decision) {
      const internal::DecisionRecord& d = *record->decision;
      file.decision = CaseDecision{d.supervisor, d.created_at, d.decision, d.notes};
    }
    nlohmann::json photo_ranks = nlohmann::json::array();
    for (const LeadCandidate& lc : lead.candidates) {
      CaseCandidate c;
      c.candidate = lc.candidate;
      c.conclusion = lc.conclusion.value_or(std::string(kNotExamined));
      c.notes = lc.notes;
      if (c.conclusion != kNotExamined) {
        FT_RETURN_IF_ERROR(FillBooking(gallery, reader.detail, c));
        if (c.photo && !c.photo->bytes.empty()) photo_ranks.push_back(c.candidate.rank);
      }
      file.candidates.push_back(std::move(c));
    }
    const std::string action = "case." + std::string(CaseFileUseName(use));
    FT_RETURN_IF_ERROR(
        ctx.log()
            .Append(
                {actor.name,
                 action,
                 subject,
                 {{"case", lead.case_number},
                  {"probe_sha256", lead.probe_sha256},
                  {"booking_detail", reader.detail == BookingDetail::kFull ? "full" : "restricted"},
                  {"photo_ranks", photo_ranks}}})
            .status());
    // The trail read after this use's own entry, so the file records its own making.
    FT_ASSIGN_OR_RETURN(file.audit_trail, ctx.log().ReadSubject(subject));
    return Status::Ok();
  });
  FT_RETURN_IF_ERROR(s);
  return file;
}

nlohmann::json CaseFileJson(const CaseFile& f, bool inline_images) {
  nlohmann::json probe = ProbeViewJson(f.probe);
  probe.erase("request_id");
  probe.erase("case");
  probe["purged"] = f.probe_purged ? nlohmann::json(*f.probe_purged) : nlohmann::json(nullptr);
  if (inline_images && !f.probe.bytes.empty()) probe["data_base64"] = Base64(f.probe.bytes);

  nlohmann::json candidates = nlohmann::json::array();
  for (const CaseCandidate& c : f.candidates) {
    nlohmann::json j = {
        {"rank", c.candidate.rank},   {"booking_number", c.candidate.booking_number},
        {"score", c.candidate.score}, {"template_id", c.candidate.template_id},
        {"conclusion", c.conclusion}, {"notes", c.notes},
        {"booking", nullptr},         {"photo", nullptr}};
    if (c.booking) {
      const CaseBooking& b = *c.booking;
      j["booking"] = {{"booking_number", b.booking_number},
                      {"status", b.status},
                      {"name", Opt(b.name)},
                      {"dob", Opt(b.dob)},
                      {"sex", Opt(b.sex)},
                      {"booking_date", Opt(b.booking_date)},
                      {"agency", Opt(b.agency)},
                      {"charge", Opt(b.charge)}};
    }
    if (c.photo) {
      nlohmann::json p = {{"id", c.photo->id},
                          {"sha256", c.photo->sha256},
                          {"content_type", c.photo->content_type},
                          {"size_bytes", c.photo->size_bytes},
                          {"included", !c.photo->bytes.empty()},
                          {"searchable", c.photo->searchable},
                          {"origin", nullptr}};
      if (!c.photo->origin.empty()) {
        nlohmann::json origin =
            nlohmann::json::parse(SanitizeUtf8(c.photo->origin), nullptr, false);
        if (!origin.is_discarded()) p["origin"] = std::move(origin);
      }
      if (inline_images && !c.photo->bytes.empty()) p["data_base64"] = Base64(c.photo->bytes);
      j["photo"] = std::move(p);
    }
    candidates.push_back(std::move(j));
  }
  nlohmann::json examinations = nlohmann::json::array();
  for (const ExaminationRecord& e : f.examinations) {
    examinations.push_back({{"id", e.id},
                            {"stage", e.stage},
                            {"examiner", e.examiner},
                            {"created_at", e.created_at},
                            {"superseded", e.superseded},
                            {"candidates", ExaminationJson(e.candidates)}});
  }
  nlohmann::json history = nlohmann::json::array();
  for (const HistoryEvent& h : f.history) {
    history.push_back(
        {{"time", h.time}, {"actor", h.actor}, {"event", h.event}, {"detail", h.detail}});
  }
  nlohmann::json trail = nlohmann::json::array();
  for (const audit::Entry& e : f.audit_trail) trail.push_back(EntryJson(e));
  nlohmann::json decision = nullptr;
  if (f.decision) {
    decision = {{"supervisor", f.decision->supervisor},
                {"created_at", f.decision->created_at},
                {"decision", f.decision->decision},
                {"notes", f.decision->notes}};
  }
  return {{"format", "facetrail-case-file-v1"},
          {"notice", f.notice},
          {"request_id", f.request_id},
          {"generated_at", f.generated_at},
          {"generated_by", f.generated_by},
          {"use", CaseFileUseName(f.use)},
          {"booking_detail", f.booking_detail == BookingDetail::kFull ? "full" : "restricted"},
          {"request",
           {{"requester", f.requester},
            {"case", f.case_number},
            {"purpose", f.purpose},
            {"offense", f.offense},
            {"justification", f.justification},
            {"agency", f.agency},
            {"created_at", f.created_at},
            {"status", f.status},
            {"outcome", Opt(f.outcome)},
            {"outcome_note", Opt(f.outcome_note)}}},
          {"probe", probe},
          {"policy", CandidatePolicyJson(f.policy)},
          {"model", {{"id", f.policy.model.id}, {"version", f.policy.model.version}}},
          {"gallery_version", f.policy.gallery_version},
          {"candidates", candidates},
          {"examinations", examinations},
          {"decision", decision},
          {"history", history},
          {"audit_trail", trail}};
}

}  // namespace facetrail::service
