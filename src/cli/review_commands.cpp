// facetrail review list | show | examine | verify | decide | outcome | override | hold: the review
// of leads and the supervisor decisions. Rules and audit: service/review.h, search_request.h,
// retention.h.
#include <iomanip>
#include <iostream>
#include <map>

#include "cli/accountability_cli.h"
#include "cli/commands.h"
#include "common/db_uri.h"
#include "common/file.h"
#include "common/json_text.h"
#include "common/sha256.h"
#include "gallery/gallery_store.h"
#include "service/case_package.h"
#include "service/probe_view.h"
#include "service/retention.h"
#include "service/review.h"
#include "service/search_request.h"
#include "service/search_response_json.h"

namespace facetrail::cli {

namespace {

struct ReviewArgs {
  std::string db, user;
  int64_t request = 0;
  std::vector<std::string> conclusions;  // RANK=CONCLUSION[:NOTES]
  std::vector<std::string> components;   // RANK:COMPONENT=MARK[:NOTE]
  std::string file, decision;            // examination JSON; supervisor's decision
  std::string notes, outcome, case_number, probe_sha256, reason;
  std::string export_probe;  // review show: write the stored probe here
  std::string out, key;      // export-case: the package folder, the signing key
  std::string package;       // verify-case: the package folder
  std::vector<std::string> public_keys, key_ids;  // verify-case: the trusted key(s)
  bool release = false, json = false;
};

Expected<int> ParseRank(const std::string& text, const std::string& item, const char* option) {
  try {
    size_t used = 0;
    int rank = std::stoi(text, &used);
    if (used == text.size()) return rank;
  } catch (const std::exception&) {
  }
  return InvalidArgument(std::string(option) + " '" + item + "': the rank is not a number");
}

// The examination from --file (the API's JSON) or from --conclusion and --component, checked by
// the same parser as the API's.
Expected<std::vector<service::CandidateExamination>> ReadExamination(const ReviewArgs& a) {
  nlohmann::json body;
  if (!a.file.empty()) {
    FT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(a.file, size_t{4} << 20));
    body = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (body.is_discarded()) return InvalidArgument(a.file + ": not JSON");
    return service::ParseExamination(body);
  }
  std::map<int, nlohmann::json> by_rank;
  for (const std::string& item : a.conclusions) {
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument("--conclusion '" + item + "': expected RANK=CONCLUSION[:NOTES]");
    }
    FT_ASSIGN_OR_RETURN(int rank, ParseRank(item.substr(0, eq), item, "--conclusion"));
    std::string rest = item.substr(eq + 1);
    size_t colon = rest.find(':');
    by_rank[rank]["rank"] = rank;
    by_rank[rank]["conclusion"] = rest.substr(0, colon);
    if (colon != std::string::npos) by_rank[rank]["notes"] = rest.substr(colon + 1);
  }
  for (const std::string& item : a.components) {
    size_t colon = item.find(':'), eq = item.find('=');
    if (colon == std::string::npos || eq == std::string::npos || eq < colon) {
      return InvalidArgument("--component '" + item + "': expected RANK:COMPONENT=MARK[:NOTE]");
    }
    FT_ASSIGN_OR_RETURN(int rank, ParseRank(item.substr(0, colon), item, "--component"));
    std::string rest = item.substr(eq + 1);
    size_t note = rest.find(':');
    nlohmann::json m = {{"component", item.substr(colon + 1, eq - colon - 1)},
                        {"mark", rest.substr(0, note)}};
    if (note != std::string::npos) m["note"] = rest.substr(note + 1);
    by_rank[rank]["rank"] = rank;
    by_rank[rank]["components"].push_back(std::move(m));
  }
  body["candidates"] = nlohmann::json::array();
  for (auto& [rank, c] : by_rank) body["candidates"].push_back(std::move(c));
  return service::ParseExamination(body);
}

