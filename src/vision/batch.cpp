#include "vision/batch.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "nn/layers.h"

namespace facetrail::vision {

ImageResult ProcessDecoded(FacePipeline& pipeline, const std::string& path,
                           const DecodedImage& img) {
  ImageResult r;
  r.path = path;
  r.width = img.image.width;
  r.height = img.image.height;
  r.exif_orientation = img.exif_orientation;
  auto faces = pipeline.Process(img.image);
  if (faces.ok()) {
    r.faces = std::move(*faces);
  } else {
    r.status = faces.status().WithContext(path);
  }
  return r;
}

Status ProcessImageFiles(const std::vector<std::string>& paths, const BatchOptions& options,
                         const std::function<void(size_t, ImageResult&&)>& sink) {
  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads =
      std::max(1, std::min<int>(threads, static_cast<int>(std::max<size_t>(paths.size(), 1))));
  // Create every worker's pipeline up front so a model error is reported once, before work.
  // With several workers, each runs its networks on one OpenMP thread (also while being built:
  // an idle OpenMP team would otherwise spin beside the workers; measured 15 % of the time).
  PipelineOptions pipeline_options = options.pipeline;
  if (threads > 1 && pipeline_options.network_threads == 0) pipeline_options.network_threads = 1;
  std::vector<std::unique_ptr<FacePipeline>> pipelines;
  for (int i = 0; i < threads; ++i) {
    FT_ASSIGN_OR_RETURN(auto p, FacePipeline::Create(pipeline_options));
    pipelines.push_back(std::move(p));
  }
  return ProcessImageFiles(paths, pipelines, options.decode, options.transform, sink);
}

Status ProcessImageFiles(const std::vector<std::string>& paths,
                         std::vector<std::unique_ptr<FacePipeline>>& pipelines,
                         const DecodeOptions& decode, const ImageTransform& transform,
                         const std::function<void(size_t, ImageResult&&)>& sink) {
  if (pipelines.empty()) return InvalidArgument("ProcessImageFiles: no pipelines");
  const int threads = static_cast<int>(pipelines.size());
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  std::map<size_t, ImageResult> done;                      // guarded by mu
  const size_t window = static_cast<size_t>(threads) * 8;  // bounds memory of out-of-order results
  size_t emitted = 0;                                      // guarded by mu

  auto worker = [&](int id) {
    if (threads > 1) nn::SetThreadsForCurrentThread(1);
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= paths.size()) return;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return i < emitted + window; });
      }
      ImageResult r;
      auto img = LoadImageFile(paths[i], decode);
      if (img.ok() && transform) {
        Expected<Image> t = transform(img->image);
        if (t.ok()) {
          img->image = std::move(t).value();
        } else {
          img = t.status().WithContext(paths[i]);
        }
      }
      if (!img.ok()) {
        r.path = paths[i];
        r.status = img.status();
      } else {
        r = ProcessDecoded(*pipelines[static_cast<size_t>(id)], paths[i], *img);
      }
      std::lock_guard lock(mu);
      done.emplace(i, std::move(r));
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(pipelines.size());
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker, i);
  for (size_t i = 0; i < paths.size(); ++i) {
    ImageResult r;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return done.count(i) > 0; });
      r = std::move(done[i]);
      done.erase(i);
    }
    sink(i, std::move(r));
    {
      std::lock_guard lock(mu);
      emitted = i + 1;
    }
    cv.notify_all();
  }
  for (auto& t : pool) t.join();
  return Status::Ok();
}

}  // namespace facetrail::vision
