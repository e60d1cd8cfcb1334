// facetrail-bench-search: exact 1:N search at county scale on synthetic templates.
//
// WORKLOAD
//   N random unit vectors (128-d; Irwin–Hall approximations of Gaussians, normalised) written to
//   a search snapshot, plus queries that are noisy copies of planted gallery rows ("mates",
//   cosine ≈ 0.8) and pure random queries. Then:
//     open_s        open of the snapshot after evicting it from the page cache (cold)
//     ours_*        FlatIndex::Search latency, top-k, --threads threads (and 1 thread);
//                   *_cpu_ms_*: CPU time of the process per query (all threads), a figure less
//                   distorted than wall time when other jobs share the CPUs
//     faiss_*       FAISS IndexFlatIP on the same vectors, one query per call
//     same_top_k_as_exact  our lists == a float32 brute-force loop's (ExactScore, ties by id)
//     bytes_per_template   bytes a search must keep in RAM per template (int8 pass data);
//                          rss_bytes_per_template measures the process's RSS growth
//   Prints a header to stderr and one JSON object to stdout (--json) or a short table.
//
// Usage: facetrail-bench-search --templates N [--threads T] [--queries Q] [--faiss-queries F]
//          [--exact-queries E] [--k K] [--snapshot PATH] [--keep] [--json]
#include <faiss/IndexFlat.h>
#include <fcntl.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "search/flat_index.h"
#include "search/snapshot.h"

namespace {

using facetrail::search::FlatIndex;
using facetrail::search::Hit;
constexpr int kDim = 128;

constexpr size_t kBlock = 4096;  // rows generated from one seed

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

uint64_t SplitMix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Approximately Gaussian: the sum of four 16-bit uniforms, centred and scaled.
float Gauss(uint64_t& s) {
  uint64_t r = SplitMix(s);
  float sum = 0;
  for (int i = 0; i < 4; ++i, r >>= 16) sum += static_cast<float>(r & 0xFFFF) * (1.0f / 65536.0f);
  return (sum - 2.0f) * 1.7320508f;
}

void Normalize(float* x) {
  double s = 0;
  for (int i = 0; i < kDim; ++i) s += static_cast<double>(x[i]) * x[i];
  const auto inv = static_cast<float>(1.0 / std::sqrt(s));
  for (int i = 0; i < kDim; ++i) x[i] *= inv;
}

// Rows [b*kBlock, ...) of the gallery, identical on every call.
void GenerateBlock(uint64_t seed, size_t b, size_t rows, float* out) {
  uint64_t s = seed ^ (0x632BE59BD9B4E019ull * (b + 1));
  for (size_t r = 0; r < rows; ++r) {
    for (int i = 0; i < kDim; ++i) out[r * kDim + i] = Gauss(s);
    Normalize(out + r * kDim);
  }
}

// CPU seconds used by this process (all threads): less sensitive than wall time to other jobs
// sharing the CPUs, though not to memory-bandwidth contention.
double CpuNow() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

long RssBytes() {
  std::ifstream in("/proc/self/statm");
  long pages_total = 0, pages_rss = 0;
  in >> pages_total >> pages_rss;
  return pages_rss * sysconf(_SC_PAGESIZE);
}

double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double l = 0;
  in >> l;
  return l;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

float FloatDot(const float* a, const float* b) {
  float acc[16] = {};
  for (int i = 0; i < kDim; i += 16) {
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float s = 0;
  for (float v : acc) s += v;
  return s;
}

// A brute-force reference independent of FlatIndex: a float pass with a generous margin
// (1e-4 ≫ float rounding of a 128-term dot product), then ExactScore on the survivors.
class BruteForce {
 public:
  BruteForce(std::vector<float> query, size_t k) : q_(std::move(query)), k_(k) {}
  void Add(int64_t id, const float* row) {
    const float s = FloatDot(q_.data(), row);
    if (s < floor_) return;
    cand_.push_back({id, s, row});
    if (cand_.size() >= 4 * k_ + 4096) Prune();
  }
  // Rows must stay valid until Finish: call it per block.
  void FinishBlock() {
    for (auto& c : cand_) {
      if (!c.exact_done) {
        c.exact = facetrail::search::ExactScore(q_.data(), c.row, kDim);
        c.exact_done = true;
        c.row = nullptr;
      }
    }
  }
  std::vector<Hit> Result() {
    Prune();
    std::vector<Hit> hits;
    for (auto& c : cand_) hits.push_back({c.id, c.exact});
    std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    });
    if (hits.size() > k_) hits.resize(k_);
    return hits;
  }

