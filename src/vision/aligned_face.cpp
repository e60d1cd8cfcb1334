// AlignFaceForViewing (vision/aligned_face.h).
#include "vision/aligned_face.h"

#include <algorithm>
#include <cmath>

#include "vision/internal/alignment.h"
#include "vision/internal/recognizer.h"
#include "vision/internal/resample.h"

namespace facetrail::vision {

Expected<AlignedFace> AlignFaceForViewing(const Image& image, std::span<const Point> landmarks,
                                          const AlignedFaceOptions& options) {
  if (image.empty()) return InvalidArgument("aligned view: the image is empty");
  if (landmarks.size() != static_cast<size_t>(kNumLandmarks)) {
    return InvalidArgument("aligned view: expected " + std::to_string(kNumLandmarks) +
                           " landmarks, got " + std::to_string(landmarks.size()));
  }
  if (options.size < 16 || options.size > 2048 || options.chip_size < 16 ||
      !(options.scale > 0.1 && options.scale < 64)) {
    return InvalidArgument("aligned view: size 16..2048, chip size >= 16, scale 0.1..64");
  }
  internal::Landmarks pts;
  pts.reserve(landmarks.size());
  for (const Point& p : landmarks) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
      return InvalidArgument("aligned view: a landmark is not a finite number");
    }
    pts.push_back({p.x, p.y});
  }
  const auto five = internal::FivePoints(pts);
  if (std::hypot(five[0][0] - five[1][0], five[0][1] - five[1][1]) < 1e-3) {
    return InvalidArgument("aligned view: the eye centres coincide");
  }
  // The template in output pixels: scaled, then centred in the frame.
  const double offset = (options.size - options.scale * options.chip_size) / 2;
  AlignmentTemplate frame;
  for (size_t i = 0; i < frame.points.size(); ++i) {
    for (size_t k = 0; k < 2; ++k) {
      frame.points[i][k] = options.chip_template.points[i][k] * options.scale + offset;
    }
  }
  const internal::Affine m = internal::FivePointChipTransform(five, frame);
  const internal::FloatImage chip = internal::WarpAffine(image, m, options.size);

  AlignedFace out;
  out.image.width = options.size;
  out.image.height = options.size;
  out.image.rgb.resize(chip.data.size());
  std::transform(chip.data.begin(), chip.data.end(), out.image.rgb.begin(), [](float v) {
    return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
  });
  out.a = m.a;
  out.b = m.b;
  out.tx = m.tx;
  out.cc = m.c;
  out.d = m.d;
  out.ty = m.ty;
  // The inverse of the similarity (source → output) places the landmarks.
  const double det = m.a * m.d - m.b * m.c;
  for (size_t i = 0; i < landmarks.size(); ++i) {
    const double x = landmarks[i].x - m.tx, y = landmarks[i].y - m.ty;
    out.landmarks[i] = {static_cast<float>((m.d * x - m.b * y) / det),
                        static_cast<float>((-m.c * x + m.a * y) / det)};
  }
  out.eye_line_y = (frame.points[0][1] + frame.points[1][1]) / 2;
  out.mouth_line_y = (frame.points[3][1] + frame.points[4][1]) / 2;
  return out;
}

}  // namespace facetrail::vision
