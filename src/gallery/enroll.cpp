#include "gallery/enroll.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/file.h"
#include "common/sha256.h"
#include "common/text.h"
#include "gallery/internal/csv.h"
#include "gallery/internal/manifest.h"

namespace facetrail::gallery {
namespace {

using internal::ManifestError;
using internal::ManifestRow;

// How far workers may run ahead of the in-order commit (bounds memory held in photo bytes).
constexpr size_t kWindow = 64;
constexpr float kFrontalYawDeg = 30.0f;

// One photo to import, from a manifest row (read from its path) or prepared by another importer.
struct Entry {
  int line = 0;       // manifest line, or the prepared photo's position (1-based)
  std::string label;  // manifest: the photo path as written; prepared: its label
  std::string error;  // non-empty: rejected before anything is read
  bool from_manifest = false;
  BookingRecord booking;
  NewPhoto photo;  // manifest: source (= path) and capture date; prepared: everything
};

Entry FromManifest(ManifestRow row, std::optional<ManifestError> error) {
  Entry e;
  e.from_manifest = true;
  if (error) {
    e.line = error->line;
    e.label = std::move(error->photo);
    e.booking.booking_number = std::move(error->booking_number);
    e.error = std::move(error->reason);
    return e;
  }
  e.line = row.line;
  e.label = row.photo;
  e.booking = std::move(row.booking);
  e.photo.source = std::move(row.photo);
  e.photo.capture_date = std::move(row.capture_date);
  return e;
}

// The next entry, false at the end.
using NextEntry = std::function<Expected<bool>(Entry*)>;

struct Outcome {
  enum class Kind { kReject, kSkip, kReady, kFatal } kind = Kind::kReject;
  std::string reason;  // kReject: "category: detail"; kFatal: the status message
  Status fatal;
  std::vector<uint8_t> bytes;
  std::vector<NewTemplate> templates;
  std::string note;  // flag for an enrolled photo
};

class RejectsWriter {
 public:
  Status Open(const std::string& path) {
    file_ = std::fopen(path.c_str(), "w");
    if (!file_) return IoError(path + ": cannot write the rejects file");
    path_ = path;
    return Write({"line", "booking_number", "photo", "outcome", "reason"});
  }
  ~RejectsWriter() {
    if (file_) std::fclose(file_);
  }
  Status Write(const std::vector<std::string>& fields) {
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i) line += ',';
      line += CsvCell(fields[i]);  // quoted, and never a spreadsheet formula
    }
    line += '\n';
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
      return IoError(path_ + ": write failed");
    }
    return Status::Ok();
  }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
};

// The file a manifest's photo names. Unless outside photos are allowed, it must resolve (symbolic
// links followed, as far as the path exists) to a place inside `images_root`, the images folder's
// canonical path: a manifest cannot make the import read /etc/shadow or a file reached through a
// link out of the folder.
Expected<std::string> ResolvePhoto(const std::string& images_dir,
                                   const std::filesystem::path& images_root,
                                   const std::string& photo, bool allow_outside) {
  namespace fs = std::filesystem;
  const fs::path p(photo);
  if (allow_outside) return p.is_absolute() ? photo : (fs::path(images_dir) / p).string();
  const std::string refuse = "photo outside the images folder: ";
  if (p.is_absolute()) {
    return InvalidArgument(refuse + "an absolute path (--allow-photos-outside-images allows it)");
  }
  for (const fs::path& part : p) {
    if (part == "..") return InvalidArgument(refuse + "'..' in the path");
  }
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(fs::path(images_dir) / p, ec);
  if (ec) return InvalidArgument(refuse + "cannot resolve it: " + ec.message());
  const auto [root_end, real_it] =
      std::mismatch(images_root.begin(), images_root.end(), real.begin(), real.end());
  if (root_end != images_root.end()) {
    return InvalidArgument(refuse + "it leads out through a symbolic link");
  }
  return real.string();
}

// The same words whether the duplicate is found before the networks run or at commit.
std::string DuplicateReason(const PhotoInfo& p) {
  return "duplicate photo: same bytes as photo " + std::to_string(p.id) + " (booking " +
         p.booking_number + ", " + p.source + ")";
}