 private:
  struct Cand {
    int64_t id;
    float fdot;
    const float* row;
    float exact = 0;
    bool exact_done = false;
  };
  void Prune() {
    if (cand_.size() < k_) return;
    std::vector<float> f;
    for (auto& c : cand_) f.push_back(c.fdot);
    std::nth_element(f.begin(), f.begin() + static_cast<ptrdiff_t>(k_ - 1), f.end(),
                     std::greater<>());
    floor_ = f[k_ - 1] - 1e-4f;
    std::erase_if(cand_, [&](const Cand& c) { return c.fdot < floor_; });
  }
  std::vector<float> q_;
  size_t k_;
  float floor_ = -2;
  std::vector<Cand> cand_;
};

struct Args {
  size_t templates = 1'000'000;
  int threads = 2;
  int queries = 50;
  int faiss_queries = -1;
  int exact_queries = -1;
  int k = 20;
  std::string snapshot = "facetrail-bench-search.snapshot";
  bool keep = false;
  bool json = false;
};

bool ParseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (f == "--json")
      a.json = true;
    else if (f == "--keep")
      a.keep = true;
    else if ((f == "--templates") && (v = next()))
      a.templates = std::stoull(v);
    else if ((f == "--threads") && (v = next()))
      a.threads = std::stoi(v);
    else if ((f == "--queries") && (v = next()))
      a.queries = std::stoi(v);
    else if ((f == "--faiss-queries") && (v = next()))
      a.faiss_queries = std::stoi(v);
    else if ((f == "--exact-queries") && (v = next()))
      a.exact_queries = std::stoi(v);
    else if ((f == "--k") && (v = next()))
      a.k = std::stoi(v);
    else if ((f == "--snapshot") && (v = next()))
      a.snapshot = v;
    else {
      std::cerr << "usage: facetrail-bench-search --templates N [--threads T] [--queries Q] "
                   "[--faiss-queries F] [--exact-queries E] [--k K] [--snapshot PATH] [--keep] "
                   "[--json]\n";
      return false;
    }
  }
  const bool big = a.templates >= 5'000'000;
  if (a.faiss_queries < 0) a.faiss_queries = big ? 10 : 30;
  if (a.exact_queries < 0) a.exact_queries = std::min(a.queries, big ? 10 : 20);
  a.exact_queries = std::min(a.exact_queries, a.queries);
  return a.templates > 0 && a.threads > 0 && a.queries > 0 && a.k > 0;
}

std::vector<double> TimeOurs(const FlatIndex& index, const std::vector<std::vector<float>>& qs,
                             int k, std::vector<std::vector<Hit>>* results, size_t* short_list,
                             std::vector<double>* cpu_ms) {
  std::vector<double> ms;
  *short_list = 0;
  for (int w = 0; w < 3; ++w) (void)index.Search(qs[static_cast<size_t>(w) % qs.size()], {k, -2});
  for (const auto& q : qs) {
    const double t = Now();
    const double c = CpuNow();
    auto r = index.Search(q, {k, -2});
    ms.push_back((Now() - t) * 1e3);
    cpu_ms->push_back((CpuNow() - c) * 1e3);
    if (!r.ok()) {
      std::cerr << "search failed: " << r.status().ToString() << '\n';
      std::exit(1);
    }
    *short_list += FlatIndex::TEST_last_num_candidates();
    if (results) results->push_back(std::move(r).value());
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, a)) return 2;
  const uint64_t seed = 20261122;
  const size_t n = a.templates;
  std::cerr << "facetrail-bench-search: " << n << " templates, " << a.threads
            << " threads, k=" << a.k << "\n  cpu: " << CpuModel() << ", "
            << sysconf(_SC_NPROCESSORS_ONLN) << " cpus, kernel "
            << facetrail::search::SimdLevelName(facetrail::search::DetectSimdLevel()) << "\n";
#ifndef NDEBUG
  std::cerr << "  WARNING: built with assertions (not a Release build); figures are not valid\n";
#endif
#ifndef __OPTIMIZE__
  std::cerr << "  WARNING: built without optimisation; figures are not valid\n";