nlohmann::json LeadJson(const service::Lead& l) {
  nlohmann::json c = nlohmann::json::array();
  for (const auto& x : l.candidates) {
    nlohmann::json j = {{"rank", x.candidate.rank},
                        {"booking_number", x.candidate.booking_number},
                        {"score", x.candidate.score},
                        {"photo_id", x.candidate.photo_id}};
    if (x.conclusion) {
      j["conclusion"] = *x.conclusion;
      j["notes"] = x.notes;
    }
    c.push_back(std::move(j));
  }
  nlohmann::json examinations = nlohmann::json::array();
  for (const auto& e : l.examinations) {
    examinations.push_back({{"id", e.id},
                            {"stage", e.stage},
                            {"examiner", e.examiner},
                            {"created_at", e.created_at},
                            {"superseded", e.superseded},
                            {"candidates", service::ExaminationJson(e.candidates)}});
  }
  nlohmann::json history = nlohmann::json::array();
  for (const auto& h : l.history) {
    history.push_back(
        {{"time", h.time}, {"actor", h.actor}, {"event", h.event}, {"detail", h.detail}});
  }
  nlohmann::json j = {{"request_id", l.request_id},
                      {"notice", l.notice},
                      {"requester", l.requester},
                      {"case", l.case_number},
                      {"purpose", l.purpose},
                      {"created_at", l.created_at},
                      {"probe_sha256", l.probe_sha256},
                      {"status", l.status},
                      {"candidates", c},
                      {"policy", service::CandidatePolicyJson(l.policy)},
                      {"probe_steps", service::StepsJson(l.probe_steps)},
                      {"expected_fnir", service::ProbeExpectationJson(l.expected_fnir)}};
  if (!l.examiner.empty()) j["examiner"] = l.examiner;
  if (!l.verified_by.empty()) j["verified_by"] = l.verified_by;
  if (l.decision) j["decision"] = *l.decision;
  if (l.outcome) j["outcome"] = *l.outcome;
  j["blind"] = l.blind;
  j["examinations"] = std::move(examinations);
  j["history"] = std::move(history);
  return j;
}

void PrintLead(const service::Lead& l) {
  std::cout << l.notice << "\nrequest " << l.request_id << " by " << l.requester << ", case "
            << l.case_number << " (" << l.purpose << "), " << l.created_at << ", status "
            << l.status << "\n"
            << "candidate-list policy: at most " << l.policy.max_list_length
            << " candidates scoring at least " << l.policy.threshold << " ("
            << l.policy.threshold_source << "), model " << l.policy.model.id << " v"
            << l.policy.model.version << "\n";
  for (const auto& x : l.candidates) {
    std::cout << std::setw(4) << x.candidate.rank << "  " << std::left << std::setw(16)
              << x.candidate.booking_number << std::right << std::fixed << std::setprecision(4)
              << x.candidate.score;
    if (x.conclusion) std::cout << "  " << *x.conclusion << "  " << x.notes;
    std::cout << '\n';
  }
  if (l.blind) {
    std::cout << "the first examination is withheld until you submit your verification "
                 "(ACE-V)\n";
  }
  for (const auto& e : l.examinations) {
    std::cout << e.stage << " by " << e.examiner << " at " << e.created_at
              << (e.superseded ? " (set aside)" : "") << '\n';
    for (const auto& c : e.candidates) {
      std::cout << "  rank " << c.rank << ": " << c.conclusion;
      for (const auto& m : c.components) {
        std::cout << "; " << service::ComponentName(m.component) << ' '
                  << service::FeatureMarkName(m.mark);
      }
      std::cout << '\n';
    }
  }
  for (const auto& h : l.history) {
    std::cout << "history: " << h.time << "  " << h.actor << "  " << h.event
              << (h.detail.empty() ? "" : "  (" + h.detail + ")") << '\n';
  }
  if (l.outcome) std::cout << "outcome: " << *l.outcome << '\n';
  std::cout << "probe: sha256 " << l.probe_sha256 << " (stored with the request; 'review show "
            << "--request " << l.request_id << " --export-probe FILE' writes it, or GET "
            << "/api/v1/searches/" << l.request_id << "/probe)\n"
            << l.notice << '\n';
}

