// Enrollment: a booking manifest (CSV) → photos and templates in the gallery.
//
// WHAT THIS DOES
//   Streams the manifest (columns: gallery/internal/manifest.h; docs/GALLERY.md; at most 64 rows
//   and their photos in memory at once), runs one FaceExtractor per worker thread over the
//   photos, and adds each photo with its template to the store in manifest order, one
//   transaction per photo.
//   * Idempotent and resumable: a photo already stored for the same booking from the same path
//     is skipped without running the networks; a run killed at any moment (SIGKILL included)
//     and run again ends with exactly the gallery an uninterrupted run gives, because rows are
//     committed in manifest order and each commit is atomic.
//   * Bad rows never stop the batch: each goes to the rejects CSV (line, booking_number, photo,
//     outcome, reason). Reasons: malformed field, unreadable image, no face, duplicate photo,
//     expunged record, conflicting booking fields. A photo with several faces enrols the largest
//     frontal face and is listed with outcome "flagged".
//
// THREAD SAFETY
//   Enroll() is a blocking call; it starts and joins its own threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "gallery/gallery_store.h"

namespace facetrail::gallery {

struct ExtractedFace {
  FaceBox box;
  TemplateQuality quality;
  std::vector<float> templ;  // unit-norm, the model's dimension
};

// Turns image bytes into faces. One instance per thread (not required to be thread-safe).
class FaceExtractor {
 public:
  virtual ~FaceExtractor() = default;
  // kInvalidArgument / kResourceExhausted for an unreadable image; an empty list for no face.
  virtual Expected<std::vector<ExtractedFace>> Extract(std::span<const uint8_t> image_bytes) = 0;
  virtual ModelRef model() const = 0;
};
using FaceExtractorFactory = std::function<Expected<std::unique_ptr<FaceExtractor>>()>;

// The face to enrol from a photo with several: the largest box among frontal faces
// (|yaw| <= 30°), or the largest box when none is frontal. requires: !faces.empty().
size_t ChooseEnrollFace(std::span<const ExtractedFace> faces);

struct EnrollProgress {
  int64_t rows_done = 0;
  int64_t rows_total = 0;  // data rows in the manifest
  double seconds = 0;
  double rows_per_second = 0;
  double eta_seconds = 0;
  bool finished = false;
};

struct EnrollOptions {
  std::string manifest_path;
  std::string images_dir;  // photo paths are relative to it; default: the manifest's folder
  // Photo paths must stay inside images_dir (issue 14 §6): no absolute path, no "..", no
  // symbolic link that leads out; such rows are rejected ("photo outside the images folder").
  // The operator may allow them explicitly.
  bool allow_photos_outside_images = false;
  std::string rejects_path;  // default: <manifest>.rejects.csv
  int num_workers = 0;       // 0 = hardware concurrency (each holds one FaceExtractor)
  size_t max_photo_bytes = size_t{64} << 20;
  // Called from the committing thread at most every progress_interval_s, and once at the end.
  std::function<void(const EnrollProgress&)> on_progress;
  double progress_interval_s = 0.5;
};

struct EnrollSummary {
  int64_t rows = 0;
  int64_t enrolled = 0;          // new photos stored in this run
  int64_t already_enrolled = 0;  // skipped: stored by an earlier run
  int64_t flagged = 0;           // enrolled, listed in the rejects file (several faces)
  int64_t rejected = 0;
  std::map<std::string, int64_t> rejected_by_reason;  // "no face" → 3
  double seconds = 0;
  std::string rejects_path;
};

// Runs the import. Fails only when the import cannot run at all (manifest unreadable or with a
// bad header, store error, extractor factory failure); row problems go to the rejects file.
Expected<EnrollSummary> Enroll(GalleryStore& store, const FaceExtractorFactory& make_extractor,
                               const EnrollOptions& options);

// ---- Photos prepared by another importer (interop/: ANSI/NIST-ITL transactions) --------------

// One photo read by an importer that is not the CSV manifest, with its booking.
struct PreparedPhoto {
  std::string label;  // names it in the rejects file: "a.an2 record 2 (Type-10)"
  BookingRecord booking;
  // The bytes (not yet checked as an image), capture date, source (with the bytes' SHA-256 the
  // key that makes a re-run change nothing), note, searchable flag and origin fields.
  NewPhoto photo;
  // Non-empty: refused before any face extraction ("category: detail", e.g. "no face record:
  // the transaction has no Type-10 record"); the other fields may then be partly empty.
  std::string reject_reason;
};

// Where EnrollPrepared takes its photos from, in order. Next() is called under the import's
// lock (one call at a time); returns false at the end. An error stops the import.
class PhotoSource {
 public:
  virtual ~PhotoSource() = default;
  virtual Expected<bool> Next(PreparedPhoto* photo) = 0;
  // How many photos Next() will give (for progress), as known before the first call.
  virtual int64_t Total() = 0;
  // Names the input in errors and as the rejects file's default ("<name>.rejects.csv").
  virtual std::string Name() const = 0;
};

// Enrols the photos of `source` with the guarantees of Enroll (in order, one transaction per
// photo, idempotent by source and photo hash, resumable, rejects with reasons). A photo whose
// NewPhoto::note is set, or that is not searchable, is also listed as "flagged" in the rejects
// file. options.manifest_path, images_dir and allow_photos_outside_images are not used; the
// rejects file is options.rejects_path (required).
Expected<EnrollSummary> EnrollPrepared(GalleryStore& store,
                                       const FaceExtractorFactory& make_extractor,
                                       PhotoSource& source, const EnrollOptions& options);

}  // namespace facetrail::gallery
