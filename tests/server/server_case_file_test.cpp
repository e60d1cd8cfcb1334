// GET /api/v1/searches/{id}/case (issue 13, the case file): the JSON for a case-management
// system, for the requester, certified examiners, supervisors and auditors once the lead is
// released; 403 for every other role whether or not the request exists; 409 before release;
// one "case.view" audit entry per view. Real server, real models, real pixels.
#include "server_gallery_util.h"

namespace facetrail::server::testing {
namespace {

class ServerCaseFileTest : public GalleryServerTest {};

json Examination() {
  return {{"candidates",
           {{{"rank", 1},
             {"conclusion", "possible lead"},
             {"notes", "ears and hairline agree"},
             {"components",
              {{{"component", "ears"}, {"mark", "similar"}, {"note", "same lobe"}},
               {{"component", "nose"}, {"mark", "similar"}}}},
             {"viewing", {{"contrast", 1.2}, {"views", {"side_by_side", "overlay"}}}}}}}};
}

TEST_F(ServerCaseFileTest, EachRoleGetsTheCaseFileOrIsRefusedAndEveryViewIsAudited) {
  StartServer();
  Caller admin = Login("admin", kAdminPassword);
  MakeUser(admin, "sam", {"searcher"}, true);
  MakeUser(admin, "bob", {"searcher"}, true);  // another searcher: not the requester
  MakeUser(admin, "eve", {"examiner"}, true);
  MakeUser(admin, "ed", {"examiner"}, true);
  MakeUser(admin, "una", {"examiner"}, false);  // no certificate
  MakeUser(admin, "sue", {"supervisor"}, false);
  MakeUser(admin, "al", {"auditor"}, false);
  const std::string probe = ReadWholeFile(kLfwImages + "/Abdullah_Gul/Abdullah_Gul_0010.jpg");
  Caller sam = Login("sam", "sam-password-1");
  Reply search = Upload("/api/v1/searches", sam, probe, SearchFields());
  ASSERT_EQ(search.status, 201) << search.raw;
  ASSERT_GE(search.body["candidates"].size(), 1u) << search.raw;
  const int64_t id = search.body["request_id"].get<int64_t>();
  const std::string path = "/api/v1/searches/" + std::to_string(id) + "/case";
  Caller eve = Login("eve", "eve-password-1");
  Caller ed = Login("ed", "ed-password-1");
  Caller sue = Login("sue", "sue-password-1");

  // Before release there is no case file, not even for a supervisor.
  EXPECT_EQ(Send("GET", path, sue).status, 409);
  ASSERT_EQ(
      Send("POST", "/api/v1/searches/" + std::to_string(id) + "/examination", eve, Examination())
          .status,
      200);
  EXPECT_EQ(Send("GET", path, ed).status, 409) << "the second examiner stays blind";
  Reply verified =
      Send("POST", "/api/v1/searches/" + std::to_string(id) + "/verification", ed, Examination());
  ASSERT_EQ(verified.status, 200) << verified.raw;
  ASSERT_EQ(verified.body["status"], "released");

  struct Case {
    const char* user;
    int status;          // for the released request
    int missing_status;  // for a request that does not exist
  };
  const Case cases[] = {
      {"sam", 200, 403}, {"eve", 200, 404}, {"ed", 200, 404},  {"sue", 200, 404},
      {"al", 200, 404},  {"bob", 403, 403}, {"una", 403, 403}, {"admin", 403, 403},
  };
  std::map<std::string, Caller> callers = {
      {"admin", admin}, {"sam", sam}, {"eve", eve}, {"ed", ed}, {"sue", sue}};
  int64_t views = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.user);
    // One sign-in each (sign-ins are rate-limited per address).
    if (!callers.count(c.user))
      callers[c.user] = Login(c.user, std::string(c.user) + "-password-1");
    const Caller& who = callers[c.user];
    const int64_t refused_before = CountAudit("case.file.refused");
    auto raw = client_->Get(path.c_str(), HeadersFor(who));
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->status, c.status) << raw->body;
    if (c.status == 200) {
      ++views;
      EXPECT_EQ(raw->get_header_value("Cache-Control"), "no-store");
      EXPECT_EQ(CountAudit("case.view"), views);
      json j = json::parse(raw->body);
      EXPECT_EQ(j["format"], "facetrail-case-file-v1");
      EXPECT_EQ(
          j["notice"].get<std::string>().find("not a positive identification") != std::string::npos,
          true);
      EXPECT_EQ(j["request_id"], id);
      EXPECT_EQ(j["probe"]["size_bytes"], probe.size());
      EXPECT_FALSE(j["probe"]["data_base64"].get<std::string>().empty());
      EXPECT_EQ(j["examinations"].size(), 2u);
      EXPECT_EQ(j["examinations"][0]["examiner"], "eve");
      EXPECT_EQ(j["examinations"][1]["examiner"], "ed");
      EXPECT_EQ(j["examinations"][1]["candidates"][0]["components"][7]["component"], "ears");
      EXPECT_EQ(j["examinations"][1]["candidates"][0]["components"][7]["mark"], "similar");
      EXPECT_EQ(j["candidates"][0]["conclusion"], "possible lead");
      EXPECT_EQ(j["candidates"][0]["booking"]["booking_number"], "LFW-0001");
      EXPECT_EQ(j["policy"]["threshold_source"].is_string(), true);
      EXPECT_EQ(j["audit_trail"].back()["action"], "case.view");
      EXPECT_EQ(raw->body.find("race_ethnicity"), std::string::npos);
      if (std::string(c.user) == "al") {
        EXPECT_EQ(j["booking_detail"], "restricted");
        EXPECT_EQ(j["candidates"][0]["booking"]["name"], nullptr);
        EXPECT_FALSE(j["candidates"][0]["photo"].contains("data_base64"));
      } else {
        EXPECT_EQ(j["booking_detail"], "full");
        EXPECT_EQ(j["candidates"][0]["booking"]["name"], "Abdullah Gul");
        EXPECT_FALSE(j["candidates"][0]["photo"]["data_base64"].get<std::string>().empty());
      }
    } else {
      Reply r = ToReply(raw);
      EXPECT_EQ(r.Code(), "wrong_role") << r.raw;
      EXPECT_EQ(CountAudit("case.file.refused"), refused_before + 1);
      EXPECT_EQ(CountAudit("case.view"), views) << "a refusal shows nothing";
    }
    Reply m = Send("GET", "/api/v1/searches/999999/case", who);
    EXPECT_EQ(m.status, c.missing_status) << m.raw;
  }
  EXPECT_EQ(Send("GET", path, {}).status, 401);
}

}  // namespace
}  // namespace facetrail::server::testing
