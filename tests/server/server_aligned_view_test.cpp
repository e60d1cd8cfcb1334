// GET /api/v1/searches/{id}/probe/aligned and /api/v1/bookings/{b}/photos/{p}/aligned (issue 13,
// "Side by side"): the aligned renderings of the examiner's comparison screen. Every role gets
// 200 or 403 as for the image itself, each view is one audit entry naming the rendering, and the
// two faces really come out on the same frame (eyes and mouth on the template's lines). Real
// server, real models, real LFW pixels.
#include <openssl/evp.h>

#include "server_gallery_util.h"
#include "vision/image.h"

namespace facetrail::server::testing {
namespace {

class ServerAlignedViewTest : public GalleryServerTest {
 protected:
  // The details of the newest audit entry with this action.
  json LastAuditDetails(const std::string& action) {
    auto db = Db::Open(db_path_, /*create=*/false);
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return json();
    auto stmt =
        db->Prepare("SELECT details FROM audit_entries WHERE action = ? ORDER BY seq DESC LIMIT 1");
    EXPECT_TRUE(stmt.ok());
    if (!stmt.ok()) return json();
    stmt->Bind(1, action);
    auto row = stmt->Step();
    if (!row.ok() || !*row) return json();
    return json::parse(stmt->Text(0));
  }

  // The PNG of an aligned view's data: URL, decoded.
  static vision::Image DecodeDataUrl(const std::string& url) {
    const std::string prefix = "data:image/png;base64,";
    EXPECT_EQ(url.rfind(prefix, 0), 0u);
    const std::string b64 = url.substr(prefix.size());
    std::vector<uint8_t> bytes(b64.size() / 4 * 3 + 3);
    const int n = EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
    EXPECT_GT(n, 0);
    // EVP_DecodeBlock counts the padding's zero bytes too.
    size_t pad = 0;
    if (!b64.empty() && b64.back() == '=') ++pad;
    if (b64.size() >= 2 && b64[b64.size() - 2] == '=') ++pad;
    bytes.resize(n > static_cast<int>(pad) ? static_cast<size_t>(n) - pad : 0);
    auto img = vision::DecodeImage(bytes);
    EXPECT_TRUE(img.ok()) << img.status().ToString();
    return img.ok() ? img->image : vision::Image{};
  }

  static double MeanY(const json& landmarks, int begin, int end) {
    double y = 0;
    for (int i = begin; i < end; ++i) y += landmarks[i][1].get<double>();
    return y / (end - begin);
  }
  static double MeanX(const json& landmarks, int begin, int end) {
    double x = 0;
    for (int i = begin; i < end; ++i) x += landmarks[i][0].get<double>();
    return x / (end - begin);
  }

