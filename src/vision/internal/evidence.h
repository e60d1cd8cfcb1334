// What a face region really carries, as opposed to what it appears to: noise discounted from
// sharpness, enlargement discounted from size, JPEG block artefacts (docs/PIPELINE.md, "Quality
// figures that cannot be faked"). All on grey levels 0..255.
#pragma once

#include <vector>

#include "vision/image.h"

namespace facetrail::vision::internal {

// A grey image, row-major.
struct Grey {
  int width = 0, height = 0;
  std::vector<float> data;
  float at(int x, int y) const { return data[static_cast<size_t>(y) * width + x]; }
};

// The grey levels of image inside [x0, x1) × [y0, y1), clipped to the image (empty when outside).
Grey GreyCrop(const Image& image, int x0, int y0, int x1, int y1);

// Standard deviation of additive white noise (Immerkær 1996: the difference of two Laplacians
// cancels image structure to second order), from the median response so that the minority of
// pixels on edges and texture do not count. 0 for images smaller than 3 × 3.
double NoiseSigma(const Grey& grey);

// The factor k ≥ 1 by which the region was enlarged beyond the detail it carries: the largest
// of 1.5, 2, 2.5, 3, 4, 5, 6, 8 such that a low-pass at 1/k of the Nyquist frequency (Lanczos-3),
// or for whole k the means of k × k blocks (pixel replication), loses less than `max_lost` of
// the region's contrast energy once the noise's share is discounted. 1 when every one loses
// real detail. A 10-pixel face enlarged 4 times reads 3–4; an LFW face at its size, 1–2.
double EffectiveScale(const Grey& grey, double noise_sigma, double max_lost = 0.0005);

// The share of the region's contrast energy (noise discounted) that shrinking by k and enlarging
// back loses (0 .. about 1); 1 for regions too small or flat to say.
double DetailLost(const Grey& grey, double noise_sigma, double k);

// JPEG 8 × 8 block artefacts: the mean absolute step across block boundaries (columns and rows
// at multiples of 8 in the image's own grid, given by the crop's origin) divided by the mean
// step elsewhere. About 1 without block artefacts; above 1.5 for heavy compression.
double Blockiness(const Grey& grey, int origin_x, int origin_y);

}  // namespace facetrail::vision::internal