Outcome Prepare(GalleryStore& store, FaceExtractor& extractor, Entry& e,
                const EnrollOptions& options, const std::string& images_dir,
                const std::filesystem::path& images_root) {
  Outcome out;
  if (!e.error.empty()) {
    out.reason = e.error;
    return out;
  }
  Expected<std::vector<uint8_t>> bytes = std::move(e.photo.bytes);
  if (e.from_manifest) {
    Expected<std::string> path =
        ResolvePhoto(images_dir, images_root, e.label, options.allow_photos_outside_images);
    if (!path.ok()) {
      out.reason = path.status().message();
      return out;
    }
    // A FIFO or a device is refused before any read (ReadFileBytes opens without blocking).
    bytes = ReadFileBytes(*path, options.max_photo_bytes);
    if (!bytes.ok()) {
      out.reason = "unreadable image: " + bytes.status().message();
      return out;
    }
  } else if (bytes->size() > options.max_photo_bytes) {
    out.reason = "unreadable image: " + std::to_string(bytes->size()) +
                 " bytes, more than the limit of " + std::to_string(options.max_photo_bytes);
    return out;
  }
  auto existing = store.FindPhoto(Sha256Hex(*bytes));
  if (!existing.ok()) {
    out.kind = Outcome::Kind::kFatal;
    out.fatal = existing.status();
    return out;
  }
  if (*existing) {
    const PhotoInfo& p = **existing;
    if (p.booking_number == e.booking.booking_number && p.source == e.photo.source) {
      out.kind = Outcome::Kind::kSkip;
      out.note = p.note;
    } else {
      out.reason = DuplicateReason(p);
    }
    return out;
  }
  auto faces = extractor.Extract(*bytes);
  if (!faces.ok()) {
    out.reason = "unreadable image: " + faces.status().message();
    return out;
  }
  if (faces->empty()) {
    out.reason = "no face";
    return out;
  }
  const size_t chosen = ChooseEnrollFace(*faces);
  out.note = e.photo.note;  // the importer's flag (e.g. a profile view kept out of searches)
  if (faces->size() > 1) {
    if (!out.note.empty()) out.note += "; ";
    out.note += "several faces: " + std::to_string(faces->size()) +
                " found, enrolled the largest frontal face (face " + std::to_string(chosen) + ")";
  }
  ExtractedFace& f = (*faces)[chosen];
  out.templates.push_back(
      NewTemplate{static_cast<int>(chosen), f.box, f.quality, std::move(f.templ)});
  out.bytes = std::move(*bytes);
  out.kind = Outcome::Kind::kReady;
  return out;
}

std::string Category(const std::string& reason) {
  return reason.substr(0, reason.find(':'));
}

}  // namespace

size_t ChooseEnrollFace(std::span<const ExtractedFace> faces) {
  size_t best = 0;
  bool best_frontal = false;
  float best_area = -1;
  for (size_t i = 0; i < faces.size(); ++i) {
    const bool frontal = std::fabs(faces[i].quality.yaw_deg) <= kFrontalYawDeg;
    const float area = faces[i].box.width * faces[i].box.height;
    if ((frontal && !best_frontal) || (frontal == best_frontal && area > best_area)) {
      best = i;
      best_frontal = frontal;
      best_area = area;
    }
  }
  return best;
}

