// Issue 18: a probe between the quality gate's limits is searched with the FNIR the model's
// calibration expects for its quality bin, and every processing step (an enhancement marked as
// one) is recorded with the request and shown wherever the probe is: the response, the stored
// request, the probe view, the lead, the case file and the audit entry. Requests stored under
// version 3 of the schema migrate and read back as "not recorded".
#include <unistd.h>

#include "common/db.h"
#include "service/case_file.h"
#include "service/internal/requests_schema.h"
#include "service/probe_view.h"
#include "service/review.h"
#include "service/search_response_json.h"
#include "service_test_util.h"

namespace facetrail::service {
namespace {

using testing::ServiceTest;

// Effective eye distance [0, 10), [10, 20), [20, inf) × detail [0, 5), [5, inf).
vision::ExpectedFnirTable Table() {
  vision::ExpectedFnirTable t;
  t.source = "test ladder";
  t.threshold = 0.3;
  t.eye_distance_edges = {0, 10, 20};
  t.detail_edges = {0, 5};
  t.fnir = {{0.9, std::nullopt}, {0.4, 0.12}, {0.2, 0.06}};
  t.mated = {{400, 3}, {500, 700}, {800, 9000}};
  return t;
}

// A small, blurred face: 30 px as it stands, the detail of 15 px (enlarged 2x), detail 3 — above
// the test model's limits on the plain figures (20 px, sharpness 15), between them on the real
// ones only because the gate's limits here are low.
vision::FaceQuality BetweenLimits() {
  vision::FaceQuality q = testing::GoodQuality();
  q.eye_distance_px = 30;
  q.sharpness = 40;
  q.noise_sigma = 1;
  q.detail = 3;
  q.effective_scale = 2;
  q.effective_eye_distance_px = 15;
  return q;
}

class ExpectedFnirTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    auto config = ctx_->store().LoadConfig();
    ASSERT_TRUE(config.ok());
    config->quality.min_sharpness = 2;  // the department's: the detail of 3 passes
    config->quality.min_eye_distance_px = 4;
    config->candidate_threshold = -1.f;  // a list of five
    ASSERT_TRUE(UpdateConfig(*ctx_, admin_, *config).ok());
    tweak_analysis_ = [](ProbeAnalysis& a) {
      a.expected_fnir = Table();
      a.steps.push_back({"detect", R"({"input_px":512})", "find the faces", false});
      a.steps.push_back({"unsharp_mask", R"({"amount":1,"sigma":1})",
                         "an enhancement adopted on the ladder's figures", true});
    };
  }
};

