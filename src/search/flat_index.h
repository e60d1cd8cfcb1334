// search: exact 1:N search over unit-norm face templates of any supported dimension.
//
// WHAT THIS OBJECT REPRESENTS
//   A FlatIndex holds n templates (dim() floats each, unit L2 norm) with a 64-bit id and an
//   active flag per template, and answers "the k active templates most similar to this probe"
//   exactly: the ranked list equals that of a float32 brute-force loop over every active template
//   (score = ExactScore(), ties broken by ascending id). It is never approximate.
//
//   How (docs/SNAPSHOT.md, "Why the first pass never loses a candidate"): each template is kept
//   as the int8 code of its head coordinates in a basis (search/basis.h: the identity, or the
//   ~190 principal directions real 512-d face templates use), split into two 4-bit planes. The
//   first pass reads only the high-nibble plane (head_dim/2 bytes a template) and a scale and
//   error norm per row, with AVX-512 VNNI when the CPU has it, split across threads; each row's
//   score is bounded by a proven per-row error bound (quantisation plus what the head leaves
//   out). A row whose upper bound reaches the running floor is refined at once with its
//   low-nibble plane (the full int8 code, a bound ~16× tighter); the floor is the k-th best
//   refined lower bound, so it sits just under the k-th best exact score. The rows whose refined
//   upper bound reaches the final floor are re-scored in float32.
//
//   Templates come either from Build() (copied and quantised in RAM) or from a memory-mapped
//   snapshot (search/snapshot.h), where every search reads head_dim/2 + 9 bytes a template,
//   refines a small fraction of rows from the low plane, and reads the float32 rows only for
//   the short list.
//
// THREAD SAFETY
//   Search() is const and may run concurrently from many threads. SetActive() must not run
//   concurrently with Search() (the owner serialises them, e.g. with a shared_mutex).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace facetrail::search {

// Supported template dimensions: multiples of kDimMultiple in [kMinDim, kMaxDim]. A row's two
// nibble planes are dim/2 bytes each (byte b holds coordinates b and b + dim/2), so a multiple
// of 16 keeps every plane row 8-byte aligned; 4096 keeps every integer dot product far inside
// int32 (docs/SNAPSHOT.md) and bounds what a hostile snapshot header can ask for.
inline constexpr int kMinDim = 16;
inline constexpr int kMaxDim = 4096;
inline constexpr int kDimMultiple = 16;
// Largest accepted deviation of a template's L2 norm from 1.
inline constexpr float kUnitNormTolerance = 1e-3f;

// OK when `dim` is supported; kInvalidArgument naming the rule otherwise.
Status ValidateDim(int dim);

enum class SimdLevel {
  kScalar,      // portable C++ reference kernels (search/internal/dot_scalar.cpp)
  kAvx512Vnni,  // AVX-512 F/BW/VL + VNNI (search/internal/dot_avx512.cpp)
};
std::string_view SimdLevelName(SimdLevel level);
// The fastest level this CPU supports.
SimdLevel DetectSimdLevel();
// Levels this CPU can run (always includes kScalar); tests run all of them.
std::vector<SimdLevel> SupportedSimdLevels();

struct FlatIndexOptions {
  int num_threads = 0;  // threads per search; 0 = std::thread::hardware_concurrency()
  // Level of the kernels; a level the CPU lacks is refused by Build()/Open().
  SimdLevel simd = DetectSimdLevel();
  // A search uses at most size() / min_rows_per_thread threads (starting one costs ~50 µs).
  size_t min_rows_per_thread = 32768;
};

struct SearchOptions {
  int k = 20;  // at most k hits; k = 0 gives an empty list
  // Only hits with score >= min_score are returned (score exactly at the threshold is kept).
  float min_score = -std::numeric_limits<float>::infinity();
};

struct Hit {
  int64_t id = 0;
  float score = 0;  // ExactScore(probe, template, dim)
  friend bool operator==(const Hit&, const Hit&) = default;
};

// The exact score of two rows of `dim` floats: the dot product accumulated in double and rounded
// once to float. It is the definition the ranked list is exact with respect to (a plain float
// loop differs by ~1e-7).
float ExactScore(const float* a, const float* b, int dim);

