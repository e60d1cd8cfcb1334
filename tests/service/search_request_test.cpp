// The accountable search request: every refusal path is refused AND audited; a granted request
// stores the probe unaltered, records the steps and writes one complete audit entry.
#include "service_test_util.h"

namespace facetrail::service {
namespace {

using testing::kAgency;
using testing::kCase;
using testing::ServiceTest;

class SearchRequestTest : public ServiceTest {};

TEST_P(SearchRequestTest, GrantedSearchIsRecordedAndAudited) {
  std::vector<uint8_t> probe = Probe(7);
  auto r = Search(sam_, Request(probe));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->list.candidates.empty());
  EXPECT_EQ(r->list.candidates[0].booking_number, "B-7");
  EXPECT_EQ(r->list.candidates[0].rank, 1);
  EXPECT_LE(r->list.candidates.size(), 5u);
  EXPECT_EQ(r->notice,
            "Investigative lead only \u2014 not a positive identification. Human review required.");
  EXPECT_EQ(r->status, "pending_review");
  EXPECT_EQ(r->probe_sha256, Sha256Hex(probe));

  // The probe is stored byte for byte, beside its hash, and never enrolled.
  auto stmt = db_->Prepare("SELECT bytes, sha256 FROM probes");
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->Blob(0), probe);
  EXPECT_EQ(stmt->Text(1), Sha256Hex(probe));
  EXPECT_EQ(gallery_->Stats()->photos, 40);
  EXPECT_EQ(Count("probe_steps"), 3);  // decode, select_face, template

  auto entries = Entries("search.request");
  ASSERT_EQ(entries.size(), 1u);
  const audit::Entry& e = entries[0];
  EXPECT_EQ(e.actor, "sam");
  EXPECT_EQ(e.subject, "request:" + std::to_string(r->request_id));
  auto d = nlohmann::json::parse(e.details);
  EXPECT_EQ(d["case"], kCase);
  EXPECT_EQ(d["purpose"], "criminal investigation");
  EXPECT_EQ(d["probe_sha256"], Sha256Hex(probe));
  EXPECT_EQ(d["model_id"], "test-model");
  EXPECT_EQ(d["model_version"], 1);
  EXPECT_EQ(d["gallery_version"], r->list.gallery_version);
  EXPECT_FLOAT_EQ(d["threshold"].get<float>(), 0.3f);
  ASSERT_EQ(d["candidates"].size(), r->list.candidates.size());
  EXPECT_EQ(d["candidates"][0]["booking"], "B-7");
  EXPECT_FLOAT_EQ(d["candidates"][0]["score"].get<float>(), r->list.candidates[0].score);
  // Nowhere is a candidate called identified.
  EXPECT_EQ(e.details.find("identified"), std::string::npos);
}

struct RefusalCase {
  const char* name;
  std::function<void(ServiceTest&, SearchRequest&, Actor&)> change;
  const char* code;
};

class RefusalTest : public ServiceTest {
 public:
  using ServiceTest::admin_;
  using ServiceTest::analyzer_;
  using ServiceTest::ctx_;
  using ServiceTest::ed_;
  using ServiceTest::eve_;
  using ServiceTest::Probe;
  using ServiceTest::sue_;
  Actor NoCert() { return MakeUser("nocert", {policy::Role::kSearcher}, false); }
  Actor Foreign() {
    auto u =
        AddUser(*ctx_, admin_,
                {"foreign", "", "County Sheriff", {policy::Role::kSearcher}, "foreign-password-1"});
    EXPECT_TRUE(AddCertificate(*ctx_, admin_, "foreign",
                               {"FC", "FC-f", "2026-01-01", "2026-12-31", "Academy"})
                    .ok());
    return {u->id, u->name};
  }
};

template <size_t N>
std::vector<uint8_t> Bytes(const char (&s)[N]) {
  return {s, s + N - 1};  // string literals may hold NULs
}

