// facetrail-bench-onnx: an ONNX model on nn's layers (nn/onnx.h) — load time, and the time of
// one forward pass per precision with the GFLOP/s it implies.
//
//   build/facetrail-bench-onnx [--model FILE] [--precision f32,bf16,u8s8] [--threads T]
//                              [--repeat R] [--height H --width W] [--summary] [--json]
//
// Defaults: models/fr_feature.onnx, f32 and bf16, 1 thread, 200 timed runs after 10 warm-up
// runs, on a fixed pseudo-random input in [−1, 1]. Load time is measured twice: the first load
// in the process (what a one-image CLI run pays, oneDNN generating its kernels) and the median
// of 5 more (kernels cached). Forward time: median and 10th/90th percentiles of single runs, and
// the median CPU time of the process per run (less distorted by other jobs on a shared machine).
// --summary prints the steps the model became (fusions, shapes). Before any figure the header
// names the CPU, its AVX-512/AMX flags, the build type and the model's SHA-256.
// bench/onnx_vs_onnxruntime.sh runs this beside onnxruntime-node on the same model.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "nn/layers.h"
#include "nn/onnx.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace nn = facetrail::nn;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// CPU time of this process (all threads), in ms: what other jobs on a shared machine distort
// much less than wall-clock time.
double CpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(std::lround(p * static_cast<double>(v.size() - 1)))];
}

std::string CpuField(const std::string& name) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string SimdFlags() {
  std::istringstream flags(CpuField("flags"));
  std::string f, out;
  while (flags >> f) {
    if (f.rfind("avx512", 0) == 0 || f.rfind("amx", 0) == 0) out += (out.empty() ? "" : " ") + f;
  }
  return out.empty() ? "none" : out;
}

struct Result {
  std::string precision;
  double first_load_ms = 0, first_load_cpu_ms = 0, load_ms = 0, p10 = 0, p50 = 0, p90 = 0,
         cpu_p50 = 0, gflops = 0;
};

int Usage() {
  std::cerr << "usage: facetrail-bench-onnx [--model FILE] [--precision f32,bf16,u8s8] "
               "[--threads T] [--repeat R] [--height H --width W] [--summary] [--json]\n";
  return 2;
}

}  // namespace

int Main(int argc, char** argv) {
  std::string model = std::string(FACETRAIL_MODELS_DIR) + "/fr_feature.onnx";
  std::string precisions = "f32,bf16";
  int threads = 1, repeat = 200, height = 0, width = 0;
  bool summary = false, json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    try {
      if (a == "--model") {
        model = next();
      } else if (a == "--precision") {
        precisions = next();
      } else if (a == "--threads") {
        threads = std::stoi(next());
      } else if (a == "--repeat") {
        repeat = std::max(1, std::stoi(next()));
      } else if (a == "--height") {
        height = std::stoi(next());
      } else if (a == "--width") {
        width = std::stoi(next());
      } else if (a == "--summary") {
        summary = true;
      } else if (a == "--json") {
        json = true;
      } else {
        return Usage();
      }
    } catch (const std::exception&) {
      return Usage();
    }
  }
  nn::SetThreadsForCurrentThread(threads);

  auto digest = facetrail::Sha256FileHex(model);
  auto info = nn::InspectOnnx(model);
  if (!info.ok() || !digest.ok()) {
    std::cerr << (info.ok() ? digest.status() : info.status()).ToString() << "\n";
    return 1;
  }
#ifdef NDEBUG
  const char* build = "release (NDEBUG)";
#else
  const char* build = "WARNING: assertions on / not optimised";
