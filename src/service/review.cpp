// Review of leads (service/review.h): examination, blind verification, supervisor decision,
// release, outcome, and reading a lead with what the reader may see.
#include "service/review.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/text.h"
#include "service/internal/guard.h"
#include "service/internal/lead_record.h"

namespace facetrail::service {

namespace {

using internal::AuditRefusal;
using internal::RunRefusable;
using policy::Refusal;
using policy::RefusalCode;

struct RequestRow {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string user_name;
  std::string case_number;
  std::string purpose;
  std::string created_at;
  std::string probe_sha256;
  std::string status;
  std::optional<std::string> outcome;
  std::optional<std::string> outcome_at;
  CandidateList policy;  // candidates empty
};

struct ReviewRow {
  int64_t id = 0;
  std::string stage;  // "examination", "verification", "concurrence" (before issue 13)
  int64_t examiner_id = 0;
  std::string examiner_name;
  std::string created_at;
  std::optional<int64_t> agrees;  // concurrence only
  std::string notes;
  bool superseded = false;
  std::optional<int64_t> verifies;
};

struct DecisionRow {
  std::string supervisor, created_at, decision, notes;
};

Expected<RequestRow> LoadRequest(Context& ctx, int64_t id) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("SELECT id, user_id, user_name, case_number, purpose, "
                                       "created_at, probe_sha256, status, outcome, outcome_at, "
                                       "model_id, model_version, gallery_version, threshold, "
                                       "threshold_source, max_list_length FROM search_requests "
                                       "WHERE id = ?"));
  stmt.Bind(1, id);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFound("no search request " + std::to_string(id));
  RequestRow out{stmt.Int(0),
                 stmt.Int(1),
                 stmt.Text(2),
                 stmt.Text(3),
                 stmt.Text(4),
                 stmt.Text(5),
                 stmt.Text(6),
                 stmt.Text(7),
                 stmt.OptText(8),
                 stmt.OptText(9),
                 {}};
  out.policy.model.id = stmt.Text(10);
  out.policy.model.version = static_cast<int>(stmt.Int(11));
  out.policy.gallery_version = stmt.Text(12);
  out.policy.threshold = static_cast<float>(stmt.Double(13));
  out.policy.threshold_source = stmt.Text(14);
  out.policy.max_list_length = static_cast<int>(stmt.Int(15));
  return out;
}

// Every review row of the request, oldest first.
Expected<std::vector<ReviewRow>> LoadReviews(Context& ctx, int64_t request_id) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("SELECT id, stage, examiner_id, examiner_name, created_at, "
                                       "agrees, notes, superseded, verifies FROM reviews WHERE "
                                       "request_id = ? ORDER BY id"));
  stmt.Bind(1, request_id);
  std::vector<ReviewRow> out;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ReviewRow r;
    r.id = stmt.Int(0);
    r.stage = stmt.Text(1);
    r.examiner_id = stmt.Int(2);
    r.examiner_name = stmt.Text(3);
    r.created_at = stmt.Text(4);
    if (!stmt.IsNull(5)) r.agrees = stmt.Int(5);
    r.notes = stmt.Text(6);
    r.superseded = stmt.Int(7) != 0;
    if (!stmt.IsNull(8)) r.verifies = stmt.Int(8);
    if (r.stage == "examination" && r.verifies) r.stage = "verification";
    out.push_back(std::move(r));
  }
  return out;
}

// The standing (not superseded) first examination and its verification, if any.
struct Standing {
  std::optional<ReviewRow> first, verification;
};

Standing FindStanding(const std::vector<ReviewRow>& reviews) {
  Standing s;
  for (const ReviewRow& r : reviews) {
    if (r.superseded) continue;
    if (r.stage == "examination") s.first = r;
  }
  if (s.first) {
    for (const ReviewRow& r : reviews) {
      if (!r.superseded && r.stage == "verification" && r.verifies == s.first->id) {
        s.verification = r;
      }
    }
  }
  return s;
}

// The standing conclusions onto the lead's candidates: the first examination's, or the
// verification's when a supervisor adopted it (`second_adopted`). Requires: lead.examinations
// loaded.
void ApplyStandingConclusions(Lead& lead, const Standing& standing, bool second_adopted) {
  const std::optional<ReviewRow>& adopted = second_adopted ? standing.verification : standing.first;
  if (!adopted) return;
  for (const ExaminationRecord& e : lead.examinations) {
    if (e.id != adopted->id) continue;
    for (size_t i = 0; i < e.candidates.size() && i < lead.candidates.size(); ++i) {
      lead.candidates[i].conclusion = e.candidates[i].conclusion;
      lead.candidates[i].notes = e.candidates[i].notes;
    }
  }
}