TEST_P(RefusalTest, EveryRefusalPathIsAudited) {
  const std::vector<RefusalCase> cases = {
      {"examiner only", [](auto& t, auto&, auto& a) { a = static_cast<RefusalTest&>(t).eve_; },
       "wrong_role"},
      {"supervisor only", [](auto& t, auto&, auto& a) { a = static_cast<RefusalTest&>(t).sue_; },
       "wrong_role"},
      {"admin", [](auto& t, auto&, auto& a) { a = static_cast<RefusalTest&>(t).admin_; },
       "wrong_role"},
      {"no certificate", [](auto& t, auto&, auto& a) { a = static_cast<RefusalTest&>(t).NoCert(); },
       "no_valid_certificate"},
      {"locked",
       [](auto& t, auto&, auto& a) {
         auto& rt = static_cast<RefusalTest&>(t);
         ASSERT_TRUE(SetLocked(*rt.ctx_, rt.admin_, "ed", true, "on leave").ok());
         a = rt.ed_;
       },
       "account_locked"},
      {"missing case", [](auto&, auto& r, auto&) { r.fields.case_number = ""; },
       "missing_case_number"},
      {"malformed case", [](auto&, auto& r, auto&) { r.fields.case_number = "just curious"; },
       "malformed_case_number"},
      {"purpose off list", [](auto&, auto& r, auto&) { r.fields.purpose = "background check"; },
       "purpose_not_allowed"},
      {"no offence", [](auto&, auto& r, auto&) { r.fields.offense = ""; }, "missing_offense"},
      {"no justification", [](auto&, auto& r, auto&) { r.fields.justification = ""; },
       "missing_justification"},
      {"outside agency", [](auto&, auto& r, auto&) { r.fields.agency = "County Sheriff"; },
       "outside_agency"},
      {"member of another agency",
       [](auto& t, auto& r, auto& a) {
         a = static_cast<RefusalTest&>(t).Foreign();
         r.fields.agency = "County Sheriff";
       },
       "outside_agency"},
      {"mp4 probe",
       [](auto&, auto& r, auto&) {
         r.probe_bytes = Bytes(
             "\0\0\0\x18"
             "ftypisom\0\0\x02\0isomiso2");
       },
       "probe_is_video"},
      {"avi probe", [](auto&, auto& r, auto&) { r.probe_bytes = Bytes("RIFF\x10\0\0\0AVI LIST"); },
       "probe_is_video"},
      {"stream",
       [](auto&, auto& r, auto&) {
         r.origin = ProbeOrigin::kStream;
         r.probe_name = "rtsp://camera-12/live";
       },
       "probe_is_video"},
      {"no face",
       [](auto& t, auto& r, auto&) {
         auto& rt = static_cast<RefusalTest&>(t);
         r.probe_bytes = Bytes("\xFF\xD8\xFF empty street");
         ProbeAnalysis a;
         a.format = "jpeg";
         a.model = testing::kModel;
         rt.analyzer_.Set(r.probe_bytes, a);
       },
       "no_face_in_probe"},
      {"face too small",
       [](auto& t, auto& r, auto&) {
         r.probe_bytes = static_cast<RefusalTest&>(t).Probe(9, {8, 0.9f, 80, 0, 0, 0}, "small");
       },
       "probe_quality"},
      {"blurred",
       [](auto& t, auto& r, auto&) {
         r.probe_bytes = static_cast<RefusalTest&>(t).Probe(9, {60, 0.9f, 1, 0, 0, 0}, "blur");
       },
       "probe_quality"},
      {"profile",
       [](auto& t, auto& r, auto&) {
         r.probe_bytes = static_cast<RefusalTest&>(t).Probe(9, {60, 0.9f, 80, 70, 0, 0}, "yaw");
       },
       "probe_quality"},
  };
  for (const RefusalCase& c : cases) {
    SCOPED_TRACE(c.name);
    SearchRequest r = Request(Probe(7));
    Actor who = sam_;
    c.change(*this, r, who);
    size_t refused_before = Entries("search.refused").size();
    int64_t requests_before = Count("search_requests");
    auto result = Search(who, r);
    ExpectRefused(result.status(), c.code);
    EXPECT_EQ(Count("search_requests"), requests_before);
    EXPECT_EQ(Count("probes"), 0);
    auto refused = Entries("search.refused");
    ASSERT_EQ(refused.size(), refused_before + 1);
    auto d = nlohmann::json::parse(refused.back().details);
    EXPECT_EQ(d["code"], c.code);
    EXPECT_EQ(d["reason"], SplitRefusal(result.status()).reason);
    EXPECT_EQ(d["probe_sha256"], Sha256Hex(r.probe_bytes));
    EXPECT_EQ(d["case"], r.fields.case_number);
    EXPECT_EQ(refused.back().actor, who.name);
  }
}