// Checks a template: `dim` (supported, see ValidateDim) finite values with L2 norm within
// kUnitNormTolerance of 1. kInvalidArgument names the offending position ("value 17 is NaN").
Status ValidateTemplate(std::span<const float> templ, int dim);

class Basis;
namespace internal {
struct IndexData;
}

class FlatIndex {
 public:
  // Builds an index over n = ids.size() templates of `dim` floats.
  //   dim       a supported dimension (ValidateDim)
  //   ids       n strictly increasing ids
  //   templates n × dim floats, row-major; each row must pass ValidateTemplate() (a NaN row
  //             would silently vanish from every result list, so it is refused)
  //   active    n flags (non-zero = searchable) or empty for all active
  // kInvalidArgument names the first bad row (or the bad dim); nothing is built then.
  // The passes run in the identity basis.
  static Expected<std::unique_ptr<FlatIndex>> Build(int dim, std::span<const int64_t> ids,
                                                    std::span<const float> templates,
                                                    std::span<const uint8_t> active,
                                                    const FlatIndexOptions& options = {});
  // The same in `basis` (dim = basis.dim()), e.g. one fitted to a sample (Basis::Fit).
  static Expected<std::unique_ptr<FlatIndex>> Build(const Basis& basis,
                                                    std::span<const int64_t> ids,
                                                    std::span<const float> templates,
                                                    std::span<const uint8_t> active,
                                                    const FlatIndexOptions& options = {});
  // Used by search/snapshot.cpp; data must satisfy the IndexData invariants.
  static Expected<std::unique_ptr<FlatIndex>> FromData(std::unique_ptr<internal::IndexData> data,
                                                       const FlatIndexOptions& options);
  ~FlatIndex();
  FlatIndex(const FlatIndex&) = delete;
  FlatIndex& operator=(const FlatIndex&) = delete;

  // The best min(k, #matching) active templates for `probe` (dim() floats, validated like a
  // template), sorted by score descending then id ascending.
  // kInvalidArgument for a bad probe (wrong size included) or k < 0; kDataLoss when a float32
  // row or a block of refinement data read from a snapshot fails its checksum (the snapshot
  // must be rebuilt). On error no hits are returned.
  Expected<std::vector<Hit>> Search(std::span<const float> probe,
                                    const SearchOptions& options) const;

  // Marks template `id` searchable or not (seal/unseal/expunge). kNotFound if absent.
  Status SetActive(int64_t id, bool active);
  // Row of `id`, or -1.
  int64_t RowOf(int64_t id) const;

  int dim() const;
  // Coordinates per template the passes read (the basis's head; dim() for the identity).
  int head_dim() const;
  const Basis& basis() const;
  size_t size() const;
  size_t num_active() const;
  SimdLevel simd_level() const { return options_.simd; }
  // Bytes the first pass reads per template at every search: the high-nibble plane
  // (head_dim/2), scale (4), first-pass error norm (4) and active flag (1).
  size_t first_pass_bytes_per_template() const;
  // Bytes per template a search may touch besides the float32 rows (kept in RAM or the page
  // cache): the first-pass data plus id (8), low-nibble plane (head_dim/2), int8 error norm (4)
  // and row checksum (4).
  size_t resident_bytes_per_template() const;
  // Largest per-row error norms over the gallery: of the first pass (high nibbles) and of the
  // full int8 code (docs/SNAPSHOT.md). 0 for an empty index.
  float max_first_pass_error() const;
  float max_quantization_error() const;

  // Test-only, about the last Search() on this thread: the rows refined with the low-nibble
  // plane, and the short list re-scored in float32.
  static size_t TEST_last_num_refined();     // NOLINT(readability-identifier-naming): TEST_ hook
  static size_t TEST_last_num_candidates();  // NOLINT(readability-identifier-naming): TEST_ hook

 private:
  FlatIndex(std::unique_ptr<internal::IndexData> data, const FlatIndexOptions& options);
  std::unique_ptr<internal::IndexData> data_;
  FlatIndexOptions options_;
  size_t num_active_ = 0;
};

}  // namespace facetrail::search
