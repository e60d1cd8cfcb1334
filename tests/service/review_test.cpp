// Review of leads as a recorded examination (issue 13): FISWG components and a conclusion per
// candidate, blind verification by a second examiner (ACE-V), a supervisor for disagreements,
// release, outcome; what each reader sees; the checks at the edge; the upgrade of old reviews.
#include "service/internal/requests_schema.h"
#include "service_test_util.h"

namespace facetrail::service {
namespace {

using testing::kAgency;
using testing::kCase;
using testing::ServiceTest;

class ReviewTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    // Every booking passes: a list of five (random templates score about 0 against the probe).
    auto config = ctx_->store().LoadConfig();
    ASSERT_TRUE(config.ok());
    config->candidate_threshold = -1.f;
    ASSERT_TRUE(UpdateConfig(*ctx_, admin_, *config).ok());
    auto r = Search(sam_, Request(Probe(7)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    request_ = *r;
    ASSERT_GE(request_.list.candidates.size(), 2u);
  }

  // Rank 1 examined in full (conclusion `first`), rank 2 "not a lead", the rest left out.
  std::vector<CandidateExamination> Exam(const std::string& first = "possible lead") {
    CandidateExamination one;
    one.rank = 1;
    one.conclusion = first;
    one.notes = "ear shape and scar agree";
    one.components = {{Component::kEars, FeatureMark::kSimilar, "same helix"},
                      {Component::kMarksScars, FeatureMark::kSimilar, "scar above left brow"},
                      {Component::kHairHairline, FeatureMark::kNotVisible, "cap"}};
    ViewingSettings v;
    v.contrast = 1.4;
    v.gamma = 0.8;
    v.views = {"aligned", "overlay"};
    one.viewing = v;
    CandidateExamination two;
    two.rank = 2;
    two.conclusion = "not a lead";
    two.components = {{Component::kNose, FeatureMark::kDissimilar, ""}};
    return {one, two};
  }

  int64_t id() const { return request_.request_id; }
  SearchResponse request_;
};

TEST_P(ReviewTest, ExaminationThenBlindVerificationReleasesTheLead) {
  ASSERT_TRUE(Examine(*ctx_, eve_, id(), Exam()).ok());
  // The requester sees candidates but no conclusion before release.
  auto early = GetLead(*ctx_, sam_, id());
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->status, "examined");
  EXPECT_FALSE(early->candidates[0].conclusion);
  EXPECT_TRUE(early->examinations.empty());
  // The second examiner works blind: nothing of the first examination.
  auto blind = GetLead(*ctx_, ed_, id());
  ASSERT_TRUE(blind.ok());
  EXPECT_TRUE(blind->blind);
  EXPECT_TRUE(blind->examinations.empty());
  for (const LeadCandidate& c : blind->candidates) EXPECT_FALSE(c.conclusion);
  // The first examiner, the supervisor and the auditor see it.
  for (const Actor& who : {eve_, sue_, al_}) {
    auto lead = GetLead(*ctx_, who, id());
    ASSERT_TRUE(lead.ok());
    EXPECT_FALSE(lead->blind) << who.name;
    ASSERT_EQ(lead->examinations.size(), 1u) << who.name;
  }
  EXPECT_EQ(RecordOutcome(*ctx_, sam_, id(), Outcome::kExcluded, "").code(),
            StatusCode::kFailedPrecondition);

  ASSERT_TRUE(Verify(*ctx_, ed_, id(), Exam()).ok());
  auto lead = GetLead(*ctx_, ed_, id());
  ASSERT_TRUE(lead.ok());
  EXPECT_EQ(lead->status, "released");
  EXPECT_FALSE(lead->blind);
  ASSERT_EQ(lead->examinations.size(), 2u) << "after submitting, both examinations";
  EXPECT_EQ(lead->examinations[0].stage, "examination");
  EXPECT_EQ(lead->examinations[1].stage, "verification");
  EXPECT_EQ(lead->verified_by, "ed");