// Issue 17: a file that is not an image is the caller's input error (400 over HTTP, exit status 2
// on the command line), not a policy refusal (403) — and the attempt is still audited.
TEST_P(RefusalTest, AProbeThatIsNotAnImageIsAnInputErrorYetAudited) {
  SearchRequest r = Request(Bytes("not an image at all"));
  const size_t refused_before = Entries("search.refused").size();
  const int64_t requests_before = Count("search_requests");
  auto result = Search(sam_, r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
  EXPECT_FALSE(IsRefusal(result.status()));
  EXPECT_NE(result.status().message().find("is not a usable still image"), std::string::npos);
  EXPECT_EQ(Count("search_requests"), requests_before);
  auto refused = Entries("search.refused");
  ASSERT_EQ(refused.size(), refused_before + 1);
  auto d = nlohmann::json::parse(refused.back().details);
  EXPECT_EQ(d["code"], "probe_unreadable");
  EXPECT_EQ(d["probe_sha256"], Sha256Hex(r.probe_bytes));
  EXPECT_EQ(refused.back().actor, sam_.name);
}

TEST_P(SearchRequestTest, PolicyRefusalsHappenBeforeAnyAnalysis) {
  SearchRequest r = Request(Probe(7));
  r.fields.purpose = "background check";
  ExpectRefused(Search(sam_, r).status(), "purpose_not_allowed");
  EXPECT_EQ(analyzer_.calls, 0);
}

TEST_P(SearchRequestTest, TopKLimitsAreUsageErrorsNotRefusals) {
  SearchRequest r = Request(Probe(7));
  r.top_k = 0;
  EXPECT_EQ(Search(sam_, r).status().code(), StatusCode::kInvalidArgument);
  r.top_k = 21;  // the default list length is 20
  EXPECT_EQ(Search(sam_, r).status().code(), StatusCode::kInvalidArgument);
  r.top_k = 20;
  EXPECT_TRUE(Search(sam_, r).ok());
}

// Issue 13: one candidate-list policy. Without a department threshold the model's calibrated
// one makes the list; with one, the department's; unset top_k is the policy's list length; the
// policy that made each list is stored and audited with it.
TEST_P(SearchRequestTest, TheCandidateListPolicyMakesAndIsRecordedWithEveryList) {
  SearchRequest r = Request(Probe(7));
  r.top_k.reset();
  auto calibrated = Search(sam_, r);
  ASSERT_TRUE(calibrated.ok()) << calibrated.status().ToString();
  EXPECT_FLOAT_EQ(calibrated->list.threshold, 0.3f);
  EXPECT_EQ(calibrated->list.threshold_source, "model calibration");
  EXPECT_EQ(calibrated->list.max_list_length, 20);
  for (const Candidate& c : calibrated->list.candidates) EXPECT_GE(c.score, 0.3f);

  auto config = ctx_->store().LoadConfig();
  ASSERT_TRUE(config.ok());
  config->candidate_threshold = 1.0f;  // nothing but an exact copy would pass
  config->max_top_k = 3;
  ASSERT_TRUE(UpdateConfig(*ctx_, admin_, *config).ok());
  auto strict = Search(sam_, r);
  ASSERT_TRUE(strict.ok()) << strict.status().ToString();
  EXPECT_FLOAT_EQ(strict->list.threshold, 1.0f);
  EXPECT_EQ(strict->list.threshold_source, "department");
  EXPECT_EQ(strict->list.max_list_length, 3);
  EXPECT_TRUE(strict->list.candidates.empty()) << "a list may be empty when nothing passes";
  r.top_k = 4;
  EXPECT_EQ(Search(sam_, r).status().code(), StatusCode::kInvalidArgument);

  auto lead = GetLead(*ctx_, eve_, strict->request_id);
  ASSERT_TRUE(lead.ok()) << lead.status().ToString();
  EXPECT_FLOAT_EQ(lead->policy.threshold, 1.0f);
  EXPECT_EQ(lead->policy.threshold_source, "department");
  EXPECT_EQ(lead->policy.max_list_length, 3);
  EXPECT_EQ(lead->policy.model.id, calibrated->list.model.id);
  auto entries = Entries("search.request");
  ASSERT_EQ(entries.size(), 2u);
  nlohmann::json details = nlohmann::json::parse(entries[1].details);
  EXPECT_EQ(details["threshold_source"], "department");
  EXPECT_EQ(details["max_list_length"], 3);

  // No department threshold and an uncalibrated model: no list, and it says how to get one.
  config->candidate_threshold.reset();
  ASSERT_TRUE(UpdateConfig(*ctx_, admin_, *config).ok());
  std::vector<uint8_t> probe = Probe(8);
  ProbeAnalysis a = *analyzer_.Analyze(probe);
  a.calibrated_candidate_threshold.reset();
  analyzer_.Set(probe, a);
  SearchRequest uncalibrated = Request(probe);
  uncalibrated.top_k.reset();
  auto none = Search(sam_, uncalibrated);
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition) << none.status().ToString();
}

