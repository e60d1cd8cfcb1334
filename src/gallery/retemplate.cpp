#include "gallery/retemplate.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

namespace facetrail::gallery {

namespace {

using Clock = std::chrono::steady_clock;

double Iou(const FaceBox& a, const FaceBox& b) {
  const double ix =
      std::max(0.0, double(std::min(a.x + a.width, b.x + b.width)) - double(std::max(a.x, b.x)));
  const double iy =
      std::max(0.0, double(std::min(a.y + a.height, b.y + b.height)) - double(std::max(a.y, b.y)));
  const double inter = ix * iy;
  const double uni = double(a.width) * a.height + double(b.width) * b.height - inter;
  return uni > 0 ? inter / uni : 0;
}

// What a worker made of one photo: its new template, or why there is none (or a store error
// that stops the run).
struct Extracted {
  std::optional<NewTemplate> templ;
  std::string reason;
  Status fatal;
};

Extracted ExtractPhoto(GalleryStore& store, FaceExtractor& extractor,
                       const PhotoToRetemplate& photo) {
  Extracted out;
  auto bytes = store.ReadPhoto(photo.photo_id);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) {
      out.reason = "photo gone (expunged meanwhile)";
    } else {
      out.fatal = bytes.status();
    }
    return out;
  }
  auto faces = extractor.Extract(*bytes);
  if (!faces.ok()) {
    out.reason = "unreadable image: " + faces.status().message();
    return out;
  }
  if (faces->empty()) {
    out.reason = "no face found by the new model's pipeline";
    return out;
  }
  size_t chosen = 0;
  if (photo.box) {
    double best = 0;
    for (size_t i = 0; i < faces->size(); ++i) {
      const double iou = Iou((*faces)[i].box, *photo.box);
      if (iou > best) {
        best = iou;
        chosen = i;
      }
    }
    if (best < 0.5) {
      out.reason =
          "the enrolled face was not found again (best overlap " + std::to_string(best) + ")";
      return out;
    }
  } else {
    chosen = ChooseEnrollFace(*faces);
  }
  const ExtractedFace& f = (*faces)[chosen];
  out.templ = NewTemplate{static_cast<int>(chosen), f.box, f.quality, f.templ};
  return out;
}

}  // namespace

Expected<RetemplateSummary> Retemplate(GalleryStore& store,
                                       const FaceExtractorFactory& make_extractor,
                                       const ModelRef& model, const RetemplateOptions& options) {
  const auto start = Clock::now();
  const int workers = options.num_workers > 0
                          ? options.num_workers
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<std::unique_ptr<FaceExtractor>> extractors;
  for (int w = 0; w < workers; ++w) {
    FT_ASSIGN_OR_RETURN(auto e, make_extractor());
    if (!(e->model() == model)) {
      return InvalidArgument("the extractor makes templates of " + e->model().id + ", not " +
                             model.id);
    }
    extractors.push_back(std::move(e));
  }
  RetemplateSummary summary;
  FT_ASSIGN_OR_RETURN(int64_t total, store.CountPhotosWithout(model));
  RetemplateProgress progress;
  progress.photos_total = total;
  auto last_report = Clock::now();
  auto report = [&](bool finished) {
    if (!options.on_progress) return;
    const auto now = Clock::now();
    if (!finished &&
        std::chrono::duration<double>(now - last_report).count() < options.progress_interval_s) {
      return;
    }
    last_report = now;
    progress.seconds = std::chrono::duration<double>(now - start).count();
    progress.photos_done = summary.photos;
    progress.photos_total = std::max(progress.photos_total, summary.photos);
    progress.photos_per_second =
        progress.seconds > 0 ? static_cast<double>(summary.photos) / progress.seconds : 0;
    progress.eta_seconds = progress.photos_per_second > 0
                               ? static_cast<double>(progress.photos_total - summary.photos) /
                                     progress.photos_per_second
                               : 0;
    progress.finished = finished;
    options.on_progress(progress);
  };

  int64_t after = 0;
  for (;;) {
    if (options.stop && options.stop->load()) {
      summary.stopped = true;
      break;
    }
    int limit = std::max(1, options.batch);
    if (options.max_photos > 0) {
      const int64_t left = options.max_photos - summary.photos;
      if (left <= 0) {
        summary.stopped = true;
        break;
      }
      limit = static_cast<int>(std::min<int64_t>(limit, left));
    }
    FT_ASSIGN_OR_RETURN(auto batch, store.PhotosWithout(model, after, limit));
    if (batch.empty()) break;
    after = batch.back().photo_id;
    // Workers run the networks; this thread commits in photo id order, so a run stopped by an
    // error and run again assigns the same template ids as one that never stopped.
    std::vector<Extracted> extracted(batch.size());
    std::atomic<size_t> next{0};
    auto work = [&](size_t w) {
      for (size_t i = next++; i < batch.size(); i = next++) {
        extracted[i] = ExtractPhoto(store, *extractors[w], batch[i]);
      }
    };
    std::vector<std::thread> threads;
    for (size_t w = 1; w < extractors.size() && w < batch.size(); ++w)
      threads.emplace_back(work, w);
    work(0);
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < batch.size(); ++i) {
      const PhotoToRetemplate& photo = batch[i];
      Extracted& e = extracted[i];
      auto fatal = [&](const Status& s) {
        return s.WithContext("retemplate photo " + std::to_string(photo.photo_id));
      };
      if (!e.fatal.ok()) return fatal(e.fatal);
      if (e.templ) {
        auto added = store.AddTemplates(photo.photo_id, model, std::span(&*e.templ, 1));
        if (added.ok()) {
          ++(*added == AddPhotoResult::kAdded ? summary.added : summary.already);
        } else if (added.status().code() == StatusCode::kNotFound) {
          e.reason = "photo gone (expunged meanwhile)";
        } else if (added.status().code() == StatusCode::kInvalidArgument) {
          e.reason = added.status().message();
        } else {
          return fatal(added.status());
        }
      }
      if (!e.reason.empty())
        summary.failures.push_back({photo.photo_id, photo.booking_number, e.reason});
      ++summary.photos;
    }
    report(false);
  }
  FT_ASSIGN_OR_RETURN(summary.remaining, store.CountPhotosWithout(model));
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report(true);
  return summary;
}

}  // namespace facetrail::gallery