TEST_P(ExpectedFnirTest, IsStatedStoredAndShownWithTheProbeAndItsSteps) {
  auto r = Search(sam_, Request(Probe(7, BetweenLimits())));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // The response: the bin [10, 20) px × [0, 5) of the table, 40 %.
  ASSERT_TRUE(r->expected_fnir && r->expected_fnir->fnir);
  EXPECT_DOUBLE_EQ(*r->expected_fnir->fnir, 0.4);
  EXPECT_EQ(r->expected_fnir->searches_measured, 500);
  EXPECT_EQ(r->expected_fnir->eye_lo, 10);
  EXPECT_EQ(r->expected_fnir->detail_hi, 5);
  EXPECT_EQ(r->expected_fnir->effective_eye_distance_px, 15);
  EXPECT_EQ(r->expected_fnir->model, "test-model");
  nlohmann::json j = SearchResponseJson(*r);
  EXPECT_DOUBLE_EQ(j["expected_fnir"]["fnir"].get<double>(), 0.4);
  EXPECT_EQ(j["expected_fnir"]["bin"]["effective_eye_distance_px"], nlohmann::json({10.0, 20.0}));
  EXPECT_TRUE(j["expected_fnir"]["bin"]["detail"][1].get<double>() == 5.0);
  EXPECT_NE(ProbeExpectationText(r->expected_fnir).find("expected FNIR 40.0 %"), std::string::npos)
      << ProbeExpectationText(r->expected_fnir);
  // The steps: decode, the analysis's own (an enhancement among them), select_face, template;
  // each with why.
  std::vector<std::string> kinds;
  for (const ProcessingStep& s : r->steps) {
    kinds.push_back(s.kind);
    EXPECT_FALSE(s.why.empty()) << s.kind;
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"decode", "detect", "unsharp_mask", "select_face",
                                             "template"}));
  EXPECT_TRUE(r->steps[2].enhancement);
  EXPECT_FALSE(r->steps[1].enhancement);
  EXPECT_EQ(j["steps"][2]["enhancement"], true);
  EXPECT_EQ(j["steps"][2]["why"], "an enhancement adopted on the ladder's figures");

  // Stored: the probe view, the lead, the audit entry.
  auto view = ViewProbe(*ctx_, eve_, r->request_id);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_EQ(view->steps.size(), 5u);
  EXPECT_EQ(view->steps[2].kind, "unsharp_mask");
  EXPECT_TRUE(view->steps[2].enhancement);
  EXPECT_EQ(view->steps[2].why, r->steps[2].why);
  ASSERT_TRUE(view->expected_fnir && view->expected_fnir->fnir);
  EXPECT_DOUBLE_EQ(*view->expected_fnir->fnir, 0.4);
  EXPECT_EQ(ProbeViewJson(*view)["expected_fnir"], j["expected_fnir"]);
  auto lead = GetLead(*ctx_, eve_, r->request_id);
  ASSERT_TRUE(lead.ok()) << lead.status().ToString();
  ASSERT_TRUE(lead->expected_fnir && lead->expected_fnir->fnir);
  EXPECT_DOUBLE_EQ(*lead->expected_fnir->fnir, 0.4);
  EXPECT_EQ(lead->probe_steps.size(), 5u);
  auto entries = Entries("search.request");
  ASSERT_EQ(entries.size(), 1u);
  auto d = nlohmann::json::parse(entries[0].details);
  EXPECT_DOUBLE_EQ(d["expected_fnir"]["fnir"].get<double>(), 0.4);
  EXPECT_EQ(d["enhancements"], nlohmann::json({"unsharp_mask"}));

  // The case file of the released lead carries both.
  std::vector<CandidateExamination> exam(1);
  exam[0].rank = 1;
  exam[0].conclusion = "not a lead";
  ASSERT_TRUE(Examine(*ctx_, eve_, r->request_id, exam).ok());
  ASSERT_TRUE(Verify(*ctx_, ed_, r->request_id, exam).ok());
  auto file = BuildCaseFile(*ctx_, eve_, *gallery_, r->request_id, CaseFileUse::kView);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  nlohmann::json cf = CaseFileJson(*file, false);
  EXPECT_DOUBLE_EQ(cf["probe"]["expected_fnir"]["fnir"].get<double>(), 0.4);
  EXPECT_EQ(cf["probe"]["steps"][2]["kind"], "unsharp_mask");
  EXPECT_EQ(cf["probe"]["steps"][2]["enhancement"], true);
}

TEST_P(ExpectedFnirTest, ABinMeasuredTooThinlyOrAModelWithoutATableStatesNoneAndSaysWhy) {
  vision::FaceQuality thin = BetweenLimits();
  thin.effective_eye_distance_px = 5;  // [0, 10) × [5, inf): 3 searches measured
  thin.detail = 8;
  auto r = Search(sam_, Request(Probe(7, thin)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->expected_fnir);
  EXPECT_FALSE(r->expected_fnir->fnir);
  EXPECT_EQ(r->expected_fnir->searches_measured, 3);
  EXPECT_NE(r->expected_fnir->note.find("too few"), std::string::npos);
  EXPECT_TRUE(SearchResponseJson(*r)["expected_fnir"]["fnir"].is_null());

  tweak_analysis_ = nullptr;  // a model calibrated without a ladder
  auto plain = Search(sam_, Request(Probe(8, BetweenLimits(), "-2")));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ASSERT_TRUE(plain->expected_fnir);
  EXPECT_FALSE(plain->expected_fnir->fnir);
  EXPECT_NE(plain->expected_fnir->note.find("no expected-FNIR table"), std::string::npos);
  auto view = ViewProbe(*ctx_, eve_, plain->request_id);
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(view->expected_fnir);
  EXPECT_FALSE(view->expected_fnir->fnir);
}

TEST_P(ExpectedFnirTest, BelowTheHardLimitsTheRefusalAndOverridePathStays) {
  vision::FaceQuality tiny = BetweenLimits();
  tiny.effective_eye_distance_px = 3;  // enlarged 10x: below the department's 4 px
  tiny.effective_scale = 10;
  std::vector<uint8_t> probe = Probe(7, tiny);
  auto refused = Search(sam_, Request(probe));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("probe_quality"), std::string::npos);
  ASSERT_TRUE(ApproveQualityOverride(*ctx_, sue_, Sha256Hex(probe), testing::kCase,
                                     "the only still of the suspect")
                  .ok());
  auto r = Search(sam_, Request(probe));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->quality_override_used);
  ASSERT_TRUE(r->expected_fnir && r->expected_fnir->fnir);
  EXPECT_DOUBLE_EQ(*r->expected_fnir->fnir, 0.9);  // what such a probe costs, stated
}

