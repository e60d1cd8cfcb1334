// RequestSearch and ApproveQualityOverride (service/search_request.h).
#include "service/search_request.h"

#include <cmath>

#include "common/sha256.h"
#include "common/text.h"
#include "service/internal/guard.h"
#include "service/search_response_json.h"

namespace facetrail::service {

namespace {

using internal::AuditRefusal;
using internal::RunRefusable;
using policy::Refusal;
using policy::RefusalCode;

nlohmann::json RequestJson(const SearchRequest& r, const std::string& sha256) {
  const policy::SearchRequestFields& f = r.fields;
  return {{"case", f.case_number},
          {"purpose", f.purpose},
          {"offense", f.offense},
          {"justification", f.justification},
          {"agency", f.agency},
          {"probe_sha256", sha256},
          {"probe_name", r.probe_name},
          {"probe_bytes", r.probe_bytes.size()},
          {"top_k", r.top_k ? nlohmann::json(*r.top_k) : nlohmann::json(nullptr)}};
}

// The checks that need no image analysis: who asks, the fields, and the probe's container.
Expected<std::optional<Refusal>> CheckBeforeAnalysis(Context& ctx, const Actor& actor,
                                                     const SearchRequest& r,
                                                     const policy::PolicyConfig& config) {
  auto user = ctx.store().GetUser(actor.user_id);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kNotFound) {
      return std::optional<Refusal>(
          Refusal{RefusalCode::kWrongRole, "user '" + actor.name + "' no longer exists"});
    }
    return user.status();
  }
  if (auto refusal = policy::CheckSearchRequest(*user, r.fields, config, ctx.Today())) {
    return refusal;
  }
  if (r.origin == ProbeOrigin::kStream) {
    return std::optional<Refusal>(
        Refusal{RefusalCode::kProbeIsVideo,
                "'" + r.probe_name + "' is a stream; only a still image may be a probe"});
  }
  if (std::string video = ProbeLooksLikeVideo(r.probe_bytes); !video.empty()) {
    return std::optional<Refusal>(Refusal{
        RefusalCode::kProbeIsVideo,
        "'" + r.probe_name + "' is a video (" + video + "); only a still image may be a probe"});
  }
  return std::optional<Refusal>();
}

Expected<std::optional<int64_t>> FindOverride(Context& ctx, const std::string& sha256,
                                              const std::string& case_number,
                                              int64_t requester_id) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("SELECT id FROM quality_overrides WHERE probe_sha256 = ? "
                                       "AND case_number = ? AND used_by_request IS NULL AND "
                                       "supervisor_id != ? ORDER BY id LIMIT 1"));
  stmt.Bind(1, sha256).Bind(2, case_number).Bind(3, requester_id);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(stmt.Int(0));
}

