#include "search/flat_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <string>
#include <thread>

#include "search/basis.h"
#include "search/internal/crc32c.h"
#include "search/internal/dot_kernels.h"
#include "search/internal/index_data.h"
#include "search/internal/quantize.h"

namespace facetrail::search {

using internal::IndexData;

namespace {

// Rows per first-pass kernel call: the per-block arrays stay on the stack and in L1/L2.
constexpr size_t kBlockRows = 2048;
// Blocks a thread takes at a time (64k rows: 3.4 MB of first-pass data at 512-d, 105 B a row).
constexpr size_t kChunkBlocks = 32;
thread_local size_t t_last_num_refined = 0;
thread_local size_t t_last_num_candidates = 0;

struct Candidate {
  float upper;  // refined upper bound of the exact score
  size_t row;
};

// The probe's int8 code and the per-query terms of both passes' bounds.
struct Query {
  std::vector<int8_t> code;
  internal::ProbeCode probe;
  internal::BoundTerms bound;
};

// The largest of the floors the threads have proven so far (each is <= the k-th best exact
// score, so their maximum is too).
class SharedFloor {
 public:
  explicit SharedFloor(float initial) : value_(initial) {}
  float Get() const { return value_.load(std::memory_order_relaxed); }
  void Raise(float v) {
    float cur = value_.load(std::memory_order_relaxed);
    while (v > cur && !value_.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
    }
  }

 private:
  std::atomic<float> value_;
};

// One thread's state: the k best refined lower bounds seen (their minimum, once there are k,
// is a floor under the k-th best exact score), and every refined row whose upper bound reached
// the floor of its time.
class Collector {
 public:
  Collector(size_t k, float min_floor) : k_(k), floor_(min_floor) { lowers_.reserve(k); }
  float floor() const { return floor_; }
  void Refined(float lower, float upper, size_t row) {
    ++num_refined_;
    if (upper < floor_) return;
    candidates_.push_back({upper, row});
    if (lowers_.size() < k_) {
      lowers_.push_back(lower);
      std::push_heap(lowers_.begin(), lowers_.end(), std::greater<>());
    } else if (lower > lowers_.front()) {
      std::pop_heap(lowers_.begin(), lowers_.end(), std::greater<>());
      lowers_.back() = lower;
      std::push_heap(lowers_.begin(), lowers_.end(), std::greater<>());
    }
    if (lowers_.size() == k_) floor_ = std::max(floor_, lowers_.front());
    if (candidates_.size() >= next_prune_) Prune();
  }
  void RaiseFloor(float f) { floor_ = std::max(floor_, f); }
  void Prune() {
    std::erase_if(candidates_, [&](const Candidate& c) { return c.upper < floor_; });
    next_prune_ = std::max<size_t>(2 * candidates_.size(), 4 * k_ + 1024);
  }
  const std::vector<float>& lowers() const { return lowers_; }
  const std::vector<Candidate>& candidates() const { return candidates_; }
  size_t num_refined() const { return num_refined_; }