Expected<std::optional<DecisionRow>> LoadDecision(Context& ctx, int64_t request_id) {
  FT_ASSIGN_OR_RETURN(auto stmt, ctx.db().Prepare("SELECT supervisor_name, created_at, decision, "
                                                  "notes FROM review_decisions WHERE request_id "
                                                  "= ? ORDER BY id DESC LIMIT 1"));
  stmt.Bind(1, request_id);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<DecisionRow>();
  return std::optional<DecisionRow>(
      DecisionRow{stmt.Text(0), stmt.Text(1), stmt.Text(2), stmt.Text(3)});
}

Expected<std::vector<Candidate>> Candidates(Context& ctx, int64_t request_id) {
  FT_ASSIGN_OR_RETURN(
      auto stmt, ctx.db().Prepare("SELECT rank, booking_number, template_id, photo_id, score "
                                  "FROM request_candidates WHERE request_id = ? ORDER BY rank"));
  stmt.Bind(1, request_id);
  std::vector<Candidate> out;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({static_cast<int>(stmt.Int(0)), stmt.Text(1), stmt.Int(2), stmt.Int(3),
                   static_cast<float>(stmt.Double(4))});
  }
  return out;
}

nlohmann::json ViewingToJson(const ViewingSettings& v) {
  return {{"brightness", v.brightness},
          {"contrast", v.contrast},
          {"gamma", v.gamma},
          {"zoom", v.zoom},
          {"overlay_opacity", v.overlay_opacity},
          {"wipe_position", v.wipe_position},
          {"views", v.views}};
}

ViewingSettings ViewingFromJson(const nlohmann::json& j) {
  ViewingSettings v;
  v.brightness = j.value("brightness", v.brightness);
  v.contrast = j.value("contrast", v.contrast);
  v.gamma = j.value("gamma", v.gamma);
  v.zoom = j.value("zoom", v.zoom);
  v.overlay_opacity = j.value("overlay_opacity", v.overlay_opacity);
  v.wipe_position = j.value("wipe_position", v.wipe_position);
  v.views = j.value("views", v.views);
  return v;
}

// One examination's record for every listed candidate (a candidate without a row: not
// examined).
Expected<ExaminationRecord> LoadExamination(Context& ctx, const ReviewRow& review,
                                            const std::vector<Candidate>& listed) {
  ExaminationRecord out{review.id,         review.stage,      review.examiner_name,
                        review.created_at, review.superseded, {}};
  std::map<int, CandidateExamination> by_rank;
  for (const Candidate& c : listed) by_rank[c.rank].rank = c.rank;
  FT_ASSIGN_OR_RETURN(auto cands, ctx.db().Prepare("SELECT rank, conclusion, notes, viewing FROM "
                                                   "review_candidates WHERE review_id = ?"));
  cands.Bind(1, review.id);
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, cands.Step());
    if (!row) break;
    CandidateExamination& c = by_rank[static_cast<int>(cands.Int(0))];
    c.rank = static_cast<int>(cands.Int(0));
    c.conclusion = cands.Text(1);
    c.notes = cands.Text(2);
    if (!cands.IsNull(3)) {
      nlohmann::json v = nlohmann::json::parse(cands.Text(3), nullptr, false);
      if (v.is_object()) c.viewing = ViewingFromJson(v);
    }
  }
  FT_ASSIGN_OR_RETURN(auto feats, ctx.db().Prepare("SELECT rank, component, mark, note FROM "
                                                   "review_features WHERE review_id = ?"));
  feats.Bind(1, review.id);
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, feats.Step());
    if (!row) break;
    FT_ASSIGN_OR_RETURN(Component component, ParseComponent(feats.Text(1)));
    FT_ASSIGN_OR_RETURN(FeatureMark mark, ParseFeatureMark(feats.Text(2)));
    by_rank[static_cast<int>(feats.Int(0))].components.push_back({component, mark, feats.Text(3)});
  }
  for (auto& [rank, c] : by_rank) {
    std::sort(
        c.components.begin(), c.components.end(),
        [](const ComponentMark& a, const ComponentMark& b) { return a.component < b.component; });
    out.candidates.push_back(std::move(c));
  }
  return out;
}

Status SetStatus(Context& ctx, int64_t request_id, std::string_view status) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("UPDATE search_requests SET status = ? WHERE id = ?"));
  stmt.Bind(1, status).Bind(2, request_id);
  return stmt.Run();
}

