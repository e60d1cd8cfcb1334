// facetrail-bench-search: exact 1:N search at county scale on synthetic templates, against
// FAISS IndexFlatIP in the same run.
//
// WORKLOAD
//   N unit templates of --dim numbers written to a search snapshot (ids 1..N, all active), and
//   --queries queries: half are mates of a gallery row, half strangers. --distribution:
//     isotropic  random directions (Irwin–Hall approximations of Gaussians, normalised); a mate
//                is the row plus noise (cosine ≈ 0.8)
//     faces      a Gaussian with the mean and covariance of real templates (fitted to
//                --faces-data, raw float32 rows of --dim numbers, when that file exists; else a
//                decaying spectrum, eigenvalues ∝ i^-0.8, in a random basis), with identities:
//                rows 2j and 2j+1 are two templates of identity j, each the identity's draw plus
//                within-identity noise of the same shape (same-identity cosine ≈ 0.7); a mate is
//                a third template of a gallery identity, a stranger one of a new identity
//     mates_rank1   mates whose first candidate is a template of their identity
//   Then:
//     build_snapshot_s  writing the snapshot (writer_s of it in SnapshotWriter, the rest
//                       generating rows); the writer fits its basis to the first 8,192 rows
//     open_s        open of the snapshot after evicting it from the page cache (cold); then
//                   first_search_after_open_ms, the search that reads what the open did not
//     ours_*        FlatIndex::Search latency, top-k, --threads threads (and 1 thread);
//                   *_cpu_ms_*: CPU time of the process per query (all threads)
//     faiss_*       FAISS IndexFlatIP on the same vectors, one query per call; a gallery larger
//                   than --faiss-chunk-bytes is searched in chunks of that size (each a real
//                   IndexFlatIP, times summed per query, lists merged), so that FAISS's float
//                   copy never needs more RAM than one chunk
//     same_top_k_as_exact  our lists == an independent float32 brute-force loop's (ExactScore,
//                   ties by id), for --exact-queries queries
//     first_pass_bytes_per_template / resident_bytes_per_template  what a search reads at every
//                   query / may touch besides the float32 rows; rss_bytes_per_template measures
//                   the process's RSS growth from before the open to after the searches
//   Prints a header to stderr and one JSON object to stdout (--json) or an indented one.
//
// Usage: facetrail-bench-search --templates N [--dim D] [--distribution isotropic|faces]
//          [--faces-data PATH] [--threads T] [--queries Q] [--faiss-queries F]
//          [--exact-queries E] [--k K] [--faiss-chunk-bytes B] [--snapshot PATH] [--keep]
//          [--reuse] [--json]
//   --keep leaves the snapshot file; --reuse searches one left by an earlier run of the same
//   --templates, --dim and --distribution instead of writing it (build figures are then 0).
#include <cblas.h>
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
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "search/flat_index.h"
#include "search/snapshot.h"

extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                       double* w, double* work, const int* lwork, int* info);

namespace {

using facetrail::search::FlatIndex;
using facetrail::search::Hit;

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

void Normalize(float* x, int dim) {
  double s = 0;
  for (int i = 0; i < dim; ++i) s += static_cast<double>(x[i]) * x[i];
  const auto inv = static_cast<float>(1.0 / std::sqrt(s));
  for (int i = 0; i < dim; ++i) x[i] *= inv;
}

// Deterministic gallery rows and queries.
class Generator {
 public:
  explicit Generator(int dim) : dim_(dim) {}
  virtual ~Generator() = default;
  // Rows [b * kBlock, b * kBlock + rows) of the gallery, identical on every call.
  virtual void Block(size_t b, size_t rows, float* out) const = 0;
  // A query that is a mate of gallery row `row`, and one of nobody in the gallery.
  virtual std::vector<float> Mate(size_t row, uint64_t seed) const = 0;
  virtual std::vector<float> Stranger(uint64_t seed) const = 0;
  // Whether gallery rows a and b are templates of one person (a mate of a finds b too).
  virtual bool SameIdentity(size_t a, size_t b) const { return a == b; }
  std::string description;