 private:
  size_t k_;
  float floor_;
  std::vector<float> lowers_;  // min-heap
  std::vector<Candidate> candidates_;
  size_t next_prune_ = 4 * k_ + 1024;
  size_t num_refined_ = 0;
};

// Both passes over rows [begin, end), block by block: the first pass keeps the rows whose upper
// bound reaches the floor; those (when active) are refined at once from the low-nibble plane,
// whose checksum blocks (and the int8 errors') are verified first when they come from a
// snapshot. A failed block is stored in `failure` and ends every thread's scan.
void ScanRange(const IndexData& d, const internal::Kernels& kernels, const Query& q, size_t begin,
               size_t end, SharedFloor& shared, Collector& collector,
               std::atomic<const internal::LazyChecksums*>& failure) {
  const size_t rb = static_cast<size_t>(d.head_dim) / 2;
  internal::FirstPassParams params;
  params.probe = q.code.data();
  params.row_bytes = rb;
  params.offset = 241 * q.probe.sum;
  params.half_scale = q.probe.scale * 0.5f;
  params.alpha = q.bound.alpha;
  params.beta = q.bound.beta;
  uint32_t rows[kBlockRows];
  int32_t hi_dots[kBlockRows];
  int32_t lo_dots[kBlockRows];
  for (size_t b = begin; b < end; b += kBlockRows) {
    if (failure.load(std::memory_order_relaxed) != nullptr) return;
    const size_t n = std::min(kBlockRows, end - b);
    collector.RaiseFloor(shared.Get());
    size_t m = kernels.first_pass(d.codes_hi + b * rb, d.scales + b, d.err1 + b, n, params,
                                  collector.floor(), rows, hi_dots);
    size_t kept = 0;
    for (size_t i = 0; i < m; ++i) {
      const size_t row = b + rows[i];
      if (d.active[row] == 0) continue;
      const internal::LazyChecksums* bad =
          d.lo_check && !d.lo_check->Verify(row * rb, rb)     ? d.lo_check.get()
          : d.err2_check && !d.err2_check->Verify(row * 4, 4) ? d.err2_check.get()
                                                              : nullptr;
      if (bad != nullptr) {
        failure.store(bad, std::memory_order_relaxed);
        return;
      }
      rows[kept] = rows[i];
      hi_dots[kept] = hi_dots[i];
      ++kept;
    }
    m = kept;
    kernels.gather_dot(d.codes_lo + b * rb, rb, rows, m, q.code.data(), lo_dots);
    for (size_t i = 0; i < m; ++i) {
      const size_t row = b + rows[i];
      const float approx = internal::RefinedApprox(d.scales[row], q.probe, hi_dots[i], lo_dots[i]);
      const float bound = d.err2[row] * q.bound.alpha + q.bound.beta;
      collector.Refined(approx - bound, approx + bound, row);
    }
    shared.Raise(collector.floor());
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
Kernels KernelsFor(SimdLevel level) {
  if (level == SimdLevel::kAvx512Vnni) return {&FirstPassAvx512Vnni, &GatherDotAvx512Vnni};
  return {&FirstPassScalar, &GatherDotScalar};
}
ProjectFn ProjectKernel(SimdLevel level) {
  return level == SimdLevel::kAvx512Vnni ? &ProjectAvx512 : &ProjectScalar;
}
}  // namespace internal

Status ValidateDim(int dim) {
  if (dim < kMinDim || dim > kMaxDim || dim % kDimMultiple != 0) {
    return InvalidArgument("template dimension " + std::to_string(dim) +
                           " is not supported (a multiple of " + std::to_string(kDimMultiple) +
                           " from " + std::to_string(kMinDim) + " to " + std::to_string(kMaxDim) +
                           ")");
  }
  return Status::Ok();
}

float ExactScore(const float* a, const float* b, int dim) {
  double sum = 0;
  for (int i = 0; i < dim; ++i) sum += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return static_cast<float>(sum);
}

Status ValidateTemplate(std::span<const float> templ, int dim) {
  FT_RETURN_IF_ERROR(ValidateDim(dim));
  if (templ.size() != static_cast<size_t>(dim)) {
    return InvalidArgument("template has " + std::to_string(templ.size()) + " values, expected " +
                           std::to_string(dim));
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
  std::vector<float> err1;
  std::vector<float> err2;
  std::vector<uint8_t> codes_hi;
  std::vector<uint8_t> codes_lo;
  std::vector<float> floats;
};
}  // namespace

Expected<std::unique_ptr<FlatIndex>> FlatIndex::Build(int dim, std::span<const int64_t> ids,
                                                      std::span<const float> templates,
                                                      std::span<const uint8_t> active,
                                                      const FlatIndexOptions& options) {
  FT_RETURN_IF_ERROR(ValidateDim(dim).WithContext("FlatIndex::Build"));
  return Build(Basis::Identity(dim), ids, templates, active, options);
}

Expected<std::unique_ptr<FlatIndex>> FlatIndex::Build(const Basis& basis,
                                                      std::span<const int64_t> ids,
                                                      std::span<const float> templates,
                                                      std::span<const uint8_t> active,
                                                      const FlatIndexOptions& options) {
  const int dim = basis.dim();
  const size_t n = ids.size();
  const auto d = static_cast<size_t>(dim);
  if (templates.size() != n * d) {
    return InvalidArgument("FlatIndex::Build: " + std::to_string(n) + " ids but " +
                           std::to_string(templates.size()) + " floats (expected n × " +
                           std::to_string(dim) + ")");
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
    Status s = ValidateTemplate(templates.subspan(r * d, d), dim);
    if (!s.ok()) {
      return s.WithContext("FlatIndex::Build: row " + std::to_string(r) + " (id " +
                           std::to_string(ids[r]) + ")");
    }
  }
  auto arrays = std::make_shared<OwnedArrays>();
  arrays->ids.assign(ids.begin(), ids.end());
  arrays->floats.assign(templates.begin(), templates.end());
  arrays->scales.resize(n);
  arrays->err1.resize(n);
  arrays->err2.resize(n);
  const auto half = static_cast<size_t>(basis.head_dim()) / 2;
  arrays->codes_hi.resize(n * half);
  arrays->codes_lo.resize(n * half);
  auto data = std::make_unique<IndexData>();
  // (A level this CPU lacks is refused by FromData below; encode with what it has.)
  const SimdLevel level = DetectSimdLevel() == options.simd ? options.simd : SimdLevel::kScalar;
  for (size_t r = 0; r < n; ++r) {
    const internal::TemplateCode c = internal::EncodeTemplate(
        basis, &templates[r * d], &arrays->codes_hi[r * half], &arrays->codes_lo[r * half], level);
    arrays->scales[r] = c.scale;
    arrays->err1[r] = c.err1;
    arrays->err2[r] = c.err2;
    data->max_err1 = std::max(data->max_err1, c.err1);
    data->max_err2 = std::max(data->max_err2, c.err2);
  }
  data->dim = dim;
  data->head_dim = basis.head_dim();
  data->basis = std::make_shared<const Basis>(basis);
  data->n = n;
  data->ids = arrays->ids.data();
  data->scales = arrays->scales.data();
  data->err1 = arrays->err1.data();
  data->err2 = arrays->err2.data();
  data->codes_hi = arrays->codes_hi.data();
  data->codes_lo = arrays->codes_lo.data();
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
  if (!ValidateDim(data->dim).ok() || data->basis == nullptr || data->basis->dim() != data->dim ||
      data->basis->head_dim() != data->head_dim) {
    return Internal("FlatIndex: dimension " + std::to_string(data->dim) + " / head " +
                    std::to_string(data->head_dim) + " does not match its basis");
  }
  if (data->active.size() != data->n) return Internal("FlatIndex: active flags size mismatch");
  return std::unique_ptr<FlatIndex>(new FlatIndex(std::move(data), options));
}

int FlatIndex::dim() const {
  return data_->dim;
}
int FlatIndex::head_dim() const {
  return data_->head_dim;
}
const Basis& FlatIndex::basis() const {
  return *data_->basis;
}
size_t FlatIndex::first_pass_bytes_per_template() const {
  return static_cast<size_t>(data_->head_dim) / 2 + 9;
}
size_t FlatIndex::resident_bytes_per_template() const {
  return static_cast<size_t>(data_->head_dim) + 25;
}
size_t FlatIndex::size() const {
  return data_->n;
}
size_t FlatIndex::num_active() const {
  return num_active_;
}
float FlatIndex::max_first_pass_error() const {
  return data_->max_err1;
}
float FlatIndex::max_quantization_error() const {
  return data_->max_err2;
}
size_t FlatIndex::TEST_last_num_refined() {
  return t_last_num_refined;
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
  t_last_num_refined = 0;
  t_last_num_candidates = 0;
  const IndexData& d = *data_;
  Status valid = ValidateTemplate(probe, d.dim);
  if (!valid.ok()) return valid.WithContext("search probe");
  if (options.k < 0)
    return InvalidArgument("search: k must be >= 0, got " + std::to_string(options.k));
  if (std::isnan(options.min_score)) return InvalidArgument("search: min_score is NaN");
  if (options.k == 0 || d.n == 0) return std::vector<Hit>{};

  Query q;
  q.code.resize(static_cast<size_t>(d.head_dim));
  q.probe = internal::EncodeProbe(*d.basis, probe.data(), q.code.data(), options_.simd);
  q.bound = internal::BoundTermsFor(q.probe, d.basis->orthonormality_error());
  const size_t k = std::min(static_cast<size_t>(options.k), d.n);

  const size_t threads = std::clamp<size_t>(d.n / std::max<size_t>(1, options_.min_rows_per_thread),
                                            1, static_cast<size_t>(options_.num_threads));
  // A row scoring >= min_score has an upper bound >= min_score: that is the first floor.
  SharedFloor shared(options.min_score);
  std::vector<Collector> collectors;
  collectors.reserve(threads);
  for (size_t t = 0; t < threads; ++t) collectors.emplace_back(k, options.min_score);
  const internal::Kernels kernels = internal::KernelsFor(options_.simd);
  std::atomic<const internal::LazyChecksums*> failure{nullptr};
  // Threads take chunks of rows as they go rather than a fixed share each: when another job
  // holds a CPU, the threads still running finish the scan instead of waiting for it.
  // (Small indexes get small chunks, so that every thread takes some.)
  const size_t chunk_rows = std::clamp<size_t>(d.n / (8 * threads), 256, kBlockRows * kChunkBlocks);
  std::atomic<size_t> next_chunk{0};
  auto run = [&](size_t t) {
    for (;;) {
      const size_t begin = next_chunk.fetch_add(chunk_rows, std::memory_order_relaxed);
      if (begin >= d.n) break;
      ScanRange(d, kernels, q, begin, std::min(d.n, begin + chunk_rows), shared, collectors[t],
                failure);
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (auto& th : pool) th.join();
  if (const internal::LazyChecksums* bad = failure.load()) {
    return DataLoss("snapshot " + bad->name() + " section: block " +
                    std::to_string(bad->bad_block()) + " fails its checksum; rebuild the snapshot");
  }

  // The final floor: the k-th best refined lower bound over every thread's best k.
  std::vector<float> lowers;
  for (const Collector& c : collectors) {
    lowers.insert(lowers.end(), c.lowers().begin(), c.lowers().end());
    t_last_num_refined += c.num_refined();
  }
  float floor = std::max(options.min_score, shared.Get());
  if (lowers.size() >= k) {
    std::nth_element(lowers.begin(), lowers.begin() + static_cast<ptrdiff_t>(k - 1), lowers.end(),
                     std::greater<>());
    floor = std::max(floor, lowers[k - 1]);
  }
  const auto dim = static_cast<size_t>(d.dim);
  std::vector<Hit> hits;
  for (const Collector& c : collectors) {
    for (const Candidate& cand : c.candidates()) {
      if (cand.upper < floor) continue;
      const float* row = d.floats + cand.row * dim;
      if (d.row_crcs && internal::Crc32c(row, dim * sizeof(float)) != d.row_crcs[cand.row]) {
        return DataLoss("snapshot row " + std::to_string(cand.row) + " (template " +
                        std::to_string(d.ids[cand.row]) +
                        "): float32 data fails its checksum; rebuild the snapshot");
      }
      ++t_last_num_candidates;
      float score = ExactScore(probe.data(), row, d.dim);
      if (score >= options.min_score) hits.push_back({d.ids[cand.row], score});
    }
  }
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
