#include "gallery/face_search.h"

#include "vision/image.h"

namespace facetrail::gallery {
namespace {

ExtractedFace ToExtracted(vision::Face&& f) {
  ExtractedFace e;
  e.box = {f.box.x, f.box.y, f.box.width, f.box.height};
  const auto& q = f.quality;
  e.quality = {q.detector_score, q.eye_distance_px, q.sharpness,
               q.yaw_deg,        q.roll_deg,        q.pitch_deg};
  e.templ = std::move(f.templ);
  return e;
}

Expected<std::vector<ExtractedFace>> ExtractWith(vision::FacePipeline& pipeline,
                                                 std::span<const uint8_t> bytes) {
  FT_ASSIGN_OR_RETURN(auto decoded, vision::DecodeImage(bytes));
  FT_ASSIGN_OR_RETURN(auto faces, pipeline.Process(decoded.image));
  std::vector<ExtractedFace> out;
  for (auto& f : faces) {
    if (f.templ.size() != static_cast<size_t>(kTemplateDim)) {
      return Internal("the pipeline returned a face without a template");
    }
    out.push_back(ToExtracted(std::move(f)));
  }
  return out;
}

class PipelineExtractor final : public FaceExtractor {
 public:
  explicit PipelineExtractor(std::unique_ptr<vision::FacePipeline> p) : pipeline_(std::move(p)) {}
  Expected<std::vector<ExtractedFace>> Extract(std::span<const uint8_t> bytes) override {
    return ExtractWith(*pipeline_, bytes);
  }
  ModelRef model() const override { return ModelOf(*pipeline_); }

 private:
  std::unique_ptr<vision::FacePipeline> pipeline_;
};

}  // namespace

ModelRef ModelOf(const vision::FacePipeline& pipeline) {
  return {pipeline.template_model().id, pipeline.template_model().version};
}

FaceExtractorFactory PipelineExtractorFactory(const vision::PipelineOptions& options) {
  return [options]() -> Expected<std::unique_ptr<FaceExtractor>> {
    vision::PipelineOptions o = options;
    o.templates = true;
    o.landmarks = true;
    FT_ASSIGN_OR_RETURN(auto pipeline, vision::FacePipeline::Create(o));
    return std::unique_ptr<FaceExtractor>(new PipelineExtractor(std::move(pipeline)));
  };
}

Expected<ProbeSearchResult> SearchProbe(vision::FacePipeline& pipeline, GalleryIndex& index,
                                        std::span<const uint8_t> image_bytes,
                                        const ProbeSearchOptions& options) {
  if (!(ModelOf(pipeline) == index.model())) {
    return FailedPrecondition("the probe's template model (" + ModelOf(pipeline).id +
                              ") is not the gallery index's (" + index.model().id + ")");
  }
  FT_ASSIGN_OR_RETURN(auto faces, ExtractWith(pipeline, image_bytes));
  ProbeSearchResult result;
  result.num_faces = static_cast<int>(faces.size());
  if (faces.empty()) return InvalidArgument("no face found in the probe image");
  if (options.face >= result.num_faces) {
    return InvalidArgument("--face " + std::to_string(options.face) + ": the probe has " +
                           std::to_string(result.num_faces) + " face(s), numbered from 0");
  }
  result.face = options.face >= 0 ? options.face : static_cast<int>(ChooseEnrollFace(faces));
  const ExtractedFace& f = faces[static_cast<size_t>(result.face)];
  result.box = f.box;
  FT_ASSIGN_OR_RETURN(result.candidates, index.Search(f.templ, options.search));
  return result;
}

}  // namespace facetrail::gallery
