// Activations: one image (batch 1), NHWC float32, row-major, no padding between rows.
#pragma once

#include <cstddef>
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

}  // namespace facetrail::nn
