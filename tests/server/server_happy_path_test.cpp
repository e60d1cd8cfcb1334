// The whole accountable flow through the HTTP API, on real LFW pixels and the real models: an
// admin creates a certified searcher, two examiners and an auditor; the searcher analyses and
// searches a probe against a gallery enrolled from LFW photos; one examiner examines, the other
// verifies blind (ACE-V);
// the lead is released; the requester records the outcome; an uncertified searcher and an
// outside-agency request are refused; the auditor's report and export show every step and the
// audit chain verifies. A second flow: a real probe below the quality gate is refused with its
// hash, a supervisor approves an override (then it is used once), puts the case on hold, lifts
// it and runs the purge; every failure case is answered and every decision is in the report.
#include "common/sha256.h"
#include "server_gallery_util.h"

namespace facetrail::server::testing {
namespace {

const std::string& kLfw = kLfwImages;

std::string ReadFile(const std::string& path) {
  return ReadWholeFile(path);
}

// The gallery of server_gallery_util.h (four bookings enrolled from LFW photos through the real
// pipeline), and a running server.
class ServerHappyPathTest : public GalleryServerTest {
 protected:
  void SetUp() override {
    GalleryServerTest::SetUp();
    StartServer();
  }

  static std::map<std::string, std::string> Fields(const std::string& agency = kAgency) {
    auto fields = SearchFields();
    fields["agency"] = agency;
    return fields;
  }
};

TEST_F(ServerHappyPathTest, SearchReviewReleaseOutcomeAndAudit) {
  Caller admin = Login("admin", kAdminPassword);
  MakeUser(admin, "sam", {"searcher"}, true);
  MakeUser(admin, "eve", {"examiner"}, true);
  MakeUser(admin, "ed", {"examiner"}, true);
  MakeUser(admin, "al", {"auditor"}, false);
  MakeUser(admin, "nick", {"searcher"}, false);  // no certificate
  Caller sam = Login("sam", "sam-password-1");
  Caller eve = Login("eve", "eve-password-1");
  Caller ed = Login("ed", "ed-password-1");
  Caller al = Login("al", "al-password-1");
  Caller nick = Login("nick", "nick-password-1");

  std::string probe = ReadFile(kLfw + "/Abdullah_Gul/Abdullah_Gul_0010.jpg");
  ASSERT_GT(probe.size(), 1000u);

  // Face choice: the analysis lists the faces with quality feedback.
  Reply analysis = Upload("/api/v1/probes/analyze", sam, probe);
  ASSERT_EQ(analysis.status, 200) << analysis.raw;
  ASSERT_GE(analysis.body["faces"].size(), 1u);
  int face = -1;
  for (const json& f : analysis.body["faces"]) {
    if (f["quality_ok"].get<bool>()) {
      face = f["index"].get<int>();
      break;
    }
  }
  ASSERT_GE(face, 0) << analysis.raw;

  auto fields = Fields();
  fields["face"] = std::to_string(face);
  Reply search = Upload("/api/v1/searches", sam, probe, fields);
  ASSERT_EQ(search.status, 201) << search.raw;
  EXPECT_EQ(search.body["notice"],
            "Investigative lead only \u2014 not a positive identification. Human review required.");
  ASSERT_GE(search.body["candidates"].size(), 1u) << search.raw;
  EXPECT_EQ(search.body["candidates"][0]["booking_number"], "LFW-0001");
  EXPECT_EQ(search.body["candidates"][0]["rank"], 1);
  int64_t id = search.body["request_id"].get<int64_t>();
  std::string sid = std::to_string(id);

  // Refusals: uncertified searcher, outside agency.
  Reply uncertified = Upload("/api/v1/searches", nick, probe, Fields());
  EXPECT_EQ(uncertified.status, 403) << uncertified.raw;
  EXPECT_EQ(uncertified.Code(), "no_valid_certificate");
  Reply outside = Upload("/api/v1/searches", sam, probe, Fields("County Sheriff"));
  EXPECT_EQ(outside.status, 403) << outside.raw;
  EXPECT_EQ(outside.Code(), "outside_agency");

  // My requests.
  Reply mine = Send("GET", "/api/v1/searches", sam);
  ASSERT_EQ(mine.status, 200);
  ASSERT_EQ(mine.body["requests"].size(), 1u);
  EXPECT_EQ(mine.body["requests"][0]["status"], "pending_review");

  // Review: eve examines, ed concurs; the requester may not review her own request.
  Reply pending = Send("GET", "/api/v1/reviews", eve);
  ASSERT_EQ(pending.status, 200) << pending.raw;
  ASSERT_EQ(pending.body["leads"].size(), 1u);
  json exam = json::array();
  for (const json& c : search.body["candidates"]) {
    exam.push_back({{"rank", c["rank"]},
                    {"conclusion", c["rank"] == 1 ? "possible lead" : "not a lead"},
                    {"notes", "compared ears and hairline"},
                    {"components",
                     {{{"component", "ears"}, {"mark", c["rank"] == 1 ? "similar" : "dissimilar"}},
                      {{"component", "hair_hairline"}, {"mark", "not_visible"}, {"note", "cap"}}}},
                    {"viewing", {{"contrast", 1.2}, {"views", {"aligned", "overlay"}}}}});
  }
  Reply booking = Send("GET", "/api/v1/bookings/LFW-0001", eve);
  ASSERT_EQ(booking.status, 200) << booking.raw;
  ASSERT_EQ(booking.body["photos"].size(), 1u);
  auto photo = client_->Get(("/api/v1/bookings/LFW-0001/photos/" +
                             std::to_string(booking.body["photos"][0]["id"].get<int64_t>()))
                                .c_str(),
                            HeadersFor(eve));
  ASSERT_TRUE(photo);
  EXPECT_EQ(photo->status, 200);
  EXPECT_EQ(photo->get_header_value("Content-Type"), "image/jpeg");

  // Malformed input is refused at the edge with the field named.
  json bad = exam;
  bad[0]["components"][0]["component"] = "earz";
  Reply malformed =
      Send("POST", "/api/v1/searches/" + sid + "/examination", eve, {{"candidates", bad}});
  EXPECT_EQ(malformed.status, 400) << malformed.raw;
  EXPECT_NE(malformed.raw.find("candidates[0].components[0].component"), std::string::npos)
      << malformed.raw;
  Reply examined =
      Send("POST", "/api/v1/searches/" + sid + "/examination", eve, {{"candidates", exam}});
  ASSERT_EQ(examined.status, 200) << examined.raw;
  Reply self =
      Send("POST", "/api/v1/searches/" + sid + "/verification", eve, {{"candidates", exam}});
  EXPECT_EQ(self.status, 403) << self.raw;
  EXPECT_EQ(self.Code(), "same_examiner");
  Reply early = Send("POST", "/api/v1/searches/" + sid + "/outcome", sam,
                     {{"outcome", "excluded"}, {"note", "too early"}});
  EXPECT_EQ(early.status / 100, 4) << early.raw;
  // ACE-V: the second examiner cannot see the first's conclusions before submitting.
  Reply blind = Send("GET", "/api/v1/searches/" + sid, ed);
  ASSERT_EQ(blind.status, 200) << blind.raw;
  EXPECT_TRUE(blind.body["blind"].get<bool>());
  EXPECT_TRUE(blind.body["examinations"].empty()) << blind.raw;
  EXPECT_TRUE(blind.body["candidates"][0]["conclusion"].is_null()) << blind.raw;
  Reply verified =
      Send("POST", "/api/v1/searches/" + sid + "/verification", ed, {{"candidates", exam}});
  ASSERT_EQ(verified.status, 200) << verified.raw;
  EXPECT_EQ(verified.body["status"], "released");
  Reply both = Send("GET", "/api/v1/searches/" + sid, ed);
  EXPECT_EQ(both.body["examinations"].size(), 2u) << both.raw;

  Reply lead = Send("GET", "/api/v1/searches/" + sid, sam);
  ASSERT_EQ(lead.status, 200) << lead.raw;
  EXPECT_EQ(lead.body["status"], "released");
  EXPECT_EQ(lead.body["candidates"][0]["conclusion"], "possible lead");
  EXPECT_EQ(lead.body["examinations"][0]["candidates"][0]["viewing"]["contrast"], 1.2);
  Reply outcome = Send("POST", "/api/v1/searches/" + sid + "/outcome", sam,
                       {{"outcome", "confirmed_by_other_evidence"}, {"note", "fingerprints"}});
  ASSERT_EQ(outcome.status, 200) << outcome.raw;

  // The auditor sees every step.
  Reply report = Send("GET", "/api/v1/audit/report", al);
  ASSERT_EQ(report.status, 200) << report.raw;
  EXPECT_NE(report.raw.find("outside_agency"), std::string::npos);
  EXPECT_NE(report.raw.find("no_valid_certificate"), std::string::npos);
  Reply exported = Send("GET", "/api/v1/audit/export", al);
  ASSERT_EQ(exported.status, 200);
  std::set<std::string> actions;
  for (const json& e : exported.body["entries"]) actions.insert(e["action"].get<std::string>());
  for (const char* a : {"admin.init", "user.add", "certificate.add", "login", "search.request",
                        "search.refused", "review.examine", "review.refused", "review.verify",
                        "lead.release", "lead.outcome", "gallery.view", "gallery.photo"}) {
    EXPECT_TRUE(actions.count(a)) << a;
  }
  Reply verify = Send("GET", "/api/v1/audit/verify", al);
  ASSERT_EQ(verify.status, 200);
  EXPECT_TRUE(verify.body["ok"].get<bool>()) << verify.raw;
}

TEST_F(ServerHappyPathTest, SupervisorOverridesTheQualityGateAndHoldsTheCase) {
  Caller admin = Login("admin", kAdminPassword);
  MakeUser(admin, "sam", {"searcher"}, true);
  MakeUser(admin, "sue", {"supervisor"}, false);
  MakeUser(admin, "al", {"auditor"}, false);
  Caller sam = Login("sam", "sam-password-1");
  Caller sue = Login("sue", "sue-password-1");
  Caller al = Login("al", "al-password-1");

  // The department's own sharpness limit (15) replaces the model's calibrated one (about 3, the
  // blurriest LFW probe measured), so this real LFW photo (sharpness about 3) is below the gate.
  {
    auto db = Db::Open(db_path_, false);
    ASSERT_TRUE(db.ok());
    auto ctx = service::Context::Open(*db);
    ASSERT_TRUE(ctx.ok());
    auto config = (*ctx)->store().LoadConfig();
    ASSERT_TRUE(config.ok());
    config->quality.min_sharpness = 15.f;
    ASSERT_TRUE((*ctx)->store().SaveConfig(*config).ok());
  }
  std::string probe = ReadFile(kLfw + "/Doris_Schroeder/Doris_Schroeder_0001.jpg");
  ASSERT_GT(probe.size(), 1000u);
  const std::string sha = Sha256Hex(probe);
  Reply analysis = Upload("/api/v1/probes/analyze", sam, probe);
  ASSERT_EQ(analysis.status, 200) << analysis.raw;
  EXPECT_EQ(analysis.body["probe_sha256"], sha);
  ASSERT_EQ(analysis.body["faces"].size(), 1u) << analysis.raw;
  EXPECT_FALSE(analysis.body["faces"][0]["quality_ok"].get<bool>());
  EXPECT_NE(analysis.body["faces"][0]["quality_problem"].get<std::string>().find("sharpness"),
            std::string::npos)
      << analysis.raw;
  Reply refused = Upload("/api/v1/searches", sam, probe, Fields());
  EXPECT_EQ(refused.status, 403) << refused.raw;
  EXPECT_EQ(refused.Code(), "probe_quality");
  EXPECT_NE(refused.raw.find(sha), std::string::npos) << "the refusal names the probe's hash";

  // Quality overrides: failures first, then the approval, then its single use.
  Reply list = Send("GET", "/api/v1/quality-overrides", sue);
  ASSERT_EQ(list.status, 200) << list.raw;
  EXPECT_TRUE(list.body["overrides"].empty());
  json approve{{"probe_sha256", sha}, {"case", kCase}, {"reason", "the only image of the suspect"}};
  json no_reason = approve;
  no_reason["reason"] = "";
  EXPECT_EQ(Send("POST", "/api/v1/quality-overrides", sue, no_reason).status, 400);
  json bad_sha = approve;
  bad_sha["probe_sha256"] = "ABC";
  EXPECT_EQ(Send("POST", "/api/v1/quality-overrides", sue, bad_sha).status, 400);
  Reply by_auditor = Send("POST", "/api/v1/quality-overrides", al, approve);
  EXPECT_EQ(by_auditor.status, 403);
  EXPECT_EQ(by_auditor.Code(), "wrong_role");
  Reply approved = Send("POST", "/api/v1/quality-overrides", sue, approve);
  ASSERT_EQ(approved.status, 201) << approved.raw;
  int64_t override_id = approved.body["override_id"].get<int64_t>();
  Reply search = Upload("/api/v1/searches", sam, probe, Fields());
  ASSERT_EQ(search.status, 201) << search.raw;
  EXPECT_TRUE(search.body["quality_override_used"].get<bool>());
  int64_t request_id = search.body["request_id"].get<int64_t>();
  EXPECT_EQ(Upload("/api/v1/searches", sam, probe, Fields()).Code(), "probe_quality")
      << "an override is used once";
  list = Send("GET", "/api/v1/quality-overrides", al);
  ASSERT_EQ(list.status, 200) << list.raw;
  ASSERT_EQ(list.body["overrides"].size(), 1u);
  const json& o = list.body["overrides"][0];
  EXPECT_EQ(o["override_id"], override_id);
  EXPECT_EQ(o["probe_sha256"], sha);
  EXPECT_EQ(o["case"], kCase);
  EXPECT_EQ(o["supervisor"], "sue");
  EXPECT_EQ(o["used_by_request"], request_id);

  // Case holds: failures, the hold, its list, the release.
  const std::string release = std::string("/api/v1/case-holds/") + kCase + "/release";
  Reply holds = Send("GET", "/api/v1/case-holds", al);
  ASSERT_EQ(holds.status, 200) << holds.raw;
  EXPECT_TRUE(holds.body["holds"].empty());
  Reply unknown =
      Send("POST", "/api/v1/case-holds", sue, {{"case", "MPD-2026-0999"}, {"reason", "trial"}});
  EXPECT_EQ(unknown.status, 404) << unknown.raw;
  EXPECT_EQ(Send("POST", "/api/v1/case-holds", sue, {{"case", kCase}}).status, 400);
  EXPECT_EQ(Send("POST", "/api/v1/case-holds", sue, {{"reason", "trial"}}).status, 400);
  EXPECT_EQ(Send("POST", release, sue, {{"reason", "not held"}}).status, 409);
  Reply held = Send("POST", "/api/v1/case-holds", sue, {{"case", kCase}, {"reason", "trial"}});
  ASSERT_EQ(held.status, 201) << held.raw;
  EXPECT_EQ(held.body["on_hold"], true);
  Reply again = Send("POST", "/api/v1/case-holds", sue, {{"case", kCase}, {"reason", "again"}});
  EXPECT_EQ(again.status, 409) << again.raw;
  EXPECT_EQ(again.Code(), "failed_precondition");
  holds = Send("GET", "/api/v1/case-holds", al);
  ASSERT_EQ(holds.body["holds"].size(), 1u) << holds.raw;
  EXPECT_EQ(holds.body["holds"][0]["case"], kCase);
  EXPECT_EQ(holds.body["holds"][0]["set_by"], "sue");
  EXPECT_EQ(holds.body["holds"][0]["reason"], "trial");
  EXPECT_EQ(holds.body["holds"][0]["num_requests"], 1);
  Reply purge = Send("POST", "/api/v1/probes/purge", sue);
  ASSERT_EQ(purge.status, 200) << purge.raw;
  EXPECT_TRUE(purge.body["purged_sha256"].empty()) << "within the retention period";
  EXPECT_EQ(Send("POST", "/api/v1/probes/purge", sam).status, 403);
  EXPECT_EQ(Send("POST", release, sue, json::object()).status, 400) << "a release needs a reason";
  Reply released = Send("POST", release, sue, {{"reason", "trial over"}});
  ASSERT_EQ(released.status, 200) << released.raw;
  EXPECT_EQ(released.body["on_hold"], false);
  EXPECT_TRUE(Send("GET", "/api/v1/case-holds", sue).body["holds"].empty());

  // The auditor's report lists every decision; the export holds them and the refusals.
  Reply report = Send("GET", "/api/v1/audit/report", al);
  ASSERT_EQ(report.status, 200) << report.raw;
  std::vector<std::string> decided;
  for (const json& x : report.body["supervision"]) {
    decided.push_back(x["action"].get<std::string>() + " " + x["case"].get<std::string>());
  }
  EXPECT_EQ(decided, (std::vector<std::string>{std::string("quality.override ") + kCase,
                                               std::string("case.hold ") + kCase, "probe.purge ",
                                               std::string("case.unhold ") + kCase}));
  Reply exported = Send("GET", "/api/v1/audit/export", al);
  ASSERT_EQ(exported.status, 200);
  std::multiset<std::string> actions;
  for (const json& e : exported.body["entries"]) actions.insert(e["action"].get<std::string>());
  EXPECT_EQ(actions.count("quality.override"), 1u);
  EXPECT_EQ(actions.count("quality.override.refused"), 1u);
  EXPECT_EQ(actions.count("case.hold"), 1u);
  EXPECT_EQ(actions.count("case.unhold"), 1u);
  EXPECT_EQ(actions.count("probe.purge"), 1u);
  EXPECT_EQ(actions.count("probe.purge.refused"), 1u);
  EXPECT_EQ(actions.count("search.refused"), 2u);
  Reply verify = Send("GET", "/api/v1/audit/verify", al);
  EXPECT_TRUE(verify.body["ok"].get<bool>()) << verify.raw;
}

}  // namespace
}  // namespace facetrail::server::testing
