// facetrail review list | show | examine | concur | outcome | override | hold: the review of
// leads and the supervisor decisions. Rules and audit: service/review.h, search_request.h,
// retention.h.
#include <iomanip>
#include <iostream>

#include "cli/accountability_cli.h"
#include "cli/commands.h"
#include "common/json_text.h"
#include "service/retention.h"
#include "service/review.h"
#include "service/search_request.h"

namespace facetrail::cli {

namespace {

struct ReviewArgs {
  std::string db, user;
  int64_t request = 0;
  std::vector<std::string> marks;  // RANK=MARK[:NOTES]
  std::string notes, outcome, case_number, probe_sha256, reason;
  bool disagree = false, release = false, json = false;
};

Expected<std::vector<service::CandidateMark>> ParseMarks(const std::vector<std::string>& items) {
  std::vector<service::CandidateMark> marks;
  for (const std::string& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument("--mark '" + item + "': expected RANK=MARK[:NOTES]");
    }
    service::CandidateMark m;
    try {
      m.rank = std::stoi(item.substr(0, eq));
    } catch (const std::exception&) {
      return InvalidArgument("--mark '" + item + "': rank is not a number");
    }
    std::string rest = item.substr(eq + 1);
    size_t colon = rest.find(':');
    FT_ASSIGN_OR_RETURN(m.mark, service::ParseMark(rest.substr(0, colon)));
    if (colon != std::string::npos) m.notes = rest.substr(colon + 1);
    marks.push_back(std::move(m));
  }
  return marks;
}

nlohmann::json LeadJson(const service::Lead& l) {
  nlohmann::json c = nlohmann::json::array();
  for (const auto& x : l.candidates) {
    nlohmann::json j = {{"rank", x.candidate.rank},
                        {"booking_number", x.candidate.booking_number},
                        {"score", x.candidate.score},
                        {"photo_id", x.candidate.photo_id}};
    if (x.mark) {
      j["mark"] = service::MarkName(*x.mark);
      j["notes"] = x.notes;
    }
    c.push_back(std::move(j));
  }
  nlohmann::json j = {
      {"request_id", l.request_id},     {"notice", l.notice},   {"requester", l.requester},
      {"case", l.case_number},          {"purpose", l.purpose}, {"created_at", l.created_at},
      {"probe_sha256", l.probe_sha256}, {"status", l.status},   {"candidates", c}};
  if (!l.examiner.empty()) j["examiner"] = l.examiner;
  if (!l.concurred_by.empty()) j["concurred_by"] = l.concurred_by;
  if (l.outcome) j["outcome"] = *l.outcome;
  return j;
}

void PrintLead(const service::Lead& l) {
  std::cout << l.notice << "\nrequest " << l.request_id << " by " << l.requester << ", case "
            << l.case_number << " (" << l.purpose << "), " << l.created_at << ", status "
            << l.status << "\n";
  for (const auto& x : l.candidates) {
    std::cout << std::setw(4) << x.candidate.rank << "  " << std::left << std::setw(16)
              << x.candidate.booking_number << std::right << std::fixed << std::setprecision(4)
              << x.candidate.score;
    if (x.mark) std::cout << "  " << service::MarkName(*x.mark) << "  " << x.notes;
    std::cout << '\n';
  }
  if (l.outcome) std::cout << "outcome: " << *l.outcome << '\n';
  std::cout << l.notice << '\n';
}

int RunList(const ReviewArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto leads = service::PendingReviews(*s->ctx, s->actor);
  if (!leads.ok()) return Finish(leads.status(), a.json);
  if (a.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& l : *leads) j.push_back(LeadJson(l));
    std::cout << JsonText(j, 2) << '\n';
    return 0;
  }
  for (const auto& l : *leads) {
    std::cout << l.request_id << "  " << l.status << "  case " << l.case_number << "  by "
              << l.requester << "  " << l.created_at << '\n';
  }
  return 0;
}

int RunShow(const ReviewArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto lead = service::GetLead(*s->ctx, s->actor, a.request);
  if (!lead.ok()) return Finish(lead.status(), a.json);
  if (a.json) {
    std::cout << JsonText(LeadJson(*lead), 2) << '\n';
  } else {
    PrintLead(*lead);
  }
  return 0;
}

int RunExamine(const ReviewArgs& a) {
  auto marks = ParseMarks(a.marks);
  if (!marks.ok()) return Finish(marks.status(), a.json);
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  Status st = service::Examine(*s->ctx, s->actor, a.request, *marks);
  if (st.ok()) std::cout << "request " << a.request << " examined; a second examiner must concur\n";
  return Finish(st, a.json);
}