std::string Subject(int64_t id) {
  return "request:" + std::to_string(id);
}

// The ranks listed, each examination entry's rank listed and given once, each conclusion on the
// department's scale (or "not examined"); candidates left out become "not examined".
Expected<std::vector<CandidateExamination>> Complete(const std::vector<CandidateExamination>& given,
                                                     const std::vector<Candidate>& listed,
                                                     const std::vector<std::string>& scale) {
  std::map<int, CandidateExamination> by_rank;
  for (const Candidate& c : listed) by_rank[c.rank].rank = c.rank;
  std::set<int> seen;
  for (size_t i = 0; i < given.size(); ++i) {
    const CandidateExamination& c = given[i];
    const std::string field = "candidates[" + std::to_string(i) + "]";
    if (!by_rank.count(c.rank)) {
      return InvalidArgument(field + ".rank: " + std::to_string(c.rank) +
                             " is not a listed candidate");
    }
    if (!seen.insert(c.rank).second) {
      return InvalidArgument(field + ".rank: " + std::to_string(c.rank) + " is given twice");
    }
    if (c.conclusion != kNotExamined &&
        std::find(scale.begin(), scale.end(), c.conclusion) == scale.end()) {
      std::string message = field;
      message += ".conclusion: '";
      message += c.conclusion;
      message += "' is not on the department's scale (";
      for (const std::string& s : scale) {
        message += s;
        message += ", ";
      }
      message += "or not examined)";
      return InvalidArgument(message);
    }
    by_rank[c.rank] = c;
  }
  std::vector<CandidateExamination> out;
  out.reserve(by_rank.size());
  for (auto& [rank, c] : by_rank) out.push_back(std::move(c));
  return out;
}

// The audit entry's summary of an examination: every conclusion, the marked components, the
// viewing settings; notes included (the audit log is the record).
nlohmann::json AuditSummary(const std::vector<CandidateExamination>& candidates) {
  nlohmann::json out = nlohmann::json::array();
  for (const CandidateExamination& c : candidates) {
    nlohmann::json components = nlohmann::json::object();
    for (const ComponentMark& m : c.components) {
      components[std::string(ComponentName(m.component))] =
          m.note.empty() ? nlohmann::json(FeatureMarkName(m.mark))
                         : nlohmann::json{{"mark", FeatureMarkName(m.mark)}, {"note", m.note}};
    }
    nlohmann::json j = {{"rank", c.rank},
                        {"conclusion", c.conclusion},
                        {"notes", c.notes},
                        {"components", components}};
    if (c.viewing) j["viewing"] = ViewingToJson(*c.viewing);
    out.push_back(std::move(j));
  }
  return out;
}

Expected<int64_t> StoreExamination(Context& ctx, const Actor& examiner, int64_t request_id,
                                   const std::vector<CandidateExamination>& candidates,
                                   std::optional<int64_t> verifies) {
  FT_ASSIGN_OR_RETURN(auto review,
                      ctx.db().Prepare("INSERT INTO reviews(request_id, stage, examiner_id, "
                                       "examiner_name, created_at, notes, verifies) VALUES (?, "
                                       "'examination', ?, ?, ?, '', ?) RETURNING id"));
  review.Bind(1, request_id)
      .Bind(2, examiner.user_id)
      .Bind(3, examiner.name)
      .Bind(4, ctx.NowText());
  if (verifies) {
    review.Bind(5, *verifies);
  } else {
    review.BindNull(5);
  }
  FT_ASSIGN_OR_RETURN(const int64_t review_id, review.InsertedId());
  for (const CandidateExamination& c : candidates) {
    FT_ASSIGN_OR_RETURN(auto cand,
                        ctx.db().Prepare("INSERT INTO review_candidates(review_id, rank, "
                                         "conclusion, notes, viewing) VALUES (?, ?, ?, ?, ?)"));
    cand.Bind(1, review_id).Bind(2, int64_t{c.rank}).Bind(3, c.conclusion).Bind(4, c.notes);
    if (c.viewing) {
      cand.Bind(5, ViewingToJson(*c.viewing).dump());
    } else {
      cand.BindNull(5);
    }
    FT_RETURN_IF_ERROR(cand.Run());
    for (const ComponentMark& m : c.components) {
      if (m.mark == FeatureMark::kNotExamined && m.note.empty()) continue;
      FT_ASSIGN_OR_RETURN(auto feat,
                          ctx.db().Prepare("INSERT INTO review_features(review_id, rank, "
                                           "component, mark, note) VALUES (?, ?, ?, ?, ?)"));
      feat.Bind(1, review_id)
          .Bind(2, int64_t{c.rank})
          .Bind(3, ComponentName(m.component))
          .Bind(4, FeatureMarkName(m.mark))
          .Bind(5, m.note);
      FT_RETURN_IF_ERROR(feat.Run());
    }
  }
  return review_id;
}

}  // namespace

