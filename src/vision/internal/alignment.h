// From 68 landmarks to the recognition net's 150×150 input, and face quality figures.
#pragma once

#include <array>
#include <span>
#include <vector>

#include "vision/face_pipeline.h"
#include "vision/internal/resample.h"

namespace facetrail::vision::internal {

using Landmarks = std::vector<std::array<double, 2>>;  // 68 points, image pixels

struct IntRect {
  int x = 0, y = 0, width = 0, height = 0;
};

// face-api's recognition crop (PIPELINE.md §1 + §2 step 1): centroid rectangle, then clipped to
// the image and floored. `detection_crop_w/h` is the landmark crop size (an upstream quirk).
// Width or height ≤ 0 when the face lies outside the image.
IntRect FaceApiRecognitionRect(const Landmarks& pts, int detection_crop_w, int detection_crop_h,
                               int image_width, int image_height);

// The least-squares similarity transform (rotation, uniform scale, translation; no reflection)
// taking `from[i]` onto `to[i]`. requires: from.size() == to.size() >= 2. Coincident `from`
// points give the identity's scale (a = 1).
Affine FitSimilarity(std::span<const std::array<double, 2>> from,
                     std::span<const std::array<double, 2>> to);

// Least-squares similarity transform (rotation, uniform scale, translation; no reflection) that
// maps the chip's canonical landmark positions onto `pts`, for a size × size chip with dlib's
// get_face_chip_details(shape, size, padding) mean face (points 27–54 and 60–64).
Affine SimilarityChipTransform(const Landmarks& pts, int size, double padding);

// Quality figures from landmarks, the aligned chip (RGB 0..255) and the image's own pixels around
// the face (noise, enlargement and block artefacts are measured where no resampling hides them).
// `chip_to_image` is the transform that cut the chip out of the image.
FaceQuality EstimateQuality(const Landmarks& pts, double detector_score, const FloatImage& chip,
                            const Affine& chip_to_image, const Image& image);

}  // namespace facetrail::vision::internal
