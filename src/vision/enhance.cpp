#include "vision/enhance.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace facetrail::vision {
namespace {

constexpr int kBlock = 8;
constexpr int kReach = 4;  // pixels on each side of an edge that the ramp moves

// One pass over the edges across `count` lines of `length` samples; sample k of line l is
// at(l, k). Works on a float copy so the ramps of neighbouring edges (8 apart, 4 each side) never
// overlap.
template <typename At>
void DeblockLines(int count, int length, double max_step, At at) {
  for (int l = 0; l < count; ++l) {
    for (int edge = kBlock; edge + kReach <= length; edge += kBlock) {
      const float p0 = at(l, edge - 1), p1 = at(l, edge - 2);
      const float q0 = at(l, edge), q1 = at(l, edge + 1);
      const double excess = (q0 - p0) - ((p0 - p1) + (q1 - q0)) / 2.0;
      // Only where both sides are smooth: a block step, not texture or an edge of the face.
      const double smooth = max_step / 4;
      if (std::fabs(excess) >= max_step || std::fabs(p0 - p1) >= smooth ||
          std::fabs(q1 - q0) >= smooth) {
        continue;
      }
      for (int i = 0; i < kReach; ++i) {
        const auto w = static_cast<float>(excess / 2 * (kReach - i - 0.5) / kReach);
        at(l, edge - 1 - i) += w;
        at(l, edge + i) -= w;
      }
    }
  }
}

}  // namespace

Expected<Image> DeblockJpeg(const Image& image, double max_step) {
  if (image.empty()) return InvalidArgument("deblock: empty image");
  if (!(max_step > 0 && max_step <= 255)) {
    return InvalidArgument("deblock: max_step " + std::to_string(max_step) + " is not in (0, 255]");
  }
  const int w = image.width, h = image.height;
  std::vector<float> px(image.rgb.begin(), image.rgb.end());
  for (int ch = 0; ch < 3; ++ch) {
    auto idx = [&](int x, int y) { return (static_cast<size_t>(y) * w + x) * 3 + ch; };
    DeblockLines(h, w, max_step, [&](int y, int x) -> float& { return px[idx(x, y)]; });
    DeblockLines(w, h, max_step, [&](int x, int y) -> float& { return px[idx(x, y)]; });
  }
  Image out = image;
  for (size_t i = 0; i < px.size(); ++i) {
    out.rgb[i] = static_cast<uint8_t>(std::clamp(std::lround(px[i]), 0L, 255L));
  }
  return out;
}

}  // namespace facetrail::vision
