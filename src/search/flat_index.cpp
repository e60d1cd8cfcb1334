#include "search/flat_index.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>

#include "search/internal/crc32c.h"
#include "search/internal/dot_kernels.h"
#include "search/internal/index_data.h"
#include "search/internal/quantize.h"

namespace facetrail::search {

using internal::IndexData;

namespace {

// Rows per kernel call: the int32 output stays in L1.
constexpr size_t kBlockRows = 2048;
// Covers float rounding in the first-pass score (two float products of values <= 1, relative
// error 2^-23 each), the final rounding of exact scores to float (half an ulp <= 2^-24 near 1),
// with a wide margin. See docs/SNAPSHOT.md.
constexpr float kRoundingSlack = 1e-5f;

thread_local size_t t_last_num_candidates = 0;

struct Candidate {
  float approx;
  size_t row;
};

// What one thread's first pass keeps: every active row whose first-pass score is >= floor(),
// where floor() only rises; the top-k first-pass scores seen so far decide it.
class FirstPassCollector {
 public:
  FirstPassCollector(size_t k, float window, float min_approx)
      : k_(k), window_(window), min_approx_(min_approx) {
    top_.reserve(k);
  }
  float floor() const { return floor_; }
  void Add(float approx, size_t row) {
    candidates_.push_back({approx, row});
    if (top_.size() < k_) {
      top_.push_back(approx);
      std::push_heap(top_.begin(), top_.end(), std::greater<>());
    } else if (approx > top_.front()) {
      std::pop_heap(top_.begin(), top_.end(), std::greater<>());
      top_.back() = approx;
      std::push_heap(top_.begin(), top_.end(), std::greater<>());
    }
    if (top_.size() == k_) floor_ = std::max(min_approx_, top_.front() - window_);
    if (candidates_.size() >= next_prune_) Prune();
  }
  std::vector<float>& top() { return top_; }
  std::vector<Candidate>& candidates() { return candidates_; }
  void Prune() {
    std::erase_if(candidates_, [&](const Candidate& c) { return c.approx < floor_; });
    next_prune_ = std::max<size_t>(2 * candidates_.size(), 4 * k_ + 1024);
  }

 private:
  size_t k_;
  float window_;
  float min_approx_;
  float floor_ = min_approx_;
  std::vector<float> top_;  // min-heap of the best k first-pass scores
  std::vector<Candidate> candidates_;
  size_t next_prune_ = 4 * k_ + 1024;
};

void ScanRange(const IndexData& d, internal::DotU8S8Fn kernel, const int8_t* probe_code,
               float probe_scale, int32_t probe_code_sum, size_t begin, size_t end,
               FirstPassCollector& collector) {
  int32_t dots[kBlockRows];
  float approx[kBlockRows];
  for (size_t b = begin; b < end; b += kBlockRows) {
    const size_t n = std::min(kBlockRows, end - b);
    kernel(d.codes + b * kDim, n, probe_code, dots);
    // codes are stored +128, so dot = sum((c + 128) * p) = sum(c * p) + 128 * sum(p).
    const int32_t offset = 128 * probe_code_sum;
    const float* scales = d.scales + b;
    for (size_t j = 0; j < n; ++j) {
      approx[j] = scales[j] * probe_scale * static_cast<float>(dots[j] - offset);
    }
    float floor = collector.floor();
    for (size_t j = 0; j < n; ++j) {
      if (approx[j] >= floor && d.active[b + j]) {
        collector.Add(approx[j], b + j);
        floor = collector.floor();
      }
    }
  }
}

}  // namespace

std::string_view SimdLevelName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar: return "scalar";
    case SimdLevel::kAvx512Vnni: return "avx512_vnni";
  }
  return "unknown";
}

SimdLevel DetectSimdLevel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")) {
    return SimdLevel::kAvx512Vnni;
  }
  return SimdLevel::kScalar;
}

std::vector<SimdLevel> SupportedSimdLevels() {
  std::vector<SimdLevel> levels{SimdLevel::kScalar};
  if (DetectSimdLevel() == SimdLevel::kAvx512Vnni) levels.push_back(SimdLevel::kAvx512Vnni);
  return levels;
}

namespace internal {
DotU8S8Fn DotKernel(SimdLevel level) {
  return level == SimdLevel::kAvx512Vnni ? &DotU8S8Avx512Vnni : &DotU8S8Scalar;
}
}  // namespace internal

float ExactScore(const float* a, const float* b) {
  double sum = 0;
  for (int i = 0; i < kDim; ++i) sum += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return static_cast<float>(sum);
}

