// The arrays behind a FlatIndex, owned (Build) or memory-mapped (snapshot). Internal to search/.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "search/basis.h"
#include "search/flat_index.h"
#include "search/internal/lazy_checksums.h"

namespace facetrail::search::internal {

// CONVENTION
//   n rows of dim floats (dim passes ValidateDim); row r has id ids[r] (strictly increasing in
//   r), float32 template floats[r*dim .. +dim), and active[r] != 0 when searchable.
//   basis.dim() == dim; head_dim == basis.head_dim(). Row r's head coordinates y = R x
//   (basis.Project) have the int8 code c (1..255, stored +128: y ≈ scales[r] * (c - 128)),
//   split into two planes of head_dim/2 bytes (quantize.h): codes_hi[r*head_dim/2 + b] holds
//   the high nibbles of coordinates b (bits 0-3) and b + head_dim/2 (bits 4-7), codes_lo the
//   low nibbles likewise. With tail >= ||x - R^T y|| (basis.Project):
//   err1[r] >= ||y - scales[r] * (16 * hi - 120.5)||_2 + tail (the first pass's reconstruction)
//   err2[r] >= ||y - scales[r] * (c - 128)||_2 + tail, computed in double and rounded up.
//   max_err1/max_err2 are the maxima of err1/err2 (0 when n = 0).
//   row_crcs is null, or row_crcs[r] = Crc32c of the dim floats of row r (checked at re-scoring).
//   lo_check / err2_check are null (data in RAM, or checked at open), or check the blocks of
//   codes_lo / err2 a search is about to read (refinement).
//   keepalive owns whatever the pointers point into.
struct IndexData {
  int dim = 0;
  int head_dim = 0;
  std::shared_ptr<const Basis> basis;
  size_t n = 0;
  const int64_t* ids = nullptr;
  const float* scales = nullptr;
  const float* err1 = nullptr;
  const float* err2 = nullptr;
  const uint32_t* row_crcs = nullptr;
  const uint8_t* codes_hi = nullptr;
  const uint8_t* codes_lo = nullptr;
  const float* floats = nullptr;
  std::shared_ptr<const LazyChecksums> lo_check;
  std::shared_ptr<const LazyChecksums> err2_check;
  std::vector<uint8_t> active;
  float max_err1 = 0;
  float max_err2 = 0;
  std::shared_ptr<void> keepalive;
};

}  // namespace facetrail::search::internal
