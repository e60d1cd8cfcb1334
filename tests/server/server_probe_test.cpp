// GET /api/v1/searches/{id}/probe and .../probe/steps (issue 13, the examiner's workbench): the
// stored probe, byte for byte, for the requester, certified examiners, supervisors and
// auditors; 403 for every other role whether or not the request exists; 404 only for those who
// may see probes; one "probe.view" audit entry per view. Real server, real models, real pixels.
#include "server_gallery_util.h"

namespace facetrail::server::testing {
namespace {

class ServerProbeTest : public GalleryServerTest {};

TEST_F(ServerProbeTest, EachRoleSeesTheProbeOrIsRefusedAndEveryViewIsAudited) {
  StartServer();
  Caller admin = Login("admin", kAdminPassword);
  MakeUser(admin, "sam", {"searcher"}, true);
  MakeUser(admin, "bob", {"searcher"}, true);  // another searcher: not the requester
  MakeUser(admin, "eve", {"examiner"}, true);
  MakeUser(admin, "una", {"examiner"}, false);  // no certificate: not an examiner yet
  MakeUser(admin, "sue", {"supervisor"}, false);
  MakeUser(admin, "al", {"auditor"}, false);
  const std::string probe = ReadWholeFile(kLfwImages + "/Abdullah_Gul/Abdullah_Gul_0010.jpg");
  ASSERT_GT(probe.size(), 1000u);
  Caller sam = Login("sam", "sam-password-1");
  Reply search = Upload("/api/v1/searches", sam, probe, SearchFields());
  ASSERT_EQ(search.status, 201) << search.raw;
  const std::string path =
      "/api/v1/searches/" + std::to_string(search.body["request_id"].get<int64_t>()) + "/probe";
  const std::string missing = "/api/v1/searches/999999/probe";

  struct Case {
    const char* user;
    int status;          // for the existing request
    int missing_status;  // for a request that does not exist
  };
  const Case cases[] = {
      {"sam", 200, 403}, {"eve", 200, 404}, {"sue", 200, 404},   {"al", 200, 404},
      {"bob", 403, 403}, {"una", 403, 403}, {"admin", 403, 403},
  };
  int64_t views = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.user);
    Caller who =
        std::string(c.user) == "admin" ? admin : Login(c.user, std::string(c.user) + "-password-1");
    const int64_t refused_before = CountAudit("probe.refused");
    auto raw = client_->Get(path.c_str(), HeadersFor(who));
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->status, c.status) << raw->body;
    if (c.status == 200) {
      ++views;
      EXPECT_EQ(raw->body, probe) << "the bytes exactly as uploaded";
      EXPECT_EQ(raw->get_header_value("Content-Type"), "image/jpeg");
      EXPECT_EQ(raw->get_header_value("Content-Disposition").rfind("inline", 0), 0u);
      EXPECT_EQ(raw->get_header_value("Cache-Control"), "no-store");
      EXPECT_EQ(CountAudit("probe.view"), views);
      Reply steps = Send("GET", path + "/steps", who);
      ++views;
      ASSERT_EQ(steps.status, 200) << steps.raw;
      EXPECT_EQ(steps.body["content_type"], "image/jpeg");
      EXPECT_EQ(steps.body["size_bytes"], probe.size());
      EXPECT_EQ(CountAudit("probe.view"), views);
      bool chose_face = false;
      for (const json& s : steps.body["steps"]) {
        if (s["kind"] != "select_face") continue;
        chose_face = true;
        EXPECT_EQ(s["params"]["landmarks"].size(), 68u);
        EXPECT_GT(s["params"]["quality"]["eye_distance_px"].get<double>(), 10.0);
        EXPECT_EQ(s["params"]["box"].size(), 4u);
      }
      EXPECT_TRUE(chose_face) << steps.raw;
    } else {
      Reply r = ToReply(raw);
      EXPECT_EQ(r.Code(), "wrong_role") << r.raw;
      EXPECT_EQ(CountAudit("probe.refused"), refused_before + 1);
      EXPECT_EQ(CountAudit("probe.view"), views) << "a refusal shows nothing";
    }
    // A request that does not exist: the same 403 for those who may not see probes, so a
    // refusal says nothing about which ids exist.
    Reply m = Send("GET", missing, who);
    EXPECT_EQ(m.status, c.missing_status) << m.raw;
  }
  Reply nobody = Send("GET", path, {});
  EXPECT_EQ(nobody.status, 401);
}

}  // namespace
}  // namespace facetrail::server::testing