Status ValidateTemplate(std::span<const float> templ) {
  if (templ.size() != static_cast<size_t>(kDim)) {
    return InvalidArgument("template has " + std::to_string(templ.size()) + " values, expected " +
                           std::to_string(kDim));
  }
  double sum = 0;
  for (size_t i = 0; i < templ.size(); ++i) {
    if (!std::isfinite(templ[i])) {
      return InvalidArgument("template value " + std::to_string(i) + " is not finite (" +
                             std::to_string(templ[i]) + ")");
    }
    sum += static_cast<double>(templ[i]) * templ[i];
  }
  double norm = std::sqrt(sum);
  if (std::fabs(norm - 1.0) > kUnitNormTolerance) {
    return InvalidArgument("template is not unit-norm (L2 norm " + std::to_string(norm) + ")");
  }
  return Status::Ok();
}

FlatIndex::FlatIndex(std::unique_ptr<IndexData> data, const FlatIndexOptions& options)
    : data_(std::move(data)), options_(options) {
  if (options_.num_threads <= 0) {
    options_.num_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }
  num_active_ = static_cast<size_t>(
      std::count_if(data_->active.begin(), data_->active.end(), [](uint8_t a) { return a != 0; }));
}

FlatIndex::~FlatIndex() = default;

namespace {
struct OwnedArrays {
  std::vector<int64_t> ids;
  std::vector<float> scales;
  std::vector<uint8_t> codes;
  std::vector<float> floats;
};
}  // namespace

Expected<std::unique_ptr<FlatIndex>> FlatIndex::Build(std::span<const int64_t> ids,
                                                      std::span<const float> templates,
                                                      std::span<const uint8_t> active,
                                                      const FlatIndexOptions& options) {
  const size_t n = ids.size();
  if (templates.size() != n * kDim) {
    return InvalidArgument("FlatIndex::Build: " + std::to_string(n) + " ids but " +
                           std::to_string(templates.size()) + " floats (expected n × " +
                           std::to_string(kDim) + ")");
  }
  if (!active.empty() && active.size() != n) {
    return InvalidArgument("FlatIndex::Build: " + std::to_string(active.size()) +
                           " active flags for " + std::to_string(n) + " templates");
  }
  for (size_t r = 0; r < n; ++r) {
    if (r > 0 && ids[r] <= ids[r - 1]) {
      return InvalidArgument("FlatIndex::Build: ids must be strictly increasing (row " +
                             std::to_string(r) + ", id " + std::to_string(ids[r]) + ")");
    }
    Status s = ValidateTemplate(templates.subspan(r * kDim, kDim));
    if (!s.ok()) {
      return s.WithContext("FlatIndex::Build: row " + std::to_string(r) + " (id " +
                           std::to_string(ids[r]) + ")");
    }
  }
  auto arrays = std::make_shared<OwnedArrays>();
  arrays->ids.assign(ids.begin(), ids.end());
  arrays->floats.assign(templates.begin(), templates.end());
  arrays->scales.resize(n);
  arrays->codes.resize(n * kDim);
  auto data = std::make_unique<IndexData>();
  for (size_t r = 0; r < n; ++r) {
    float err = internal::QuantizeTemplate(&templates[r * kDim], &arrays->codes[r * kDim],
                                           &arrays->scales[r]);
    data->max_error = std::max(data->max_error, err);
  }
  data->n = n;
  data->ids = arrays->ids.data();
  data->scales = arrays->scales.data();
  data->codes = arrays->codes.data();
  data->floats = arrays->floats.data();
  data->active.assign(n, 1);
  if (!active.empty()) {
    for (size_t r = 0; r < n; ++r) data->active[r] = active[r] ? 1 : 0;
  }
  data->keepalive = std::move(arrays);
  return FromData(std::move(data), options);
}

Expected<std::unique_ptr<FlatIndex>> FlatIndex::FromData(std::unique_ptr<IndexData> data,
                                                         const FlatIndexOptions& options) {
  if (options.simd != SimdLevel::kScalar && DetectSimdLevel() != options.simd) {
    return FailedPrecondition("this CPU cannot run the " +
                              std::string(SimdLevelName(options.simd)) + " kernel");
  }
  if (data->active.size() != data->n) return Internal("FlatIndex: active flags size mismatch");
  return std::unique_ptr<FlatIndex>(new FlatIndex(std::move(data), options));
}

size_t FlatIndex::size() const {
  return data_->n;
}
size_t FlatIndex::num_active() const {
  return num_active_;
}
float FlatIndex::max_quantization_error() const {
  return data_->max_error;
}
size_t FlatIndex::TEST_last_num_candidates() {
  return t_last_num_candidates;
}

int64_t FlatIndex::RowOf(int64_t id) const {
  const int64_t* end = data_->ids + data_->n;
  const int64_t* it = std::lower_bound(data_->ids, end, id);
  return (it != end && *it == id) ? it - data_->ids : -1;
}

