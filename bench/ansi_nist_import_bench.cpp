// facetrail-bench-ansi-nist: how fast ANSI/NIST-ITL transactions are imported.
//
// WORKLOAD
//   The transaction files of a folder (default: ../shared/data/ansi-nist-samples). Figures:
//     parse_transactions_per_s  ParseTransaction + TransactionPhotos (Type-2 mapping, Type-10
//                               reading) on the files held in memory, no face pipeline
//     import_images_per_s       gallery::EnrollPrepared with the real face pipeline (the CSV
//                               import's path) into a fresh gallery, `--rounds` times, photos
//                               enrolled / seconds; the pipelines are loaded once beforehand, so
//                               model loading is not counted
//   Prints one JSON object.
//
// Usage: facetrail-bench-ansi-nist [--dir DIR] [--models DIR] [--threads T] [--rounds R]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/file.h"
#include "gallery/face_search.h"
#include "interop/import.h"

namespace {

using namespace facetrail;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Hands out extractors made beforehand, without giving up ownership.
class Borrowed : public gallery::FaceExtractor {
 public:
  explicit Borrowed(gallery::FaceExtractor& x) : x_(x) {}
  Expected<std::vector<gallery::ExtractedFace>> Extract(std::span<const uint8_t> b) override {
    return x_.Extract(b);
  }
  gallery::ModelRef model() const override { return x_.model(); }

 private:
  gallery::FaceExtractor& x_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir = FACETRAIL_SHARED_DIR "/data/ansi-nist-samples";
  std::string models = FACETRAIL_MODELS_DIR;
  int threads = 2, rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dir"))
      dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--models"))
      models = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads"))
      threads = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rounds"))
      rounds = std::stoi(argv[i + 1]);
  }
  auto files = interop::ListTransactionFiles({dir});
  if (!files.ok()) {
    std::cerr << files.status().ToString() << '\n';
    return 1;
  }
  std::vector<std::vector<uint8_t>> contents;
  size_t total_bytes = 0;
  for (const std::string& f : *files) {
    auto b = ReadFileBytes(f);
    if (!b.ok()) return 1;
    total_bytes += b->size();
    contents.push_back(std::move(*b));
  }
  // Parsing alone, for at least a second.
  const auto parse_start = std::chrono::steady_clock::now();
  int64_t parsed = 0, photos_seen = 0;
  while (Seconds(parse_start) < 1.0) {
    for (const auto& c : contents) {
      auto p = interop::TransactionPhotos("bench", c, interop::DefaultEbtsMapping());
      for (const auto& x : p) photos_seen += x.reject_reason.empty() ? 1 : 0;
      ++parsed;
    }
  }
  const double parse_s = Seconds(parse_start);

  vision::PipelineOptions po;
  po.models_dir = models;
  const auto factory = gallery::PipelineExtractorFactory(po);
  std::vector<std::unique_ptr<gallery::FaceExtractor>> pool;
  for (int t = 0; t < threads; ++t) {
    auto x = factory();
    if (!x.ok()) {
      std::cerr << x.status().ToString() << '\n';
      return 1;
    }
    pool.push_back(std::move(*x));
  }
  size_t next = 0;
  gallery::FaceExtractorFactory borrowed =
      [&]() -> Expected<std::unique_ptr<gallery::FaceExtractor>> {
    return std::unique_ptr<gallery::FaceExtractor>(new Borrowed(*pool[next++ % pool.size()]));
  };
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / ("ft_bench_ansi_nist_" + std::to_string(getpid()));
  std::filesystem::create_directories(tmp);
  int64_t enrolled = 0, rejected = 0;
  double import_s = 0;
  for (int r = 0; r < rounds; ++r) {
    const std::string db = (tmp / ("g" + std::to_string(r) + ".db")).string();
    auto store = gallery::GalleryStore::Open(db);
    if (!store.ok()) return 1;
    auto source = interop::MakeAnsiNistSource(*files, interop::DefaultEbtsMapping());
    gallery::EnrollOptions o;
    o.rejects_path = (tmp / "rejects.csv").string();
    o.num_workers = threads;
    const auto start = std::chrono::steady_clock::now();
    auto s = gallery::EnrollPrepared(**store, borrowed, *source, o);
    import_s += Seconds(start);
    if (!s.ok()) {
      std::cerr << s.status().ToString() << '\n';
      return 1;
    }
    enrolled += s->enrolled;
    rejected += s->rejected;
  }
  std::filesystem::remove_all(tmp);
  nlohmann::json out{
      {"dir", dir},
      {"files", files->size()},
      {"bytes", total_bytes},
      {"threads", threads},
      {"rounds", rounds},
      {"parse_transactions_per_s", static_cast<double>(parsed) / parse_s},
      {"parse_mb_per_s", static_cast<double>(parsed) / static_cast<double>(files->size()) *
                             static_cast<double>(total_bytes) / 1e6 / parse_s},
      {"face_photos_per_pass",
       photos_seen * static_cast<int64_t>(files->size()) / std::max<int64_t>(parsed, 1)},
      {"import_photos_enrolled", enrolled},
      {"import_rejected", rejected},
      {"import_seconds", import_s},
      {"import_images_per_s", static_cast<double>(enrolled) / import_s}};
  std::cout << out.dump(2) << '\n';
  return 0;
}