TEST_P(SearchRequestTest, RequestedFaceIndexIsCheckedAndRecorded) {
  SearchRequest r = Request(Probe(7));
  r.face = 1;  // the probe has one face
  EXPECT_EQ(Search(sam_, r).status().code(), StatusCode::kInvalidArgument);
  r.face = 0;
  auto ok = Search(sam_, r);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_NE(ok->steps[1].params.find("requested by the searcher"), std::string::npos);
}

TEST_P(SearchRequestTest, QualityOverrideBySupervisorIsUsedOnce) {
  std::vector<uint8_t> small = Probe(11, {8, 0.9f, 80, 0, 0, 0});
  ExpectRefused(Search(sam_, Request(small)).status(), "probe_quality");
  // Not a supervisor: refused and audited.
  ExpectRefused(ApproveQualityOverride(*ctx_, sam_, Sha256Hex(small), kCase, "only photo").status(),
                "wrong_role");
  EXPECT_EQ(Entries("quality.override.refused").size(), 1u);
  EXPECT_EQ(ApproveQualityOverride(*ctx_, sue_, Sha256Hex(small), kCase, "").status().code(),
            StatusCode::kInvalidArgument);
  auto id = ApproveQualityOverride(*ctx_, sue_, Sha256Hex(small), kCase,
                                   "only image of the suspect; examiners warned");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  // The override is bound to its case.
  SearchRequest other = Request(small);
  other.fields.case_number = "MPD-2026-0043";
  ExpectRefused(Search(sam_, other).status(), "probe_quality");
  auto r = Search(sam_, Request(small));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->quality_override_used);
  auto d = nlohmann::json::parse(Entries("search.request").back().details);
  EXPECT_EQ(d["quality_override_id"], *id);
  ExpectRefused(Search(sam_, Request(small)).status(), "probe_quality");  // used up
}

TEST_P(SearchRequestTest, QualityOverridesAreListedForSupervisorsAndAuditors) {
  std::vector<uint8_t> small = Probe(13, {8, 0.9f, 80, 0, 0, 0});
  auto first = ApproveQualityOverride(*ctx_, sue_, Sha256Hex(small), kCase, "only image");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second =
      ApproveQualityOverride(*ctx_, sue_, std::string(64, 'b'), "MPD-2026-0043", "second camera");
  ASSERT_TRUE(second.ok());
  auto r = Search(sam_, Request(small));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const Actor& reader : {sue_, al_}) {
    auto list = ListQualityOverrides(*ctx_, reader);
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    ASSERT_EQ(list->size(), 2u);
    const QualityOverride& newest = (*list)[0];
    EXPECT_EQ(newest.id, *second);
    EXPECT_EQ(newest.case_number, "MPD-2026-0043");
    EXPECT_FALSE(newest.used_by_request.has_value());
    const QualityOverride& used = (*list)[1];
    EXPECT_EQ(used.probe_sha256, Sha256Hex(small));
    EXPECT_EQ(used.supervisor, "sue");
    EXPECT_EQ(used.reason, "only image");
    EXPECT_EQ(used.used_by_request, r->request_id);
  }
  for (const Actor& other : {sam_, eve_, admin_}) {
    ExpectRefused(ListQualityOverrides(*ctx_, other).status(), "wrong_role");
  }
  EXPECT_EQ(Entries("quality.override.refused").size(), 3u);
}

