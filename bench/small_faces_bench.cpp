// facetrail-bench-small-faces: what the tiled/upscaled detection mode finds that the plain
// 512×512 detector loses, on real labelled faces made small.
//
//   build/facetrail-bench-small-faces [--data ../shared/data/dlib-faces-detection] [--json]
//                                     [--bf16-detector]
//
// For each of the 9 labelled photos of the dlib detection set (43 boxed faces) and each scale s
// in {1, 0.5, 0.3}, the photo is shrunk by s and pasted into a 1920×1080 grey frame (a
// surveillance-still geometry), the labelled boxes moved with it. Both modes run on the same
// frames; a labelled face counts as found when a detection overlaps it with IoU ≥ 0.4 (greedy,
// highest score first). Reports recall, unmatched detections and time per frame per mode.
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "vision/face_pipeline.h"
#include "vision/internal/resample.h"

namespace {

using facetrail::vision::Box;
using facetrail::vision::Image;

double Iou(const Box& a, const Box& b) {
  const double ix =
      std::max(0.0, std::min<double>(a.x + a.width, b.x + b.width) - std::max(a.x, b.x));
  const double iy =
      std::max(0.0, std::min<double>(a.y + a.height, b.y + b.height) - std::max(a.y, b.y));
  const double u = a.width * a.height + b.width * b.height - ix * iy;
  return u > 0 ? ix * iy / u : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = "../shared/data/dlib-faces-detection", models = "models";
  bool json = false, bf16_detector = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--data" && i + 1 < argc)
      data = argv[++i];
    else if (a == "--models" && i + 1 < argc)
      models = argv[++i];
    else if (a == "--json")
      json = true;
    else if (a == "--bf16-detector")
      bf16_detector = true;
    else {
      std::cerr << "usage: facetrail-bench-small-faces [--data DIR] [--models DIR] [--json] "
                   "[--bf16-detector]\n";
      return 2;
    }
  }
  std::map<std::string, std::vector<Box>> labels;
  {
    std::ifstream in(data + "/boxes.csv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::stringstream ss(line);
      std::string f[9];
      for (auto& x : f) std::getline(ss, x, ',');
      labels[f[0]].push_back({std::stof(f[4]), std::stof(f[5]), std::stof(f[6]), std::stof(f[7])});
    }
  }
  if (labels.empty()) {
    std::cerr << data << "/boxes.csv: no labelled boxes\n";
    return 1;
  }
  facetrail::vision::PipelineOptions plain;
  plain.models_dir = models;
  plain.templates = false;
  plain.int8_detector = !bf16_detector;
  auto tiled = plain;
  tiled.small_faces = true;
  auto p_plain = facetrail::vision::FacePipeline::Create(plain);
  auto p_tiled = facetrail::vision::FacePipeline::Create(tiled);
  if (!p_plain.ok() || !p_tiled.ok()) {
    std::cerr << "cannot load models from " << models << "\n";
    return 1;
  }
  nlohmann::json rows = nlohmann::json::array();
  for (double scale : {1.0, 0.5, 0.3}) {
    struct Tally {
      int found = 0, extra = 0;
      double ms = 0;
    } tally[2];
    int total = 0;
    double min_face = 1e9, max_face = 0;
    for (const auto& [rel, boxes] : labels) {
      auto img = facetrail::vision::LoadImageFile(data + "/" + rel);
      if (!img.ok()) {
        std::cerr << img.status().ToString() << "\n";
        return 1;
      }
      const int fw = 1920, fh = 1080, ox = 700, oy = 300;
      Image frame;
      frame.width = fw;
      frame.height = fh;
      frame.rgb.assign(static_cast<size_t>(fw) * fh * 3, 110);
      const int sw = static_cast<int>(img->image.width * scale),
                sh = static_cast<int>(img->image.height * scale);
      facetrail::vision::internal::Affine m;
      m.a = m.d = 1.0 / scale;
      Image small = facetrail::vision::internal::WarpAffineToImage(img->image, m, sw, sh);
      for (int y = 0; y < sh; ++y) {
        std::copy(small.row(y), small.row(y) + static_cast<size_t>(sw) * 3,
                  frame.row(y + oy) + static_cast<size_t>(ox) * 3);
      }
      std::vector<Box> truth;
      for (const Box& b : boxes) {
        truth.push_back({static_cast<float>(b.x * scale + ox), static_cast<float>(b.y * scale + oy),
                         static_cast<float>(b.width * scale),
                         static_cast<float>(b.height * scale)});
        min_face = std::min<double>(min_face, b.width * scale);
        max_face = std::max<double>(max_face, b.width * scale);
      }
      total += static_cast<int>(truth.size());
      for (int mode = 0; mode < 2; ++mode) {
        auto& p = mode == 0 ? *p_plain : *p_tiled;
        auto t0 = std::chrono::steady_clock::now();
        auto faces = p->Process(frame);
        auto t1 = std::chrono::steady_clock::now();
        tally[mode].ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
        if (!faces.ok()) continue;
        std::vector<bool> used(truth.size(), false);
        for (const auto& f : *faces) {
          int best = -1;
          double best_iou = 0.4;
          for (size_t k = 0; k < truth.size(); ++k) {
            double iou = Iou(f.box, truth[k]);
            if (!used[k] && iou >= best_iou) best = static_cast<int>(k), best_iou = iou;
          }
          if (best >= 0) {
            used[static_cast<size_t>(best)] = true;
            ++tally[mode].found;
          } else {
            ++tally[mode].extra;
          }
        }
      }
    }
    const double frames = static_cast<double>(labels.size());
    rows.push_back({{"scale", scale},
                    {"face_px_min", min_face},
                    {"face_px_max", max_face},
                    {"labelled", total},
                    {"plain_found", tally[0].found},
                    {"plain_unmatched", tally[0].extra},
                    {"plain_ms_per_frame", tally[0].ms / frames},
                    {"tiled_found", tally[1].found},
                    {"tiled_unmatched", tally[1].extra},
                    {"tiled_ms_per_frame", tally[1].ms / frames}});
  }
  if (json) {
    std::cout << rows.dump() << "\n";
    return 0;
  }
  std::cout << "scale  face px   labelled  plain found/unmatched  ms/frame   tiled found/unmatched "
               " ms/frame\n";
  for (const auto& r : rows) {
    std::printf("%5.2f  %3.0f-%-4.0f  %8d  %11d / %-9d %8.0f   %11d / %-9d %8.0f\n",
                r["scale"].get<double>(), r["face_px_min"].get<double>(),
                r["face_px_max"].get<double>(), r["labelled"].get<int>(),
                r["plain_found"].get<int>(), r["plain_unmatched"].get<int>(),
                r["plain_ms_per_frame"].get<double>(), r["tiled_found"].get<int>(),
                r["tiled_unmatched"].get<int>(), r["tiled_ms_per_frame"].get<double>());
  }
  return 0;
}