std::string_view ResolutionName(Resolution r) {
  switch (r) {
    case Resolution::kAdoptFirst: return "adopt_first";
    case Resolution::kAdoptSecond: return "adopt_second";
    case Resolution::kReexamine: return "reexamine";
  }
  return "reexamine";
}

Expected<Resolution> ParseResolution(std::string_view name) {
  for (Resolution r : {Resolution::kAdoptFirst, Resolution::kAdoptSecond, Resolution::kReexamine}) {
    if (ResolutionName(r) == name) return r;
  }
  return InvalidArgument("decision: unknown decision '" + std::string(name) +
                         "' (adopt_first, adopt_second, reexamine)");
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kConfirmedByOtherEvidence: return "confirmed_by_other_evidence";
    case Outcome::kExcluded: return "excluded";
    case Outcome::kUnknown: return "unknown";
  }
  return "unknown";
}

Expected<Outcome> ParseOutcome(std::string_view name) {
  for (Outcome o : {Outcome::kConfirmedByOtherEvidence, Outcome::kExcluded, Outcome::kUnknown}) {
    if (OutcomeName(o) == name) return o;
  }
  return InvalidArgument("unknown outcome '" + std::string(name) +
                         "' (confirmed_by_other_evidence, excluded, unknown)");
}

Status Examine(Context& ctx, const Actor& examiner, int64_t request_id,
               const std::vector<CandidateExamination>& candidates) {
  const std::string subject = Subject(request_id);
  return RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto checked, internal::CheckRole(ctx, examiner, policy::Role::kExaminer));
    // The role first: a wrong-role caller learns nothing about which request ids exist.
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, examiner.name, "review.refused", subject, *refusal,
                          {{"step", "examine"}});
    }
    FT_ASSIGN_OR_RETURN(RequestRow req, LoadRequest(ctx, request_id));
    FT_ASSIGN_OR_RETURN(std::vector<ReviewRow> reviews, LoadReviews(ctx, request_id));
    if (!checked.refusal && req.user_id == examiner.user_id) {
      checked.refusal =
          Refusal{RefusalCode::kSameExaminer, "the requester may not examine their own search"};
    }
    for (const ReviewRow& r : reviews) {
      if (!checked.refusal && r.superseded && r.examiner_id == examiner.user_id &&
          r.stage != "concurrence") {
        checked.refusal = Refusal{RefusalCode::kSameExaminer,
                                  "your examination of this lead was set aside; another examiner "
                                  "must examine it"};
      }
    }
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, examiner.name, "review.refused", subject, *refusal,
                          {{"step", "examine"}});
    }
    if (req.status != "pending_review") {
      return FailedPrecondition("request " + std::to_string(request_id) + " is " + req.status +
                                "; only a lead pending review is examined (a second examiner "
                                "verifies an examined one)");
    }
    FT_ASSIGN_OR_RETURN(policy::PolicyConfig config, ctx.store().LoadConfig());
    FT_ASSIGN_OR_RETURN(std::vector<Candidate> listed, Candidates(ctx, request_id));
    FT_ASSIGN_OR_RETURN(auto complete, Complete(candidates, listed, config.conclusion_scale));
    FT_ASSIGN_OR_RETURN(int64_t review_id,
                        StoreExamination(ctx, examiner, request_id, complete, std::nullopt));
    FT_RETURN_IF_ERROR(SetStatus(ctx, request_id, "examined"));
    return ctx.log()
        .Append({examiner.name,
                 "review.examine",
                 subject,
                 {{"case", req.case_number},
                  {"review_id", review_id},
                  {"candidates", AuditSummary(complete)}}})
        .status();
  });
}