#endif

  // Queries: half noisy copies of planted rows, half random.
  std::vector<std::vector<float>> queries;
  std::vector<int64_t> mates;
  {
    uint64_t s = seed * 7 + 1;
    std::vector<float> block(kBlock * kDim);
    for (int q = 0; q < a.queries; ++q) {
      std::vector<float> v(kDim);
      if (q % 2 == 0) {
        const size_t row = SplitMix(s) % n;
        const size_t b = row / kBlock;
        GenerateBlock(seed, b, std::min(kBlock, n - b * kBlock), block.data());
        for (int i = 0; i < kDim; ++i)
          v[i] = block[(row - b * kBlock) * kDim + i] + 0.06f * Gauss(s);
        mates.push_back(static_cast<int64_t>(row + 1));
      } else {
        for (float& x : v) x = Gauss(s);
        mates.push_back(0);
      }
      Normalize(v.data());
      queries.push_back(std::move(v));
    }
  }

  // 1. Write the snapshot (ids 1..n, all active).
  double t0 = Now();
  {
    facetrail::search::SnapshotInfo info{"bench-random-unit", 1, "bench", 0, n, kDim};
    auto w = facetrail::search::SnapshotWriter::Create(a.snapshot, info);
    if (!w.ok()) {
      std::cerr << w.status().ToString() << '\n';
      return 1;
    }
    std::vector<float> block(kBlock * kDim);
    for (size_t b = 0; b * kBlock < n; ++b) {
      const size_t rows = std::min(kBlock, n - b * kBlock);
      GenerateBlock(seed, b, rows, block.data());
      for (size_t r = 0; r < rows; ++r) {
        auto s = (*w)->Append(static_cast<int64_t>(b * kBlock + r + 1), true,
                              std::span<const float>(&block[r * kDim], kDim));
        if (!s.ok()) {
          std::cerr << s.ToString() << '\n';
          return 1;
        }
      }
    }
    auto s = (*w)->Finish();
    if (!s.ok()) {
      std::cerr << s.ToString() << '\n';
      return 1;
    }
  }
  const double build_s = Now() - t0;
  std::cerr << "  snapshot written in " << build_s << " s\n";

  // 2. Cold open: evict the (clean, fsynced) file from the page cache first.
  {
    int fd = open(a.snapshot.c_str(), O_RDONLY);
    if (fd >= 0) {
      (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      close(fd);
    }
  }
  const long rss_before = RssBytes();
  facetrail::search::SnapshotOpenOptions oo;
  oo.index.num_threads = a.threads;
  oo.num_threads = a.threads;
  t0 = Now();
  auto snap = facetrail::search::OpenSnapshot(a.snapshot, oo);
  const double open_s = Now() - t0;
  if (!snap.ok()) {
    std::cerr << snap.status().ToString() << '\n';
    return 1;
  }
  t0 = Now();
  {
    auto warm = facetrail::search::OpenSnapshot(a.snapshot, oo);
    if (!warm.ok()) return 1;
  }
  const double open_warm_s = Now() - t0;
  std::cerr << "  opened cold in " << open_s << " s, warm in " << open_warm_s << " s\n";

  // 3. Ours.
  std::vector<std::vector<Hit>> ours;
  size_t short_list = 0;
  std::vector<double> cpu_ms, cpu_ms1;
  auto ms = TimeOurs(*snap->index, queries, a.k, &ours, &short_list, &cpu_ms);
  const long rss_after = RssBytes();
  int mates_rank1 = 0, num_mates = 0;
  for (size_t q = 0; q < queries.size(); ++q) {
    if (mates[q] == 0) continue;
    ++num_mates;
    mates_rank1 += !ours[q].empty() && ours[q][0].id == mates[q];
  }
  std::vector<double> ms1;
  if (a.threads != 1) {
    facetrail::search::SnapshotOpenOptions o1 = oo;
    o1.index.num_threads = 1;
    auto snap1 = facetrail::search::OpenSnapshot(a.snapshot, o1);
    if (!snap1.ok()) return 1;
    size_t unused = 0;
    ms1 = TimeOurs(*snap1->index, queries, a.k, nullptr, &unused, &cpu_ms1);
  }
  std::cerr << "  ours p50 " << Percentile(ms, 0.5) << " ms\n";

  // 4. One more pass over the same vectors: FAISS's copy and the brute-force reference.
  faiss::IndexFlatIP faiss_index(kDim);
  std::vector<BruteForce> exact;
  for (int q = 0; q < a.exact_queries; ++q)
    exact.emplace_back(queries[static_cast<size_t>(q)], a.k);
  t0 = Now();
  {
    std::vector<float> block(kBlock * 16 * kDim);
    for (size_t b = 0; b * kBlock < n; b += 16) {
      size_t rows_total = 0;
      for (size_t j = 0; j < 16 && (b + j) * kBlock < n; ++j) {
        const size_t rows = std::min(kBlock, n - (b + j) * kBlock);
        GenerateBlock(seed, b + j, rows, &block[rows_total * kDim]);
        rows_total += rows;
      }
      faiss_index.add(static_cast<faiss::Index::idx_t>(rows_total), block.data());
      for (auto& e : exact) {
        for (size_t r = 0; r < rows_total; ++r) {
          e.Add(static_cast<int64_t>(b * kBlock + r + 1), &block[r * kDim]);
        }
        e.FinishBlock();
      }
    }
  }
  std::cerr << "  reference pass (FAISS add + brute force) " << Now() - t0 << " s\n";
  bool same = true;
  for (int q = 0; q < a.exact_queries; ++q) {
    auto want = exact[static_cast<size_t>(q)].Result();
    if (want != ours[static_cast<size_t>(q)]) {
      same = false;
      std::cerr << "  MISMATCH on query " << q << "\n";
    }
  }

  omp_set_num_threads(a.threads);
  std::vector<double> faiss_ms, faiss_cpu_ms;
  int faiss_same_ids = 0;
  std::vector<float> distances(static_cast<size_t>(a.k));
  std::vector<faiss::Index::idx_t> labels(static_cast<size_t>(a.k));
  for (int q = 0; q < a.faiss_queries; ++q) {
    const auto& qv = queries[static_cast<size_t>(q) % queries.size()];
    const double t = Now();
    const double c = CpuNow();
    faiss_index.search(1, qv.data(), a.k, distances.data(), labels.data());
    faiss_ms.push_back((Now() - t) * 1e3);
    faiss_cpu_ms.push_back((CpuNow() - c) * 1e3);
    bool ids_equal = true;
    const auto& o = ours[static_cast<size_t>(q) % ours.size()];
    for (size_t i = 0; i < o.size(); ++i) ids_equal &= labels[i] + 1 == o[i].id;
    faiss_same_ids += ids_equal;
  }

  const auto snapshot_bytes = std::filesystem::file_size(a.snapshot);
  if (!a.keep) std::remove(a.snapshot.c_str());
  nlohmann::json j = {
      {"templates", n},
      {"threads", a.threads},
      {"k", a.k},
      {"queries", a.queries},
      {"simd", facetrail::search::SimdLevelName(snap->index->simd_level())},
      {"ours_p50_ms", Percentile(ms, 0.5)},
      {"ours_p99_ms", Percentile(ms, 0.99)},
      {"ours_p50_ms_1thread", ms1.empty() ? Percentile(ms, 0.5) : Percentile(ms1, 0.5)},
      {"ours_p99_ms_1thread", ms1.empty() ? Percentile(ms, 0.99) : Percentile(ms1, 0.99)},
      {"faiss_p50_ms", Percentile(faiss_ms, 0.5)},
      {"ours_cpu_ms_p50", Percentile(cpu_ms, 0.5)},
      {"ours_cpu_ms_p50_1thread",
       cpu_ms1.empty() ? Percentile(cpu_ms, 0.5) : Percentile(cpu_ms1, 0.5)},
      {"faiss_cpu_ms_p50", Percentile(faiss_cpu_ms, 0.5)},
      {"load_average_1min", LoadAverage()},
      {"faiss_queries", a.faiss_queries},
      {"faiss_same_ids_as_ours", faiss_same_ids},
      {"bytes_per_template", snap->index->first_pass_bytes_per_template()},
      {"rss_bytes_per_template",
       static_cast<double>(rss_after - rss_before) / static_cast<double>(n)},
      {"snapshot_bytes_per_template", static_cast<double>(snapshot_bytes) / static_cast<double>(n)},
      {"open_s", open_s},
      {"open_warm_s", open_warm_s},
      {"build_snapshot_s", build_s},
      {"same_top_k_as_exact", same},
      {"exact_checked_queries", a.exact_queries},
      {"mates_rank1", mates_rank1},
      {"mates", num_mates},
      {"mean_short_list", static_cast<double>(short_list) / static_cast<double>(queries.size())},
      {"max_quantization_error", snap->index->max_quantization_error()}};
  if (a.json) {
    std::cout << j.dump() << std::endl;
  } else {
    std::cout << j.dump(2) << std::endl;
  }
  return same ? 0 : 1;
}
