// Review of leads (service/review.h).
#include "service/review.h"

#include <algorithm>
#include <set>

#include "common/text.h"
#include "service/internal/guard.h"

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
};

struct Examination {
  int64_t review_id = 0;
  int64_t examiner_id = 0;
  std::string examiner_name;
};

Expected<RequestRow> LoadRequest(Context& ctx, int64_t id) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("SELECT id, user_id, user_name, case_number, purpose, "
                                       "created_at, probe_sha256, status, outcome FROM "
                                       "search_requests WHERE id = ?"));
  stmt.Bind(1, id);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFound("no search request " + std::to_string(id));
  return RequestRow{stmt.Int(0),  stmt.Int(1),  stmt.Text(2), stmt.Text(3),   stmt.Text(4),
                    stmt.Text(5), stmt.Text(6), stmt.Text(7), stmt.OptText(8)};
}

Expected<std::optional<Examination>> CurrentExamination(Context& ctx, int64_t request_id) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("SELECT id, examiner_id, examiner_name FROM reviews WHERE "
                                       "request_id = ? AND stage = 'examination' AND superseded = "
                                       "0 ORDER BY id DESC LIMIT 1"));
  stmt.Bind(1, request_id);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<Examination>();
  return std::optional<Examination>(Examination{stmt.Int(0), stmt.Int(1), stmt.Text(2)});
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

Status SetStatus(Context& ctx, int64_t request_id, std::string_view status) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("UPDATE search_requests SET status = ? WHERE id = ?"));
  stmt.Bind(1, status).Bind(2, request_id);
  return stmt.Run();
}

std::string Subject(int64_t id) {
  return "request:" + std::to_string(id);
}

}  // namespace

std::string_view MarkName(Mark mark) {
  switch (mark) {
    case Mark::kPossibleMatch: return "possible_match";
    case Mark::kNotAMatch: return "not_a_match";
    case Mark::kInconclusive: return "inconclusive";
  }
  return "unknown";
}

Expected<Mark> ParseMark(std::string_view name) {
  for (Mark m : {Mark::kPossibleMatch, Mark::kNotAMatch, Mark::kInconclusive}) {
    if (MarkName(m) == name) return m;
  }
  return InvalidArgument("unknown mark '" + std::string(name) +
                         "' (possible_match, not_a_match, inconclusive)");
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
               const std::vector<CandidateMark>& marks) {
  for (const CandidateMark& m : marks) {
    FT_RETURN_IF_ERROR(ValidateText("notes", m.notes, kMaxLongTextBytes, {.multiline = true}));
  }
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
    if (!checked.refusal && req.user_id == examiner.user_id) {
      checked.refusal =
          Refusal{RefusalCode::kSameExaminer, "the requester may not examine their own search"};
    }
    if (!checked.refusal) {
      FT_ASSIGN_OR_RETURN(auto prior, ctx.db().Prepare("SELECT 1 FROM reviews WHERE request_id = "
                                                       "? AND examiner_id = ? AND superseded = 1"));
      prior.Bind(1, request_id).Bind(2, examiner.user_id);
      FT_ASSIGN_OR_RETURN(bool disputed_before, prior.Step());
      if (disputed_before) {
        checked.refusal = Refusal{RefusalCode::kSameExaminer,
                                  "your examination of this lead was disputed; another examiner "
                                  "must examine it"};
      }
    }
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, examiner.name, "review.refused", subject, *refusal,
                          {{"step", "examine"}});
    }
    if (req.status != "pending_review" && req.status != "disputed") {
      return FailedPrecondition("request " + std::to_string(request_id) + " is " + req.status +
                                "; only pending or disputed leads are examined");
    }
    FT_ASSIGN_OR_RETURN(std::vector<Candidate> candidates, Candidates(ctx, request_id));
    std::set<int> expected, seen;
    for (const Candidate& c : candidates) expected.insert(c.rank);
    for (const CandidateMark& m : marks) {
      if (!expected.count(m.rank) || !seen.insert(m.rank).second) {
        return InvalidArgument("mark for rank " + std::to_string(m.rank) +
                               " is not for a listed candidate or is given twice");
      }
    }
    if (seen.size() != expected.size()) {
      return InvalidArgument("every candidate needs a mark (" + std::to_string(expected.size()) +
                             " candidates, " + std::to_string(seen.size()) + " marks)");
    }
    FT_ASSIGN_OR_RETURN(auto review,
                        ctx.db().Prepare("INSERT INTO reviews(request_id, stage, examiner_id, "
                                         "examiner_name, created_at, notes) VALUES (?, "
                                         "'examination', ?, ?, ?, '')"));
    review.Bind(1, request_id)
        .Bind(2, examiner.user_id)
        .Bind(3, examiner.name)
        .Bind(4, ctx.NowText());
    FT_RETURN_IF_ERROR(review.Run());
    int64_t review_id = ctx.db().LastInsertRowId();
    nlohmann::json marks_json = nlohmann::json::array();
    for (const CandidateMark& m : marks) {
      FT_ASSIGN_OR_RETURN(auto mark, ctx.db().Prepare("INSERT INTO review_marks(review_id, rank, "
                                                      "mark, notes) VALUES (?, ?, ?, ?)"));
      mark.Bind(1, review_id).Bind(2, int64_t{m.rank}).Bind(3, MarkName(m.mark)).Bind(4, m.notes);
      FT_RETURN_IF_ERROR(mark.Run());
      marks_json.push_back({{"rank", m.rank}, {"mark", MarkName(m.mark)}, {"notes", m.notes}});
    }
    FT_RETURN_IF_ERROR(SetStatus(ctx, request_id, "examined"));
    return ctx.log()
        .Append({examiner.name,
                 "review.examine",
                 subject,
                 {{"case", req.case_number}, {"marks", marks_json}, {"review_id", review_id}}})
        .status();
  });
}