Status Verify(Context& ctx, const Actor& examiner, int64_t request_id,
              const std::vector<CandidateExamination>& candidates) {
  const std::string subject = Subject(request_id);
  return RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto checked, internal::CheckRole(ctx, examiner, policy::Role::kExaminer));
    if (checked.refusal) {  // before the look-up, as in Examine
      refusal = checked.refusal;
      return AuditRefusal(ctx, examiner.name, "review.refused", subject, *refusal,
                          {{"step", "concur"}});
    }
    FT_ASSIGN_OR_RETURN(RequestRow req, LoadRequest(ctx, request_id));
    FT_ASSIGN_OR_RETURN(std::vector<ReviewRow> reviews, LoadReviews(ctx, request_id));
    Standing standing = FindStanding(reviews);
    if (req.status != "examined" || !standing.first) {
      return FailedPrecondition("request " + std::to_string(request_id) + " is " + req.status +
                                "; a second examiner verifies only an examined lead");
    }
    if (!checked.refusal && req.user_id == examiner.user_id) {
      checked.refusal =
          Refusal{RefusalCode::kSameExaminer, "the requester may not review their own search"};
    }
    if (!checked.refusal && standing.first->examiner_id == examiner.user_id) {
      checked.refusal =
          Refusal{RefusalCode::kSameExaminer, "the second examiner must differ from the first (" +
                                                  standing.first->examiner_name + ")"};
    }
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, examiner.name, "review.refused", subject, *refusal,
                          {{"step", "verify"}});
    }
    FT_ASSIGN_OR_RETURN(policy::PolicyConfig config, ctx.store().LoadConfig());
    FT_ASSIGN_OR_RETURN(std::vector<Candidate> listed, Candidates(ctx, request_id));
    FT_ASSIGN_OR_RETURN(auto complete, Complete(candidates, listed, config.conclusion_scale));
    FT_ASSIGN_OR_RETURN(ExaminationRecord first, LoadExamination(ctx, *standing.first, listed));
    FT_ASSIGN_OR_RETURN(int64_t review_id,
                        StoreExamination(ctx, examiner, request_id, complete, standing.first->id));
    std::vector<int> differing;
    for (size_t i = 0; i < complete.size() && i < first.candidates.size(); ++i) {
      if (complete[i].conclusion != first.candidates[i].conclusion) {
        differing.push_back(complete[i].rank);
      }
    }
    const bool agree = differing.empty();
    nlohmann::json details = {{"case", req.case_number},
                              {"review_id", review_id},
                              {"examination_id", standing.first->id},
                              {"first_examiner", standing.first->examiner_name},
                              {"agree", agree},
                              {"differing_ranks", differing},
                              {"candidates", AuditSummary(complete)}};
    FT_RETURN_IF_ERROR(
        ctx.log().Append({examiner.name, "review.verify", subject, details}).status());
    if (!agree) {
      FT_RETURN_IF_ERROR(SetStatus(ctx, request_id, "disputed"));
      return ctx.log()
          .Append({examiner.name,
                   "review.dispute",
                   subject,
                   {{"case", req.case_number},
                    {"differing_ranks", differing},
                    {"to", "a supervisor decides"}}})
          .status();
    }
    FT_RETURN_IF_ERROR(SetStatus(ctx, request_id, "released"));
    return ctx.log()
        .Append({examiner.name,
                 "lead.release",
                 subject,
                 {{"case", req.case_number}, {"requester", req.user_name}}})
        .status();
  });
}

Status Resolve(Context& ctx, const Actor& supervisor, int64_t request_id, Resolution resolution,
               const std::string& notes) {
  if (notes.empty()) return InvalidArgument("notes: a decision needs its reasons");
  FT_RETURN_IF_ERROR(ValidateText("notes", notes, kMaxNotesBytes, {.multiline = true}));
  const std::string subject = Subject(request_id);
  return RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto checked,
                        internal::CheckRole(ctx, supervisor, policy::Role::kSupervisor));
    FT_ASSIGN_OR_RETURN(RequestRow req, LoadRequest(ctx, request_id));
    FT_ASSIGN_OR_RETURN(std::vector<ReviewRow> reviews, LoadReviews(ctx, request_id));
    Standing standing = FindStanding(reviews);
    if (req.status != "disputed" || !standing.first || !standing.verification) {
      return FailedPrecondition("request " + std::to_string(request_id) + " is " + req.status +
                                "; a supervisor decides only a disputed lead");
    }
    if (!checked.refusal &&
        (req.user_id == supervisor.user_id || standing.first->examiner_id == supervisor.user_id ||
         standing.verification->examiner_id == supervisor.user_id)) {
      checked.refusal = Refusal{RefusalCode::kSameExaminer,
                                "the requester and the two examiners may not decide the dispute"};
    }
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, supervisor.name, "review.refused", subject, *refusal,
                          {{"step", "decide"}});
    }
    FT_ASSIGN_OR_RETURN(auto stmt,
                        ctx.db().Prepare("INSERT INTO review_decisions(request_id, supervisor_id, "
                                         "supervisor_name, created_at, decision, notes) VALUES "
                                         "(?, ?, ?, ?, ?, ?)"));
    stmt.Bind(1, request_id)
        .Bind(2, supervisor.user_id)
        .Bind(3, supervisor.name)
        .Bind(4, ctx.NowText())
        .Bind(5, ResolutionName(resolution))
        .Bind(6, notes);
    FT_RETURN_IF_ERROR(stmt.Run());
    FT_RETURN_IF_ERROR(ctx.log()
                           .Append({supervisor.name,
                                    "review.decide",
                                    subject,
                                    {{"case", req.case_number},
                                     {"decision", ResolutionName(resolution)},
                                     {"notes", notes}}})
                           .status());
    if (resolution == Resolution::kReexamine) {
      FT_ASSIGN_OR_RETURN(auto sup, ctx.db().Prepare("UPDATE reviews SET superseded = 1 WHERE id "
                                                     "IN (?, ?)"));
      sup.Bind(1, standing.first->id).Bind(2, standing.verification->id);
      FT_RETURN_IF_ERROR(sup.Run());
      return SetStatus(ctx, request_id, "pending_review");
    }
    FT_RETURN_IF_ERROR(SetStatus(ctx, request_id, "released"));
    return ctx.log()
        .Append({supervisor.name,
                 "lead.release",
                 subject,
                 {{"case", req.case_number}, {"requester", req.user_name}}})
        .status();
  });
}

