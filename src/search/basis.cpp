#include "search/basis.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "search/internal/dot_kernels.h"
#include "search/internal/symmetric_eigen.h"

namespace facetrail::search {
namespace {

// Unit roundoff of double and the usual bound on the rounding of an n-term dot product.
constexpr double kUnitRoundoff = 1.1102230246251565e-16;
double DotRounding(size_t n) {
  return static_cast<double>(n) * kUnitRoundoff * 1.01;
}

uint64_t SplitMix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A standard normal value (Box–Muller), reproducible on every platform.
double Gaussian(uint64_t& s) {
  const double u1 = (static_cast<double>(SplitMix(s) >> 11) + 1.0) * 0x1.0p-53;
  const double u2 = static_cast<double>(SplitMix(s) >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// Rows of an m × m random orthogonal matrix (Gram–Schmidt, applied twice, of Gaussian rows).
std::vector<double> RandomRotation(size_t m, uint64_t seed) {
  std::vector<double> q(m * m);
  for (double& v : q) v = Gaussian(seed);
  for (size_t i = 0; i < m; ++i) {
    double* qi = &q[i * m];
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t j = 0; j < i; ++j) {
        const double* qj = &q[j * m];
        double dot = 0;
        for (size_t k = 0; k < m; ++k) dot += qi[k] * qj[k];
        for (size_t k = 0; k < m; ++k) qi[k] -= dot * qj[k];
      }
      double norm = 0;
      for (size_t k = 0; k < m; ++k) norm += qi[k] * qi[k];
      norm = std::sqrt(norm);
      for (size_t k = 0; k < m; ++k) qi[k] /= norm;
    }
  }
  return q;
}

// An upper bound on ||R R^T - I||_2: the Frobenius norm of the computed Gram matrix minus I,
// plus the rounding of computing it (each entry a dim-term dot product of unit rows).
double OrthonormalityError(const std::vector<double>& rows, size_t m, size_t dim) {
  double sum = 0;
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = i; j < m; ++j) {
      double g = 0;
      for (size_t k = 0; k < dim; ++k) g += rows[i * dim + k] * rows[j * dim + k];
      const double e = g - (i == j ? 1.0 : 0.0);
      sum += (i == j ? 1.0 : 2.0) * e * e;
    }
  }
  return std::sqrt(sum) * (1 + 1e-9) + static_cast<double>(m) * DotRounding(dim) * 1.01;
}

}  // namespace

Basis::Basis(int dim, int head_dim, std::vector<double> rows)
    : dim_(dim), head_dim_(head_dim), rows_(std::move(rows)) {
  if (!rows_.empty()) {
    error_ = OrthonormalityError(rows_, static_cast<size_t>(head_dim_), static_cast<size_t>(dim_));
  }
}

Basis Basis::Identity(int dim) {
  return {dim, dim, {}};
}

