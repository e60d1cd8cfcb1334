// Synthetic degradation of an image the way security-camera stills are degraded: fewer pixels,
// blur, heavy JPEG compression. Used by `facetrail eval report --degrade-probes` to measure
// accuracy on a ladder of probe qualities against an untouched gallery (docs/EVAL.md, "The
// degradation ladder"). Never applied to a real probe: this is a measuring instrument.
//
// WHAT THIS REPRESENTS
//   Degradation: one rung of the ladder, applied in this order: area-average downscaling by
//   `scale` (each output pixel the exact mean of the source area it covers), a Gaussian blur of
//   standard deviation `blur_sigma` pixels (of the downscaled image; kernel radius ⌈3σ⌉, edges
//   clamped), and a JPEG round trip at `jpeg_quality` (libjpeg defaults: 4:2:0, integer DCT).
//   Every step is deterministic: the same input gives the same bytes on every run and machine.
//
// THREAD SAFETY
//   All functions are reentrant.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "vision/image.h"

namespace facetrail::vision {

struct Degradation {
  double scale = 1;       // (0, 1]; output side = max(1, round(side × scale))
  double blur_sigma = 0;  // 0 = none; else (0, 10]
  int jpeg_quality = 0;   // 0 = none; else 1..100

  bool identity() const { return scale == 1 && blur_sigma == 0 && jpeg_quality == 0; }
  // Canonical spelling, which ParseDegradation reads back: "0.5", "0.5+blur0.8+jpeg30", "1".
  std::string Name() const;
  friend bool operator==(const Degradation&, const Degradation&) = default;
};

// One rung: SCALE[+blur[SIGMA]][+jpeg[QUALITY]], e.g. "0.35+blur+jpeg" (blur 0.8, quality 30
// by default), "0.5+jpeg50", "1+blur1.2". kInvalidArgument naming the rung and what is wrong.
Expected<Degradation> ParseDegradation(std::string_view rung);

// A ladder: "standard" (scales 1, 0.5, 0.35, 0.25, each without and with blur 0.8 + JPEG q30)
// or rungs separated by commas. Duplicates are refused; the order is kept.
Expected<std::vector<Degradation>> ParseDegradationLadder(std::string_view spec);

// The degraded image. kInvalidArgument for an empty image or an invalid Degradation.
Expected<Image> Degrade(const Image& image, const Degradation& degradation);

}  // namespace facetrail::vision