#endif
  std::cout << "cpu: " << CpuField("model name") << "\nsimd: " << SimdFlags()
            << "\nthreads: " << threads << "\nbuild: " << build << "\nmodel: " << model
            << "\nsha256: " << *digest << "\nproducer: " << info->producer << ", opset "
            << info->opset << ", " << info->num_parameters << " parameters\n"
            << "operators:";
  for (const auto& op : info->operators) std::cout << " " << op;
  std::cout << "\nunsupported:";
  for (const auto& op : info->unsupported_operators) std::cout << " " << op;
  std::cout << (info->unsupported_operators.empty() ? " none\n" : "\n");
  for (const auto& in : info->inputs) {
    std::cout << "input '" << in.name << "' " << nlohmann::json(in.dims).dump() << "\n";
  }
  for (const auto& out : info->outputs) {
    std::cout << "output '" << out.name << "' " << nlohmann::json(out.dims).dump() << "\n";
  }

  std::vector<Result> results;
  std::stringstream list(precisions);
  std::string name;
  while (std::getline(list, name, ',')) {
    nn::OnnxLoadOptions options;
    options.input_height = height;
    options.input_width = width;
    if (name == "f32") {
      options.precision = nn::Precision::kF32;
    } else if (name == "bf16") {
      options.precision = nn::Precision::kBf16;
    } else if (name == "u8s8") {
      options.precision = nn::Precision::kU8S8;
    } else {
      return Usage();
    }
    Result r;
    r.precision = name;
    auto t0 = Clock::now();
    double c0 = CpuMs();
    auto net = nn::OnnxNetwork::Load(model, options);
    r.first_load_ms = Ms(t0, Clock::now());
    r.first_load_cpu_ms = CpuMs() - c0;
    if (!net.ok()) {
      std::cerr << name << ": " << net.status().ToString() << "\n";
      return 1;
    }
    std::vector<double> loads;
    for (int i = 0; i < 5; ++i) {
      t0 = Clock::now();
      auto again = nn::OnnxNetwork::Load(model, options);
      loads.push_back(Ms(t0, Clock::now()));
    }
    r.load_ms = Percentile(loads, 0.5);
    nn::OnnxNetwork& n = **net;
    if (summary) std::cout << "steps (" << name << "):\n" << n.Summary();
    nn::Tensor input(n.input_shape());
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    for (float& v : input.data) v = dist(rng);
    std::vector<float> output;
    for (int i = 0; i < 10; ++i) (void)n.Run(input, output);
    std::vector<double> times, cpu;
    for (int i = 0; i < repeat; ++i) {
      t0 = Clock::now();
      c0 = CpuMs();
      (void)n.Run(input, output);
      times.push_back(Ms(t0, Clock::now()));
      cpu.push_back(CpuMs() - c0);
    }
    r.p10 = Percentile(times, 0.1);
    r.p50 = Percentile(times, 0.5);
    r.p90 = Percentile(times, 0.9);
    r.cpu_p50 = Percentile(cpu, 0.5);
    r.gflops = n.flops() / (r.p50 * 1e6);
    std::printf(
        "%-5s input %dx%dx%d  %.1f MFLOP  activations %.1f MB  load %.1f ms (first; "
        "CPU %.1f) %.1f ms (again)  forward p50 %.3f ms (p10 %.3f, p90 %.3f; CPU p50 "
        "%.3f)  %.1f GFLOP/s\n",
        name.c_str(), n.input_shape().h, n.input_shape().w, n.input_shape().c, n.flops() / 1e6,
        static_cast<double>(n.activation_bytes()) / 1e6, r.first_load_ms, r.first_load_cpu_ms,
        r.load_ms, r.p50, r.p10, r.p90, r.cpu_p50, r.gflops);
    results.push_back(r);
  }
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : results) {
      j.push_back({{"precision", r.precision},
                   {"first_load_ms", r.first_load_ms},
                   {"first_load_cpu_ms", r.first_load_cpu_ms},
                   {"load_ms", r.load_ms},
                   {"cpu_p50_ms", r.cpu_p50},
                   {"p10_ms", r.p10},
                   {"p50_ms", r.p50},
                   {"p90_ms", r.p90},
                   {"gflops", r.gflops}});
    }
    std::cout << j.dump() << "\n";
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "facetrail-bench-onnx: " << e.what() << "\n";
    return 1;
  }
}