// Writes the stored probe to a.export_probe (viewed through the use case: role-checked and
// audited "probe.view") and prints what was done to it.
int ExportProbe(service::Context& ctx, const service::Actor& actor, const ReviewArgs& a) {
  auto view = service::ViewProbe(ctx, actor, a.request);
  if (!view.ok()) return Finish(view.status(), a.json);
  Status st = WriteFileAtomically(a.export_probe, view->bytes);
  if (!st.ok()) return Finish(st, a.json);
  nlohmann::json j = service::ProbeViewJson(*view);
  j["file"] = a.export_probe;
  if (a.json) {
    std::cout << j.dump(2) << '\n';
    return 0;
  }
  std::cout << "probe of request " << a.request << " (" << view->content_type << ", "
            << view->bytes.size() << " bytes, sha256 " << view->sha256 << ") written to "
            << a.export_probe << " exactly as uploaded\nprocessing steps:\n";
  for (const auto& step : j["steps"]) {
    std::cout << "  " << step["kind"].get<std::string>()
              << (step["enhancement"].get<bool>() ? " (ENHANCEMENT)" : "") << ' '
              << step["params"].dump() << "\n    why: "
              << (step["why"].is_null() ? "not recorded" : step["why"].get<std::string>()) << '\n';
  }
  std::cout << service::ProbeExpectationText(view->expected_fnir) << '\n';
  if (view->quality_override) {
    std::cout << "  quality override " << view->quality_override->id << " by "
              << view->quality_override->supervisor << ": " << view->quality_override->reason
              << '\n';
  }
  return 0;
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
              << l.requester << "  " << l.created_at << "  " << l.candidates.size()
              << " candidate(s)\n";
  }
  return 0;
}

int RunShow(const ReviewArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  if (!a.export_probe.empty()) return ExportProbe(*s->ctx, s->actor, a);
  auto lead = service::GetLead(*s->ctx, s->actor, a.request);
  if (!lead.ok()) return Finish(lead.status(), a.json);
  if (a.json) {
    std::cout << JsonText(LeadJson(*lead), 2) << '\n';
  } else {
    PrintLead(*lead);
  }
  return 0;
}

int RunExamine(const ReviewArgs& a, bool verify) {
  auto exam = ReadExamination(a);
  if (!exam.ok()) return Finish(exam.status(), a.json);
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  Status st = verify ? service::Verify(*s->ctx, s->actor, a.request, *exam)
                     : service::Examine(*s->ctx, s->actor, a.request, *exam);
  if (!st.ok()) return Finish(st, a.json);
  if (!verify) {
    return Done(a.json, {{"request_id", a.request}, {"status", "examined"}},
                "request " + std::to_string(a.request) +
                    " examined; a second examiner verifies it without seeing your conclusions\n");
  }
  auto lead = service::GetLead(*s->ctx, s->actor, a.request);
  if (!lead.ok()) return Finish(lead.status(), a.json);
  return Done(a.json, {{"request_id", a.request}, {"status", lead->status}},
              "request " + std::to_string(a.request) +
                  (lead->status == "released"
                       ? " verified: the conclusions agree and the lead is released\n"
                       : " disputed: the conclusions differ; a supervisor decides\n"));
}

int RunDecide(const ReviewArgs& a) {
  auto decision = service::ParseResolution(a.decision);
  if (!decision.ok()) return Finish(decision.status(), a.json);
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  Status st = service::Resolve(*s->ctx, s->actor, a.request, *decision, a.notes);
  if (!st.ok()) return Finish(st, a.json);
  return Done(a.json, {{"request_id", a.request}, {"decision", a.decision}},
              "request " + std::to_string(a.request) + ": " + a.decision + " recorded\n");
}

