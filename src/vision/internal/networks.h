// The three face-api.js networks, built on nn::Conv2d for fixed input sizes. Layer-by-layer
// description with source references: ../shared/peers/faceapi/PIPELINE.md §4–§6.
//
// THREAD SAFETY
//   Each object owns scratch tensors: one thread at a time.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "nn/layers.h"
#include "nn/tensor.h"
#include "nn/weights.h"
#include "vision/internal/resample.h"

namespace facetrail::vision::internal {

// A detection in pixels of the image given to Detect (face-api's box rules, §4 "To pixels").
struct Detection {
  double x = 0, y = 0, width = 0, height = 0;
  double score = 0;
};

// Intersection over union of two boxes (0 when either is empty).
double BoxIou(const Detection& a, const Detection& b);

// SSD MobileNetV1 at 512×512. Precision kU8S8 runs the first convolution (its input is the
// image, in [-1, 1]) in bfloat16 and every later one in uint8/int8 (each reads a ReLU6 output).
// With small_input, images no larger than 256×256 run at 256×256 instead of being upsampled to
// 512 (the same weights; the anchors laid on the smaller grids): a quarter of the work.
class SsdDetector {
 public:
  static constexpr int kSmallInput = 256;
  static Expected<std::unique_ptr<SsdDetector>> Load(const std::string& models_dir,
                                                     nn::Precision precision,
                                                     bool small_input = false);
  ~SsdDetector();
  // Faces with score > min_score after NMS (IoU 0.5), highest score first, at most max_results.
  std::vector<Detection> Detect(const Image& image, double min_score, int max_results);
  double flops() const;  // of one forward pass (convolutions)

 private:
  SsdDetector() = default;
  struct Layers;
  static Expected<std::unique_ptr<Layers>> Build(const nn::WeightMap& w, int size,
                                                 nn::Precision precision,
                                                 std::vector<nn::Shape>* grids);
  std::unique_ptr<Layers> layers_;  // 512×512
  std::unique_ptr<Layers> small_;   // 256×256, when loaded with small_input
};

// 68-point landmark net at 112×112. Returns points in image pixels for a detection box.
class LandmarkNet {
 public:
  static Expected<std::unique_ptr<LandmarkNet>> Load(const std::string& models_dir,
                                                     nn::Precision precision);
  ~LandmarkNet();
  // Empty when the box does not overlap the image. clip_to_image: face-api's crop, clipped to
  // the image and floored (parity); otherwise the whole box at sub-pixel precision, with black
  // outside the image (a face cut by the image edge keeps its place in the net's input), and the
  // points averaged with those of the mirrored crop (docs/PIPELINE.md, "Landmarks").
  std::vector<std::array<double, 2>> Run(const Image& image, const Detection& box,
                                         bool clip_to_image = true);
  double flops() const;

 private:
  LandmarkNet() = default;
  std::vector<float> Infer(const FloatImage& chip);  // 136 outputs, chip coordinates / 112
  std::vector<std::array<double, 2>> RunPrecise(const Image& image, const Detection& box);
  struct Layers;
  std::unique_ptr<Layers> layers_;
};

// dlib's ResNet-29 recognition net at 150×150 → 128 floats (raw, not normalised).
class RecognitionNet {
 public:
  static constexpr int kInputSize = 150;
  static Expected<std::unique_ptr<RecognitionNet>> Load(const std::string& models_dir,
                                                        nn::Precision precision);
  ~RecognitionNet();
  // chip: kInputSize × kInputSize RGB 0..255.
  std::vector<float> Run(const FloatImage& chip);
  double flops() const;

 private:
  RecognitionNet() = default;
  struct Layers;
  std::unique_ptr<Layers> layers_;
};

// Normalises RGB 0..255 to (v − mean) / 255 with face-api's mean (122.782, 117.001, 104.298).
nn::Tensor NormalizeMean255(const FloatImage& img);

}  // namespace facetrail::vision::internal
