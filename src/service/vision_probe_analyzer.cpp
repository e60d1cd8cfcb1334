// The ProbeAnalyzer over the real vision pipeline.
#include "service/search_request.h"
#include "vision/image.h"

namespace facetrail::service {

namespace {

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
    }
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