  auto released = GetLead(*ctx_, sam_, id());
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->notice, std::string(kLeadNotice));
  EXPECT_EQ(released->candidates[0].conclusion, "possible lead");
  EXPECT_EQ(released->candidates[0].notes, "ear shape and scar agree");
  EXPECT_EQ(released->candidates[1].conclusion, "not a lead");
  for (size_t i = 2; i < released->candidates.size(); ++i) {
    EXPECT_EQ(released->candidates[i].conclusion, std::string(kNotExamined)) << "rank " << i + 1;
  }
  // The record: components (absent ones not examined) and viewing settings.
  const CandidateExamination& first = released->examinations[0].candidates[0];
  ASSERT_EQ(first.components.size(), 3u);
  EXPECT_EQ(first.components[0].component, Component::kHairHairline);
  EXPECT_EQ(first.components[0].mark, FeatureMark::kNotVisible);
  ASSERT_TRUE(first.viewing);
  EXPECT_DOUBLE_EQ(first.viewing->contrast, 1.4);
  EXPECT_EQ(first.viewing->views, (std::vector<std::string>{"aligned", "overlay"}));
  nlohmann::json j = ExaminationJson(released->examinations[0].candidates);
  EXPECT_EQ(j[0]["components"].size(), kNumComponents);
  EXPECT_EQ(j[0]["components"][4]["component"], "eyes");
  EXPECT_EQ(j[0]["components"][4]["mark"], "not_examined");

  // History: search, examination, verification, in order; no conclusion in it.
  std::vector<std::string> events;
  for (const HistoryEvent& h : released->history) events.push_back(h.event);
  EXPECT_EQ(events, (std::vector<std::string>{"search", "examination", "verification"}));

  ExpectRefused(RecordOutcome(*ctx_, eve_, id(), Outcome::kExcluded, ""), "not_requester");
  ASSERT_TRUE(RecordOutcome(*ctx_, sam_, id(), Outcome::kConfirmedByOtherEvidence,
                            "fingerprint on the counter")
                  .ok());
  for (const char* action : {"review.examine", "review.verify", "lead.release", "lead.outcome"}) {
    EXPECT_EQ(Entries(action).size(), 1u) << action;
  }
  auto examine = Entries("review.examine");
  nlohmann::json details = nlohmann::json::parse(examine[0].details);
  EXPECT_EQ(details["candidates"][0]["components"]["ears"]["mark"], "similar");
  EXPECT_EQ(details["candidates"][0]["viewing"]["gamma"], 0.8);
}