 protected:
  int dim_;
};

class IsotropicGenerator final : public Generator {
 public:
  IsotropicGenerator(int dim, uint64_t seed) : Generator(dim), seed_(seed) {
    description = "isotropic random unit vectors";
  }
  void Block(size_t b, size_t rows, float* out) const override {
    uint64_t s = seed_ ^ (0x632BE59BD9B4E019ull * (b + 1));
    const auto d = static_cast<size_t>(dim_);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t i = 0; i < d; ++i) out[r * d + i] = Gauss(s);
      Normalize(out + r * d, dim_);
    }
  }
  std::vector<float> Mate(size_t row, uint64_t seed) const override {
    const size_t b = row / kBlock;
    std::vector<float> block(kBlock * static_cast<size_t>(dim_));
    Block(b, kBlock, block.data());
    const auto d = static_cast<size_t>(dim_);
    std::vector<float> v(block.begin() + static_cast<ptrdiff_t>((row - b * kBlock) * d),
                         block.begin() + static_cast<ptrdiff_t>((row - b * kBlock + 1) * d));
    // Noise of total norm ≈ 0.68 whatever the dimension: cosine ≈ 0.8 to the row.
    const float sigma = 0.06f * std::sqrt(128.0f / static_cast<float>(dim_));
    for (float& x : v) x += sigma * Gauss(seed);
    Normalize(v.data(), dim_);
    return v;
  }
  std::vector<float> Stranger(uint64_t seed) const override {
    std::vector<float> v(static_cast<size_t>(dim_));
    for (float& x : v) x = Gauss(seed);
    Normalize(v.data(), dim_);
    return v;
  }

 private:
  uint64_t seed_;
};

// x = normalize(mean + B (z_identity + rho z_template)), B = V Λ^½ / sqrt(1 + rho²): the
// covariance of the unnormalised draws is V Λ V^T; two templates of one identity share z_identity.
class FaceGenerator final : public Generator {
 public:
  // Same-identity cosine ≈ (|mean|² + tr Λ/(1 + rho²)) / (|mean|² + tr Λ) ≈ 0.7 for rho² = 0.435.
  static constexpr float kRho = 0.66f;

  FaceGenerator(int dim, uint64_t seed, std::vector<double> mean, std::vector<double> eigenvalues,
                std::vector<double> eigenvectors)
      : Generator(dim), seed_(seed) {
    const auto d = static_cast<size_t>(dim);
    mean_.assign(mean.begin(), mean.end());
    // Directions with no variance add nothing; keep the rest (rank_ of them).
    for (size_t i = 0; i < d; ++i) {
      if (eigenvalues[i] <= 0) continue;
      const double scale = std::sqrt(eigenvalues[i] / (1.0 + kRho * kRho));
      for (size_t k = 0; k < d; ++k) {
        bt_.push_back(static_cast<float>(scale * eigenvectors[i * d + k]));
      }
      ++rank_;
    }
  }
  void Block(size_t b, size_t rows, float* out) const override {
    std::vector<float> z(rows * rank_);
    for (size_t r = 0; r < rows; ++r) {
      const size_t row = b * kBlock + r;
      Draw(row / 2, row, &z[r * rank_]);
    }
    Finish(z.data(), rows, out);
  }
  std::vector<float> Mate(size_t row, uint64_t seed) const override {
    std::vector<float> z(rank_), v(static_cast<size_t>(dim_));
    Draw(row / 2, seed | (uint64_t{1} << 63), z.data());
    Finish(z.data(), 1, v.data());
    return v;
  }
  std::vector<float> Stranger(uint64_t seed) const override {
    std::vector<float> z(rank_), v(static_cast<size_t>(dim_));
    Draw((uint64_t{1} << 62) + seed, seed | (uint64_t{1} << 63), z.data());
    Finish(z.data(), 1, v.data());
    return v;
  }
  bool SameIdentity(size_t a, size_t b) const override { return a / 2 == b / 2; }
  size_t rank() const { return rank_; }