Expected<Basis> Basis::Fit(int dim, std::span<const float> sample, const BasisOptions& options) {
  FT_RETURN_IF_ERROR(ValidateDim(dim).WithContext("Basis::Fit"));
  const auto d = static_cast<size_t>(dim);
  if (sample.size() % d != 0) {
    return InvalidArgument("Basis::Fit: " + std::to_string(sample.size()) +
                           " floats are not whole rows of " + std::to_string(dim));
  }
  const size_t n = sample.size() / d;
  for (size_t i = 0; i < sample.size(); ++i) {
    if (!std::isfinite(sample[i])) {
      return InvalidArgument("Basis::Fit: sample row " + std::to_string(i / d) + " value " +
                             std::to_string(i % d) + " is not finite");
    }
  }
  if (n < static_cast<size_t>(options.min_rows_per_dim) * d) return Identity(dim);
  // The second moment (not the covariance): its eigenvalues are the energy each direction
  // carries, which is what the tail bound pays for.
  std::vector<double> moment(d * d, 0.0);
  for (size_t r = 0; r < n; ++r) {
    const float* x = &sample[r * d];
    for (size_t i = 0; i < d; ++i) {
      const double xi = x[i];
      double* row = &moment[i * d];
      for (size_t j = 0; j <= i; ++j) row[j] += xi * x[j];
    }
  }
  for (size_t i = 0; i < d; ++i) {
    for (size_t j = 0; j <= i; ++j) {
      moment[i * d + j] /= static_cast<double>(n);
      moment[j * d + i] = moment[i * d + j];
    }
  }
  const internal::SymmetricEigen eig = internal::DecomposeSymmetric(std::move(moment), dim);
  double total = 0;
  for (double v : eig.values) total += std::max(v, 0.0);
  size_t head = d;
  double kept = 0;
  for (size_t m = 1; m <= d; ++m) {
    kept += std::max(eig.values[m - 1], 0.0);
    if (m % kDimMultiple == 0 && total - kept <= options.max_tail_energy * total) {
      head = m;
      break;
    }
  }
  if (static_cast<double>(head) > options.max_head_fraction * static_cast<double>(d)) {
    return Identity(dim);
  }
  const std::vector<double> q = RandomRotation(head, options.seed);
  std::vector<double> rows(head * d, 0.0);
  for (size_t j = 0; j < head; ++j) {
    double* out = &rows[j * d];
    for (size_t i = 0; i < head; ++i) {
      const double c = q[j * head + i];
      const double* v = &eig.vectors[i * d];
      for (size_t k = 0; k < d; ++k) out[k] += c * v[k];
    }
  }
  return Basis(dim, static_cast<int>(head), std::move(rows));
}

Expected<Basis> Basis::FromRows(int dim, int head_dim, std::vector<double> rows) {
  if (!ValidateDim(dim).ok() || !ValidateDim(head_dim).ok() || head_dim >= dim) {
    return DataLoss("basis of " + std::to_string(head_dim) + " × " + std::to_string(dim) +
                    " is not supported");
  }
  if (rows.size() != static_cast<size_t>(head_dim) * static_cast<size_t>(dim)) {
    return DataLoss("basis has " + std::to_string(rows.size()) + " values, expected " +
                    std::to_string(head_dim) + " × " + std::to_string(dim));
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!std::isfinite(rows[i])) {
      return DataLoss("basis value " + std::to_string(i) + " is not finite");
    }
  }
  Basis b(dim, head_dim, std::move(rows));
  if (!(b.error_ <= 1e-6)) {
    return DataLoss("basis rows are not orthonormal (error " + std::to_string(b.error_) + ")");
  }
  return b;
}

double Basis::Project(const float* x, double* y, SimdLevel level) const {
  double tail = 0;
  ProjectRows(x, 1, y, &tail, level);
  return tail;
}

void Basis::ProjectRows(const float* x, size_t count, double* y, double* tails,
                        SimdLevel level) const {
  const auto d = static_cast<size_t>(dim_);
  if (rows_.empty()) {
    for (size_t i = 0; i < count * d; ++i) y[i] = x[i];
    std::fill(tails, tails + count, 0.0);
    return;
  }
  const auto m = static_cast<size_t>(head_dim_);
  std::vector<double> xd(x, x + count * d);
  internal::ProjectKernel(level)(rows_.data(), m, d, xd.data(), count, y);
  for (size_t r = 0; r < count; ++r) {
    double nx = 0;
    for (size_t i = 0; i < d; ++i) nx += xd[r * d + i] * xd[r * d + i];
    double ny = 0;
    for (size_t j = 0; j < m; ++j) ny += y[r * m + j] * y[r * m + j];
    // ||x - R^T z||^2 = ||x||^2 - ||z||^2 + z^T (R R^T - I) z for z = R x, with ||y - z|| below
    // 1e-10 for unit x (dot rounding); 1e-10 covers that and the rounding of nx and ny.
    const double tail2 = nx - ny + error_ * ny + 1e-10;
    tails[r] = std::sqrt(std::max(tail2, 0.0)) * (1 + 1e-12);
  }
}

}  // namespace facetrail::search
