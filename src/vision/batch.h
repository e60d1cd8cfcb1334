// Running the face pipeline over many image files on every core.
//
// WHAT THIS REPRESENTS
//   ProcessImageFiles decodes and processes `paths` with `threads` workers, each owning its own
//   FacePipeline (pipelines are not thread-safe), and hands results to `sink` strictly in input
//   order, on the calling thread. A file that cannot be read or decoded yields a result with a
//   non-OK status; it never stops the batch.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "vision/face_pipeline.h"

namespace facetrail::vision {

struct ImageResult {
  std::string path;
  Status status;  // not OK: unreadable/corrupt image, or a pipeline error
  int width = 0, height = 0;
  int exif_orientation = 1;
  std::vector<Face> faces;
};

// Applied to each decoded image before the pipeline (eval's degradation ladder); its error
// becomes the image's status.
using ImageTransform = std::function<Expected<Image>(const Image&)>;

struct BatchOptions {
  PipelineOptions pipeline;
  int threads = 0;  // 0: one per core
  DecodeOptions decode;
  ImageTransform transform;  // empty: none
};

// Fails only when the pipeline cannot be created (model files); per-image errors go to sink.
Status ProcessImageFiles(const std::vector<std::string>& paths, const BatchOptions& options,
                         const std::function<void(size_t index, ImageResult&& result)>& sink);

// The same with pipelines the caller already made (one worker per pipeline; threads ignored).
// requires: !pipelines.empty().
Status ProcessImageFiles(const std::vector<std::string>& paths,
                         std::vector<std::unique_ptr<FacePipeline>>& pipelines,
                         const DecodeOptions& decode, const ImageTransform& transform,
                         const std::function<void(size_t index, ImageResult&& result)>& sink);

// Processes one decoded image with a fresh result record (for callers that decode themselves).
ImageResult ProcessDecoded(FacePipeline& pipeline, const std::string& path,
                           const DecodedImage& img);

}  // namespace facetrail::vision
