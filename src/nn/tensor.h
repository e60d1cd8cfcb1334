// Activations: one image (batch 1), NHWC float32, row-major, no padding between rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace facetrail::nn {

struct Shape {
  int h = 0, w = 0, c = 0;
  size_t size() const { return static_cast<size_t>(h) * w * c; }
  friend bool operator==(const Shape&, const Shape&) = default;
};

struct Tensor {
  Shape shape;
  std::vector<float> data;  // shape.size() floats, index (y·w + x)·c + ch

  Tensor() = default;
  explicit Tensor(Shape s) : shape(s), data(s.size(), 0.f) {}
  void Resize(Shape s) {
    shape = s;
    data.resize(s.size());
  }
  float* at(int y, int x) { return data.data() + (static_cast<size_t>(y) * shape.w + x) * shape.c; }
  const float* at(int y, int x) const {
    return data.data() + (static_cast<size_t>(y) * shape.w + x) * shape.c;
  }
};

// Activations quantized to uint8 with the fixed step kU8Step: value = q · kU8Step, so 0..255
// covers exactly the range [0, 6] of a ReLU6 output (Precision::kU8S8 layers, nn/layers.h).
inline constexpr float kU8Step = 6.f / 255.f;

struct QTensor {
  Shape shape;
  std::vector<uint8_t> data;  // shape.size() values, NHWC like Tensor

  void Resize(Shape s) {
    shape = s;
    data.resize(s.size());
  }
};

}  // namespace facetrail::nn
