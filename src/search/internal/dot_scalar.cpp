#include "search/internal/dot_kernels.h"

namespace facetrail::search::internal {

void DotU8S8Scalar(const uint8_t* codes, size_t n, const int8_t* probe, int32_t* out) {
  for (size_t j = 0; j < n; ++j) {
    const uint8_t* row = codes + j * kDim;
    int32_t sum = 0;
    for (int i = 0; i < kDim; ++i) sum += static_cast<int32_t>(row[i]) * probe[i];
    out[j] = sum;
  }
}

}  // namespace facetrail::search::internal