TEST_P(SearchRequestTest, SupervisorCannotApproveOwnOverride) {
  Actor boss = MakeUser("boss", {policy::Role::kSearcher, policy::Role::kSupervisor}, true);
  std::vector<uint8_t> small = Probe(12, {8, 0.9f, 80, 0, 0, 0});
  ASSERT_TRUE(ApproveQualityOverride(*ctx_, boss, Sha256Hex(small), kCase, "mine").ok());
  ExpectRefused(Search(boss, Request(small)).status(), "probe_quality");
}

// A source that revokes the requester's certificate while the search runs.
class RevokingSource : public CandidateSource {
 public:
  RevokingSource(CandidateSource& inner, std::function<void()> during)
      : inner_(inner), during_(std::move(during)) {}
  Expected<CandidateList> Search(std::span<const float> t, const vision::TemplateModel& m, int k,
                                 float min_score) override {
    during_();
    return inner_.Search(t, m, k, min_score);
  }

 private:
  CandidateSource& inner_;
  std::function<void()> during_;
};

TEST_P(SearchRequestTest, CertificateRevokedDuringSearchStopsIt) {
  RevokingSource source(*source_, [&] {
    ASSERT_TRUE(RevokeCertificate(*ctx_, admin_, "sam", "FC-sam", "suspended").ok());
  });
  auto r = RequestSearch(*ctx_, sam_, Request(Probe(7)), analyzer_, source);
  ExpectRefused(r.status(), "no_valid_certificate");
  EXPECT_EQ(Count("search_requests"), 0);
  EXPECT_EQ(Count("request_candidates"), 0);
}

TEST_P(SearchRequestTest, ModelMismatchIsAnErrorNotASearch) {
  std::vector<uint8_t> probe = Probe(7);
  ProbeAnalysis a = *analyzer_.Analyze(probe);
  a.model = {"other-model", 2, 128};
  analyzer_.Set(probe, a);
  auto r = Search(sam_, Request(probe));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("search_requests"), 0);
}

}  // namespace
}  // namespace facetrail::service

namespace facetrail::service {
namespace {

// No action without its entry: when the audit entry cannot be written, the action is rolled
// back with it (the entry and the action share one transaction).
class AuditFailureTest : public testing::ServiceTest {};
TEST_P(AuditFailureTest, ActionIsRolledBackWhenItsAuditEntryFails) {
  const bool pg = postgres();
  ASSERT_TRUE(db_->Exec(pg ? "CREATE FUNCTION test_audit_fails() RETURNS trigger LANGUAGE plpgsql "
                             "AS $$ BEGIN RAISE EXCEPTION 'simulated write failure'; END $$; "
                             "CREATE TRIGGER test_audit_fails BEFORE INSERT ON audit_entries "
                             "FOR EACH ROW EXECUTE FUNCTION test_audit_fails()"
                           : "CREATE TRIGGER test_audit_fails BEFORE INSERT ON audit_entries "
                             "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END")
                  .ok());
  auto r = Search(sam_, Request(Probe(7)));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Count("search_requests"), 0);
  EXPECT_EQ(Count("probes"), 0);
  EXPECT_EQ(Count("request_candidates"), 0);
  // A refusal whose entry cannot be written is an error, not a silent refusal.
  SearchRequest bad = Request(Probe(7));
  bad.fields.agency = "County Sheriff";
  EXPECT_NE(Search(sam_, bad).status().code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(RevokeCertificate(*ctx_, admin_, "sam", "FC-sam", "x").ok());
  ASSERT_TRUE(db_->Exec(pg ? "DROP TRIGGER test_audit_fails ON audit_entries"
                           : "DROP TRIGGER test_audit_fails")
                  .ok());
  EXPECT_TRUE(policy::ValidCertificate(*ctx_->store().FindUser("sam"), ctx_->Today()).ok());
  EXPECT_TRUE(Search(sam_, Request(Probe(7))).ok());
}

FT_INSTANTIATE_BACKENDS(SearchRequestTest);
FT_INSTANTIATE_BACKENDS(RefusalTest);
FT_INSTANTIATE_BACKENDS(AuditFailureTest);

}  // namespace
}  // namespace facetrail::service