 private:
  // z = z_identity + rho z_template, each from its own seed.
  void Draw(uint64_t identity, uint64_t templ, float* z) const {
    uint64_t si = seed_ ^ (0x9E6C63D0676A9A99ull * (identity + 1));
    uint64_t st = seed_ ^ (0xD6E8FEB86659FD93ull * (templ + 1)) ^ 0x5555;
    for (size_t i = 0; i < rank_; ++i) z[i] = Gauss(si) + kRho * Gauss(st);
  }
  void Finish(const float* z, size_t rows, float* out) const {
    const auto d = static_cast<size_t>(dim_);
    for (size_t r = 0; r < rows; ++r) std::copy(mean_.begin(), mean_.end(), out + r * d);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows), dim_,
                static_cast<int>(rank_), 1.0f, z, static_cast<int>(rank_), bt_.data(), dim_, 1.0f,
                out, dim_);
    for (size_t r = 0; r < rows; ++r) Normalize(out + r * d, dim_);
  }
  uint64_t seed_;
  std::vector<float> mean_;
  std::vector<float> bt_;  // rank_ × dim: row i = sqrt(λ_i / (1 + rho²)) v_i
  size_t rank_ = 0;
};

// Eigen-decomposition of a symmetric matrix (LAPACK dsyev): eigenvalues descending, rows of
// `vectors` the unit eigenvectors.
bool Eigen(std::vector<double> a, int n, std::vector<double>* values,
           std::vector<double>* vectors) {
  std::vector<double> w(static_cast<size_t>(n));
  int lwork = -1, info = 0;
  double query = 0;
  dsyev_("V", "U", &n, a.data(), &n, w.data(), &query, &lwork, &info);
  lwork = static_cast<int>(query);
  std::vector<double> work(static_cast<size_t>(lwork));
  dsyev_("V", "U", &n, a.data(), &n, w.data(), work.data(), &lwork, &info);
  if (info != 0) {
    std::cerr << "dsyev failed: " << info << '\n';
    return false;
  }
  // Column-major output: column i (contiguous in memory) is eigenvector i, ascending.
  const auto un = static_cast<size_t>(n);
  values->resize(un);
  vectors->resize(un * un);
  for (size_t i = 0; i < un; ++i) {
    (*values)[i] = w[un - 1 - i];
    std::copy_n(&a[(un - 1 - i) * un], un, &(*vectors)[i * un]);
  }
  return true;
}