TEST_P(ReviewTest, DisagreementGoesToASupervisor) {
  ASSERT_TRUE(Examine(*ctx_, eve_, id(), Exam()).ok());
  ASSERT_TRUE(Verify(*ctx_, ed_, id(), Exam("insufficient detail")).ok());
  auto disputed = GetLead(*ctx_, sam_, id());
  ASSERT_TRUE(disputed.ok());
  EXPECT_EQ(disputed->status, "disputed");
  EXPECT_FALSE(disputed->candidates[0].conclusion) << "nothing released to the requester";
  EXPECT_EQ(Entries("review.dispute").size(), 1u);
  // Only a supervisor who was neither examiner decides, with reasons.
  ExpectRefused(Resolve(*ctx_, eve_, id(), Resolution::kAdoptFirst, "mine"), "wrong_role");
  EXPECT_EQ(Resolve(*ctx_, sue_, id(), Resolution::kAdoptSecond, "").code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(
      Resolve(*ctx_, sue_, id(), Resolution::kAdoptSecond, "the probe is too small for ears").ok());
  auto lead = GetLead(*ctx_, sam_, id());
  ASSERT_TRUE(lead.ok());
  EXPECT_EQ(lead->status, "released");
  EXPECT_EQ(lead->decision, "adopt_second");
  EXPECT_EQ(lead->candidates[0].conclusion, "insufficient detail");
  EXPECT_EQ(Entries("review.decide").size(), 1u);
}

TEST_P(ReviewTest, ASupervisorMaySendItBackToAThirdExaminer) {
  Actor xena = MakeUser("xena", {policy::Role::kExaminer}, true);
  ASSERT_TRUE(Examine(*ctx_, eve_, id(), Exam()).ok());
  ASSERT_TRUE(Verify(*ctx_, ed_, id(), Exam("not a lead")).ok());
  ASSERT_TRUE(Resolve(*ctx_, sue_, id(), Resolution::kReexamine, "look again, both").ok());
  EXPECT_EQ(GetLead(*ctx_, sue_, id())->status, "pending_review");
  ExpectRefused(Examine(*ctx_, eve_, id(), Exam()), "same_examiner");
  ExpectRefused(Examine(*ctx_, ed_, id(), Exam()), "same_examiner");
  ASSERT_TRUE(Examine(*ctx_, xena, id(), Exam()).ok());
  auto lead = GetLead(*ctx_, sue_, id());
  ASSERT_TRUE(lead.ok());
  EXPECT_EQ(lead->examiner, "xena");
  ASSERT_EQ(lead->examinations.size(), 3u);
  EXPECT_TRUE(lead->examinations[0].superseded);
  EXPECT_TRUE(lead->examinations[1].superseded);
}

TEST_P(ReviewTest, WhoMayExamineAndVerify) {
  auto own = Search(ed_, Request(Probe(8)));  // ed is examiner and searcher
  ASSERT_TRUE(own.ok());
  ExpectRefused(Examine(*ctx_, ed_, own->request_id, {}), "same_examiner");
  ExpectRefused(Examine(*ctx_, sue_, id(), Exam()), "wrong_role");
  ExpectRefused(Examine(*ctx_, sam_, id(), Exam()), "wrong_role");
  ASSERT_TRUE(Examine(*ctx_, eve_, own->request_id, {}).ok());
  ExpectRefused(Verify(*ctx_, ed_, own->request_id, {}), "same_examiner");
  ASSERT_TRUE(Examine(*ctx_, eve_, id(), Exam()).ok());
  ExpectRefused(Verify(*ctx_, eve_, id(), Exam()), "same_examiner");
  ASSERT_TRUE(RevokeCertificate(*ctx_, admin_, "ed", "FC-ed", "lapsed").ok());
  ExpectRefused(Verify(*ctx_, ed_, id(), Exam()), "no_valid_certificate");
  EXPECT_EQ(GetLead(*ctx_, sam_, id())->status, "examined");
}

TEST_P(ReviewTest, StateAndScaleRules) {
  EXPECT_EQ(Verify(*ctx_, ed_, id(), Exam()).code(), StatusCode::kFailedPrecondition);
  std::vector<CandidateExamination> twice = Exam();
  twice.push_back(twice[0]);
  Status s = Examine(*ctx_, eve_, id(), twice);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("candidates[2].rank"), std::string::npos) << s.ToString();
  std::vector<CandidateExamination> stranger = Exam();
  stranger[0].rank = 99;
  EXPECT_EQ(Examine(*ctx_, eve_, id(), stranger).code(), StatusCode::kInvalidArgument);
  std::vector<CandidateExamination> off_scale = Exam("identified");
  s = Examine(*ctx_, eve_, id(), off_scale);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("candidates[0].conclusion"), std::string::npos) << s.ToString();
  // The department's own scale.
  auto config = ctx_->store().LoadConfig();
  ASSERT_TRUE(config.ok());
  config->conclusion_scale = {"lead", "no lead"};
  ASSERT_TRUE(UpdateConfig(*ctx_, admin_, *config).ok());
  EXPECT_EQ(Examine(*ctx_, eve_, id(), Exam()).code(), StatusCode::kInvalidArgument);
  std::vector<CandidateExamination> custom = Exam("lead");
  custom[1].conclusion = "no lead";
  ASSERT_TRUE(Examine(*ctx_, eve_, id(), custom).ok());
  EXPECT_EQ(Examine(*ctx_, ed_, id(), custom).code(), StatusCode::kFailedPrecondition);
  config->conclusion_scale = {"lead", "not examined"};
  EXPECT_EQ(UpdateConfig(*ctx_, admin_, *config).code(), StatusCode::kInvalidArgument);
}