bool IsSha256Hex(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

size_t ChooseFace(const std::vector<ProbeFace>& faces) {
  size_t best = 0;
  for (size_t i = 1; i < faces.size(); ++i) {
    if (faces[i].quality.eye_distance_px > faces[best].quality.eye_distance_px) best = i;
  }
  return best;
}

std::vector<ProcessingStep> Steps(const ProbeAnalysis& a, size_t face, bool chosen_by_user,
                                  const std::string& sha) {
  std::vector<ProcessingStep> steps;
  steps.push_back(
      {"decode",
       nlohmann::json{
           {"format", a.format}, {"width", a.width}, {"height", a.height}, {"input_sha256", sha}}
           .dump(),
       "read the pixels of the file as received (the stored probe is that file, unaltered)"});
  if (a.exif_orientation != 1) {
    steps.push_back({"exif_rotate", nlohmann::json{{"orientation", a.exif_orientation}}.dump(),
                     "the file's EXIF orientation says the picture is stored turned; it was "
                     "turned upright as a camera or viewer shows it"});
  }
  steps.insert(steps.end(), a.steps.begin(), a.steps.end());
  const vision::Box& b = a.faces[face].box;
  nlohmann::json landmarks = nlohmann::json::array();
  for (const vision::Point& p : a.faces[face].landmarks) {
    // A tenth of a pixel: finer than the landmark model's error, and short.
    landmarks.push_back({std::round(p.x * 10) / 10, std::round(p.y * 10) / 10});
  }
  steps.push_back(
      {"select_face",
       nlohmann::json{
           {"index", face},
           {"of", a.faces.size()},
           {"rule", chosen_by_user ? "requested by the searcher" : "largest eye distance"},
           {"box", {b.x, b.y, b.width, b.height}},
           {"landmarks", std::move(landmarks)},
           {"quality", QualityJson(a.faces[face].quality)}}
           .dump(),
       chosen_by_user ? "the searcher chose this face of the probe"
                      : "the face searched when the searcher names none: the largest one"});
  steps.push_back(
      {"template",
       nlohmann::json{{"model_id", a.model.id}, {"model_version", a.model.version}}.dump(),
       "the recognition model's numbers for the chosen face, compared with the gallery's"});
  return steps;
}

// What the model's expected-FNIR table says of the chosen face (ProbeExpectation): its bin by
// the blur-aware figures (the plain ones where those were not measured).
ProbeExpectation Expect(const ProbeAnalysis& a, const vision::FaceQuality& q) {
  ProbeExpectation e;
  e.model = a.model_limits.model;
  e.effective_eye_distance_px =
      std::isnan(q.effective_eye_distance_px) ? q.eye_distance_px : q.effective_eye_distance_px;
  e.detail = std::isnan(q.detail) ? q.sharpness : q.detail;
  if (!a.expected_fnir) {
    e.note = "the calibration of model '" + e.model +
             "' has no expected-FNIR table (calibrate it on a degradation ladder: docs/EVAL.md)";
    return e;
  }
  e.threshold = a.expected_fnir->threshold;
  e.source = a.expected_fnir->source;
  const std::optional<vision::ExpectedFnir> x =
      vision::LookupExpectedFnir(*a.expected_fnir, e.effective_eye_distance_px, e.detail);
  if (!x) {
    e.note = "the probe's quality figures were not measured";
    return e;
  }
  e.fnir = x->fnir;
  e.searches_measured = x->mated;
  e.eye_lo = x->eye_lo;
  e.eye_hi = x->eye_hi;
  e.detail_lo = x->detail_lo;
  e.detail_hi = x->detail_hi;
  e.note = x->fnir ? "measured on the degradation ladder in the probe's quality bin: the highest "
                     "FNIR of the ladder's degradations there"
                   : "too few searches were measured in the probe's quality bin to state one";
  return e;
}

struct CandidatePolicy {
  float threshold = 0;
  std::string source;
};

// The department's threshold when it set one, else the calibrated one of the model that made
// the probe's template; never a number written here.
Expected<CandidatePolicy> ResolveCandidatePolicy(const policy::PolicyConfig& config,
                                                 const ProbeAnalysis& analysis) {
  if (config.candidate_threshold) return CandidatePolicy{*config.candidate_threshold, "department"};
  if (analysis.calibrated_candidate_threshold) {
    return CandidatePolicy{*analysis.calibrated_candidate_threshold, "model calibration"};
  }
  return FailedPrecondition("the model " + analysis.model.id +
                            " has no calibrated candidate threshold and the department set none "
                            "(facetrail admin config candidates --threshold S, or certify the "
                            "model: docs/MODELS.md)");
}

Status StoreRequest(Context& ctx, const Actor& actor, const SearchRequest& r, int top_k,
                    const std::string& format, std::optional<int64_t> override_id,
                    SearchResponse& resp) {
  Db& db = ctx.db();
  FT_ASSIGN_OR_RETURN(auto probe, db.Prepare("INSERT INTO probes(sha256, bytes, size_bytes, "
                                             "format, first_seen) VALUES (?, ?, ?, ?, ?) "
                                             "ON CONFLICT(sha256) DO UPDATE SET bytes = "
                                             "excluded.bytes WHERE probes.bytes IS NULL"));
  probe.Bind(1, resp.probe_sha256)
      .BindBlob(2, r.probe_bytes)
      .Bind(3, static_cast<int64_t>(r.probe_bytes.size()))
      .Bind(4, format)
      .Bind(5, resp.created_at);
  FT_RETURN_IF_ERROR(probe.Run());
  const policy::SearchRequestFields& f = r.fields;
  FT_ASSIGN_OR_RETURN(
      auto req, db.Prepare("INSERT INTO search_requests(user_id, user_name, created_at, "
                           "case_number, purpose, offense, justification, agency, "
                           "probe_sha256, model_id, model_version, gallery_version, "
                           "threshold, top_k, quality_override_id, status, "
                           "threshold_source, max_list_length) VALUES (?, ?, ?, ?, ?, ?, "
                           "?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending_review', ?, ?) RETURNING id"));
  req.Bind(1, actor.user_id)
      .Bind(2, actor.name)
      .Bind(3, resp.created_at)
      .Bind(4, f.case_number)
      .Bind(5, f.purpose)
      .Bind(6, f.offense)
      .Bind(7, f.justification)
      .Bind(8, f.agency)
      .Bind(9, resp.probe_sha256)
      .Bind(10, resp.list.model.id)
      .Bind(11, int64_t{resp.list.model.version})
      .Bind(12, resp.list.gallery_version)
      .Bind(13, static_cast<double>(resp.list.threshold))
      .Bind(14, int64_t{top_k});
  if (override_id) {
    req.Bind(15, *override_id);
  } else {
    req.BindNull(15);
  }
  req.Bind(16, resp.list.threshold_source).Bind(17, int64_t{resp.list.max_list_length});
  FT_ASSIGN_OR_RETURN(resp.request_id, req.InsertedId());
  if (override_id) {
    FT_ASSIGN_OR_RETURN(auto use, db.Prepare("UPDATE quality_overrides SET used_by_request = ? "
                                             "WHERE id = ? AND used_by_request IS NULL"));
    use.Bind(1, resp.request_id).Bind(2, *override_id);
    FT_RETURN_IF_ERROR(use.Run());
    if (db.Changes() != 1) return FailedPrecondition("the quality override was used meanwhile");
  }
  for (size_t i = 0; i < resp.steps.size(); ++i) {
    FT_ASSIGN_OR_RETURN(auto step, db.Prepare("INSERT INTO probe_steps(request_id, step, kind, "
                                              "params, why, enhancement) VALUES (?, ?, ?, ?, ?, "
                                              "?)"));
    step.Bind(1, resp.request_id)
        .Bind(2, static_cast<int64_t>(i + 1))
        .Bind(3, resp.steps[i].kind)
        .Bind(4, resp.steps[i].params)
        .Bind(5, resp.steps[i].why)
        .Bind(6, int64_t{resp.steps[i].enhancement ? 1 : 0});
    FT_RETURN_IF_ERROR(step.Run());
  }
  if (resp.expected_fnir) {
    FT_ASSIGN_OR_RETURN(auto expect, db.Prepare("UPDATE search_requests SET expected_fnir = ? "
                                                "WHERE id = ?"));
    expect.Bind(1, ProbeExpectationJson(resp.expected_fnir).dump()).Bind(2, resp.request_id);
    FT_RETURN_IF_ERROR(expect.Run());
  }
  nlohmann::json candidates = nlohmann::json::array();
  for (const Candidate& c : resp.list.candidates) {
    FT_ASSIGN_OR_RETURN(auto cand, db.Prepare("INSERT INTO request_candidates(request_id, rank, "
                                              "booking_number, template_id, photo_id, score) "
                                              "VALUES (?, ?, ?, ?, ?, ?)"));
    cand.Bind(1, resp.request_id)
        .Bind(2, int64_t{c.rank})
        .Bind(3, c.booking_number)
        .Bind(4, c.template_id)
        .Bind(5, c.photo_id)
        .Bind(6, static_cast<double>(c.score));
    FT_RETURN_IF_ERROR(cand.Run());
    candidates.push_back({{"rank", c.rank},
                          {"booking", c.booking_number},
                          {"template_id", c.template_id},
                          {"score", c.score}});
  }
  nlohmann::json details = RequestJson(r, resp.probe_sha256);
  details["request_id"] = resp.request_id;
  details["model_id"] = resp.list.model.id;
  details["model_version"] = resp.list.model.version;
  details["gallery_version"] = resp.list.gallery_version;
  details["threshold"] = resp.list.threshold;
  details["threshold_source"] = resp.list.threshold_source;
  details["max_list_length"] = resp.list.max_list_length;
  details["top_k"] = top_k;
  details["candidates"] = std::move(candidates);
  if (override_id) details["quality_override_id"] = *override_id;
  details["expected_fnir"] = ProbeExpectationJson(resp.expected_fnir);
  nlohmann::json steps = nlohmann::json::array();
  for (const ProcessingStep& st : resp.steps) {
    if (st.enhancement) steps.push_back(st.kind);
  }
  details["enhancements"] = std::move(steps);
  return ctx.log()
      .Append({actor.name, "search.request", "request:" + std::to_string(resp.request_id),
               std::move(details)})
      .status();
}

// The text a searcher typed, checked before anything is stored or audited: an invalid byte in a
// case number would otherwise sit in the audit log for good (issue 14 §4).
Status ValidateFields(const policy::SearchRequestFields& f) {
  FT_RETURN_IF_ERROR(ValidateText("case", f.case_number, kMaxShortTextBytes));
  FT_RETURN_IF_ERROR(ValidateText("purpose", f.purpose, kMaxShortTextBytes));
  FT_RETURN_IF_ERROR(ValidateText("offense", f.offense, kMaxShortTextBytes));
  FT_RETURN_IF_ERROR(
      ValidateText("justification", f.justification, kMaxLongTextBytes, {.multiline = true}));
  return ValidateText("agency", f.agency, kMaxShortTextBytes);
}

}  // namespace

