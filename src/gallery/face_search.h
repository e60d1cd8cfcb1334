// Face-level use of the gallery: a FaceExtractor backed by the real face pipeline, and the
// probe search — image bytes in, ranked candidates out — as one library call that the service
// layer (accountability rules, issue 4) and the evaluation (issue 6) wrap.
//
// THREAD SAFETY
//   A FacePipeline is used by one thread at a time; the GalleryIndex may be shared.
#pragma once

#include <span>
#include <vector>

#include "common/status.h"
#include "gallery/enroll.h"
#include "gallery/gallery_index.h"
#include "vision/face_pipeline.h"

namespace facetrail::gallery {

// The gallery's name for a pipeline's template model.
ModelRef ModelOf(const vision::FacePipeline& pipeline);

// The pipeline options that make the gallery's active model's templates (`base` gives the models
// folder and everything else). For a gallery without an active model (nothing enrolled yet):
// `base` as it is. kNotFound when no model in the folder makes the active model's templates.
Expected<vision::PipelineOptions> ActiveModelPipeline(GalleryStore& store,
                                                      const vision::PipelineOptions& base);

// Each call makes a FacePipeline with `options` (decode: vision::DecodeImage with defaults).
FaceExtractorFactory PipelineExtractorFactory(const vision::PipelineOptions& options);

struct ProbeSearchOptions {
  // Which face of the probe: -1 = the largest frontal face (as enrolment chooses), N = the
  // N-th face in the pipeline's order (0-based; `facetrail detect` lists them).
  int face = -1;
  search::SearchOptions search;
};

struct ProbeSearchResult {
  int num_faces = 0;  // faces found in the probe
  int face = -1;      // the face searched
  FaceBox box;
  std::vector<Candidate> candidates;  // empty: no candidate above the threshold (normal)
};

// Decodes `image_bytes`, finds the faces, and searches the chosen face's template.
// kInvalidArgument: unreadable image, no face, or --face out of range (the message says how
// many faces there are); kFailedPrecondition: the pipeline's model is not the index's.
Expected<ProbeSearchResult> SearchProbe(vision::FacePipeline& pipeline, GalleryIndex& index,
                                        std::span<const uint8_t> image_bytes,
                                        const ProbeSearchOptions& options);

}  // namespace facetrail::gallery
