// The arrays behind a FlatIndex, owned (Build) or memory-mapped (snapshot). Internal to search/.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "search/flat_index.h"

namespace facetrail::search::internal {

// CONVENTION
//   n rows; row r has id ids[r] (strictly increasing in r), int8 code codes[r*kDim .. +kDim)
//   stored offset by +128 as uint8, scale scales[r] with template ≈ scales[r] * (code - 128),
//   float32 template floats[r*kDim .. +kDim), and active[r] != 0 when searchable.
//   max_error >= max over rows of ||template - dequantised||_2 (computed at quantisation).
//   row_crcs is null, or row_crcs[r] = Crc32c of the kDim floats of row r (checked at re-scoring).
//   keepalive owns whatever the pointers point into.
struct IndexData {
  size_t n = 0;
  const int64_t* ids = nullptr;
  const float* scales = nullptr;
  const uint32_t* row_crcs = nullptr;
  const uint8_t* codes = nullptr;
  const float* floats = nullptr;
  std::vector<uint8_t> active;
  float max_error = 0;
  std::shared_ptr<void> keepalive;
};

}  // namespace facetrail::search::internal