namespace {

// The import itself: workers prepare entries (read, extract faces) ahead of an in-order commit.
Expected<EnrollSummary> RunEnroll(GalleryStore& store, const FaceExtractorFactory& make_extractor,
                                  const NextEntry& next_entry, int64_t rows_total,
                                  const EnrollOptions& options, const std::string& images_dir,
                                  const std::filesystem::path& images_root,
                                  const std::string& input_name, const std::string& rejects_path) {
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const size_t num_workers = static_cast<size_t>(
      options.num_workers > 0 ? options.num_workers
                              : std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::unique_ptr<FaceExtractor>> extractors;
  for (size_t w = 0; w < num_workers; ++w) {
    auto x = make_extractor();
    if (!x.ok()) return x.status().WithContext("starting enrollment worker");
    extractors.push_back(std::move(x).value());
  }
  const ModelRef model = extractors[0]->model();

  EnrollSummary summary;
  summary.rejects_path = rejects_path;
  RejectsWriter rejects;
  FT_RETURN_IF_ERROR(rejects.Open(summary.rejects_path));

  struct Slot {
    Entry entry;
    std::optional<Outcome> outcome;
  };
  std::mutex mu;
  std::condition_variable cv;
  // Guarded by mu: slots of rows read and not yet committed, by manifest index; the next index
  // to read; whether the manifest is exhausted; the number of rows committed; stop request.
  std::map<size_t, Slot> slots;
  size_t next_index = 0;
  bool input_done = false;
  size_t committed = 0;
  bool stop = false;
  auto worker = [&](FaceExtractor& extractor) {
    for (;;) {
      size_t i = 0;
      Entry* entry = nullptr;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop || input_done || next_index < committed + kWindow; });
        if (stop || input_done) return;
        Entry e;
        auto more = next_entry(&e);
        if (!more.ok() || !*more) {
          input_done = true;
          cv.notify_all();
          return;
        }
        i = next_index++;
        Slot& slot = slots[i];
        slot.entry = std::move(e);
        entry = &slot.entry;  // std::map nodes do not move; the committer erases it after use
      }
      Outcome o = Prepare(store, extractor, *entry, options, images_dir, images_root);
      std::lock_guard lock(mu);
      slots[i].outcome = std::move(o);
      cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(extractors.size());
  for (auto& x : extractors) threads.emplace_back(worker, std::ref(*x));
  auto stop_workers = [&] {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
  };

  double last_progress = -1e9;
  auto report = [&](size_t done, bool finished) {
    if (!options.on_progress) return;
    const double s = elapsed();
    if (!finished && s - last_progress < options.progress_interval_s) return;
    last_progress = s;
    EnrollProgress p;
    p.rows_done = static_cast<int64_t>(done);
    p.rows_total = std::max(rows_total, p.rows_done);
    p.seconds = s;
    p.rows_per_second = s > 0 ? static_cast<double>(done) / s : 0;
    p.eta_seconds = p.rows_per_second > 0
                        ? static_cast<double>(p.rows_total - p.rows_done) / p.rows_per_second
                        : 0;
    p.finished = finished;
    options.on_progress(p);
  };

  Status fatal;
  size_t i = 0;
  for (;; ++i) {
    Slot slot;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] {
        auto it = slots.find(i);
        return (it != slots.end() && it->second.outcome) || (input_done && i >= next_index);
      });
      auto it = slots.find(i);
      if (it == slots.end()) break;  // every row read has been committed
      slot = std::move(it->second);
      slots.erase(it);
    }
    Entry& entry = slot.entry;
    Outcome& o = *slot.outcome;
    const int line = entry.line;
    const std::string& booking = entry.booking.booking_number;
    const std::string& photo = entry.label;
    auto reject = [&](const std::string& reason) {
      ++summary.rejected;
      ++summary.rejected_by_reason[Category(reason)];
      return rejects.Write({std::to_string(line), booking, photo, "rejected", reason});
    };
    auto flag = [&](const std::string& note) -> Status {
      if (note.empty()) return Status::Ok();
      ++summary.flagged;
      return rejects.Write({std::to_string(line), booking, photo, "flagged", note});
    };
    Status s;
    switch (o.kind) {
      case Outcome::Kind::kFatal: s = o.fatal; break;
      case Outcome::Kind::kReject: s = reject(o.reason); break;
      case Outcome::Kind::kSkip:
        ++summary.already_enrolled;
        s = flag(o.note);
        break;
      case Outcome::Kind::kReady: {
        NewPhoto photo_in = std::move(entry.photo);
        photo_in.bytes = std::move(o.bytes);
        photo_in.note = o.note;
        auto added = store.AddPhoto(entry.booking, photo_in, model, o.templates);
        if (added.ok()) {
          if (*added == AddPhotoResult::kAdded) {
            ++summary.enrolled;
          } else {
            ++summary.already_enrolled;
          }
          s = flag(o.note);
        } else if (added.status().code() == StatusCode::kAlreadyExists) {
          auto existing = store.FindPhoto(Sha256Hex(photo_in.bytes));
          s = !existing.ok() ? existing.status()
              : *existing    ? reject(DuplicateReason(**existing))
                             : reject("duplicate photo: " + added.status().message());
        } else if (added.status().code() == StatusCode::kFailedPrecondition) {
          s = reject("expunged record: " + added.status().message());
        } else if (added.status().code() == StatusCode::kInvalidArgument) {
          s = reject("malformed field: " + added.status().message());
        } else {
          s = added.status();
        }
        break;
      }
    }
    if (!s.ok()) {
      fatal = s.WithContext(input_name + (entry.from_manifest ? " line " : " item ") +
                            std::to_string(line));
      break;
    }
    {
      std::lock_guard lock(mu);
      committed = i + 1;
    }
    cv.notify_all();
    report(i + 1, false);
  }
  stop_workers();
  if (!fatal.ok()) return fatal;
  summary.rows = static_cast<int64_t>(i);
  summary.seconds = elapsed();
  report(i, true);
  return summary;
}

}  // namespace

