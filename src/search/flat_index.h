// search: exact 1:N search over unit-norm face templates.
//
// WHAT THIS OBJECT REPRESENTS
//   A FlatIndex holds n templates (kDim floats each, unit L2 norm) with a 64-bit id and an
//   active flag per template, and answers "the k active templates most similar to this probe"
//   exactly: the ranked list equals that of a float32 brute-force loop over every active template
//   (score = ExactScore(), ties broken by ascending id). It is never approximate.
//
//   How: a first pass scans a compact int8 copy (one scale per template) with AVX-512 VNNI when
//   the CPU has it, split across threads; it keeps every template whose true score could still
//   reach the k-th best, using a proven bound on the quantisation error (docs/SNAPSHOT.md,
//   "Why the first pass never loses a candidate"); the short list is then re-scored in float32.
//
//   Templates come either from Build() (copied and quantised in RAM) or from a memory-mapped
//   snapshot (search/snapshot.h), where only the int8 pass data (≈145 bytes a template) is read
//   at every search and the float32 rows stay in the page cache, read only for re-scoring.
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

inline constexpr int kDim = 128;
// Largest accepted deviation of a template's L2 norm from 1.
inline constexpr float kUnitNormTolerance = 1e-3f;

enum class SimdLevel {
  kScalar,      // portable C++ reference kernel (search/internal/dot_scalar.cpp)
  kAvx512Vnni,  // AVX-512 F/BW/VL + VNNI (search/internal/dot_avx512.cpp)
};
std::string_view SimdLevelName(SimdLevel level);
// The fastest level this CPU supports.
SimdLevel DetectSimdLevel();
// Levels this CPU can run (always includes kScalar); tests run all of them.
std::vector<SimdLevel> SupportedSimdLevels();

struct FlatIndexOptions {
  int num_threads = 0;  // threads per search; 0 = std::thread::hardware_concurrency()
  // Level of the first-pass kernel; a level the CPU lacks is refused by Build()/Open().
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
  float score = 0;  // ExactScore(probe, template)
  friend bool operator==(const Hit&, const Hit&) = default;
};

// The exact score: the dot product accumulated in double and rounded once to float. It is the
// definition the ranked list is exact with respect to (a plain float loop differs by ~1e-7).
float ExactScore(const float* a, const float* b);

// Checks a template: kDim finite values with L2 norm within kUnitNormTolerance of 1.
// kInvalidArgument names the offending position ("value 17 is NaN").
Status ValidateTemplate(std::span<const float> templ);

namespace internal {
struct IndexData;
}

class FlatIndex {
 public:
  // Builds an index over n = ids.size() templates.
  //   ids       n strictly increasing ids
  //   templates n × kDim floats, row-major; each row must pass ValidateTemplate() (a NaN row
  //             would silently vanish from every result list, so it is refused)
  //   active    n flags (non-zero = searchable) or empty for all active
  // kInvalidArgument names the first bad row; nothing is built then.
  static Expected<std::unique_ptr<FlatIndex>> Build(std::span<const int64_t> ids,
                                                    std::span<const float> templates,
                                                    std::span<const uint8_t> active,
                                                    const FlatIndexOptions& options = {});
  // Used by search/snapshot.cpp; data must satisfy the IndexData invariants.
  static Expected<std::unique_ptr<FlatIndex>> FromData(std::unique_ptr<internal::IndexData> data,
                                                       const FlatIndexOptions& options);
  ~FlatIndex();
  FlatIndex(const FlatIndex&) = delete;
  FlatIndex& operator=(const FlatIndex&) = delete;

  // The best min(k, #matching) active templates for `probe` (kDim floats, validated like a
  // template), sorted by score descending then id ascending.
  // kInvalidArgument for a bad probe or k < 0; kDataLoss when a float32 row read from a
  // snapshot fails its checksum (the snapshot must be rebuilt). On error no hits are returned.
  Expected<std::vector<Hit>> Search(std::span<const float> probe,
                                    const SearchOptions& options) const;

  // Marks template `id` searchable or not (seal/unseal/expunge). kNotFound if absent.
  Status SetActive(int64_t id, bool active);
  // Row of `id`, or -1.
  int64_t RowOf(int64_t id) const;

  size_t size() const;
  size_t num_active() const;
  SimdLevel simd_level() const { return options_.simd; }
  // Bytes read at every search (ids, flags, scales, row checksums, int8 codes) per template.
  static constexpr size_t kHotBytesPerTemplate = 8 + 1 + 4 + 4 + kDim;
  // Largest ||t - dequantised(t)|| over the gallery (the gallery side of the error bound).
  float max_quantization_error() const;

  // Test-only: the first pass's short list size of the last Search() on this thread.
  static size_t TEST_last_num_candidates();  // NOLINT(readability-identifier-naming): TEST_ hook

 private:
  FlatIndex(std::unique_ptr<internal::IndexData> data, const FlatIndexOptions& options);
  std::unique_ptr<internal::IndexData> data_;
  FlatIndexOptions options_;
  size_t num_active_ = 0;
};

}  // namespace facetrail::search
