// The detection passes beyond face-api's: frame-filling faces (framed re-detection) and small
// faces in large stills (tiled, upscaled detection).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "vision/face_pipeline.h"
#include "vision/internal/resample.h"

namespace facetrail::vision {
namespace {

std::unique_ptr<FacePipeline> Make(AlignMode mode, bool small_faces) {
  PipelineOptions o;
  o.models_dir = FACETRAIL_MODELS_DIR;
  o.model = "faceapi-resnet";  // the parity mode is this model's (templates are off anyway)
  o.align = mode;
  o.small_faces = small_faces;
  o.templates = false;
  auto p = FacePipeline::Create(o);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(*p) : nullptr;
}

// Aaron_Patterson_0001: a face filling the frame, which face-api.js (and so our parity mode)
// does not find (tests/golden/faceapi/lfw_Aaron_Patterson_0001.json has no face).
TEST(DetectionModesTest, FrameFillingFaceIsFoundByFramedPass) {
  auto img =
      LoadImageFile(std::string(FACETRAIL_SHARED_DIR) +
                    "/data/lfw-deepfunneled-dev/images/Aaron_Patterson/Aaron_Patterson_0001.jpg");
  ASSERT_TRUE(img.ok());
  auto parity = Make(AlignMode::kFaceApi, false);
  auto fixed = Make(AlignMode::kSimilarity, false);
  ASSERT_TRUE(parity && fixed);
  auto a = parity->Process(img->image);
  auto b = fixed->Process(img->image);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->empty());
  ASSERT_FALSE(b->empty());
  // The face is the big one in the middle.
  const Face& f = b->front();
  EXPECT_GT(f.box.width, 80.f);
  EXPECT_NEAR(f.box.x + f.box.width / 2, 125.f, 40.f);
  EXPECT_NEAR(f.box.y + f.box.height / 2, 125.f, 50.f);
}

// Images no larger than 256×256 run the detector at 256×256 (anchors keep their size in pixels):
// on LFW photos it finds the same face as the 512×512 pass face-api.js makes of them, and the
// framed pass for a frame-filling face stays on the small input too.
TEST(DetectionModesTest, SmallImagesAreDetectedAtTheirOwnScale) {
  PipelineOptions o;
  o.models_dir = FACETRAIL_MODELS_DIR;
  o.templates = false;
  auto small = FacePipeline::Create(o);
  o.small_image_detector = false;
  auto full = FacePipeline::Create(o);
  ASSERT_TRUE(small.ok() && full.ok());
  const std::string dir = std::string(FACETRAIL_SHARED_DIR) + "/data/lfw-deepfunneled-dev/images/";
  int compared = 0;
  for (const char* name :
       {"Aaron_Sorkin/Aaron_Sorkin_0001.jpg", "Abel_Pacheco/Abel_Pacheco_0001.jpg",
        "Abdullah_Gul/Abdullah_Gul_0001.jpg", "Aaron_Patterson/Aaron_Patterson_0001.jpg"}) {
    SCOPED_TRACE(name);
    auto img = LoadImageFile(dir + name);
    ASSERT_TRUE(img.ok());
    auto a = (*small)->Process(img->image);
    auto b = (*full)->Process(img->image);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_FALSE(a->empty());
    ASSERT_FALSE(b->empty());
    const Box& p = a->front().box;
    const Box& q = b->front().box;
    const double ix = std::max(0.f, std::min(p.x + p.width, q.x + q.width) - std::max(p.x, q.x));
    const double iy = std::max(0.f, std::min(p.y + p.height, q.y + q.height) - std::max(p.y, q.y));
    const double iou = ix * iy / (p.width * p.height + q.width * q.height - ix * iy);
    EXPECT_GT(iou, 0.6);
    // The eyes agree within a few pixels: what the template's alignment uses.
    for (int k : {36, 45}) {
      EXPECT_NEAR(a->front().landmarks[k].x, b->front().landmarks[k].x, 4.f) << k;
      EXPECT_NEAR(a->front().landmarks[k].y, b->front().landmarks[k].y, 4.f) << k;
    }
    ++compared;
  }
  EXPECT_EQ(compared, 4);
}

// A labelled group photo shrunk to 30 % and placed in a 1280×720 grey still: its faces are 11–33
// pixels wide, about 4–13 pixels after the 512 resize, below what the SSD sees.
TEST(DetectionModesTest, TiledModeFindsSmallFacesThePlainModeLoses) {
  const std::string data = std::string(FACETRAIL_SHARED_DIR) + "/data/dlib-faces-detection";
  auto img = LoadImageFile(data + "/images/2008_002079.jpg");
  ASSERT_TRUE(img.ok());
  std::vector<Box> truth;
  {
    std::ifstream in(data + "/boxes.csv");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("images/2008_002079.jpg", 0) != 0) continue;
      std::stringstream ss(line);
      std::string f[9];
      for (auto& x : f) std::getline(ss, x, ',');
      truth.push_back({std::stof(f[4]), std::stof(f[5]), std::stof(f[6]), std::stof(f[7])});
    }
  }
  ASSERT_FALSE(truth.empty());
  const double scale = 0.3;
  const int ox = 600, oy = 250;
  Image frame;
  frame.width = 1280;
  frame.height = 720;
  frame.rgb.assign(1280 * 720 * 3, 110);
  internal::Affine m;
  m.a = m.d = 1.0 / scale;
  const int sw = static_cast<int>(img->image.width * scale),
            sh = static_cast<int>(img->image.height * scale);
  Image small = internal::WarpAffineToImage(img->image, m, sw, sh);
  for (int y = 0; y < sh; ++y) {
    std::copy(small.row(y), small.row(y) + static_cast<size_t>(sw) * 3, frame.row(y + oy) + ox * 3);
  }
  auto count_found = [&](const std::vector<Face>& faces) {
    int found = 0;
    for (const Box& t : truth) {
      const double tx = t.x * scale + ox, ty = t.y * scale + oy, tw = t.width * scale;
      for (const Face& f : faces) {
        const double cx = f.box.x + f.box.width / 2, cy = f.box.y + f.box.height / 2;
        if (std::abs(cx - (tx + tw / 2)) < tw / 2 && std::abs(cy - (ty + tw / 2)) < tw / 2) {
          ++found;
          break;
        }
      }
    }
    return found;
  };
  auto plain = Make(AlignMode::kSimilarity, false);
  auto tiled = Make(AlignMode::kSimilarity, true);
  ASSERT_TRUE(plain && tiled);
  auto a = plain->Process(frame);
  auto b = tiled->Process(frame);
  ASSERT_TRUE(a.ok() && b.ok());
  const int plain_found = count_found(*a), tiled_found = count_found(*b);
  EXPECT_GT(tiled_found, plain_found);
  EXPECT_GE(tiled_found, static_cast<int>(truth.size()) / 2) << "of " << truth.size();
}

}  // namespace
}  // namespace facetrail::vision