Status FlatIndex::SetActive(int64_t id, bool active) {
  int64_t row = RowOf(id);
  if (row < 0) return NotFound("template " + std::to_string(id) + " is not in the index");
  uint8_t& flag = data_->active[static_cast<size_t>(row)];
  if ((flag != 0) != active) {
    num_active_ += active ? 1 : static_cast<size_t>(-1);
    flag = active ? 1 : 0;
  }
  return Status::Ok();
}

Expected<std::vector<Hit>> FlatIndex::Search(std::span<const float> probe,
                                             const SearchOptions& options) const {
  t_last_num_candidates = 0;
  Status valid = ValidateTemplate(probe);
  if (!valid.ok()) return valid.WithContext("search probe");
  if (options.k < 0)
    return InvalidArgument("search: k must be >= 0, got " + std::to_string(options.k));
  if (std::isnan(options.min_score)) return InvalidArgument("search: min_score is NaN");
  const IndexData& d = *data_;
  if (options.k == 0 || d.n == 0) return std::vector<Hit>{};

  int8_t probe_code[kDim];
  float probe_scale = 0;
  int32_t probe_code_sum = 0;
  const float probe_error =
      internal::QuantizeProbe(probe.data(), probe_code, &probe_scale, &probe_code_sum);
  double probe_norm_sq = 0;
  for (float v : probe) probe_norm_sq += static_cast<double>(v) * v;
  // |x·q - x̂·q̂| <= ||x - x̂||·||q|| + ||x̂||·||q - q̂||, with ||x̂|| <= ||x|| + ||x - x̂||.
  const float gallery_norm = 1.0f + kUnitNormTolerance + d.max_error;
  const float bound = d.max_error * static_cast<float>(std::sqrt(probe_norm_sq) * 1.0001) +
                      gallery_norm * probe_error + kRoundingSlack;
  const size_t k = std::min(static_cast<size_t>(options.k), d.n);
  // A row scoring >= min_score exactly has a first-pass score >= min_score - bound.
  const float min_approx = options.min_score - bound;

  const size_t threads = std::clamp<size_t>(d.n / std::max<size_t>(1, options_.min_rows_per_thread),
                                            1, static_cast<size_t>(options_.num_threads));
  std::vector<FirstPassCollector> collectors;
  collectors.reserve(threads);
  for (size_t t = 0; t < threads; ++t) collectors.emplace_back(k, 2 * bound, min_approx);
  const internal::DotU8S8Fn kernel = internal::DotKernel(options_.simd);
  auto run = [&](size_t t) {
    // Chunks aligned to kBlockRows so every thread's kernel calls see whole blocks.
    size_t per = (d.n / threads + kBlockRows - 1) / kBlockRows * kBlockRows;
    size_t begin = std::min(d.n, t * per);
    size_t end = t + 1 == threads ? d.n : std::min(d.n, begin + per);
    ScanRange(d, kernel, probe_code, probe_scale, probe_code_sum, begin, end, collectors[t]);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (auto& th : pool) th.join();

  // Global k-th best first-pass score over every thread's top-k, then the final window.
  std::vector<float> tops;
  for (auto& c : collectors) tops.insert(tops.end(), c.top().begin(), c.top().end());
  float floor = min_approx;
  if (tops.size() >= k) {
    std::nth_element(tops.begin(), tops.begin() + static_cast<ptrdiff_t>(k - 1), tops.end(),
                     std::greater<>());
    floor = std::max(floor, tops[k - 1] - 2 * bound);
  }
  std::vector<Hit> hits;
  for (auto& c : collectors) {
    for (const Candidate& cand : c.candidates()) {
      if (cand.approx < floor) continue;
      const float* row = d.floats + cand.row * kDim;
      if (d.row_crcs && internal::Crc32c(row, kDim * sizeof(float)) != d.row_crcs[cand.row]) {
        return DataLoss("snapshot row " + std::to_string(cand.row) + " (template " +
                        std::to_string(d.ids[cand.row]) +
                        "): float32 data fails its checksum; rebuild the snapshot");
      }
      float score = ExactScore(probe.data(), row);
      if (score >= options.min_score) hits.push_back({d.ids[cand.row], score});
    }
  }
  t_last_num_candidates = hits.size();
  auto better = [](const Hit& a, const Hit& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  };
  if (hits.size() > k) {
    std::partial_sort(hits.begin(), hits.begin() + static_cast<ptrdiff_t>(k), hits.end(), better);
    hits.resize(k);
  } else {
    std::sort(hits.begin(), hits.end(), better);
  }
  return hits;
}

}  // namespace facetrail::search
