#include "search/internal/symmetric_eigen.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace facetrail::search::internal {
namespace {

// Householder reduction to tridiagonal form: on return a = Q T Q^T (as it was on entry), with
// T's diagonal in d, its off-diagonal in e (e[i] = T[i][i+1]) and w = Q^T (rows).
void Tridiagonalize(std::vector<double>& a, size_t n, std::vector<double>& d,
                    std::vector<double>& e, std::vector<double>& w) {
  std::vector<double> v(n), p(n), u(n);
  for (size_t k = 0; k + 2 < n; ++k) {
    // H = I - beta v v^T maps column k below the diagonal onto alpha * unit vector.
    const size_t m = n - k - 1;  // indices k+1 .. n-1
    double norm2 = 0;
    for (size_t i = 0; i < m; ++i) {
      v[i] = a[(k + 1 + i) * n + k];
      norm2 += v[i] * v[i];
    }
    if (norm2 == 0) continue;
    const double alpha = v[0] >= 0 ? -std::sqrt(norm2) : std::sqrt(norm2);
    v[0] -= alpha;
    double vnorm2 = 0;
    for (size_t i = 0; i < m; ++i) vnorm2 += v[i] * v[i];
    if (vnorm2 == 0) continue;
    const double beta = 2 / vnorm2;
    // A_sub <- H A_sub H = A_sub - v w^T - w v^T, with p = beta A_sub v, w = p - (beta/2)(p.v) v.
    double pv = 0;
    for (size_t i = 0; i < m; ++i) {
      const double* row = &a[(k + 1 + i) * n + k + 1];
      double s = 0;
      for (size_t j = 0; j < m; ++j) s += row[j] * v[j];
      p[i] = beta * s;
      pv += p[i] * v[i];
    }
    const double half = beta * pv / 2;
    for (size_t i = 0; i < m; ++i) p[i] -= half * v[i];
    for (size_t i = 0; i < m; ++i) {
      double* row = &a[(k + 1 + i) * n + k + 1];
      for (size_t j = 0; j < m; ++j) row[j] -= v[i] * p[j] + p[i] * v[j];
    }
    a[(k + 1) * n + k] = alpha;
    a[k * n + k + 1] = alpha;
    for (size_t i = 1; i < m; ++i) {
      a[(k + 1 + i) * n + k] = 0;
      a[k * n + k + 1 + i] = 0;
    }
    // w <- H w on rows k+1 .. n-1.
    std::fill(u.begin(), u.end(), 0.0);
    for (size_t i = 0; i < m; ++i) {
      const double* row = &w[(k + 1 + i) * n];
      for (size_t j = 0; j < n; ++j) u[j] += v[i] * row[j];
    }
    for (size_t i = 0; i < m; ++i) {
      double* row = &w[(k + 1 + i) * n];
      const double f = beta * v[i];
      for (size_t j = 0; j < n; ++j) row[j] -= f * u[j];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    d[i] = a[i * n + i];
    e[i] = i + 1 < n ? a[i * n + i + 1] : 0;
  }
}

// One implicit symmetric QR step with Wilkinson shift on the unreduced block [l, m] of the
// tridiagonal (d, e) (Golub & Van Loan, Algorithm 8.3.2), the rotations applied to rows of w.
void QrStep(std::vector<double>& d, std::vector<double>& e, std::vector<double>& w, size_t n,
            size_t l, size_t m) {
  const double delta = (d[m - 1] - d[m]) / 2;
  const double b2 = e[m - 1] * e[m - 1];
  const double root = std::hypot(delta, e[m - 1]);
  const double mu = d[m] - b2 / (delta + (delta >= 0 ? root : -root));
  double x = d[l] - mu;
  double z = e[l];
  for (size_t k = l; k < m; ++k) {
    // G = [c s; -s c] with G^T (x, z) = (r, 0).
    const double r = std::hypot(x, z);
    const double c = r == 0 ? 1.0 : x / r;
    const double s = r == 0 ? 0.0 : -z / r;
    if (k > l) e[k - 1] = r;
    const double dk = d[k];
    const double dk1 = d[k + 1];
    const double ek = e[k];
    d[k] = c * c * dk - 2 * c * s * ek + s * s * dk1;
    d[k + 1] = s * s * dk + 2 * c * s * ek + c * c * dk1;
    e[k] = c * s * (dk - dk1) + (c * c - s * s) * ek;
    if (k + 1 < m) {
      z = -s * e[k + 1];  // the bulge at (k, k+2), chased by the next rotation
      e[k + 1] *= c;
      x = e[k];
    }
    double* wk = &w[k * n];
    double* wk1 = &w[(k + 1) * n];
    for (size_t j = 0; j < n; ++j) {
      const double a = wk[j];
      const double b = wk1[j];
      wk[j] = c * a - s * b;
      wk1[j] = s * a + c * b;
    }
  }
}

}  // namespace

SymmetricEigen DecomposeSymmetric(std::vector<double> a, int n) {
  const auto un = static_cast<size_t>(n);
  std::vector<double> w(un * un, 0.0), d(un), e(un);
  for (size_t i = 0; i < un; ++i) w[i * un + i] = 1.0;
  Tridiagonalize(a, un, d, e, w);
  const double eps = std::numeric_limits<double>::epsilon();
  for (size_t iter = 0, m = un == 0 ? 0 : un - 1; m > 0 && iter < 60 * un; ++iter) {
    // Deflate converged eigenvalues at the bottom, then find the unreduced block above.
    while (m > 0 && std::fabs(e[m - 1]) <= eps * (std::fabs(d[m - 1]) + std::fabs(d[m]))) {
      e[m - 1] = 0;
      --m;
    }
    if (m == 0) break;
    size_t l = m - 1;
    while (l > 0 && std::fabs(e[l - 1]) > eps * (std::fabs(d[l - 1]) + std::fabs(d[l]))) --l;
    if (l > 0) e[l - 1] = 0;
    QrStep(d, e, w, un, l, m);
  }
  std::vector<size_t> order(un);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return d[i] > d[j]; });
  SymmetricEigen out;
  out.values.resize(un);
  out.vectors.resize(un * un);
  for (size_t r = 0; r < un; ++r) {
    out.values[r] = d[order[r]];
    std::copy_n(&w[order[r] * un], un, &out.vectors[r * un]);
  }
  return out;
}

}  // namespace facetrail::search::internal