  // Eyes and mouth of an aligned view on the frame's lines (to the five-point fit's residual).
  static void ExpectOnTheLines(const json& view) {
    ASSERT_EQ(view["landmarks"].size(), 68u);
    const double eyes = (MeanY(view["landmarks"], 36, 42) + MeanY(view["landmarks"], 42, 48)) / 2;
    const double mouth =
        (view["landmarks"][48][1].get<double>() + view["landmarks"][54][1].get<double>()) / 2;
    EXPECT_NEAR(eyes, view["eye_line_y"].get<double>(), 8.0);
    EXPECT_NEAR(mouth, view["mouth_line_y"].get<double>(), 8.0);
    const double eye_distance = MeanX(view["landmarks"], 42, 48) - MeanX(view["landmarks"], 36, 42);
    EXPECT_NEAR(eye_distance, (73.5318 - 38.2946) * 3, 12.0);
  }
};

TEST_F(ServerAlignedViewTest, EachRoleGetsTheAlignedViewsOrIsRefusedAndEveryViewIsAudited) {
  StartServer();
  Caller admin = Login("admin", kAdminPassword);
  MakeUser(admin, "sam", {"searcher"}, true);
  MakeUser(admin, "bob", {"searcher"}, true);
  MakeUser(admin, "eve", {"examiner"}, true);
  MakeUser(admin, "una", {"examiner"}, false);
  MakeUser(admin, "sue", {"supervisor"}, false);
  MakeUser(admin, "al", {"auditor"}, false);
  const std::string probe = ReadWholeFile(kLfwImages + "/Abdullah_Gul/Abdullah_Gul_0010.jpg");
  ASSERT_GT(probe.size(), 1000u);
  Caller sam = Login("sam", "sam-password-1");
  Reply search = Upload("/api/v1/searches", sam, probe, SearchFields());
  ASSERT_EQ(search.status, 201) << search.raw;
  const std::string id = std::to_string(search.body["request_id"].get<int64_t>());
  ASSERT_FALSE(search.body["candidates"].empty());
  const json& mate = search.body["candidates"][0];
  ASSERT_EQ(mate["booking_number"], "LFW-0001");
  const std::string probe_path = "/api/v1/searches/" + id + "/probe/aligned";
  const std::string photo_path = "/api/v1/bookings/LFW-0001/photos/" +
                                 std::to_string(mate["photo_id"].get<int64_t>()) + "/aligned";

  struct Case {
    const char* user;
    int probe_status;  // the aligned probe: as the probe route
    int photo_status;  // the aligned candidate photo: as the photo route
  };
  const Case cases[] = {
      {"sam", 200, 403}, {"eve", 200, 200}, {"sue", 200, 200},   {"al", 200, 403},
      {"bob", 403, 403}, {"una", 403, 403}, {"admin", 403, 403},
  };
  int64_t probe_views = CountAudit("probe.view"), photo_views = CountAudit("gallery.photo");
  json probe_view, photo_view;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.user);
    Caller who =
        std::string(c.user) == "admin" ? admin : Login(c.user, std::string(c.user) + "-password-1");
    const int64_t probe_refused = CountAudit("probe.refused");
    const int64_t photo_refused = CountAudit("gallery.refused");
    Reply p = Send("GET", probe_path, who);
    EXPECT_EQ(p.status, c.probe_status) << p.raw;
    if (p.status == 200) {
      EXPECT_EQ(CountAudit("probe.view"), ++probe_views);
      json details = LastAuditDetails("probe.view");
      EXPECT_EQ(details["rendering"], "aligned") << details.dump();
      EXPECT_EQ(details["case"], kCase);
      probe_view = p.body;
    } else {
      EXPECT_EQ(p.Code(), "wrong_role") << p.raw;
      EXPECT_EQ(CountAudit("probe.refused"), probe_refused + 1);
      EXPECT_EQ(CountAudit("probe.view"), probe_views) << "a refusal shows nothing";
    }
    Reply q = Send("GET", photo_path, who);
    EXPECT_EQ(q.status, c.photo_status) << q.raw;
    if (q.status == 200) {
      EXPECT_EQ(CountAudit("gallery.photo"), ++photo_views);
      json details = LastAuditDetails("gallery.photo");
      EXPECT_EQ(details["rendering"], "aligned") << details.dump();
      EXPECT_EQ(details["photo_id"], mate["photo_id"]);
      photo_view = q.body;
    } else {
      EXPECT_EQ(CountAudit("gallery.refused"), photo_refused + 1);
      EXPECT_EQ(CountAudit("gallery.photo"), photo_views) << "a refusal shows nothing";
    }
  }
  EXPECT_EQ(Send("GET", probe_path, {}).status, 401);
  EXPECT_EQ(Send("GET", photo_path, {}).status, 401);

  // What came back: both on the same 512×512 frame, eyes and mouth on its lines.
  for (const json* v : {&probe_view, &photo_view}) {
    ASSERT_TRUE(v->is_object());
    EXPECT_EQ((*v)["width"], 512);
    EXPECT_EQ((*v)["height"], 512);
    vision::Image img = DecodeDataUrl((*v)["image"].get<std::string>());
    EXPECT_EQ(img.width, 512);
    EXPECT_EQ(img.height, 512);
    ExpectOnTheLines(*v);
    EXPECT_EQ((*v)["source"]["landmarks"].size(), 68u);
    EXPECT_EQ((*v)["source"]["width"], 250);  // LFW photos are 250×250
  }
  EXPECT_EQ(probe_view["eye_line_y"], photo_view["eye_line_y"]);
  EXPECT_EQ(probe_view["mouth_line_y"], photo_view["mouth_line_y"]);
  // The probe's face is the one the search used: its recorded landmarks, unchanged.
  Caller eve = Login("eve", "eve-password-1");
  Reply steps = Send("GET", "/api/v1/searches/" + id + "/probe/steps", eve);
  ASSERT_EQ(steps.status, 200) << steps.raw;
  for (const json& s : steps.body["steps"]) {
    if (s["kind"] == "select_face") {
      EXPECT_EQ(s["params"]["landmarks"], probe_view["source"]["landmarks"]);
    }
  }

  // Unknown ids: 404 for those who may see them, nothing audited as a view.
  const int64_t views_before = CountAudit("gallery.photo");
  EXPECT_EQ(Send("GET", "/api/v1/searches/999999/probe/aligned", eve).status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/bookings/LFW-0001/photos/999999/aligned", eve).status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/bookings/NO-SUCH/photos/1/aligned", eve).status, 404);
  EXPECT_EQ(CountAudit("gallery.photo"), views_before);
  // Another booking's photo id under this booking is not found either.
  const std::string other = "/api/v1/bookings/LFW-0002/photos/" +
                            std::to_string(mate["photo_id"].get<int64_t>()) + "/aligned";
  EXPECT_EQ(Send("GET", other, eve).status, 404);
}

}  // namespace
}  // namespace facetrail::server::testing