int RunConcur(const ReviewArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  Status st = service::Concur(*s->ctx, s->actor, a.request, !a.disagree, a.notes);
  if (st.ok()) {
    std::cout << "request " << a.request
              << (a.disagree ? " disputed: it goes back for a new examination\n"
                             : " concurred: the lead is released to the requester\n");
  }
  return Finish(st, a.json);
}

int RunOutcome(const ReviewArgs& a) {
  auto outcome = service::ParseOutcome(a.outcome);
  if (!outcome.ok()) return Finish(outcome.status(), a.json);
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  Status st = service::RecordOutcome(*s->ctx, s->actor, a.request, *outcome, a.notes);
  if (st.ok()) std::cout << "request " << a.request << ": outcome " << a.outcome << " recorded\n";
  return Finish(st, a.json);
}

int RunOverride(const ReviewArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto id =
      service::ApproveQualityOverride(*s->ctx, s->actor, a.probe_sha256, a.case_number, a.reason);
  if (!id.ok()) return Finish(id.status(), a.json);
  std::cout << "quality override " << *id << " approved for one search of probe " << a.probe_sha256
            << " in case " << a.case_number << '\n';
  return 0;
}

int RunHold(const ReviewArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  Status st = service::SetCaseHold(*s->ctx, s->actor, a.case_number, !a.release, a.reason);
  if (st.ok()) {
    std::cout << "case " << a.case_number << (a.release ? ": hold lifted\n" : ": on hold\n");
  }
  return Finish(st, a.json);
}

CLI::App* Sub(CLI::App* parent, const char* name, const char* help, ReviewArgs& a, bool request) {
  auto* cmd = parent->add_subcommand(name, help);
  AddDatabaseOption(cmd, a.db, "Database");
  cmd->add_option("--user", a.user, "Who acts (password: FACETRAIL_PASSWORD or terminal)")
      ->required();
  cmd->add_flag("--json", a.json, "JSON output");
  if (request) cmd->add_option("--request", a.request, "Search request id")->required();
  return cmd;
}

}  // namespace

void RegisterReviewCommands(CLI::App& app, CommandResult& result) {
  static ReviewArgs a;
  auto* review = app.add_subcommand("review", "Review of leads by two examiners; outcomes");
  review->require_subcommand(1);
  Sub(review, "list", "Leads waiting for review (examiners)", a, false)->callback([&result] {
    result.exit_code = RunList(a);
  });
  Sub(review, "show", "Show a lead (requester after release; examiners, supervisors, auditors)", a,
      true)
      ->callback([&result] { result.exit_code = RunShow(a); });
  auto* examine = Sub(review, "examine", "First examination: mark every candidate", a, true);
  examine
      ->add_option("--mark", a.marks,
                   "RANK=possible_match|not_a_match|inconclusive[:NOTES], once per candidate")
      ->required();
  examine->callback([&result] { result.exit_code = RunExamine(a); });
  auto* concur =
      Sub(review, "concur", "Second examiner: concur (releases the lead) or dispute", a, true);
  concur->add_flag("--disagree", a.disagree, "Dispute the examination instead");
  concur->add_option("--notes", a.notes, "Notes");
  concur->callback([&result] { result.exit_code = RunConcur(a); });
  auto* outcome =
      Sub(review, "outcome", "Requester: record the outcome of a released lead", a, true);
  outcome->add_option("--outcome", a.outcome, "confirmed_by_other_evidence, excluded or unknown")
      ->required();
  outcome->add_option("--note", a.notes, "Note");
  outcome->callback([&result] { result.exit_code = RunOutcome(a); });
  auto* override_cmd =
      Sub(review, "override", "Supervisor: allow one search of a probe that fails the quality gate",
          a, false);
  override_cmd->add_option("--case", a.case_number, "Case number")->required();
  override_cmd->add_option("--probe-sha256", a.probe_sha256, "Probe hash from the refusal")
      ->required();
  override_cmd->add_option("--reason", a.reason, "Why the search is justified")->required();
  override_cmd->callback([&result] { result.exit_code = RunOverride(a); });
  auto* hold =
      Sub(review, "hold", "Supervisor: keep a case's probe images past retention", a, false);
  hold->add_option("--case", a.case_number, "Case number")->required();
  hold->add_option("--reason", a.reason, "Why")->required();
  hold->add_flag("--release", a.release, "Lift the hold");
  hold->callback([&result] { result.exit_code = RunHold(a); });
}

}  // namespace facetrail::cli