int RunOutcome(const ReviewArgs& a) {
  auto outcome = service::ParseOutcome(a.outcome);
  if (!outcome.ok()) return Finish(outcome.status(), a.json);
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  Status st = service::RecordOutcome(*s->ctx, s->actor, a.request, *outcome, a.notes);
  if (!st.ok()) return Finish(st, a.json);
  return Done(a.json, {{"request_id", a.request}, {"outcome", a.outcome}},
              "request " + std::to_string(a.request) + ": outcome " + a.outcome + " recorded\n");
}

int RunOverride(const ReviewArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto id =
      service::ApproveQualityOverride(*s->ctx, s->actor, a.probe_sha256, a.case_number, a.reason);
  if (!id.ok()) return Finish(id.status(), a.json);
  return Done(a.json,
              {{"override_id", *id}, {"probe_sha256", a.probe_sha256}, {"case", a.case_number}},
              "quality override " + std::to_string(*id) + " approved for one search of probe " +
                  a.probe_sha256 + " in case " + a.case_number + "\n");
}

int RunHold(const ReviewArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  Status st = service::SetCaseHold(*s->ctx, s->actor, a.case_number, !a.release, a.reason);
  if (!st.ok()) return Finish(st, a.json);
  return Done(a.json, {{"case", a.case_number}, {"on_hold", !a.release}},
              "case " + a.case_number + (a.release ? ": hold lifted\n" : ": on hold\n"));
}

// The signed case package of a released lead (service/case_package.h), signed with the
// department's audit key.
int RunExportCase(const ReviewArgs& a) {
  // A PostgreSQL database has no folder to keep the signing key beside.
  if (IsPostgresUri(a.db) && a.key.empty()) {
    return Finish(
        InvalidArgument("a PostgreSQL database has no DB.audit-key beside it: give --key"), a.json);
  }
  const std::string key_path = a.key.empty() ? a.db + ".audit-key" : a.key;
  auto key = audit::LoadSigningKey(key_path);
  if (!key.ok()) return Finish(key.status(), a.json);
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto store = gallery::GalleryStore::OpenOn(*s->db);
  if (!store.ok()) return Finish(store.status(), a.json);
  auto package = service::ExportCasePackage(*s->ctx, s->actor, **store, a.request, *key, a.out);
  if (!package.ok()) return Finish(package.status(), a.json);
  if (a.json) {
    std::cout << JsonText(nlohmann::json{{"dir", package->dir},
                                         {"request_id", package->request_id},
                                         {"case", package->case_number},
                                         {"key_id", package->key_id},
                                         {"files", package->files}},
                          2)
              << '\n';
    return 0;
  }
  std::cout << "case package of request " << a.request << " (case " << package->case_number
            << ") written to " << package->dir << ": " << package->files.size()
            << " files, manifest signed with key " << package->key_id
            << "\nverify it offline with: facetrail review verify-case " << package->dir
            << " --key-id " << package->key_id << '\n';
  return 0;
}

// --public-key takes a file holding the key (a .pub) or the 64 hex characters themselves.
Expected<service::CaseTrust> TrustFromArgs(const ReviewArgs& a) {
  service::CaseTrust trust;
  for (const std::string& item : a.public_keys) {
    auto hex = audit::ParsePublicKeyHex(item);
    if (hex.ok()) {
      trust.keys.push_back(*hex);
      continue;
    }
    FT_ASSIGN_OR_RETURN(audit::PublicKey key, audit::LoadPublicKey(item));
    trust.keys.push_back(key);
  }
  for (const std::string& id : a.key_ids) {
    if (id.size() != 16 || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return InvalidArgument("--key-id '" + id + "': expected 16 lower-case hex characters");
    }
    trust.key_ids.push_back(id);
  }
  return trust;
}

