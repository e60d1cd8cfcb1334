// The basis a FlatIndex runs its passes in (docs/SNAPSHOT.md, "The basis").
//
// WHAT THIS OBJECT REPRESENTS
//   head_dim() rows R (head_dim × dim, row-major doubles, orthonormal up to
//   orthonormality_error()). A template x is scanned through its head coordinates y = R x
//   (quantised, head_dim/2 bytes a pass) plus a per-row bound on the norm of what R leaves out,
//   ||x - R^T y||; any R keeps the search exact, the basis decides only how fast it is.
//   Identity(dim): R = I, nothing left out, no projection cost.
//   Fit(): the leading principal directions of a sample's second moment, as many (a multiple of
//   16) as leave out at most max_tail_energy of the sample's mean energy, turned by a random
//   rotation within their span so that every head coordinate carries a similar share (one int8
//   scale per row then suits them all). Real face templates of a 512-d network live in ~190
//   directions (docs/PERFORMANCE.md), so the first pass reads 96 bytes instead of 256; isotropic
//   data keeps the identity.
//
// THREAD SAFETY
//   Immutable after construction; const methods may run concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "search/flat_index.h"

namespace facetrail::search {

struct BasisOptions {
  // Largest mean fraction of a sample row's squared norm the head may leave out. 1e-5 leaves
  // ~0.003 of a unit template, small beside the int8 code's own error (~0.006): measured on real
  // 512-d templates it keeps 192 of 512 directions (docs/PERFORMANCE.md).
  double max_tail_energy = 1e-5;
  // A fit keeping more than this fraction of dim returns the identity: the projection would cost
  // more than the shorter rows save.
  double max_head_fraction = 0.75;
  // Samples with fewer rows than min_rows_per_dim × dim return the identity (too few to tell
  // the directions the templates use from those the sample happens to use).
  int min_rows_per_dim = 2;
  uint64_t seed = 0x5EA5C4;  // of the rotation within the head
};

class Basis {
 public:
  // requires: ValidateDim(dim) is OK.
  static Basis Identity(int dim);
  // Fits a basis to `sample`: n × dim floats, row-major, finite (templates). kInvalidArgument
  // for a bad dim, a sample that is not whole rows, or a non-finite value.
  static Expected<Basis> Fit(int dim, std::span<const float> sample,
                             const BasisOptions& options = {});
  // A stored basis (search/snapshot.cpp): head_dim × dim doubles. kDataLoss unless dims are
  // supported, head_dim < dim, every value is finite and the rows are orthonormal within 1e-6.
  static Expected<Basis> FromRows(int dim, int head_dim, std::vector<double> rows);

  int dim() const { return dim_; }
  int head_dim() const { return head_dim_; }
  bool is_identity() const { return rows_.empty(); }
  // head_dim × dim doubles; empty for the identity.
  const std::vector<double>& rows() const { return rows_; }
  // An upper bound on ||R R^T - I||_2 including the rounding of computing it (0 for identity).
  double orthonormality_error() const { return error_; }

  // y = R x: x is dim floats, y receives head_dim doubles. Returns an upper bound on the
  // norm of what the head leaves out, ||x - R^T (R x)|| (0 for the identity), rounding of the
  // projection included. `level` picks the kernel (any level gives a valid bound).
  double Project(const float* x, double* y, SimdLevel level = DetectSimdLevel()) const;
  // The same for `count` rows at once (x: count × dim floats; y: count × head_dim doubles;
  // tails: count bounds), reading the basis once per batch.
  void ProjectRows(const float* x, size_t count, double* y, double* tails,
                   SimdLevel level = DetectSimdLevel()) const;

 private:
  Basis(int dim, int head_dim, std::vector<double> rows);
  int dim_ = 0;
  int head_dim_ = 0;
  std::vector<double> rows_;
  double error_ = 0;
};

}  // namespace facetrail::search