Expected<EnrollSummary> Enroll(GalleryStore& store, const FaceExtractorFactory& make_extractor,
                               const EnrollOptions& options) {
  // Rows are streamed: at most kWindow rows (and their photos) are held at any time, so a
  // 10-million-row manifest costs no more memory than a small one. A first pass counts the rows
  // for the progress figures.
  int64_t rows_total = 0;
  {
    FT_ASSIGN_OR_RETURN(auto counter, internal::CsvReader::Open(options.manifest_path));
    std::vector<std::string> fields;
    int line = 0;
    for (;;) {
      auto r = counter->Next(&fields, &line);
      if (r.ok() && !*r) break;
      ++rows_total;
    }
    rows_total = std::max<int64_t>(0, rows_total - 1);  // the header
  }
  FT_ASSIGN_OR_RETURN(auto csv, internal::CsvReader::Open(options.manifest_path));
  FT_ASSIGN_OR_RETURN(auto manifest_reader,
                      internal::ManifestReader::Open(std::move(csv), options.manifest_path));
  auto manifest = std::make_shared<internal::ManifestReader>(std::move(manifest_reader));
  const std::string images_dir =
      !options.images_dir.empty()
          ? options.images_dir
          : std::filesystem::path(options.manifest_path).parent_path().string();
  std::error_code canonical_error;
  std::filesystem::path images_root = std::filesystem::weakly_canonical(
      images_dir.empty() ? std::filesystem::path(".") : std::filesystem::path(images_dir),
      canonical_error);
  if (canonical_error) {
    return InvalidArgument(images_dir +
                           ": cannot resolve the images folder: " + canonical_error.message());
  }
  if (images_root.filename().empty()) images_root = images_root.parent_path();  // "dir/"
  NextEntry next = [manifest](Entry* e) -> Expected<bool> {
    ManifestRow row;
    std::optional<ManifestError> error;
    FT_ASSIGN_OR_RETURN(bool more, manifest->Next(&row, &error));
    if (more) *e = FromManifest(std::move(row), std::move(error));
    return more;
  };
  const std::string rejects_path =
      !options.rejects_path.empty() ? options.rejects_path : options.manifest_path + ".rejects.csv";
  return RunEnroll(store, make_extractor, next, rows_total, options, images_dir, images_root,
                   options.manifest_path, rejects_path);
}

Expected<EnrollSummary> EnrollPrepared(GalleryStore& store,
                                       const FaceExtractorFactory& make_extractor,
                                       PhotoSource& source, const EnrollOptions& options) {
  if (options.rejects_path.empty()) {
    return InvalidArgument(source.Name() + ": no rejects file given");
  }
  auto position = std::make_shared<int>(0);
  NextEntry next = [&source, position](Entry* e) -> Expected<bool> {
    PreparedPhoto p;
    FT_ASSIGN_OR_RETURN(bool more, source.Next(&p));
    if (!more) return false;
    *e = Entry{};
    e->line = ++*position;
    e->label = std::move(p.label);
    e->error = std::move(p.reject_reason);
    e->booking = std::move(p.booking);
    e->photo = std::move(p.photo);
    return true;
  };
  return RunEnroll(store, make_extractor, next, source.Total(), options, "", {}, source.Name(),
                   options.rejects_path);
}

}  // namespace facetrail::gallery
