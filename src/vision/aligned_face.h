// The aligned view of a face for an examiner (issue 13, "Side by side"): the face cut out of its
// image by the recognizer's own five-point alignment, on a larger frame, so that two faces
// rendered this way have their eyes and mouth on the same lines.
//
// WHAT THIS REPRESENTS
//   The same procedure the ONNX recognizers use for their input (vision/internal/recognizer.h):
//   the five points of the 68 landmarks (eye centres, nose tip, mouth corners), the
//   least-squares similarity transform (rotation, uniform scale, translation; no shear, no
//   reflection) onto a five-point template, bilinear sampling with a box filter when the face
//   shrinks. The template is the standard 112 × 112 one (kViewingTemplate, which is also
//   fr_feature's), scaled by `scale` and centred in a size × size frame, so the whole head and
//   some background show, not only the network's tight crop. Nothing but geometry is changed:
//   no colour, contrast or sharpening.
//
// THREAD SAFETY
//   A pure function; reentrant.
#pragma once

#include <array>
#include <span>

#include "vision/face_pipeline.h"
#include "vision/image.h"
#include "vision/models.h"

namespace facetrail::vision {

// The five-point template of a 112 × 112 chip (InsightFace's ArcFace positions; fr_feature's
// manifest holds the same numbers): subject's right eye, left eye, nose tip, mouth corners.
inline constexpr AlignmentTemplate kViewingTemplate{{{{38.2946, 51.6963},
                                                      {73.5318, 51.5014},
                                                      {56.0252, 71.7366},
                                                      {41.5493, 92.3655},
                                                      {70.7299, 92.2041}}}};

struct AlignedFaceOptions {
  int size = 512;       // output width and height, pixels; 16..2048
  double scale = 3;     // template pixels → output pixels; the template's 112 px span 336 here
  int chip_size = 112;  // the template's own frame (it is centred: offset (size − scale·chip)/2)
  AlignmentTemplate chip_template = kViewingTemplate;
};

struct AlignedFace {
  Image image;  // size × size RGB; black where the frame reaches outside the source image
  // The 68 landmarks mapped into `image` (pixel centres at integer coordinates).
  std::array<Point, kNumLandmarks> landmarks{};
  // Output pixel (c, r) samples the source at (a·c + b·r + tx, cc·c + d·r + ty).
  double a = 1, b = 0, tx = 0, cc = 0, d = 1, ty = 0;
  // Where the template puts the eye centres and the mouth corners (rows of `image`): every face
  // rendered with the same options has its eyes and mouth on these lines (to the fit's residual).
  double eye_line_y = 0, mouth_line_y = 0;
};

// The aligned view of the face with these 68 landmarks (pixels of the upright `image`).
// requires: landmarks.size() == kNumLandmarks.
// Errors: kInvalidArgument for an empty image, a wrong landmark count, non-finite landmarks,
// options out of range, or landmarks whose eyes coincide (no transform can be fitted).
Expected<AlignedFace> AlignFaceForViewing(const Image& image, std::span<const Point> landmarks,
                                          const AlignedFaceOptions& options = {});

}  // namespace facetrail::vision
