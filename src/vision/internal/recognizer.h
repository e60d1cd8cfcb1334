// The recognition step of the pipeline behind one interface: a face (image, detection box, 68
// landmarks) in, the network's raw output out. One implementation per ModelKind.
//
// THREAD SAFETY
//   One thread at a time (networks own scratch memory).
#pragma once

#include <memory>
#include <vector>

#include "common/status.h"
#include "nn/layers.h"
#include "vision/face_pipeline.h"
#include "vision/internal/alignment.h"
#include "vision/internal/networks.h"
#include "vision/models.h"

namespace facetrail::vision::internal {

class Recognizer {
 public:
  virtual ~Recognizer() = default;
  // The raw output (dim() floats, not normalised) for the face; empty when the face cannot be
  // cut out of the image (it lies outside). `quality_chip` is the 150×150 similarity chip the
  // pipeline already made for the quality figures (the face-api ResNet reuses it).
  virtual std::vector<float> Describe(const Image& image, const Detection& det,
                                      const Landmarks& pts, const FloatImage& quality_chip) = 0;
  virtual double flops() const = 0;  // of one network pass
};

struct RecognizerOptions {
  AlignMode align = AlignMode::kSimilarity;  // faceapi-resnet29 only
  bool flip_average = true;
  bool two_crops = false;                                               // faceapi-resnet29 only
  ChipInterpolation chip_interpolation = ChipInterpolation::kBilinear;  // ONNX models only
  ChipViews chip_views = ChipViews::kOne;                               // ONNX models only
  nn::Precision precision = nn::Precision::kF32;
};

// The Euclidean length of `v`, summed in double (what a template is divided by to make it unit).
double L2Norm(const std::vector<float>& v);

// Loads the model's network (after checking its file against the pinned SHA-256).
Expected<std::unique_ptr<Recognizer>> MakeRecognizer(const ModelManifest& manifest,
                                                     const RecognizerOptions& options);

// The five alignment points of 68 landmarks: eye centres (means of 36–41 and 42–47), nose tip
// (30), mouth corners (48, 54), in the order of AlignmentTemplate.
std::array<std::array<double, 2>, 5> FivePoints(const Landmarks& pts);

// Least-squares similarity transform (rotation, uniform scale, translation) taking the template's
// points (chip pixels) onto the face's five points (image pixels): chip → image, for WarpAffine.
// The chip → image transforms of the views `views` asks for, the aligned one first: `aligned`
// scaled about the centre of a size × size chip, or moved by half an image pixel.
std::vector<Affine> ChipViewTransforms(const Affine& aligned, int size, ChipViews views);

Affine FivePointChipTransform(const std::array<std::array<double, 2>, 5>& face,
                              const AlignmentTemplate& chip_template);

}  // namespace facetrail::vision::internal
