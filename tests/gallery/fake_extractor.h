// A stand-in for the face pipeline in gallery tests: "images" are text files
//   FACES
//   x y w h yaw seed      (one line per face; the template is a random unit vector from seed)
// Anything else is unreadable; "FACES" with no lines has no face.
#pragma once

#include <chrono>
#include <random>
#include <sstream>
#include <thread>

#include "gallery/enroll.h"
#include "search/flat_index.h"

namespace facetrail::gallery::testing {

inline std::vector<float> SeedTemplate(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> t(kTemplateDim);
  double s = 0;
  for (float& v : t) {
    v = g(rng);
    s += static_cast<double>(v) * v;
  }
  for (float& v : t) v = static_cast<float>(v / std::sqrt(s));
  return t;
}

class FakeExtractor : public FaceExtractor {
 public:
  explicit FakeExtractor(int delay_ms = 0) : delay_ms_(delay_ms) {}
  Expected<std::vector<ExtractedFace>> Extract(std::span<const uint8_t> bytes) override {
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    std::string text(bytes.begin(), bytes.end());
    if (!text.starts_with("FACES")) return InvalidArgument("not an image (bad magic)");
    std::istringstream in(text.substr(5));
    std::vector<ExtractedFace> faces;
    ExtractedFace f;
    uint64_t seed = 0;
    while (in >> f.box.x >> f.box.y >> f.box.width >> f.box.height >> f.quality.yaw_deg >> seed) {
      f.templ = SeedTemplate(seed);
      faces.push_back(f);
    }
    return faces;
  }
  ModelRef model() const override { return {"fake-model", 1}; }

 private:
  int delay_ms_;
};

inline FaceExtractorFactory FakeFactory(int delay_ms = 0) {
  return [delay_ms]() -> Expected<std::unique_ptr<FaceExtractor>> {
    return std::unique_ptr<FaceExtractor>(new FakeExtractor(delay_ms));
  };
}

}  // namespace facetrail::gallery::testing
