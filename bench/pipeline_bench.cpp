// facetrail-bench-pipeline: time of each stage of the face pipeline, per image and per face,
// and whole-process throughput with 1..N worker threads.
//
//   build/facetrail-bench-pipeline --list FILE [--limit N] [--threads T] [--repeat R]
//                                  [--align similarity|faceapi] [--bf16 | --int8] [--json]
//   --bf16: bfloat16 convolutions; --int8: the same with the detector in uint8/int8 after its
//   first layer (the pipeline's default). Neither: float32. --detector-512: images smaller than
//   256×256 are upsampled to the detector's 512×512 as in face-api (default: detected at 256).
//
// Stages: decode; each network's forward pass alone on a fixed input (SSD 512×512, landmarks
// 112×112, recognition 150×150), median of --repeat runs, with the FLOP count and the GFLOP/s it
// implies; then the whole pipeline over the list with T threads (images/s, ms per image).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "nn/layers.h"
#include "vision/batch.h"
#include "vision/internal/networks.h"

namespace {

using Clock = std::chrono::steady_clock;
using facetrail::vision::Image;
namespace internal = facetrail::vision::internal;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  std::string list, align = "similarity", models = "models";
  std::string model(facetrail::vision::kDefaultModelName);
  int limit = 200, threads = 2, repeat = 10;
  bool bf16 = false, int8 = false, json = false, detector_512 = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--list")
      list = next();
    else if (a == "--limit")
      limit = std::stoi(next());
    else if (a == "--threads")
      threads = std::stoi(next());
    else if (a == "--repeat")
      repeat = std::stoi(next());
    else if (a == "--align")
      align = next();
    else if (a == "--models")
      models = next();
    else if (a == "--model")
      model = next();
    else if (a == "--bf16")
      bf16 = true;
    else if (a == "--int8")
      bf16 = int8 = true;
    else if (a == "--detector-512")
      detector_512 = true;
    else if (a == "--json")
      json = true;
    else {
      std::cerr
          << "usage: facetrail-bench-pipeline --list FILE [--limit N] [--threads T] [--repeat R] "
             "[--model NAME] [--align similarity|faceapi] [--bf16 | --int8] [--detector-512] "
             "[--json]\n";
      return 2;
    }
  }
  std::vector<std::string> paths;
  {
    std::ifstream in(list);
    std::string line;
    while (std::getline(in, line) && static_cast<int>(paths.size()) < limit) {
      if (!line.empty()) paths.push_back(line);
    }
  }
  if (paths.empty()) {
    std::cerr << "no images (--list FILE with one path per line)\n";
    return 2;
  }
  nlohmann::json out;
  out["cpu"] = CpuModel();
  out["hardware_threads"] = std::thread::hardware_concurrency();
#ifdef NDEBUG
  out["build"] = "release";
#else
  out["build"] = "debug (figures not representative)";