// Every field is checked where the input arrives; the error names the field.
TEST(ExaminationParseTest, RejectsBadInputNamingTheField) {
  struct Case {
    nlohmann::json body;
    const char* field;
  };
  auto one = [](nlohmann::json candidate) {
    return nlohmann::json{{"candidates", nlohmann::json::array({std::move(candidate)})}};
  };
  const std::string bad_utf8 = "caf\xC3";
  const std::string overlong = "\xC0\xAF";
  const Case cases[] = {
      {nlohmann::json::array(), "body"},
      {nlohmann::json{{"marks", 1}}, "candidates"},
      {one({{"rank", "1"}}), "candidates[0].rank"},
      {one({{"rank", 1}, {"conclusion", 3}}), "candidates[0].conclusion"},
      {one({{"rank", 1}, {"notes", bad_utf8}}), "candidates[0].notes"},
      {one({{"rank", 1}, {"notes", overlong}}), "candidates[0].notes"},
      {one({{"rank", 1}, {"notes", std::string("a\0b", 3)}}), "candidates[0].notes"},
      {one({{"rank", 1}, {"notes", std::string(kMaxNotesBytes + 1, 'x')}}), "candidates[0].notes"},
      {one({{"rank", 1}, {"components", {{{"component", "eyez"}, {"mark", "similar"}}}}}),
       "candidates[0].components[0].component"},
      {one({{"rank", 1}, {"components", {{{"component", "eyes"}, {"mark", "same"}}}}}),
       "candidates[0].components[0].mark"},
      {one({{"rank", 1},
            {"components",
             {{{"component", "eyes"}, {"mark", "similar"}, {"note", std::string(501, 'n')}}}}}),
       "candidates[0].components[0].note"},
      {one({{"rank", 1},
            {"components",
             {{{"component", "eyes"}, {"mark", "similar"}},
              {{"component", "eyes"}, {"mark", "dissimilar"}}}}}),
       "candidates[0].components[1].component"},
      {one({{"rank", 1}, {"viewing", {{"gamma", 9}}}}), "candidates[0].viewing.gamma"},
      {one({{"rank", 1}, {"viewing", {{"views", {"xray"}}}}}), "candidates[0].viewing.views[0]"},
      {one({{"rank", 1}, {"viewing", {{"filter", 1}}}}), "candidates[0].viewing.filter"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
    auto r = ParseExamination(c.body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind(std::string(c.field) + ":", 0), 0u)
        << r.status().message();
  }
  // Both sides of the limits, and real UTF-8.
  auto ok = ParseExamination(one({{"rank", 1},
                                  {"conclusion", "possible lead"},
                                  {"notes", std::string(kMaxNotesBytes - 2, 'x') + "\xC3\xA9"},
                                  {"viewing", {{"gamma", 5}, {"brightness", -1}}}}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)[0].conclusion, "possible lead");
  auto unexamined = ParseExamination(one({{"rank", 2}}));
  ASSERT_TRUE(unexamined.ok());
  EXPECT_EQ((*unexamined)[0].conclusion, std::string(kNotExamined));
}

TEST_P(ReviewTest, WhoMayReadALead) {
  Actor other = MakeUser("other", {policy::Role::kSearcher}, true);
  ExpectRefused(GetLead(*ctx_, other, id()).status(), "wrong_role");
  ExpectRefused(GetLead(*ctx_, admin_, id()).status(), "wrong_role");
  EXPECT_TRUE(GetLead(*ctx_, al_, id()).ok());
  EXPECT_TRUE(GetLead(*ctx_, sue_, id()).ok());
  EXPECT_EQ(Entries("lead.view").size(), 2u);
  auto pending = PendingReviews(*ctx_, eve_);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].request_id, id());
  EXPECT_TRUE(PendingReviews(*ctx_, sue_).ok()) << "supervisors see disputes to decide";
  ExpectRefused(PendingReviews(*ctx_, sam_).status(), "wrong_role");
}

