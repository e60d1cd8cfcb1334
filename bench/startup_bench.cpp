// facetrail-bench-startup: what a one-image `facetrail template` run pays, stage by stage, in one
// fresh process: the pipeline's creation, then the same image processed several times (the first
// Process pays what is built or touched on first use, the later ones are the steady state).
//
//   build/facetrail-bench-startup [--models DIR] [--model NAME] [--threads T] [--process N]
//                                 [--pipelines P] [--json] IMAGE
//
// --threads: OpenMP threads of the networks (default 1, what `facetrail template` uses for one
// image; 0 = the OpenMP default, all cores). --process: how many times the image is processed
// (default 3). --pipelines: create this many pipelines one after the other (default 1; the
// second shows what a process caches across pipelines, as `compare` or the server create
// several). Each stage reports wall time, the CPU time of the whole process (all threads) and
// minor page faults (getrusage); `before_main` is the CPU time and faults of the dynamic loader
// and static initialisers. bench/startup.sh times the real command end to end beside it.
#include <sys/resource.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "nn/layers.h"
#include "vision/face_pipeline.h"
#include "vision/image.h"

namespace {

using Clock = std::chrono::steady_clock;

double CpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

long MinorFaults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
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

// Wall time, process CPU time and minor faults from construction to Stop().
class Stage {
 public:
  Stage() : wall_(Clock::now()), cpu_(CpuMs()), faults_(MinorFaults()) {}
  nlohmann::json Stop() const {
    return {{"wall_ms", std::chrono::duration<double, std::milli>(Clock::now() - wall_).count()},
            {"cpu_ms", CpuMs() - cpu_},
            {"minor_faults", MinorFaults() - faults_}};
  }

 private:
  Clock::time_point wall_;
  double cpu_;
  long faults_;
};

int Usage() {
  std::cerr << "usage: facetrail-bench-startup [--models DIR] [--model NAME] [--threads T] "
               "[--process N] [--pipelines P] [--json] IMAGE\n";
  return 2;
}

int Main(int argc, char** argv) {
  const double cpu_at_main = CpuMs();
  const long faults_at_main = MinorFaults();
  facetrail::vision::PipelineOptions options;
  options.network_threads = 1;
  std::string image_path;
  int process = 3, pipelines = 1;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    try {
      if (a == "--models") {
        options.models_dir = next();
      } else if (a == "--model") {
        options.model = next();
      } else if (a == "--threads") {
        options.network_threads = std::stoi(next());
      } else if (a == "--process") {
        process = std::max(1, std::stoi(next()));
      } else if (a == "--pipelines") {
        pipelines = std::max(1, std::stoi(next()));
      } else if (a == "--json") {
        json = true;
      } else if (!a.empty() && a[0] != '-' && image_path.empty()) {
        image_path = a;
      } else {
        return Usage();
      }
    } catch (const std::exception&) {
      return Usage();
    }
  }
  if (image_path.empty()) return Usage();

  nlohmann::json out;
  out["cpu"] = CpuField("model name");
  out["simd"] = SimdFlags();
#ifdef NDEBUG
  out["build"] = "release (NDEBUG)";
#else
  out["build"] = "WARNING: assertions on / not optimised";
#endif
  out["model"] = options.model;
  out["network_threads"] = options.network_threads;
  out["image"] = image_path;
  out["before_main"] = {{"cpu_ms", cpu_at_main}, {"minor_faults", faults_at_main}};

  Stage decode_stage;
  auto decoded = facetrail::vision::LoadImageFile(image_path);
  if (!decoded.ok()) {
    std::cerr << decoded.status().ToString() << "\n";
    return 1;
  }
  out["decode"] = decode_stage.Stop();
  const facetrail::vision::Image& image = decoded->image;
  out["width"] = image.width;
  out["height"] = image.height;

  if (options.network_threads > 0) {
    facetrail::nn::SetThreadsForCurrentThread(options.network_threads);
  }
  std::vector<std::unique_ptr<facetrail::vision::FacePipeline>> made;
  for (int p = 0; p < pipelines; ++p) {
    Stage create_stage;
    auto pipeline = facetrail::vision::FacePipeline::Create(options);
    if (!pipeline.ok()) {
      std::cerr << pipeline.status().ToString() << "\n";
      return 1;
    }
    nlohmann::json stages;
    stages["create"] = create_stage.Stop();
    for (int k = 1; k <= process; ++k) {
      Stage process_stage;
      auto faces = (*pipeline)->Process(image);
      nlohmann::json s = process_stage.Stop();
      if (!faces.ok()) {
        std::cerr << faces.status().ToString() << "\n";
        return 1;
      }
      s["faces"] = faces->size();
      stages["process_" + std::to_string(k)] = s;
    }
    out["pipeline_" + std::to_string(p + 1)] = stages;
    made.push_back(std::move(*pipeline));
  }
  out["total"] = {{"cpu_ms", CpuMs()}, {"minor_faults", MinorFaults()}};
  std::cout << (json ? out.dump() : out.dump(2)) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "facetrail-bench-startup: " << e.what() << "\n";
    return 1;
  }
}
