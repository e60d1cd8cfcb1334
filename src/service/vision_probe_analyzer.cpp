// The ProbeAnalyzer over the real vision pipeline.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "service/search_request.h"
#include "vision/image.h"

namespace facetrail::service {

namespace {

// What vision::FacePipeline::Process does to a working copy of the image, as its options make it
// (docs/PIPELINE.md); the stored probe is never changed. No enhancement is applied today: an
// adopted one is added here as a step with enhancement = true.
std::vector<ProcessingStep> PipelineSteps(const vision::FacePipeline& pipeline, int width,
                                          int height) {
  const vision::PipelineOptions& o = pipeline.options();
  const bool parity = o.align == vision::AlignMode::kFaceApi;
  const int longer = std::max(width, height);
  constexpr int kSmallInput = 256, kInput = 512;  // the SSD detector's inputs (PIPELINE.md)
  const int input =
      !parity && o.small_image_detector && longer <= kSmallInput ? kSmallInput : kInput;
  std::vector<ProcessingStep> steps;
  nlohmann::json detect = {
      {"detector", "SSD MobileNet v1 (face-api)"},
      {"input_px", input},
      {"resample", "padded to a square (black, bottom/right), resized to the input bilinearly"},
      {"scale", static_cast<double>(input) / std::max(1, longer)},
      {"min_score", o.min_score}};
  if (!parity) {
    detect["framed_passes"] =
        "when no face found covers a tenth of the image: again with the image centred in a "
        "black frame (2x; then 1.5x, 3x and 0.6x the threshold while none is found)";
  }
  if (o.small_faces) detect["tiles"] = "512-px tiles at full size and 256-px tiles enlarged 2x";
  steps.push_back({"detect", detect.dump(),
                   input == kSmallInput
                       ? "find the faces; an image of at most 256 px is detected at 256x256 "
                         "instead of being enlarged to 512 (the small-image detector)"
                       : "find the faces; the detector network takes a fixed square input"});
  steps.push_back(
      {"landmarks",
       nlohmann::json{{"points", 68},
                      {"crop", parity ? "face-api's: the box clipped, floored to whole pixels"
                                      : "a square about the detector's box at its sub-pixel "
                                        "position, resampled to 112x112"},
                      {"mirror_average", !parity}}
           .dump(),
       parity ? "locate eyes, nose and mouth for the alignment and the quality figures"
              : "locate eyes, nose and mouth for the alignment and the quality figures; the "
                "points found on the mirrored crop are averaged in, which halves their noise"});
  const vision::ModelManifest& m = pipeline.model_manifest();
  steps.push_back(
      {"align",
       nlohmann::json{{"transform", parity ? "face-api's alignment" : "similarity on five points"},
                      {"size", {m.input.width, m.input.height}},
                      {"interpolation", "bilinear, box-filtered first when shrinking 2x or more"},
                      {"mirrored_copy", o.flip_average}}
           .dump(),
       std::string("put each face where the recognition model expects eyes, nose and mouth") +
           (o.flip_average ? "; its mirror image is also computed and its output added in" : "")});
  return steps;
}

class VisionProbeAnalyzer final : public ProbeAnalyzer {
 public:
  explicit VisionProbeAnalyzer(vision::FacePipeline& pipeline) : pipeline_(pipeline) {}

  Expected<ProbeAnalysis> Analyze(std::span<const uint8_t> bytes) override {
    vision::DecodeOptions options;
    options.max_pixels = pipeline_.options().max_pixels;
    FT_ASSIGN_OR_RETURN(vision::DecodedImage decoded, vision::DecodeImage(bytes, options));
    FT_ASSIGN_OR_RETURN(std::vector<vision::Face> faces, pipeline_.Process(decoded.image));
    ProbeAnalysis out;
    out.format = std::string(vision::ImageFormatName(decoded.format));
    out.width = decoded.image.width;
    out.height = decoded.image.height;
    out.exif_orientation = decoded.exif_orientation;
    out.model = pipeline_.template_model();
    const vision::ModelManifest& manifest = pipeline_.model_manifest();
    out.model_limits.model = manifest.name;
    if (manifest.calibration) {
      out.model_limits.min_eye_distance_px = manifest.calibration->min_eye_distance_px;
      out.model_limits.min_sharpness = manifest.calibration->min_sharpness;
      out.calibrated_candidate_threshold =
          static_cast<float>(manifest.calibration->candidate.score);
      out.expected_fnir = manifest.calibration->expected_fnir;
    }
    out.steps = PipelineSteps(pipeline_, out.width, out.height);
    for (vision::Face& f : faces) {
      out.faces.push_back({f.box, f.quality, std::move(f.templ),
                           std::vector<vision::Point>(f.landmarks.begin(), f.landmarks.end())});
    }
    return out;
  }

 private:
  vision::FacePipeline& pipeline_;
};

}  // namespace

std::unique_ptr<ProbeAnalyzer> MakeVisionProbeAnalyzer(vision::FacePipeline& pipeline) {
  return std::make_unique<VisionProbeAnalyzer>(pipeline);
}

}  // namespace facetrail::service