TEST_P(ExpectedFnirTest, StoredExpectationThatIsDamagedIsAnErrorNotAGuess) {
  EXPECT_FALSE(ParseProbeExpectation(std::nullopt).value());
  EXPECT_EQ(ParseProbeExpectation(std::string("{\"model\": 3}")).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(ParseProbeExpectation(std::string("[1, 2")).status().code(), StatusCode::kDataLoss);
  ProbeExpectation e;
  e.model = "m";
  e.fnir = 0.25;
  e.eye_hi = std::numeric_limits<double>::infinity();
  e.detail_hi = 5;
  auto back = ParseProbeExpectation(ProbeExpectationJson(e).dump());
  ASSERT_TRUE(back.ok() && *back);
  EXPECT_DOUBLE_EQ(*(*back)->fnir, 0.25);
  EXPECT_TRUE(std::isinf((*back)->eye_hi));
  EXPECT_EQ((*back)->detail_hi, 5);
}

// A request stored under version 3 (no why, no enhancement flag, no expected FNIR) migrates to
// version 4 and reads back as "not recorded", never as an invented value.
// From the previous schema version, on both engines (on PostgreSQL foreign keys are switched off
// for the session as PRAGMA foreign_keys = OFF does on SQLite: no users in the table).
class ExpectedFnirMigrationTest : public ::testing::TestWithParam<testing::Backend> {};
TEST_P(ExpectedFnirMigrationTest, Version3RequestsReadBackAsNotRecorded) {
  const std::string file = (std::filesystem::temp_directory_path() /
                            ("ft_expected_migrate_" + std::to_string(::getpid()) + ".db"))
                               .string();
  std::string path = file;
  const bool pg = GetParam() == testing::Backend::kPostgres;
  if (pg) FT_PG_DATABASE_OR_SKIP(path);
  std::filesystem::remove(file);
  auto db = Db::Open(path);
  ASSERT_TRUE(db.ok());
  const auto& all = internal::RequestsMigrations();
  ASSERT_EQ(all.size(), 4u);
  ASSERT_EQ(all[3].version, 4);
  ASSERT_TRUE(
      db->Exec(pg ? "SET session_replication_role = replica" : "PRAGMA foreign_keys = OFF").ok());
  // PostgreSQL checks that a foreign key's table exists when the key is created.
  if (pg) {
    auto store = policy::PolicyStore::Open(*db, policy::PasswordCost::Minimum());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  Status v3 = db->Migrate("requests", {all[0], all[1], all[2]});
  ASSERT_TRUE(v3.ok()) << v3.ToString();
  std::string old_rows = R"sql(
INSERT INTO probes VALUES ('aa', BYTES, 3, 'jpeg', '2026-01-01T00:00:00Z', NULL);
INSERT INTO search_requests(id, user_id, user_name, created_at, case_number, purpose, offense,
  justification, agency, probe_sha256, model_id, model_version, gallery_version, threshold, top_k,
  status) VALUES
  (1, 1, 'sam', '2026-01-01T00:00:00Z', 'C-1', 'p', 'o', 'j', 'a', 'aa', 'm', 1, 'g@1', 0.5, 3,
   'pending_review');
INSERT INTO probe_steps VALUES (1, 1, 'decode', '{"format":"jpeg"}'),
  (1, 2, 'template', '{"model_id":"m"}');
)sql";
  old_rows.replace(old_rows.find("BYTES"), 5, pg ? "decode('FFD8FF', 'hex')" : "x'FFD8FF'");
  ASSERT_TRUE(db->Exec(old_rows).ok());
  ASSERT_TRUE(db->Migrate("requests", all).ok());
  EXPECT_EQ(db->SchemaVersion("requests").value(), 4);
  auto stmt = db->Prepare(
      "SELECT kind, why, enhancement FROM probe_steps WHERE request_id = 1 ORDER BY step");
  ASSERT_TRUE(stmt.ok());
  std::vector<std::string> rows;
  while (stmt->Step().value()) {
    rows.push_back(stmt->Text(0) + "|" + stmt->Text(1) + "|" + std::to_string(stmt->Int(2)));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"decode||0", "template||0"}));
  auto expected = db->Prepare("SELECT expected_fnir FROM search_requests WHERE id = 1");
  ASSERT_TRUE(expected.ok());
  ASSERT_TRUE(expected->Step().value());
  EXPECT_TRUE(expected->IsNull(0));
  EXPECT_FALSE(ParseProbeExpectation(expected->OptText(0)).value());
  EXPECT_EQ(StepsJson({{"decode", "{}", "", false}})[0]["why"], nullptr);
  // The flag takes 0 or 1 only.
  EXPECT_FALSE(db->Exec("INSERT INTO probe_steps VALUES (1, 3, 'x', '{}', 'w', 2)").ok());
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file + suffix);
}

FT_INSTANTIATE_BACKENDS(ExpectedFnirTest);
FT_INSTANTIATE_BACKENDS(ExpectedFnirMigrationTest);

}  // namespace
}  // namespace facetrail::service
