// Non-generative restoration of a probe, measured on the degradation ladder (docs/ACCURACY.md).
// Nothing here invents detail: each step is a fixed linear or thresholded filter of the pixels
// that are there. Not applied to any probe by the pipeline; an enhancement that were adopted
// would be a disclosed processing step (issue 18).
//
// WHAT THIS REPRESENTS
//   DeblockJpeg: removes the steps JPEG leaves at its 8 × 8 block edges (the grid starting at
//   pixel 0, as the encoder lays it). At each block edge and for each colour channel, the step
//   across the edge beyond what the gradients on either side predict is spread as a ramp over
//   the 4 pixels on each side (weights 7/8, 5/8, 3/8, 1/8 of half the excess), only where that
//   excess is below `max_step` grey levels (larger steps are taken for real edges) and both
//   sides are smooth (the first two pixels on each side differ by less than max_step / 4: a
//   block step, not texture). Vertical edges first, then horizontal ones. Deterministic.
//
// THREAD SAFETY
//   Reentrant.
#pragma once

#include "common/status.h"
#include "vision/image.h"

namespace facetrail::vision {

// kInvalidArgument for an empty image or max_step outside (0, 255].
Expected<Image> DeblockJpeg(const Image& image, double max_step = 24);

}  // namespace facetrail::vision