Status RecordOutcome(Context& ctx, const Actor& requester, int64_t request_id, Outcome outcome,
                     const std::string& note) {
  FT_RETURN_IF_ERROR(ValidateText("note", note, kMaxLongTextBytes, {.multiline = true}));
  const std::string subject = Subject(request_id);
  return RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(policy::User user, ctx.store().GetUser(requester.user_id));
    // A request id that does not exist is refused like another user's: the answer does not say
    // which ids exist.
    Expected<RequestRow> loaded = LoadRequest(ctx, request_id);
    if (!loaded.ok() && loaded.status().code() != StatusCode::kNotFound) return loaded.status();
    if (user.locked) {
      refusal = Refusal{RefusalCode::kAccountLocked, "the account of " + user.name + " is locked"};
    } else if (!loaded.ok() || loaded->user_id != requester.user_id) {
      refusal = Refusal{RefusalCode::kNotRequester, "only the requester records the outcome"};
    }
    if (refusal) {
      return AuditRefusal(ctx, requester.name, "lead.refused", subject, *refusal,
                          {{"step", "outcome"}});
    }
    const RequestRow& req = *loaded;
    if (req.status != "released") {
      return FailedPrecondition("request " + std::to_string(request_id) + " is " + req.status +
                                "; an outcome is recorded only for a released lead");
    }
    if (req.outcome) {
      return FailedPrecondition("the outcome of request " + std::to_string(request_id) +
                                " is already recorded (" + *req.outcome + ")");
    }
    FT_ASSIGN_OR_RETURN(
        auto stmt, ctx.db().Prepare("UPDATE search_requests SET outcome = ?, outcome_note = ?, "
                                    "outcome_at = ? WHERE id = ?"));
    stmt.Bind(1, OutcomeName(outcome)).Bind(2, note).Bind(3, ctx.NowText()).Bind(4, request_id);
    FT_RETURN_IF_ERROR(stmt.Run());
    return ctx.log()
        .Append({requester.name,
                 "lead.outcome",
                 subject,
                 {{"case", req.case_number}, {"outcome", OutcomeName(outcome)}, {"note", note}}})
        .status();
  });
}

namespace {

std::vector<HistoryEvent> History(const RequestRow& req, const std::vector<ReviewRow>& reviews,
                                  const std::optional<DecisionRow>& decision) {
  std::vector<HistoryEvent> out;
  out.push_back({req.created_at, req.user_name, "search",
                 "candidate list made (" + req.policy.threshold_source + " threshold)"});
  for (const ReviewRow& r : reviews) {
    std::string detail = r.superseded ? "set aside" : "";
    if (r.stage == "concurrence") detail = r.agrees.value_or(0) ? "agreed" : "disagreed";
    out.push_back({r.created_at, r.examiner_name, r.stage, detail});
  }
  if (decision) {
    out.push_back({decision->created_at, decision->supervisor, "decision", decision->decision});
  }
  if (req.outcome) out.push_back({req.outcome_at.value_or(""), req.user_name, "outcome", ""});
  std::stable_sort(out.begin(), out.end(),
                   [](const HistoryEvent& a, const HistoryEvent& b) { return a.time < b.time; });
  return out;
}

}  // namespace