int RunVerifyCase(const ReviewArgs& a) {
  auto trust = TrustFromArgs(a);
  if (!trust.ok()) return Finish(trust.status(), a.json);
  auto check = service::VerifyCasePackage(a.package, *trust);
  if (!check.ok()) return Finish(check.status(), a.json);
  if (a.json) {
    std::cout << JsonText(nlohmann::json{{"ok", check->ok()},
                                         {"request_id", check->request_id},
                                         {"key_id", check->key_id},
                                         {"files", check->files},
                                         {"problems", check->problems}},
                          2)
              << '\n';
  } else if (check->ok()) {
    std::cout << a.package << ": verified: case package of request " << check->request_id << ", "
              << check->files.size() << " files, signed with trusted key " << check->key_id << '\n';
  } else {
    std::cout << a.package << ": NOT VERIFIED (" << check->problems.size() << " problem"
              << (check->problems.size() == 1 ? "" : "s") << ")\n";
    for (const std::string& p : check->problems) std::cout << "  " << p << '\n';
  }
  return check->ok() ? 0 : 1;
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
  auto* show =
      Sub(review, "show", "Show a lead (requester after release; examiners, supervisors, auditors)",
          a, true);
  show->add_option("--export-probe", a.export_probe,
                   "Write the stored probe (exactly as uploaded) to this file and list the "
                   "processing steps applied to it; audited probe.view");
  show->callback([&result] { result.exit_code = RunShow(a); });
  for (bool verify : {false, true}) {
    auto* cmd = Sub(review, verify ? "verify" : "examine",
                    verify ? "Second examiner (ACE-V verification): your own examination, made "
                             "without seeing the first's conclusions"
                           : "First examination: FISWG components and a conclusion per candidate",
                    a, true);
    cmd->add_option("--file", a.file,
                    "The examination as JSON (the API's body: {\"candidates\": [...]})");
    cmd->add_option("--conclusion", a.conclusions,
                    "RANK=CONCLUSION[:NOTES], CONCLUSION on the department's scale ('admin config "
                    "show'); a candidate without one stays 'not examined'");
    cmd->add_option("--component", a.components,
                    "RANK:COMPONENT=similar|dissimilar|not_visible[:NOTE] (COMPONENT: "
                    "face_outline, hair_hairline, forehead, eyebrows, eyes, cheeks, nose, ears, "
                    "mouth, chin_jaw, neck, facial_hair, lines_creases, marks_scars, "
                    "tattoos_piercings, other)");
    cmd->callback([&result, verify] { result.exit_code = RunExamine(a, verify); });
  }
  auto* export_case =
      Sub(review, "export-case",
          "Write the signed case package of a released lead (the lead's readers; audited "
          "case.export)",
          a, true);
  export_case->add_option("--out", a.out, "The package folder to create (must not exist)")
      ->required();
  export_case->add_option("--key", a.key, "Signing key file, mode 0600 (default: DB.audit-key)");
  export_case->callback([&result] { result.exit_code = RunExportCase(a); });
  auto* verify_case = review->add_subcommand(
      "verify-case", "Check a case package offline against a trusted key (no database)");
  verify_case->add_option("package", a.package, "The package folder")->required();
  verify_case->add_option("--public-key", a.public_keys,
                          "Trusted public key: a .pub file or 64 hex characters (from 'facetrail "
                          "admin signing-key'), never the package's own");
  verify_case->add_option("--key-id", a.key_ids,
                          "Trusted key id (16 hex), as 'admin init' and 'admin signing-key' "
                          "print it");
  verify_case->add_flag("--json", a.json, "JSON output");
  verify_case->callback([&result] { result.exit_code = RunVerifyCase(a); });
  auto* decide = Sub(review, "decide", "Supervisor: settle a disputed lead", a, true);
  decide->add_option("--decision", a.decision, "adopt_first, adopt_second or reexamine")
      ->required();
  decide->add_option("--notes", a.notes, "Reasons")->required();
  decide->callback([&result] { result.exit_code = RunDecide(a); });
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
