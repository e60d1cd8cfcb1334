#include "search/internal/dot_kernels.h"

namespace facetrail::search::internal {
namespace {

int32_t NibbleDot(const uint8_t* row, size_t row_bytes, const int8_t* probe) {
  int32_t sum = 0;
  for (size_t b = 0; b < row_bytes; ++b) {
    sum += static_cast<int32_t>(row[b] & 15) * probe[b] +
           static_cast<int32_t>(row[b] >> 4) * probe[b + row_bytes];
  }
  return sum;
}

}  // namespace

size_t FirstPassScalar(const uint8_t* codes, const float* scales, const float* errs, size_t n,
                       const FirstPassParams& params, float floor, uint32_t* rows, int32_t* dots) {
  size_t count = 0;
  for (size_t j = 0; j < n; ++j) {
    const int32_t dot = NibbleDot(codes + j * params.row_bytes, params.row_bytes, params.probe);
    const float approx =
        scales[j] * params.half_scale * static_cast<float>(32 * dot - params.offset);
    const float upper = approx + (errs[j] * params.alpha + params.beta);
    if (upper >= floor) {
      rows[count] = static_cast<uint32_t>(j);
      dots[count] = dot;
      ++count;
    }
  }
  return count;
}

void GatherDotScalar(const uint8_t* plane, size_t row_bytes, const uint32_t* rows, size_t n,
                     const int8_t* probe, int32_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = NibbleDot(plane + rows[i] * row_bytes, row_bytes, probe);
}

void ProjectScalar(const double* rows, size_t m, size_t dim, const double* x, size_t count,
                   double* y) {
  for (size_t t = 0; t < count; ++t) {
    for (size_t j = 0; j < m; ++j) {
      const double* r = rows + j * dim;
      double sum = 0;
      for (size_t i = 0; i < dim; ++i) sum += r[i] * x[t * dim + i];
      y[t * m + j] = sum;
    }
  }
}

}  // namespace facetrail::search::internal