// The review tables of schema version 2 (marks possible_match / not_a_match / inconclusive, a
// disputed lead waiting for a new examiner) upgrade in place to the examination record.
// From the previous schema version, on both engines (on PostgreSQL foreign keys are switched off
// for the session as PRAGMA foreign_keys = OFF does on SQLite: no users in the table).
class ReviewMigrationTest : public ::testing::TestWithParam<testing::Backend> {};
TEST_P(ReviewMigrationTest, Version2ReviewsBecomeExaminationRecords) {
  const std::string file = (std::filesystem::temp_directory_path() /
                            ("ft_review_migrate_" + std::to_string(::getpid()) + ".db"))
                               .string();
  std::string path = file;
  const bool pg = GetParam() == testing::Backend::kPostgres;
  if (pg) FT_PG_DATABASE_OR_SKIP(path);
  std::filesystem::remove(file);
  auto db = Db::Open(path);
  ASSERT_TRUE(db.ok());
  const auto& all = internal::RequestsMigrations();
  ASSERT_GE(all.size(), 3u);
  ASSERT_TRUE(
      db->Exec(pg ? "SET session_replication_role = replica" : "PRAGMA foreign_keys = OFF").ok());
  // PostgreSQL checks that a foreign key's table exists when the key is created.
  if (pg) {
    auto store = policy::PolicyStore::Open(*db, policy::PasswordCost::Minimum());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  Status v2 = db->Migrate("requests", {all[0], all[1]});
  ASSERT_TRUE(v2.ok()) << v2.ToString();
  std::string old_rows = R"sql(
INSERT INTO probes VALUES ('aa', BYTES, 3, 'jpeg', '2026-01-01T00:00:00Z', NULL);
INSERT INTO search_requests(id, user_id, user_name, created_at, case_number, purpose, offense,
  justification, agency, probe_sha256, model_id, model_version, gallery_version, threshold, top_k,
  status) VALUES
  (1, 1, 'sam', '2026-01-01T00:00:00Z', 'C-1', 'p', 'o', 'j', 'a', 'aa', 'm', 1, 'g@1', 0.5, 3,
   'released'),
  (2, 1, 'sam', '2026-01-02T00:00:00Z', 'C-2', 'p', 'o', 'j', 'a', 'aa', 'm', 1, 'g@1', 0.5, 3,
   'disputed');
INSERT INTO request_candidates VALUES (1, 1, 'B-1', 1, 1, 0.9), (1, 2, 'B-2', 2, 2, 0.6),
  (1, 3, 'B-3', 3, 3, 0.55), (2, 1, 'B-1', 1, 1, 0.8);
INSERT INTO reviews(id, request_id, stage, examiner_id, examiner_name, created_at, agrees, notes,
  superseded) VALUES
  (1, 1, 'examination', 2, 'eve', '2026-01-01T01:00:00Z', NULL, '', 0),
  (2, 1, 'concurrence', 3, 'ed', '2026-01-01T02:00:00Z', 1, 'agree', 0),
  (3, 2, 'examination', 2, 'eve', '2026-01-02T01:00:00Z', NULL, '', 1),
  (4, 2, 'concurrence', 3, 'ed', '2026-01-02T02:00:00Z', 0, 'no', 0);
INSERT INTO review_marks VALUES (1, 1, 'possible_match', 'ears agree'),
  (1, 2, 'not_a_match', ''), (1, 3, 'inconclusive', 'blurred'), (3, 1, 'possible_match', '');
)sql";
  old_rows.replace(old_rows.find("BYTES"), 5, pg ? "decode('FFD8FF', 'hex')" : "x'FFD8FF'");
  ASSERT_TRUE(db->Exec(old_rows).ok());
  ASSERT_TRUE(db->Migrate("requests", all).ok());
  EXPECT_EQ(db->SchemaVersion("requests").value(), all.back().version);
  auto stmt = db->Prepare(
      "SELECT rank, conclusion, notes FROM review_candidates WHERE "
      "review_id = 1 ORDER BY rank");
  ASSERT_TRUE(stmt.ok());
  std::vector<std::string> rows;
  while (stmt->Step().value()) {
    rows.push_back(std::to_string(stmt->Int(0)) + "|" + stmt->Text(1) + "|" + stmt->Text(2));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"1|possible lead|ears agree", "2|not a lead|",
                                            "3|insufficient detail|blurred"}));
  auto status = db->Prepare("SELECT status FROM search_requests ORDER BY id");
  ASSERT_TRUE(status.ok());
  ASSERT_TRUE(status->Step().value());
  EXPECT_EQ(status->Text(0), "released");
  ASSERT_TRUE(status->Step().value());
  EXPECT_EQ(status->Text(0), "pending_review") << "a disputed lead waited for a new examiner";
  auto gone = db->TableExists("review_marks");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(*gone) << "the old table is gone";
  auto features = db->Prepare("SELECT count(*) FROM review_features");
  ASSERT_TRUE(features.ok());
  ASSERT_TRUE(features->Step().value());
  EXPECT_EQ(features->Int(0), 0);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file + suffix);
}

FT_INSTANTIATE_BACKENDS(ReviewTest);
FT_INSTANTIATE_BACKENDS(ReviewMigrationTest);

}  // namespace
}  // namespace facetrail::service