Expected<SearchResponse> RequestSearch(Context& ctx, const Actor& actor, const SearchRequest& r,
                                       ProbeAnalyzer& analyzer, CandidateSource& source) {
  FT_RETURN_IF_ERROR(ValidateFields(r.fields));
  FT_ASSIGN_OR_RETURN(policy::PolicyConfig config, ctx.store().LoadConfig());
  if (r.origin == ProbeOrigin::kFile && r.probe_bytes.empty() && r.probe_error.ok()) {
    return InvalidArgument("'" + r.probe_name + "': the probe file is empty");
  }
  const int top_k = r.top_k.value_or(config.max_top_k);
  if (top_k < 1 || top_k > config.max_top_k) {
    return InvalidArgument("top_k must be between 1 and " + std::to_string(config.max_top_k) +
                           ", the department's list length (got " + std::to_string(top_k) + ")");
  }
  SearchResponse resp;
  resp.probe_sha256 = Sha256Hex(r.probe_bytes);
  resp.case_number = r.fields.case_number;
  const std::string subject = "case:" + r.fields.case_number;
  nlohmann::json details = RequestJson(r, resp.probe_sha256);
  auto refuse = [&](const Refusal& refusal) -> Status {
    return RunRefusable(ctx, [&](std::optional<Refusal>& out) -> Status {
      out = refusal;
      return AuditRefusal(ctx, actor.name, "search.refused", subject, refusal, details);
    });
  };

  FT_ASSIGN_OR_RETURN(std::optional<Refusal> pre, CheckBeforeAnalysis(ctx, actor, r, config));
  if (pre) return refuse(*pre);
  // Input errors of the probe (not policy refusals): audited as the attempts they were, with
  // code probe_unreadable, and answered as what they are (a missing file, not an image).
  auto audit_unreadable = [&](const std::string& reason) -> Status {
    const Refusal unreadable{RefusalCode::kProbeUnreadable, reason};
    return RunRefusable(ctx, [&](std::optional<Refusal>&) -> Status {
      return AuditRefusal(ctx, actor.name, "search.refused", subject, unreadable, details);
    });
  };
  if (!r.probe_error.ok()) {
    FT_RETURN_IF_ERROR(
        audit_unreadable("'" + r.probe_name + "' cannot be read: " + r.probe_error.message()));
    return r.probe_error;
  }

  auto analysis = analyzer.Analyze(r.probe_bytes);
  if (!analysis.ok()) {
    StatusCode code = analysis.status().code();
    if (code == StatusCode::kInvalidArgument || code == StatusCode::kResourceExhausted) {
      // Answered as an input error of the same kind (400, or 413 when too large).
      const std::string reason =
          "'" + r.probe_name + "' is not a usable still image: " + analysis.status().message();
      FT_RETURN_IF_ERROR(audit_unreadable(reason));
      return Status(code, reason);
    }
    return analysis.status().WithContext("analysing probe " + r.probe_name);
  }
  if (analysis->faces.empty()) {
    return refuse({RefusalCode::kNoFaceInProbe, "no face was found in '" + r.probe_name + "'"});
  }
  if (r.face >= static_cast<int>(analysis->faces.size())) {
    return InvalidArgument("face " + std::to_string(r.face) + " requested but the probe has " +
                           std::to_string(analysis->faces.size()) + " face(s)");
  }
  size_t face = r.face >= 0 ? static_cast<size_t>(r.face) : ChooseFace(analysis->faces);
  resp.steps = Steps(*analysis, face, r.face >= 0, resp.probe_sha256);
  const ProbeFace& chosen = analysis->faces[face];
  details["quality"] = QualityJson(chosen.quality);

  FT_ASSIGN_OR_RETURN(policy::QualityGate gate,
                      policy::ResolveQualityGate(config.quality, analysis->model_limits));
  details["quality_gate"] = {{"min_eye_distance_px", gate.min_eye_distance_px},
                             {"min_sharpness", gate.min_sharpness}};
  std::optional<int64_t> override_id;
  if (auto q = policy::CheckProbeQuality(chosen.quality, gate)) {
    FT_ASSIGN_OR_RETURN(override_id,
                        FindOverride(ctx, resp.probe_sha256, r.fields.case_number, actor.user_id));
    if (!override_id) {
      q->reason += " (facetrail review override --case " + r.fields.case_number +
                   " --probe-sha256 " + resp.probe_sha256 + " --reason ...)";
      return refuse(*q);
    }
    resp.quality_override_used = true;
  }
  // Between the limits (or past them with an override): searched, with what the calibration
  // expects of a probe of this quality.
  resp.expected_fnir = Expect(*analysis, chosen.quality);

  FT_ASSIGN_OR_RETURN(CandidatePolicy policy, ResolveCandidatePolicy(config, *analysis));
  FT_ASSIGN_OR_RETURN(resp.list,
                      source.Search(chosen.templ, analysis->model, top_k, policy.threshold));
  resp.list.threshold = policy.threshold;
  resp.list.threshold_source = policy.source;
  resp.list.max_list_length = config.max_top_k;
  for (size_t i = 0; i < resp.list.candidates.size(); ++i) {
    resp.list.candidates[i].rank = static_cast<int>(i + 1);
  }

  Status s = RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    resp.created_at = ctx.NowText();
    // Re-checked under the write lock: a certificate revoked or a lock set during the search
    // still stops the request, and the candidates are never returned.
    FT_ASSIGN_OR_RETURN(std::optional<Refusal> again, CheckBeforeAnalysis(ctx, actor, r, config));
    if (again) {
      refusal = again;
      return AuditRefusal(ctx, actor.name, "search.refused", subject, *again, details);
    }
    return StoreRequest(ctx, actor, r, top_k, analysis->format, override_id, resp);
  });
  if (!s.ok()) return s;
  return resp;
}