std::unique_ptr<Generator> MakeFaceGenerator(int dim, uint64_t seed, const std::string& path) {
  const auto d = static_cast<size_t>(dim);
  std::vector<float> rows;
  if (!path.empty() && std::filesystem::exists(path) &&
      std::filesystem::file_size(path) % (d * 4) == 0) {
    std::ifstream in(path, std::ios::binary);
    rows.resize(std::filesystem::file_size(path) / 4);
    in.read(reinterpret_cast<char*>(rows.data()), static_cast<std::streamsize>(rows.size() * 4));
  }
  const size_t n = rows.size() / d;
  std::vector<double> mean(d, 0.0), values, vectors;
  std::string description;
  if (n >= 2 * d) {
    // Mean and covariance of the real templates.
    for (size_t r = 0; r < n; ++r) {
      for (size_t i = 0; i < d; ++i) mean[i] += rows[r * d + i];
    }
    for (double& m : mean) m /= static_cast<double>(n);
    std::vector<double> cov(d * d, 0.0);
    std::vector<double> c(d);
    for (size_t r = 0; r < n; ++r) {
      for (size_t i = 0; i < d; ++i) c[i] = rows[r * d + i] - mean[i];
      for (size_t i = 0; i < d; ++i) {
        for (size_t j = 0; j <= i; ++j) cov[i * d + j] += c[i] * c[j];
      }
    }
    for (size_t i = 0; i < d; ++i) {
      for (size_t j = 0; j <= i; ++j) {
        cov[i * d + j] /= static_cast<double>(n);
        cov[j * d + i] = cov[i * d + j];
      }
    }
    if (!Eigen(std::move(cov), dim, &values, &vectors)) return nullptr;
    description =
        "faces: mean + covariance fitted to " + std::to_string(n) + " templates of " + path;
  } else {
    // A plausible decaying spectrum (eigenvalues ∝ i^-0.8, total 1) in a random basis.
    uint64_t s = seed * 31 + 7;
    std::vector<double> g(d * d);
    for (double& v : g) v = Gauss(s);
    // Gram–Schmidt: rows of g become a random orthonormal basis.
    for (size_t i = 0; i < d; ++i) {
      for (int pass = 0; pass < 2; ++pass) {
        for (size_t j = 0; j < i; ++j) {
          double dot = 0;
          for (size_t k = 0; k < d; ++k) dot += g[i * d + k] * g[j * d + k];
          for (size_t k = 0; k < d; ++k) g[i * d + k] -= dot * g[j * d + k];
        }
        double norm = 0;
        for (size_t k = 0; k < d; ++k) norm += g[i * d + k] * g[i * d + k];
        for (size_t k = 0; k < d; ++k) g[i * d + k] /= std::sqrt(norm);
      }
    }
    double total = 0;
    for (size_t i = 0; i < d; ++i) total += std::pow(static_cast<double>(i + 1), -0.8);
    for (size_t i = 0; i < d; ++i)
      values.push_back(std::pow(static_cast<double>(i + 1), -0.8) / total);
    vectors = std::move(g);
    description =
        "faces: synthetic spectrum (eigenvalues ∝ i^-0.8, random basis; no data at '" + path + "')";
  }
  auto gen = std::make_unique<FaceGenerator>(dim, seed, std::move(mean), std::move(values),
                                             std::move(vectors));
  gen->description = description + ", " + std::to_string(gen->rank()) + " directions";
  return gen;
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

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
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

std::string CpuInfo(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(key)) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// The flags that matter here (vector extensions), from the first CPU's flag list.
std::string SimdFlags() {
  std::istringstream flags(CpuInfo("flags"));
  std::string f, out;
  while (flags >> f) {
    if (f.starts_with("avx512") || f.starts_with("amx") || f == "avx2" || f == "fma" ||
        f == "avx_vnni") {
      out += (out.empty() ? "" : " ") + f;
    }
  }
  return out;
}

float FloatDot(const float* a, const float* b, int dim) {
  float acc[16] = {};
  for (int i = 0; i < dim; i += 16) {
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float s = 0;
  for (float v : acc) s += v;
  return s;
}

// A brute-force reference independent of FlatIndex: a float pass with a generous margin
// (1e-4 ≫ float rounding of a dot product of up to 4096 unit-scale terms), then ExactScore on
// the survivors. Also keeps the mean and spread of all scores (the impostor distribution, for a
// query with no mate).
class BruteForce {
 public:
  BruteForce(std::vector<float> query, size_t k, int dim)
      : q_(std::move(query)), k_(k), dim_(dim) {}
  void Add(int64_t id, const float* row) {
    const float s = FloatDot(q_.data(), row, dim_);
    sum_ += s;
    sum2_ += static_cast<double>(s) * s;
    ++count_;
    if (s < floor_) return;
    cand_.push_back({id, s, row});
    if (cand_.size() >= 4 * k_ + 4096) Prune();
  }
  // Rows must stay valid until this is called: call it per block.
  void FinishBlock() {
    for (auto& c : cand_) {
      if (!c.exact_done) {
        c.exact = facetrail::search::ExactScore(q_.data(), c.row, dim_);
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
  double mean() const { return sum_ / static_cast<double>(count_); }
  double stddev() const { return std::sqrt(sum2_ / static_cast<double>(count_) - mean() * mean()); }

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
  int dim_;
  float floor_ = -2;
  std::vector<Cand> cand_;
  double sum_ = 0, sum2_ = 0;
  size_t count_ = 0;
};

struct Args {
  size_t templates = 1'000'000;
  int dim = 128;
  std::string distribution = "isotropic";
  std::string faces_data = "/work/data-tmp/lfw_fr_feature_512.f32";
  int threads = 2;
  int queries = 50;
  int faiss_queries = -1;
  int exact_queries = -1;
  int k = 20;
  double faiss_chunk_bytes = 5.2e9;
  std::string snapshot = "facetrail-bench-search.snapshot";
  bool keep = false;
  bool reuse = false;
  bool json = false;
};

bool ParseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (f == "--json") {
      a.json = true;
    } else if (f == "--keep") {
      a.keep = true;
    } else if (f == "--reuse") {
      a.reuse = true;
    } else if (f == "--templates" && (v = next())) {
      a.templates = std::stoull(v);
    } else if (f == "--dim" && (v = next())) {
      a.dim = std::stoi(v);
    } else if (f == "--distribution" && (v = next())) {
      a.distribution = v;
    } else if (f == "--faces-data" && (v = next())) {
      a.faces_data = v;
    } else if (f == "--threads" && (v = next())) {
      a.threads = std::stoi(v);
    } else if (f == "--queries" && (v = next())) {
      a.queries = std::stoi(v);
    } else if (f == "--faiss-queries" && (v = next())) {
      a.faiss_queries = std::stoi(v);
    } else if (f == "--exact-queries" && (v = next())) {
      a.exact_queries = std::stoi(v);
    } else if (f == "--k" && (v = next())) {
      a.k = std::stoi(v);
    } else if (f == "--faiss-chunk-bytes" && (v = next())) {
      a.faiss_chunk_bytes = std::stod(v);
    } else if (f == "--snapshot" && (v = next())) {
      a.snapshot = v;
    } else {
      std::cerr << "usage: facetrail-bench-search --templates N [--dim D] [--distribution "
                   "isotropic|faces] [--faces-data PATH] [--threads T] [--queries Q] "
                   "[--faiss-queries F] [--exact-queries E] [--k K] [--faiss-chunk-bytes B] "
                   "[--snapshot PATH] [--keep] [--reuse] [--json]\n";
      return false;
    }
  }
  const bool big = a.templates >= 5'000'000;
  if (a.faiss_queries < 0) a.faiss_queries = big ? 10 : 30;
  if (a.exact_queries < 0) a.exact_queries = std::min(a.queries, big ? 10 : 20);
  a.exact_queries = std::min(a.exact_queries, a.queries);
  if (!facetrail::search::ValidateDim(a.dim).ok()) {
    std::cerr << facetrail::search::ValidateDim(a.dim).ToString() << '\n';
    return false;
  }
  if (a.distribution != "isotropic" && a.distribution != "faces") {
    std::cerr << "--distribution must be isotropic or faces\n";
    return false;
  }
  return a.templates > 0 && a.threads > 0 && a.queries > 0 && a.k > 0 && a.faiss_chunk_bytes > 0;
}

struct Timing {
  std::vector<double> ms, cpu_ms, refined, short_list;
};

// Times every query; false (with a message) when a search fails.
bool TimeOurs(const FlatIndex& index, const std::vector<std::vector<float>>& qs, int k,
              std::vector<std::vector<Hit>>* results, Timing& t) {
  for (int w = 0; w < 3; ++w) (void)index.Search(qs[static_cast<size_t>(w) % qs.size()], {k, -2});
  for (const auto& q : qs) {
    const double start = Now();
    const double c = CpuNow();
    auto r = index.Search(q, {k, -2});
    t.ms.push_back((Now() - start) * 1e3);
    t.cpu_ms.push_back((CpuNow() - c) * 1e3);
    if (!r.ok()) {
      std::cerr << "search failed: " << r.status().ToString() << '\n';
      return false;
    }
    t.refined.push_back(static_cast<double>(FlatIndex::TEST_last_num_refined()));
    t.short_list.push_back(static_cast<double>(FlatIndex::TEST_last_num_candidates()));
    if (results) results->push_back(std::move(r).value());
  }
  return true;
}

void Evict(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

}  // namespace

int Run(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, a)) return 2;
  // Row generation must be reproducible from one pass to the next: one BLAS thread.
  openblas_set_num_threads(1);
  const uint64_t seed = 20261122;
  const size_t n = a.templates;
  const int dim = a.dim;
  const auto d = static_cast<size_t>(dim);
  std::unique_ptr<Generator> gen;
  if (a.distribution == "faces") {
    gen = MakeFaceGenerator(dim, seed, a.faces_data);
    if (!gen) return 1;
  } else {
    gen = std::make_unique<IsotropicGenerator>(dim, seed);
  }
  std::cerr << "facetrail-bench-search: " << n << " templates of " << dim << ", " << a.threads
            << " threads, k=" << a.k << "\n  data: " << gen->description
            << "\n  cpu: " << CpuInfo("model name") << ", " << sysconf(_SC_NPROCESSORS_ONLN)
            << " cpus, kernel "
            << facetrail::search::SimdLevelName(facetrail::search::DetectSimdLevel())
            << "\n  flags: " << SimdFlags() << "\n";
#ifndef NDEBUG
  std::cerr << "  WARNING: built with assertions (not a Release build); figures are not valid\n";
#endif
#ifndef __OPTIMIZE__
  std::cerr << "  WARNING: built without optimisation; figures are not valid\n";
#endif

  // Queries: half mates of rows spread over the gallery, half strangers.
  std::vector<std::vector<float>> queries;
  std::vector<int64_t> mates;
  {
    uint64_t s = seed * 7 + 1;
    for (int q = 0; q < a.queries; ++q) {
      if (q % 2 == 0) {
        const size_t row = SplitMix(s) % n;
        queries.push_back(gen->Mate(row, SplitMix(s)));
        mates.push_back(static_cast<int64_t>(row + 1));
      } else {
        queries.push_back(gen->Stranger(SplitMix(s)));
        mates.push_back(0);
      }
    }
  }

  // 1. Write the snapshot (ids 1..n, all active); the writer fits its basis to its first rows.
  double t0 = Now();
  double writer_s = 0;
  const bool reuse = a.reuse && std::filesystem::exists(a.snapshot);
  if (!reuse) {
    facetrail::search::SnapshotInfo info{"bench-" + a.distribution, 1, "bench", 0, n, dim};
    auto w = facetrail::search::SnapshotWriter::Create(a.snapshot, info);
    if (!w.ok()) {
      std::cerr << w.status().ToString() << '\n';
      return 1;
    }
    std::vector<float> block(kBlock * d);
    for (size_t b = 0; b * kBlock < n; ++b) {
      const size_t rows = std::min(kBlock, n - b * kBlock);
      gen->Block(b, rows, block.data());
      const double w0 = Now();
      for (size_t r = 0; r < rows; ++r) {
        auto s = (*w)->Append(static_cast<int64_t>(b * kBlock + r + 1), true,
                              std::span<const float>(&block[r * d], d));
        if (!s.ok()) {
          std::cerr << s.ToString() << '\n';
          return 1;
        }
      }
      writer_s += Now() - w0;
    }
    const double w0 = Now();
    auto s = (*w)->Finish();
    writer_s += Now() - w0;
    if (!s.ok()) {
      std::cerr << s.ToString() << '\n';
      return 1;
    }
  }
  const double build_s = Now() - t0;
  std::cerr << "  snapshot written in " << build_s << " s (writer " << writer_s << " s)\n";

  // 2. Cold open: evict the (clean, fsynced) file from the page cache first.
  Evict(a.snapshot);
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
  if (snap->info.count != n || snap->info.dim != dim ||
      snap->info.model_id != "bench-" + a.distribution) {
    std::cerr << a.snapshot << ": not a snapshot of this workload (--reuse)\n";
    return 1;
  }
  const int head_dim = snap->index->head_dim();
  // The first search after the cold open reads what the open did not: the float32 rows it
  // re-scores and the refinement blocks it touches (checked then).
  t0 = Now();
  if (!snap->index->Search(queries[0], {a.k, -2}).ok()) return 1;
  const double first_search_ms = (Now() - t0) * 1e3;
  t0 = Now();
  {
    auto warm = facetrail::search::OpenSnapshot(a.snapshot, oo);
    if (!warm.ok()) return 1;
  }
  const double open_warm_s = Now() - t0;
  std::cerr << "  opened cold in " << open_s << " s, warm in " << open_warm_s << " s; head "
            << head_dim << " of " << dim << "\n";

  // 3. Ours.
  std::vector<std::vector<Hit>> ours;
  Timing mine;
  if (!TimeOurs(*snap->index, queries, a.k, &ours, mine)) return 1;
  const long rss_after = RssBytes();
  int mates_rank1 = 0, num_mates = 0;
  for (size_t q = 0; q < queries.size(); ++q) {
    if (mates[q] == 0) continue;
    ++num_mates;
    mates_rank1 += !ours[q].empty() && gen->SameIdentity(static_cast<size_t>(ours[q][0].id - 1),
                                                         static_cast<size_t>(mates[q] - 1));
  }
  Timing mine1;
  if (a.threads != 1) {
    facetrail::search::SnapshotOpenOptions o1 = oo;
    o1.index.num_threads = 1;
    auto snap1 = facetrail::search::OpenSnapshot(a.snapshot, o1);
    if (!snap1.ok()) return 1;
    if (!TimeOurs(*snap1->index, queries, a.k, nullptr, mine1)) return 1;
  } else {
    mine1 = mine;
  }
  std::cerr << "  ours p50 " << Percentile(mine.ms, 0.5) << " ms\n";
  const size_t first_pass_bytes = snap->index->first_pass_bytes_per_template();
  const size_t resident_bytes = snap->index->resident_bytes_per_template();
  const float max_err1 = snap->index->max_first_pass_error();
  const float max_err2 = snap->index->max_quantization_error();
  const std::string simd(facetrail::search::SimdLevelName(snap->index->simd_level()));
  snap->index.reset();  // frees our mapping before FAISS copies the vectors
  Evict(a.snapshot);

  // 4. One more pass over the same vectors, chunk by chunk: FAISS (an IndexFlatIP per chunk,
  //    filled in place) and the brute-force reference.
  std::vector<BruteForce> exact;
  exact.reserve(static_cast<size_t>(a.exact_queries));
  for (int q = 0; q < a.exact_queries; ++q) {
    exact.emplace_back(queries[static_cast<size_t>(q)], static_cast<size_t>(a.k), dim);
  }
  const size_t chunk_blocks = std::max<size_t>(
      1, static_cast<size_t>(a.faiss_chunk_bytes / static_cast<double>(kBlock * d * 4)));
  const size_t chunk_rows = chunk_blocks * kBlock;
  const size_t num_chunks = (n + chunk_rows - 1) / chunk_rows;
  omp_set_num_threads(a.threads);
  const auto fq = static_cast<size_t>(a.faiss_queries);
  std::vector<double> faiss_ms(fq, 0.0), faiss_cpu_ms(fq, 0.0);
  std::vector<std::vector<std::pair<float, int64_t>>> faiss_hits(fq);
  t0 = Now();
  for (size_t c = 0; c < num_chunks; ++c) {
    const size_t begin = c * chunk_rows;
    const size_t rows_total = std::min(chunk_rows, n - begin);
    faiss::IndexFlatIP index(dim);
    index.codes.resize(rows_total * d * sizeof(float));
    auto* rows = reinterpret_cast<float*>(index.codes.data());
    for (size_t r = 0; r < rows_total; r += kBlock) {
      const size_t b = (begin + r) / kBlock;
      const size_t rows_b = std::min(kBlock, rows_total - r);
      gen->Block(b, rows_b, rows + r * d);
      for (auto& e : exact) {
        for (size_t j = 0; j < rows_b; ++j) {
          e.Add(static_cast<int64_t>(begin + r + j + 1), rows + (r + j) * d);
        }
        e.FinishBlock();
      }
    }
    index.ntotal = static_cast<faiss::Index::idx_t>(rows_total);
    std::vector<float> distances(static_cast<size_t>(a.k));
    std::vector<faiss::Index::idx_t> labels(static_cast<size_t>(a.k));
    for (size_t q = 0; q < fq; ++q) {
      const auto& qv = queries[q % queries.size()];
      const double t = Now();
      const double cpu = CpuNow();
      index.search(1, qv.data(), a.k, distances.data(), labels.data());
      faiss_ms[q] += (Now() - t) * 1e3;
      faiss_cpu_ms[q] += (CpuNow() - cpu) * 1e3;
      for (int i = 0; i < a.k; ++i) {
        if (labels[static_cast<size_t>(i)] >= 0) {
          faiss_hits[q].push_back(
              {distances[static_cast<size_t>(i)],
               static_cast<int64_t>(begin) + labels[static_cast<size_t>(i)] + 1});
        }
      }
    }
  }
  const double reference_s = Now() - t0;
  std::cerr << "  reference pass (FAISS in " << num_chunks << " chunk(s) + brute force) "
            << reference_s << " s\n";
  int identical = 0;
  for (int q = 0; q < a.exact_queries; ++q) {
    auto want = exact[static_cast<size_t>(q)].Result();
    if (want == ours[static_cast<size_t>(q)]) {
      ++identical;
    } else {
      std::cerr << "  MISMATCH on query " << q << "\n";
    }
  }
  const bool same = identical == a.exact_queries;
  int faiss_same_ids = 0;
  for (size_t q = 0; q < fq; ++q) {
    auto& h = faiss_hits[q];
    std::sort(h.begin(), h.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : x.second < y.second;
    });
    const auto& o = ours[q % ours.size()];
    bool ids_equal = h.size() >= o.size();
    for (size_t i = 0; ids_equal && i < o.size(); ++i) ids_equal = h[i].second == o[i].id;
    faiss_same_ids += ids_equal;
  }
  // Score distributions (the faces model's realism): strangers against the whole gallery, and
  // mates against their own row.
  std::vector<double> impostor_mean, impostor_std, mate_scores;
  for (int q = 0; q < a.exact_queries; ++q) {
    if (mates[static_cast<size_t>(q)] == 0) {
      impostor_mean.push_back(exact[static_cast<size_t>(q)].mean());
      impostor_std.push_back(exact[static_cast<size_t>(q)].stddev());
    }
  }
  for (size_t q = 0; q < queries.size(); ++q) {
    if (mates[q] == 0) continue;
    for (const Hit& h : ours[q]) {
      if (h.id == mates[q]) mate_scores.push_back(h.score);
    }
  }

  const auto snapshot_bytes = std::filesystem::file_size(a.snapshot);
  if (!a.keep) std::remove(a.snapshot.c_str());
  const double faiss_p50 = Percentile(faiss_ms, 0.5);
  nlohmann::json j = {
      {"templates", n},
      {"dim", dim},
      {"distribution", a.distribution},
      {"data", gen->description},
      {"head_dim", head_dim},
      {"threads", a.threads},
      {"k", a.k},
      {"queries", a.queries},
      {"simd", simd},
      {"cpu", CpuInfo("model name")},
      {"ours_p50_ms", Percentile(mine.ms, 0.5)},
      {"ours_p99_ms", Percentile(mine.ms, 0.99)},
      {"ours_p50_ms_1thread", Percentile(mine1.ms, 0.5)},
      {"ours_p99_ms_1thread", Percentile(mine1.ms, 0.99)},
      {"ours_cpu_ms_p50", Percentile(mine.cpu_ms, 0.5)},
      {"ours_cpu_ms_p50_1thread", Percentile(mine1.cpu_ms, 0.5)},
      {"faiss_p50_ms", faiss_p50},
      {"faiss_p99_ms", Percentile(faiss_ms, 0.99)},
      {"faiss_cpu_ms_p50", Percentile(faiss_cpu_ms, 0.5)},
      {"faiss_over_ours_p50", faiss_p50 / Percentile(mine.ms, 0.5)},
      {"faiss_queries", a.faiss_queries},
      {"faiss_chunks", num_chunks},
      {"faiss_same_ids_as_ours", faiss_same_ids},
      {"load_average_1min", LoadAverage()},
      {"first_pass_bytes_per_template", first_pass_bytes},
      {"resident_bytes_per_template", resident_bytes},
      {"rss_bytes_per_template",
       static_cast<double>(rss_after - rss_before) / static_cast<double>(n)},
      {"snapshot_bytes_per_template", static_cast<double>(snapshot_bytes) / static_cast<double>(n)},
      {"open_s", open_s},
      {"open_warm_s", open_warm_s},
      {"first_search_after_open_ms", first_search_ms},
      {"build_snapshot_s", build_s},
      {"writer_s", writer_s},
      {"reused_snapshot", reuse},
      {"same_top_k_as_exact", same},
      {"identical_lists", identical},
      {"exact_checked_queries", a.exact_queries},
      {"mates_rank1", mates_rank1},
      {"mates", num_mates},
      {"mean_refined", Mean(mine.refined)},
      {"mean_refined_fraction", Mean(mine.refined) / static_cast<double>(n)},
      {"mean_short_list", Mean(mine.short_list)},
      {"max_first_pass_error", max_err1},
      {"max_quantization_error", max_err2},
      {"impostor_score_mean", Mean(impostor_mean)},
      {"impostor_score_std", Mean(impostor_std)},
      {"mate_score_mean", Mean(mate_scores)}};
  std::cout << (a.json ? j.dump() : j.dump(2)) << std::endl;
  return same ? 0 : 1;
}

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {  // a malformed number on the command line
    std::cerr << "facetrail-bench-search: " << e.what() << '\n';
    return 2;
  }
}
