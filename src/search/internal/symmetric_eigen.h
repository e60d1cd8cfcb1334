// Eigen-decomposition of a small dense symmetric matrix (cyclic Jacobi rotations), for fitting a
// search basis to a sample of templates (search/basis.h). Accuracy affects only how well a basis
// fits, never whether a search is exact (docs/SNAPSHOT.md).
#pragma once

#include <vector>

namespace facetrail::search::internal {

struct SymmetricEigen {
  std::vector<double> values;   // n eigenvalues, descending
  std::vector<double> vectors;  // n × n, row i = the unit eigenvector of values[i]
};

// requires: a is n × n, row-major, symmetric. Sweeps until the off-diagonal mass is below
// 1e-22 of the total (or 60 sweeps).
SymmetricEigen DecomposeSymmetric(std::vector<double> a, int n);

}  // namespace facetrail::search::internal