Status Concur(Context& ctx, const Actor& examiner, int64_t request_id, bool agree,
              const std::string& notes) {
  FT_RETURN_IF_ERROR(ValidateText("notes", notes, kMaxLongTextBytes, {.multiline = true}));
  const std::string subject = Subject(request_id);
  return RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto checked, internal::CheckRole(ctx, examiner, policy::Role::kExaminer));
    if (checked.refusal) {  // before the look-up, as in Examine
      refusal = checked.refusal;
      return AuditRefusal(ctx, examiner.name, "review.refused", subject, *refusal,
                          {{"step", "concur"}});
    }
    FT_ASSIGN_OR_RETURN(RequestRow req, LoadRequest(ctx, request_id));
    if (req.status != "examined") {
      return FailedPrecondition("request " + std::to_string(request_id) + " is " + req.status +
                                "; a second examiner concurs only with an examined lead");
    }
    FT_ASSIGN_OR_RETURN(auto exam, CurrentExamination(ctx, request_id));
    if (!exam)
      return Internal("examined request " + std::to_string(request_id) + " has no examination");
    if (!checked.refusal && req.user_id == examiner.user_id) {
      checked.refusal =
          Refusal{RefusalCode::kSameExaminer, "the requester may not review their own search"};
    }
    if (!checked.refusal && exam->examiner_id == examiner.user_id) {
      checked.refusal =
          Refusal{RefusalCode::kSameExaminer,
                  "the second examiner must differ from the first (" + exam->examiner_name + ")"};
    }
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, examiner.name, "review.refused", subject, *refusal,
                          {{"step", "concur"}});
    }
    FT_ASSIGN_OR_RETURN(auto review,
                        ctx.db().Prepare("INSERT INTO reviews(request_id, stage, examiner_id, "
                                         "examiner_name, created_at, agrees, notes) VALUES (?, "
                                         "'concurrence', ?, ?, ?, ?, ?)"));
    review.Bind(1, request_id)
        .Bind(2, examiner.user_id)
        .Bind(3, examiner.name)
        .Bind(4, ctx.NowText())
        .Bind(5, int64_t{agree})
        .Bind(6, notes);
    FT_RETURN_IF_ERROR(review.Run());
    nlohmann::json details = {{"case", req.case_number},
                              {"examination_id", exam->review_id},
                              {"first_examiner", exam->examiner_name},
                              {"notes", notes}};
    if (!agree) {
      FT_ASSIGN_OR_RETURN(auto sup,
                          ctx.db().Prepare("UPDATE reviews SET superseded = 1 WHERE id = ?"));
      sup.Bind(1, exam->review_id);
      FT_RETURN_IF_ERROR(sup.Run());
      FT_RETURN_IF_ERROR(SetStatus(ctx, request_id, "disputed"));
      return ctx.log().Append({examiner.name, "review.dispute", subject, details}).status();
    }
    FT_RETURN_IF_ERROR(SetStatus(ctx, request_id, "released"));
    FT_RETURN_IF_ERROR(
        ctx.log().Append({examiner.name, "review.concur", subject, details}).status());
    return ctx.log()
        .Append({examiner.name,
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

Expected<Lead> GetLead(Context& ctx, const Actor& actor, int64_t request_id) {
  Lead lead;
  const std::string subject = Subject(request_id);
  Status s = RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(policy::User user, ctx.store().GetUser(actor.user_id));
    // Who may read is decided before the look-up reveals anything: for anyone but a reviewer, an
    // id that does not exist is refused like another user's request.
    Expected<RequestRow> loaded = LoadRequest(ctx, request_id);
    if (!loaded.ok() && loaded.status().code() != StatusCode::kNotFound) return loaded.status();
    bool is_requester = loaded.ok() && loaded->user_id == user.id;
    bool reviewer = !policy::CheckActor(user, policy::Role::kExaminer, ctx.Today()) ||
                    !policy::CheckActor(user, policy::Role::kSupervisor, ctx.Today()) ||
                    !policy::CheckActor(user, policy::Role::kAuditor, ctx.Today());
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
    FT_ASSIGN_OR_RETURN(auto candidates, Candidates(ctx, request_id));
    // The requester sees the examiners' marks only once the lead is released.
    bool show_marks = reviewer || req.status == "released";
    FT_ASSIGN_OR_RETURN(auto exam, CurrentExamination(ctx, request_id));
    for (Candidate& c : candidates) lead.candidates.push_back({std::move(c), std::nullopt, ""});
    if (exam && show_marks) {
      lead.examiner = exam->examiner_name;
      FT_ASSIGN_OR_RETURN(auto marks, ctx.db().Prepare("SELECT rank, mark, notes FROM "
                                                       "review_marks WHERE review_id = ?"));
      marks.Bind(1, exam->review_id);
      for (;;) {
        FT_ASSIGN_OR_RETURN(bool row, marks.Step());
        if (!row) break;
        for (LeadCandidate& lc : lead.candidates) {
          if (lc.candidate.rank != marks.Int(0)) continue;
          FT_ASSIGN_OR_RETURN(lc.mark, ParseMark(marks.Text(1)));
          lc.notes = marks.Text(2);
        }
      }
      FT_ASSIGN_OR_RETURN(auto concur,
                          ctx.db().Prepare("SELECT examiner_name FROM reviews WHERE request_id = "
                                           "? AND stage = 'concurrence' AND agrees = 1"));
      concur.Bind(1, request_id);
      FT_ASSIGN_OR_RETURN(bool row, concur.Step());
      if (row) lead.concurred_by = concur.Text(0);
    }
    return ctx.log()
        .Append(
            {actor.name, "lead.view", subject, {{"case", req.case_number}, {"status", req.status}}})
        .status();
  });
  FT_RETURN_IF_ERROR(s);
  return lead;
}

Expected<std::vector<Lead>> PendingReviews(Context& ctx, const Actor& examiner) {
  std::vector<Lead> out;
  Status s = RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto checked, internal::CheckRole(ctx, examiner, policy::Role::kExaminer));
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, examiner.name, "review.refused", "reviews", *refusal,
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
    return Status::Ok();
  });
  FT_RETURN_IF_ERROR(s);
  return out;
}

}  // namespace facetrail::service