#endif
  out["images"] = paths.size();
  out["align"] = align;
  out["model"] = model;
  out["bf16"] = bf16;
  out["int8_detector"] = int8;
  out["detector_512"] = detector_512;

  // Decode.
  std::vector<Image> images;
  std::vector<double> decode_ms;
  for (const auto& p : paths) {
    auto t0 = Clock::now();
    auto img = facetrail::vision::LoadImageFile(p);
    auto t1 = Clock::now();
    if (!img.ok()) continue;
    decode_ms.push_back(Ms(t0, t1));
    images.push_back(std::move(img->image));
  }
  out["decode_ms_median"] = Median(decode_ms);

  // Each network alone, one thread.
  facetrail::nn::SetThreadsForCurrentThread(1);
  const auto precision = bf16 ? facetrail::nn::Precision::kBf16 : facetrail::nn::Precision::kF32;
  auto ssd =
      internal::SsdDetector::Load(models, int8 ? facetrail::nn::Precision::kU8S8 : precision);
  auto lm = internal::LandmarkNet::Load(models, precision);
  auto rec = internal::RecognitionNet::Load(models, precision);
  if (!ssd.ok() || !lm.ok() || !rec.ok()) {
    std::cerr << "cannot load models from " << models << "\n";
    return 1;
  }
  Image square;
  square.width = square.height = 512;
  square.rgb.assign(512 * 512 * 3, 100);
  for (size_t i = 0; i < square.rgb.size(); ++i)
    square.rgb[i] = static_cast<uint8_t>((i * 2654435761u) >> 24);
  std::vector<double> ssd_ms, lm_ms, rec_ms;
  internal::Detection box{100, 100, 200, 200, 0.9};
  internal::FloatImage chip;
  chip.width = chip.height = 150;
  chip.data.assign(150 * 150 * 3, 120.f);
  for (int r = 0; r < repeat + 1; ++r) {
    auto t0 = Clock::now();
    (void)(*ssd)->Detect(square, 0.5, 100);
    auto t1 = Clock::now();
    (void)(*lm)->Run(square, box);
    auto t2 = Clock::now();
    (void)(*rec)->Run(chip);
    auto t3 = Clock::now();
    if (r == 0) continue;  // warm-up
    ssd_ms.push_back(Ms(t0, t1));
    lm_ms.push_back(Ms(t1, t2));
    rec_ms.push_back(Ms(t2, t3));
  }
  out["ssd_ms"] = Median(ssd_ms);
  out["landmarks_ms"] = Median(lm_ms);
  out["recognition_ms"] = Median(rec_ms);
  out["ssd_gflop"] = (*ssd)->flops() / 1e9;
  out["landmarks_gflop"] = (*lm)->flops() / 1e9;
  out["recognition_gflop"] = (*rec)->flops() / 1e9;
  out["ssd_gflops_per_s"] = (*ssd)->flops() / 1e6 / Median(ssd_ms);
  out["landmarks_gflops_per_s"] = (*lm)->flops() / 1e6 / Median(lm_ms);
  out["recognition_gflops_per_s"] = (*rec)->flops() / 1e6 / Median(rec_ms);

  // Whole pipeline, T threads.
  facetrail::vision::BatchOptions o;
  o.threads = threads;
  o.pipeline.models_dir = models;
  o.pipeline.model = model;
  o.pipeline.align = align == "faceapi" ? facetrail::vision::AlignMode::kFaceApi
                                        : facetrail::vision::AlignMode::kSimilarity;
  o.pipeline.reduced_precision = bf16;
  o.pipeline.int8_detector = int8;
  o.pipeline.small_image_detector = !detector_512;
  // As vision::ProcessImageFiles does: with several workers, one OpenMP thread each (and none
  // spinning beside them from the pipelines' creation here).
  o.pipeline.network_threads = threads > 1 ? 1 : 0;
  facetrail::nn::SetThreadsForCurrentThread(threads);
  size_t faces = 0, failed = 0;
  std::vector<std::unique_ptr<facetrail::vision::FacePipeline>> pipelines;
  for (int i = 0; i < threads; ++i) {
    auto p = facetrail::vision::FacePipeline::Create(o.pipeline);
    if (!p.ok()) {
      std::cerr << p.status().ToString() << "\n";
      return 1;
    }
    pipelines.push_back(std::move(*p));
  }
  // Warm-up pass over a few images, then the timed pass.
  std::vector<std::string> warm(paths.begin(), paths.begin() + std::min<size_t>(paths.size(), 4));
  (void)facetrail::vision::ProcessImageFiles(warm, pipelines, o.decode, {},
                                             [](size_t, facetrail::vision::ImageResult&&) {});
  auto t0 = Clock::now();
  auto s = facetrail::vision::ProcessImageFiles(paths, pipelines, o.decode, {},
                                                [&](size_t, facetrail::vision::ImageResult&& r) {
                                                  faces += r.faces.size();
                                                  failed += r.status.ok() ? 0 : 1;
                                                });
  auto t1 = Clock::now();
  if (!s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  const double total_ms = Ms(t0, t1);
  out["threads"] = threads;
  out["faces"] = faces;
  out["failed"] = failed;
  out["images_per_s"] = paths.size() / (total_ms / 1000);
  out["ms_per_image"] = total_ms / paths.size();
  out["ms_per_face"] = faces ? total_ms / faces : 0;
  if (json) {
    std::cout << out.dump() << "\n";
  } else {
    std::cout << out.dump(2) << "\n";
  }
  return 0;
}