Expected<Lead> GetLead(Context& ctx, const Actor& actor, int64_t request_id) {
  Lead lead;
  const std::string subject = Subject(request_id);
  Status s = RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(policy::User user, ctx.store().GetUser(actor.user_id));
    // Who may read is decided before the look-up reveals anything: for anyone but a reviewer, an
    // id that does not exist is refused like another user's request.
    Expected<RequestRow> loaded = LoadRequest(ctx, request_id);
    if (!loaded.ok() && loaded.status().code() != StatusCode::kNotFound) return loaded.status();
    const bool is_requester = loaded.ok() && loaded->user_id == user.id;
    const bool examiner = !policy::CheckActor(user, policy::Role::kExaminer, ctx.Today());
    const bool overseer = !policy::CheckActor(user, policy::Role::kSupervisor, ctx.Today()) ||
                          !policy::CheckActor(user, policy::Role::kAuditor, ctx.Today());
    const bool reviewer = examiner || overseer;
    if (user.locked) {
      refusal = Refusal{RefusalCode::kAccountLocked, "the account of " + user.name + " is locked"};
    } else if (!is_requester && !reviewer) {
      refusal = Refusal{RefusalCode::kWrongRole,
                        "only the requester, certified examiners, supervisors and auditors may "
                        "read a lead"};
    }
    if (refusal) {
      return AuditRefusal(ctx, actor.name, "lead.refused", subject, *refusal, {{"step", "view"}});
    }
    FT_RETURN_IF_ERROR(loaded.status());  // a reviewer may learn that the id does not exist
    const RequestRow& req = *loaded;
    lead.request_id = req.id;
    lead.requester = req.user_name;
    lead.case_number = req.case_number;
    lead.purpose = req.purpose;
    lead.created_at = req.created_at;
    lead.probe_sha256 = req.probe_sha256;
    lead.status = req.status;
    lead.outcome = req.outcome;
    lead.policy = req.policy;
    {
      ProbeView processing;
      FT_RETURN_IF_ERROR(internal::ReadProbeProcessing(ctx, request_id, processing));
      lead.probe_steps = std::move(processing.steps);
      lead.expected_fnir = std::move(processing.expected_fnir);
    }
    FT_ASSIGN_OR_RETURN(policy::PolicyConfig config, ctx.store().LoadConfig());
    lead.conclusion_scale = config.conclusion_scale;
    FT_ASSIGN_OR_RETURN(std::vector<Candidate> listed, Candidates(ctx, request_id));
    FT_ASSIGN_OR_RETURN(std::vector<ReviewRow> reviews, LoadReviews(ctx, request_id));
    FT_ASSIGN_OR_RETURN(std::optional<DecisionRow> decision, LoadDecision(ctx, request_id));
    Standing standing = FindStanding(reviews);
    const bool released = req.status == "released";
    // ACE-V: while the first examination waits for verification, an examiner other than its
    // author sees none of it (supervisors and auditors see everything; they do not verify).
    lead.blind = req.status == "examined" && standing.first && !overseer &&
                 standing.first->examiner_id != user.id;
    const bool show_conclusions = (reviewer && !lead.blind) || released;
    for (const Candidate& c : listed) lead.candidates.push_back({c, std::nullopt, ""});
    if (standing.first) lead.examiner = standing.first->examiner_name;
    if (standing.verification && req.status != "examined") {
      lead.verified_by = standing.verification->examiner_name;
    }
    if (decision && released) lead.decision = decision->decision;
    if (show_conclusions) {
      for (const ReviewRow& r : reviews) {
        if (r.stage == "concurrence") continue;
        FT_ASSIGN_OR_RETURN(ExaminationRecord record, LoadExamination(ctx, r, listed));
        lead.examinations.push_back(std::move(record));
      }
      ApplyStandingConclusions(lead, standing,
                               released && decision && decision->decision == "adopt_second");
    }
    lead.history = History(req, reviews, decision);
    return ctx.log()
        .Append({actor.name,
                 "lead.view",
                 subject,
                 {{"case", req.case_number}, {"status", req.status}, {"blind", lead.blind}}})
        .status();
  });
  FT_RETURN_IF_ERROR(s);
  return lead;
}

