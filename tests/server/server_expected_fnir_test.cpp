// Issue 18 over HTTP, real server, real models, real LFW pixels: a search answers with the FNIR
// the shipped model's calibration expects for the probe's quality bin (higher for a small,
// blurred, compressed copy of the same photo than for the photo itself), and with every
// processing step and why; the request (GET /searches/{id}) and the probe-steps view say the
// same afterwards.
#include "server_gallery_util.h"
#include "vision/degrade.h"
#include "vision/image.h"
#include "vision/models.h"

namespace facetrail::server::testing {
namespace {

class ServerExpectedFnirTest : public GalleryServerTest {};

// The photo as a security camera would have it: half size, blurred, JPEG quality 30 (the
// ladder's 0.5+blur+jpeg rung), sent as PNG so nothing else changes it.
std::string CameraStill(const std::string& jpeg) {
  auto decoded =
      vision::DecodeImage(std::span(reinterpret_cast<const uint8_t*>(jpeg.data()), jpeg.size()));
  EXPECT_TRUE(decoded.ok());
  if (!decoded.ok()) return {};
  vision::Degradation d;
  d.scale = 0.5;
  d.blur_sigma = 0.8;
  d.jpeg_quality = 30;
  auto degraded = vision::Degrade(decoded->image, d);
  EXPECT_TRUE(degraded.ok());
  auto png = vision::EncodePng(*degraded);
  EXPECT_TRUE(png.ok());
  return png.ok() ? std::string(png->begin(), png->end()) : std::string();
}

TEST_F(ServerExpectedFnirTest, SearchStatesTheExpectedFnirAndEveryStepWithWhy) {
  StartServer();
  Caller admin = Login("admin", kAdminPassword);
  MakeUser(admin, "sam", {"searcher"}, true);
  MakeUser(admin, "eve", {"examiner"}, true);
  Caller sam = Login("sam", "sam-password-1");
  Caller eve = Login("eve", "eve-password-1");
  const std::string photo = ReadWholeFile(kLfwImages + "/Abdullah_Gul/Abdullah_Gul_0010.jpg");
  Reply clean = Upload("/api/v1/searches", sam, photo, SearchFields());
  ASSERT_EQ(clean.status, 201) << clean.raw;
  const json& e = clean.body["expected_fnir"];
  ASSERT_TRUE(e.is_object()) << clean.raw;
  EXPECT_EQ(e["model"], std::string(vision::kDefaultModelName));
  ASSERT_TRUE(e["fnir"].is_number()) << "the shipped calibration has the ladder's table: " << e;
  EXPECT_GE(e["searches_measured"].get<int64_t>(), 30);
  EXPECT_NEAR(e["threshold"].get<double>(), clean.body["policy"]["threshold"].get<double>(), 1e-6);
  const double eye = e["probe"]["effective_eye_distance_px"].get<double>();
  EXPECT_GE(eye, e["bin"]["effective_eye_distance_px"][0].get<double>());
  // Every step with why, in order; nothing enhanced.
  std::vector<std::string> kinds;
  for (const json& s : clean.body["steps"]) {
    kinds.push_back(s["kind"]);
    EXPECT_TRUE(s["why"].is_string() && !s["why"].get<std::string>().empty()) << s;
    EXPECT_EQ(s["enhancement"], false) << s;
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"decode", "detect", "landmarks", "align",
                                             "select_face", "template"}));

  // The same face small, blurred and compressed: expected to be missed more often.
  Reply camera = Upload("/api/v1/searches", sam, CameraStill(photo), SearchFields());
  ASSERT_EQ(camera.status, 201) << camera.raw;
  const json& c = camera.body["expected_fnir"];
  ASSERT_TRUE(c["fnir"].is_number()) << c;
  EXPECT_LT(c["probe"]["effective_eye_distance_px"].get<double>(), eye);
  EXPECT_GT(c["fnir"].get<double>(), e["fnir"].get<double>()) << c << "\n" << e;
  // The 256-px-or-smaller still went to the small-image detector, and the step says so.
  EXPECT_EQ(camera.body["steps"][1]["params"]["input_px"], 256);

  // Stored with the request: the request page's data and the probe-steps view say the same.
  const std::string id = std::to_string(camera.body["request_id"].get<int64_t>());
  Reply lead = Send("GET", "/api/v1/searches/" + id, eve);
  ASSERT_EQ(lead.status, 200) << lead.raw;
  EXPECT_EQ(lead.body["expected_fnir"], c);
  EXPECT_EQ(lead.body["probe_steps"], camera.body["steps"]);
  Reply steps = Send("GET", "/api/v1/searches/" + id + "/probe/steps", eve);
  ASSERT_EQ(steps.status, 200) << steps.raw;
  EXPECT_EQ(steps.body["expected_fnir"], c);
  EXPECT_EQ(steps.body["steps"], camera.body["steps"]);
}

}  // namespace
}  // namespace facetrail::server::testing
