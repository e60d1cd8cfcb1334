// Moving a gallery to another recognition model: the new model's templates are computed from the
// stored photos while the gallery stays in use.
//
// WHAT THIS DOES
//   Retemplate() walks the photos of bookings that are not expunged and have no template of the
//   target model yet (GalleryStore::PhotosWithout), in photo id order, runs the target model's
//   FaceExtractor on each stored photo (one per worker thread) and adds the template of the same
//   face the gallery already holds for it (the detection box with the highest overlap; enrolment's
//   choice when the photo has no template yet), one transaction per photo
//   (GalleryStore::AddTemplates).
//   * Searches go on meanwhile: they use the active model's templates and index, which this
//     never touches; the new templates only join searches when the model is activated
//     (GalleryStore::SetActiveModel, refused until every photo has one).
//   * Idempotent and resumable: a photo that already has a template of the model is skipped by
//     the query itself, so a run killed at any moment and run again finishes the job; photos
//     enrolled during a run are picked up by it (they come later in id order), or by the next.
//   * A photo that fails (unreadable, no face, the face not found again) is listed with its
//     reason and left without a template; the run goes on.
//
// THREAD SAFETY
//   Retemplate() is a blocking call; it starts and joins its own worker threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "gallery/enroll.h"
#include "gallery/gallery_store.h"

namespace facetrail::gallery {

struct RetemplateProgress {
  int64_t photos_done = 0;
  int64_t photos_total = 0;  // photos without a template when the run started (plus new ones)
  double seconds = 0;
  double photos_per_second = 0;
  double eta_seconds = 0;
  bool finished = false;
};

struct RetemplateOptions {
  // Worker threads (each holds one FaceExtractor). The default 1 leaves the other cores to the
  // searches of a running server; 0 = hardware concurrency.
  int num_workers = 1;
  int batch = 32;  // photos read from the gallery at a time
  // Called from the calling thread at most every progress_interval_s, and once at the end.
  std::function<void(const RetemplateProgress&)> on_progress;
  double progress_interval_s = 1.0;
  // Stops after this many photos (0 = all), e.g. to spread a migration over nights.
  int64_t max_photos = 0;
  // Set from another thread (a signal handler) to stop after the photos in flight.
  const std::atomic<bool>* stop = nullptr;
};

struct RetemplateFailure {
  int64_t photo_id = 0;
  std::string booking_number;
  std::string reason;
};

struct RetemplateSummary {
  int64_t photos = 0;   // photos looked at
  int64_t added = 0;    // photos that got their template
  int64_t already = 0;  // got one from another run meanwhile
  std::vector<RetemplateFailure> failures;
  int64_t remaining = 0;  // photos still without a template of the model at the end
  double seconds = 0;
  bool stopped = false;  // by max_photos or stop
};

// Fails only when the run cannot go on (store or extractor factory errors, an extractor of
// another model than `model`); photo problems are listed in the summary.
Expected<RetemplateSummary> Retemplate(GalleryStore& store,
                                       const FaceExtractorFactory& make_extractor,
                                       const ModelRef& model, const RetemplateOptions& options);

}  // namespace facetrail::gallery