Expected<std::vector<Lead>> PendingReviews(Context& ctx, const Actor& reviewer) {
  std::vector<Lead> out;
  Status s = RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto checked, internal::CheckRole(ctx, reviewer, policy::Role::kExaminer));
    if (checked.refusal) {
      FT_ASSIGN_OR_RETURN(auto sup, internal::CheckRole(ctx, reviewer, policy::Role::kSupervisor));
      if (!sup.refusal) checked.refusal.reset();
    }
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, reviewer.name, "review.refused", "reviews", *refusal,
                          {{"step", "list"}});
    }
    FT_ASSIGN_OR_RETURN(
        auto stmt, ctx.db().Prepare("SELECT id, user_name, case_number, purpose, created_at, "
                                    "probe_sha256, status FROM search_requests WHERE status IN "
                                    "('pending_review', 'examined', 'disputed') ORDER BY id"));
    for (;;) {
      FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      Lead l;
      l.request_id = stmt.Int(0);
      l.requester = stmt.Text(1);
      l.case_number = stmt.Text(2);
      l.purpose = stmt.Text(3);
      l.created_at = stmt.Text(4);
      l.probe_sha256 = stmt.Text(5);
      l.status = stmt.Text(6);
      out.push_back(std::move(l));
    }
    // The candidates each list holds (issue 17: the listing showed none); no conclusion here,
    // so nothing of a blind first examination shows (GetLead, audited lead.view, has those).
    for (Lead& l : out) {
      FT_ASSIGN_OR_RETURN(std::vector<Candidate> listed, Candidates(ctx, l.request_id));
      for (const Candidate& c : listed) l.candidates.push_back({c, std::nullopt, ""});
    }
    return Status::Ok();
  });
  FT_RETURN_IF_ERROR(s);
  return out;
}

}  // namespace facetrail::service

namespace facetrail::service::internal {

Expected<std::optional<LeadRecord>> ReadLeadRecord(Context& ctx, int64_t request_id) {
  Expected<RequestRow> loaded = LoadRequest(ctx, request_id);
  if (!loaded.ok()) {
    if (loaded.status().code() == StatusCode::kNotFound) return std::optional<LeadRecord>();
    return loaded.status();
  }
  const RequestRow& req = *loaded;
  LeadRecord out;
  out.requester_id = req.user_id;
  out.outcome_note = std::nullopt;
  Lead& lead = out.lead;
  lead.request_id = req.id;
  lead.requester = req.user_name;
  lead.case_number = req.case_number;
  lead.purpose = req.purpose;
  lead.created_at = req.created_at;
  lead.probe_sha256 = req.probe_sha256;
  lead.status = req.status;
  lead.outcome = req.outcome;
  lead.policy = req.policy;
  FT_ASSIGN_OR_RETURN(auto fields,
                      ctx.db().Prepare("SELECT offense, justification, agency, outcome_note FROM "
                                       "search_requests WHERE id = ?"));
  fields.Bind(1, request_id);
  FT_ASSIGN_OR_RETURN(bool row, fields.Step());
  if (row) {
    out.offense = fields.Text(0);
    out.justification = fields.Text(1);
    out.agency = fields.Text(2);
    out.outcome_note = fields.OptText(3);
  }
  FT_ASSIGN_OR_RETURN(policy::PolicyConfig config, ctx.store().LoadConfig());
  lead.conclusion_scale = config.conclusion_scale;
  FT_ASSIGN_OR_RETURN(std::vector<Candidate> listed, Candidates(ctx, request_id));
  FT_ASSIGN_OR_RETURN(std::vector<ReviewRow> reviews, LoadReviews(ctx, request_id));
  FT_ASSIGN_OR_RETURN(std::optional<DecisionRow> decision, LoadDecision(ctx, request_id));
  Standing standing = FindStanding(reviews);
  for (const Candidate& c : listed) lead.candidates.push_back({c, std::nullopt, ""});
  if (standing.first) lead.examiner = standing.first->examiner_name;
  if (standing.verification) lead.verified_by = standing.verification->examiner_name;
  if (decision) {
    lead.decision = decision->decision;
    out.decision = DecisionRecord{decision->supervisor, decision->created_at, decision->decision,
                                  decision->notes};
  }
  for (const ReviewRow& r : reviews) {
    if (r.stage == "concurrence") continue;
    FT_ASSIGN_OR_RETURN(ExaminationRecord record, LoadExamination(ctx, r, listed));
    lead.examinations.push_back(std::move(record));
  }
  // The standing conclusions, as GetLead gives them (a case file is of a released lead).
  ApplyStandingConclusions(lead, standing, decision && decision->decision == "adopt_second");
  lead.history = History(req, reviews, decision);
  return std::optional<LeadRecord>(std::move(out));
}

}  // namespace facetrail::service::internal