Expected<int64_t> ApproveQualityOverride(Context& ctx, const Actor& supervisor,
                                         std::string_view probe_sha256,
                                         std::string_view case_number, std::string_view reason) {
  if (!IsSha256Hex(probe_sha256)) {
    std::string message(probe_sha256);  // (built stepwise: GCC 12 -Wrestrict false positive)
    message += " is not a SHA-256 (64 lower-case hex characters)";
    return InvalidArgument(message);
  }
  if (IsBlank(case_number)) return InvalidArgument("an override needs the case number");
  FT_RETURN_IF_ERROR(ValidateText("case", case_number, kMaxShortTextBytes, {}));
  if (IsBlank(reason)) return InvalidArgument("an override needs a reason");
  FT_RETURN_IF_ERROR(ValidateText("reason", reason, kMaxLongTextBytes, {.multiline = true}));
  int64_t id = 0;
  std::string subject = "case:" + std::string(case_number);
  nlohmann::json details = {
      {"probe_sha256", probe_sha256}, {"case", case_number}, {"reason", reason}};
  Status s = RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto checked,
                        internal::CheckRole(ctx, supervisor, policy::Role::kSupervisor));
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, supervisor.name, "quality.override.refused", subject, *refusal,
                          details);
    }
    FT_ASSIGN_OR_RETURN(auto stmt,
                        ctx.db().Prepare("INSERT INTO quality_overrides(probe_sha256, case_number, "
                                         "supervisor_id, supervisor_name, reason, created_at) "
                                         "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"));
    stmt.Bind(1, probe_sha256)
        .Bind(2, case_number)
        .Bind(3, supervisor.user_id)
        .Bind(4, supervisor.name)
        .Bind(5, reason)
        .Bind(6, ctx.NowText());
    FT_ASSIGN_OR_RETURN(id, stmt.InsertedId());
    details["override_id"] = id;
    return ctx.log().Append({supervisor.name, "quality.override", subject, details}).status();
  });
  FT_RETURN_IF_ERROR(s);
  return id;
}

Expected<std::vector<QualityOverride>> ListQualityOverrides(Context& ctx, const Actor& actor) {
  FT_RETURN_IF_ERROR(internal::CheckAnyRole(ctx, actor,
                                            {policy::Role::kSupervisor, policy::Role::kAuditor},
                                            "quality.override.refused", "quality_overrides"));
  FT_ASSIGN_OR_RETURN(auto stmt, ctx.db().Prepare("SELECT id, probe_sha256, case_number, "
                                                  "supervisor_name, reason, created_at, "
                                                  "used_by_request FROM quality_overrides ORDER "
                                                  "BY id DESC"));
  std::vector<QualityOverride> out;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    QualityOverride o{stmt.Int(0),  stmt.Text(1), stmt.Text(2), stmt.Text(3),
                      stmt.Text(4), stmt.Text(5), std::nullopt};
    if (!stmt.IsNull(6)) o.used_by_request = stmt.Int(6);
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace facetrail::service
