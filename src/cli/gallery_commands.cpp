// facetrail enroll | gallery show|seal|unseal|expunge|stats | search: the booking-photo gallery
// and exact 1:N search. Everything here is argument parsing and printing; the work is done by
// gallery/ (enroll.h, gallery_index.h, face_search.h) and, once a database is under
// accountability, by the audited use cases of service/ (gallery_admin.h, server_queries.h).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "cli/accountability_cli.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/file.h"
#include "common/json_text.h"
#include "common/progress.h"
#include "gallery/enroll.h"
#include "gallery/face_search.h"
#include "gallery/gallery_index.h"
#include "gallery/gallery_store.h"
#include "interop/import.h"
#include "service/gallery_admin.h"
#include "service/server_queries.h"

namespace facetrail::cli {
namespace {

using gallery::GalleryStore;

struct EnrollArgs {
  std::string db, manifest, images, rejects, models_dir, user;
  std::vector<std::string> ansi_nist;  // transaction files and folders (instead of --manifest)
  std::string watch;                   // a drop folder of transactions (enroll --watch)
  bool watch_once = false;
  int poll_seconds = 2;
  std::string mapping;  // Type-2 mapping JSON (default: the FBI EBTS fields)
  std::string model;    // empty: the gallery's active model, or the default for a new gallery
  int threads = 0;
  bool no_snapshot = false;
  std::string snapshot_dir;  // gallery::StoreOptions::snapshot_dir
  bool allow_outside_images = false;
  bool json = false;  // the summary (and, with --watch, one line per file) as JSON on stdout
};

struct GalleryArgs {
  std::string db, booking, user, reason;
  std::string snapshot_dir;  // gallery::StoreOptions::snapshot_dir
  bool json = false;
  std::string ansi_nist_out, mapping;  // gallery export
};

// The list length of a search on a development gallery (no users, no policy) without --top.
constexpr int kDevelopmentTop = 20;

struct SearchArgs {
  std::string db, probe, models_dir;
  std::string snapshot_dir;  // gallery::StoreOptions::snapshot_dir
  int face = -1;
  int top = 0;  // 0: the policy's list length (accountable), kDevelopmentTop (development)
  std::optional<float> min_score;  // development only; default: the model's calibrated threshold
  bool json = false;
};

std::string FormatSeconds(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = std::lround(s);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

// A bar with rate and ETA on a terminal; a plain line every 10 s otherwise (logs, pipes).
std::function<void(const gallery::EnrollProgress&)> ProgressPrinter() {
  const bool tty = isatty(STDERR_FILENO) != 0;
  auto last_line = std::make_shared<double>(-1e9);
  return [tty, last_line](const gallery::EnrollProgress& p) {
    const double frac =
        p.rows_total > 0 ? static_cast<double>(p.rows_done) / static_cast<double>(p.rows_total) : 1;
    char text[160];
    std::snprintf(text, sizeof text, "%lld/%lld rows (%.1f%%), %.1f rows/s, elapsed %s, %s",
                  static_cast<long long>(p.rows_done), static_cast<long long>(p.rows_total),
                  100 * frac, p.rows_per_second, FormatSeconds(p.seconds).c_str(),
                  EtaText(p.seconds, p.rows_done, p.rows_total).c_str());
    if (tty) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(frac * kWidth);
      std::cerr << "\r[" << std::string(static_cast<size_t>(filled), '#')
                << std::string(static_cast<size_t>(kWidth - filled), '.') << "] " << text
                << "\x1b[K" << (p.finished ? "\n" : "") << std::flush;
    } else if (p.finished || p.seconds - *last_line >= 10) {
      *last_line = p.seconds;
      std::cerr << "enroll: " << text << '\n';
    }
  };
}

Expected<std::unique_ptr<GalleryStore>> OpenExisting(const std::string& db,
                                                     const std::string& snapshot_dir) {
  return GalleryStore::Open(db, {.create_if_missing = false, .snapshot_dir = snapshot_dir});
}

// What `enroll --json` prints: the counts of one import (a contract for scripts).
nlohmann::json EnrollSummaryJson(const gallery::EnrollSummary& s) {
  nlohmann::json by_reason = nlohmann::json::object();
  for (const auto& [reason, n] : s.rejected_by_reason) by_reason[reason] = n;
  return {{"rows", s.rows},
          {"enrolled", s.enrolled},
          {"already_enrolled", s.already_enrolled},
          {"flagged", s.flagged},
          {"rejected", s.rejected},
          {"rejected_by_reason", by_reason},
          {"rejects_path",
           s.rejected + s.flagged > 0 ? nlohmann::json(s.rejects_path) : nlohmann::json(nullptr)},
          {"seconds", s.seconds}};
}

volatile std::sig_atomic_t g_stop_watching = 0;
void StopWatching(int /*signal*/) {
  g_stop_watching = 1;
}

// enroll --watch DIR: a folder a booking system drops transactions into. Every --poll seconds,
// each transaction file (interop::ListTransactionFiles) whose size and modification time have
// not changed since the previous look (it may still be being written) is imported alone, then
// moved to DIR/done/ (a photo of it is in the gallery, now or from before) or DIR/rejected/ with
// NAME.reason.txt (the rejects file of its import: why nothing of it was enrolled). A file that
// cannot be moved stops the watch (it would be imported again and again). SIGINT or SIGTERM
// stops it between files; --once makes one pass over what is there and returns.
int WatchFolder(const EnrollArgs& a, const gallery::EnrollOptions& base,
                const std::function<Expected<gallery::EnrollSummary>(
                    const std::vector<std::string>&, const gallery::EnrollOptions&)>& import) {
  namespace fs = std::filesystem;
  const fs::path dir(a.watch);
  std::error_code ec;
  fs::create_directories(dir / "done", ec);
  if (!ec) fs::create_directories(dir / "rejected", ec);
  if (ec) {
    return Finish(IoError(a.watch + ": cannot make done/ and rejected/: " + ec.message()), a.json);
  }
  std::signal(SIGINT, StopWatching);
  std::signal(SIGTERM, StopWatching);
  std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> seen;
  for (bool first = true; !g_stop_watching; first = false) {
    auto files = interop::ListTransactionFiles({a.watch});
    if (!files.ok()) return Finish(files.status(), a.json);
    std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> now;
    for (const std::string& f : *files) {
      if (g_stop_watching) break;
      std::error_code e1, e2;
      const auto state = std::make_pair(fs::file_size(f, e1), fs::last_write_time(f, e2));
      if (e1 || e2) continue;  // gone meanwhile
      now[f] = state;
      // Still being written? Wait for a look at which it has not changed (--once: take it).
      if (!a.watch_once && (first || seen.count(f) == 0 || seen[f] != state)) continue;
      const std::string name = fs::path(f).filename().string();
      gallery::EnrollOptions o = base;
      o.on_progress = nullptr;
      o.rejects_path = (dir / "rejected" / (name + ".reason.txt")).string();
      auto s = import({f}, o);
      if (!s.ok()) return Finish(s.status().WithContext("enroll --watch " + f), a.json);
      const bool in_gallery = s->enrolled + s->already_enrolled > 0;
      const fs::path target = dir / (in_gallery ? "done" : "rejected") / name;
      if (in_gallery) fs::remove(o.rejects_path, ec);  // flagged/partly rejected: see the audit
      fs::rename(f, target, ec);
      if (ec) {
        return Finish(IoError(f + ": cannot move to " + target.string() + ": " + ec.message()),
                      a.json);
      }
      now.erase(f);
      if (a.json) {
        nlohmann::json line = EnrollSummaryJson(*s);
        line["file"] = name;
        line["moved_to"] = target.string();
        std::cout << line.dump() << std::endl;
      } else {
        std::cout << (in_gallery ? "done: " : "rejected: ") << name << " (" << s->enrolled
                  << " enrolled, " << s->already_enrolled << " already, " << s->rejected
                  << " rejected)" << std::endl;
      }
    }
    seen = std::move(now);
    if (a.watch_once) break;
    for (int i = 0; i < a.poll_seconds * 10 && !g_stop_watching; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return 0;
}

// Under accountability (users exist, or --user given) the import runs as that user through
// service::EnrollBookings (supervisor or admin, audited); on a development gallery, directly.
int RunEnroll(const EnrollArgs& a) {
  Expected<bool> under = a.user.empty() && DatabaseExists(a.db) ? UnderAccountability(a.db) : false;
  if (!under.ok()) return Finish(under.status(), a.json);
  const std::string input = !a.watch.empty()      ? "ansi-nist:" + a.watch
                            : a.ansi_nist.empty() ? "manifest:" + a.manifest
                                                  : std::string("ansi-nist");
  if (*under) {
    return Finish(RefuseWithoutUser(a.db, "gallery.refused", input, "enroll",
                                    "this database is under accountability ('admin init' ran): "
                                    "enrolment needs --user (a supervisor or an admin)"),
                  false);
  }
  std::optional<Session> session;
  if (!a.user.empty()) {
    auto s = OpenAndLogin(a.db, a.user);
    if (!s.ok()) return Finish(s.status(), a.json);
    session = std::move(*s);
  }
  const gallery::StoreOptions store_options{.create_if_missing = true,
                                            .snapshot_dir = a.snapshot_dir};
  auto store = session ? GalleryStore::OpenOn(*session->db, store_options)
                       : GalleryStore::Open(a.db, store_options);
  if (!store.ok()) return Finish(store.status(), a.json);
  // The gallery's active model; --model only chooses the model of a new gallery (another model
  // joins an existing gallery through `gallery retemplate` and `admin model activate`).
  vision::PipelineOptions requested;
  requested.models_dir = a.models_dir;
  if (!a.model.empty()) requested.model = a.model;
  auto po = gallery::ActiveModelPipeline(**store, requested);
  if (!po.ok()) return Finish(po.status(), a.json);
  if (!a.model.empty() && po->model != requested.model) {
    auto want = vision::FindModel(a.models_dir, a.model);
    if (!want.ok()) return Finish(want.status(), a.json);
    if (want->name != po->model) {
      return Finish(
          FailedPrecondition(
              "the gallery searches with model '" + po->model + "', not '" + want->name +
              "': enrol with it (omit --model), or migrate the gallery with `facetrail gallery "
              "retemplate --model " +
              want->name + "` and `facetrail admin model activate " + want->name + "`"),
          a.json);
    }
  }
  gallery::EnrollOptions o;
  o.manifest_path = a.manifest;
  o.images_dir = a.images;
  o.allow_photos_outside_images = a.allow_outside_images;
  o.rejects_path = a.rejects;
  o.num_workers = a.threads;
  o.on_progress = ProgressPrinter();
  auto factory = gallery::PipelineExtractorFactory(*po);
  Expected<gallery::EnrollSummary> summary = Internal("no import ran");
  // ANSI/NIST-ITL transactions (interop/import.h): one photo per Type-10 face record.
  auto mapping = a.mapping.empty()
                     ? Expected<interop::BookingMapping>(interop::DefaultEbtsMapping())
                     : interop::LoadBookingMapping(a.mapping);
  if (!mapping.ok()) return Finish(mapping.status(), a.json);
  auto import_files = [&](const std::vector<std::string>& files,
                          const gallery::EnrollOptions& options) {
    auto source = interop::MakeAnsiNistSource(files, *mapping);
    return session ? service::EnrollPreparedPhotos(*session->ctx, session->actor, factory, *source,
                                                   files, "ansi-nist", options)
                   : gallery::EnrollPrepared(**store, factory, *source, options);
  };
  if (!a.watch.empty()) return WatchFolder(a, o, import_files);
  if (a.ansi_nist.empty()) {
    summary = session ? service::EnrollBookings(*session->ctx, session->actor, factory, o)
                      : gallery::Enroll(**store, factory, o);
  } else {
    auto files = interop::ListTransactionFiles(a.ansi_nist);
    if (!files.ok()) return Finish(files.status(), a.json);
    if (o.rejects_path.empty()) o.rejects_path = a.db + ".ansi-nist.rejects.csv";
    summary = import_files(*files, o);
  }
  if (!summary.ok()) {
    const Status& e = summary.status();
    return Finish(service::IsRefusal(e) ? e : e.WithContext("enroll"), a.json);
  }
  const auto& s = *summary;
  nlohmann::json result = EnrollSummaryJson(s);
  if (!a.json) {
    std::cout << "rows: " << s.rows << "\nenrolled: " << s.enrolled
              << "\nalready enrolled: " << s.already_enrolled << "\nflagged: " << s.flagged
              << "\nrejected: " << s.rejected << '\n';
    for (const auto& [reason, n] : s.rejected_by_reason) {
      std::cout << "  " << reason << ": " << n << '\n';
    }
    std::cout << "time: " << std::fixed << std::setprecision(1) << s.seconds << " s ("
              << (s.seconds > 0 ? static_cast<double>(s.rows) / s.seconds : 0) << " rows/s)\n";
    if (s.rejected + s.flagged > 0) std::cout << "rejects: " << s.rejects_path << '\n';
  }
  if (!a.no_snapshot) {
    // Rewrite the search snapshot with this run's templates now (an offline batch may take the
    // time), so that searches start from the file rather than from an in-memory delta.
    auto extractor = factory();
    if (!extractor.ok()) return Finish(extractor.status(), a.json);
    gallery::GalleryIndexOptions index_options;
    index_options.max_delta_templates = 0;
    auto index = gallery::GalleryIndex::Open(**store, (*extractor)->model(), index_options);
    if (!index.ok())
      return Finish(index.status().WithContext("updating the search snapshot"), a.json);
    result["snapshot"] = {{"searchable", (*index)->num_active()},
                          {"templates", (*index)->size()},
                          {"path", (*index)->snapshot_path()}};
    if (!a.json) {
      std::cout << "snapshot: " << (*index)->num_active() << " searchable of " << (*index)->size()
                << " templates, " << (*index)->snapshot_path() << '\n';
    }
  }
  if (a.json) std::cout << result.dump() << '\n';
  return 0;
}

nlohmann::json BookingJson(const gallery::BookingRecord& b) {
  auto opt = [](const std::optional<std::string>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"booking_number", b.booking_number},
          {"name", b.name},
          {"dob", opt(b.dob)},
          {"sex", opt(b.sex)},
          {"race_ethnicity", opt(b.race_ethnicity)},
          {"booking_date", opt(b.booking_date)},
          {"agency", opt(b.agency)},
          {"charge", opt(b.charge)},
          {"status", gallery::RecordStatusName(b.status)}};
}

// The booking view: through service::LookUpBooking (examiner or supervisor, audited
// "gallery.view") under accountability; read directly from a development gallery.
Expected<service::BookingView> LoadBooking(const GalleryArgs& a) {
  FT_ASSIGN_OR_RETURN(bool under, a.user.empty() ? UnderAccountability(a.db) : true);
  if (under && a.user.empty()) {
    return RefuseWithoutUser(a.db, "gallery.refused", "booking:" + a.booking, "view",
                             "this database is under accountability ('admin init' ran): looking "
                             "up a booking needs --user (an examiner or a supervisor)");
  }
  if (under) {
    FT_ASSIGN_OR_RETURN(Session session, OpenAndLogin(a.db, a.user));
    FT_ASSIGN_OR_RETURN(
        auto store, GalleryStore::OpenOn(
                        *session.db, {.create_if_missing = true, .snapshot_dir = a.snapshot_dir}));
    return service::LookUpBooking(*session.ctx, session.actor, *store, a.booking);
  }
  FT_ASSIGN_OR_RETURN(auto store, OpenExisting(a.db, a.snapshot_dir));
  service::BookingView view;
  FT_ASSIGN_OR_RETURN(view.record, store->GetBooking(a.booking));
  FT_ASSIGN_OR_RETURN(view.photos, store->ListPhotos(a.booking));
  return view;
}

// gallery export --ansi-nist OUT: the booking and its photos as a Type-10 transaction
// (interop/import.h). Development galleries only for now: under accountability a disclosure of
// photos needs its own role check and audit entry, which is not built yet, so it is refused.
int RunExport(const GalleryArgs& a) {
  if (!DatabaseExists(a.db)) return PrintError(NotFound(a.db + ": no gallery database"));
  auto under = UnderAccountability(a.db);
  if (!under.ok()) return PrintError(under.status());
  if (*under) {
    return PrintError(FailedPrecondition(
        "this database is under accountability ('admin init' ran): exporting photos is not "
        "available there yet (it needs its own role check and audit entry)"));
  }
  auto mapping = a.mapping.empty()
                     ? Expected<interop::BookingMapping>(interop::DefaultEbtsMapping())
                     : interop::LoadBookingMapping(a.mapping);
  if (!mapping.ok()) return PrintError(mapping.status());
  auto store = OpenExisting(a.db, a.snapshot_dir);
  if (!store.ok()) return PrintError(store.status());
  auto booking = (*store)->GetBooking(a.booking);
  if (!booking.ok()) return PrintError(booking.status());
  auto infos = (*store)->ListPhotos(a.booking);
  if (!infos.ok()) return PrintError(infos.status());
  std::vector<interop::PhotoToExport> photos;
  for (const gallery::PhotoInfo& info : *infos) {
    auto bytes = (*store)->ReadPhoto(info.id);
    if (!bytes.ok()) return PrintError(bytes.status());
    photos.push_back({info, std::move(*bytes)});
  }
  auto out = interop::ExportTransaction(*booking, photos, *mapping);
  if (!out.ok()) return PrintError(out.status());
  Status written = WriteFileAtomically(a.ansi_nist_out, *out);
  if (!written.ok()) return PrintError(written);
  std::cout << "wrote " << a.ansi_nist_out << ": booking " << a.booking << ", " << photos.size()
            << " Type-10 record(s), " << out->size() << " bytes\n";
  return 0;
}

int RunShow(const GalleryArgs& a) {
  if (!DatabaseExists(a.db)) return PrintError(NotFound(a.db + ": no gallery database"));
  auto view = LoadBooking(a);
  if (!view.ok()) return Finish(view.status(), a.json);
  nlohmann::json j = BookingJson(view->record);
  j["photos"] = nlohmann::json::array();
  for (const auto& p : view->photos) {
    j["photos"].push_back({{"photo_id", p.id},
                           {"sha256", p.sha256},
                           {"size_bytes", p.size_bytes},
                           {"capture_date", p.capture_date ? nlohmann::json(*p.capture_date)
                                                           : nlohmann::json(nullptr)},
                           {"source", p.source},
                           {"templates", p.num_templates},
                           {"note", p.note},
                           {"searchable", p.searchable}});
    if (!p.origin.empty()) {
      // What the source said that no booking field holds (ANSI/NIST-ITL: unmapped Type-2 fields,
      // Type-10 attributes).
      j["photos"].back()["origin"] = nlohmann::json::parse(p.origin, nullptr, false);
    }
  }
  if (a.json) {
    std::cout << JsonText(j) << '\n';
    return 0;
  }
  for (const auto& [k, v] : j.items()) {
    if (k != "photos") {
      std::cout << k << ": "
                << (v.is_null()     ? ""
                    : v.is_string() ? v.get<std::string>()
                                    : JsonText(v))
                << '\n';
    }
  }
  for (const auto& p : j["photos"]) {
    std::cout << "photo " << p["photo_id"] << ": " << p["source"].get<std::string>() << ", "
              << p["size_bytes"] << " bytes, sha256 " << p["sha256"].get<std::string>() << ", "
              << p["templates"] << " template(s)"
              << (p["searchable"].get<bool>() ? "" : ", not searched")
              << (p["note"].get<std::string>().empty() ? "" : ", " + p["note"].get<std::string>())
              << '\n';
    if (p.contains("origin")) std::cout << "  origin: " << JsonText(p["origin"]) << '\n';
  }
  return 0;
}

// Development gallery (no users): the store directly. Under accountability: a supervisor through
// service::ChangeBooking, which commits the change with its audit entry.
Status SetStatus(const GalleryArgs& a, service::BookingChange change) {
  FT_ASSIGN_OR_RETURN(bool under, a.user.empty() ? UnderAccountability(a.db) : true);
  const std::string name(service::BookingChangeName(change));
  if (under && a.user.empty()) {
    return RefuseWithoutUser(a.db, "gallery.refused", "booking:" + a.booking, name,
                             "this database is under accountability ('admin init' ran): " + name +
                                 " needs --user (a supervisor) and --reason");
  }
  if (under) {
    FT_ASSIGN_OR_RETURN(Session session, OpenAndLogin(a.db, a.user));
    FT_RETURN_IF_ERROR(
        service::ChangeBooking(*session.ctx, session.actor, a.booking, change, a.reason,
                               {.create_if_missing = false, .snapshot_dir = a.snapshot_dir})
            .status());
    return Status::Ok();
  }
  FT_ASSIGN_OR_RETURN(auto store, OpenExisting(a.db, a.snapshot_dir));
  Status s = change == service::BookingChange::kExpunge
                 ? store->Expunge(a.booking)
                 : store->SetStatus(a.booking, change == service::BookingChange::kSeal
                                                   ? gallery::RecordStatus::kSealed
                                                   : gallery::RecordStatus::kActive);
  FT_RETURN_IF_ERROR(s.WithContext(name + " " + a.booking));
  // The snapshots still hold the expunged templates; drop them (rebuilt at the next search).
  if (change == service::BookingChange::kExpunge) {
    FT_RETURN_IF_ERROR(gallery::RemoveSnapshots(*store).WithContext("expunge " + a.booking));
  }
  return Status::Ok();
}

int RunSetStatus(const GalleryArgs& a, service::BookingChange change) {
  if (!DatabaseExists(a.db)) return Finish(NotFound(a.db + ": no gallery database"), a.json);
  Status s = SetStatus(a, change);
  if (!s.ok()) return Finish(s, a.json);
  const std::string status = change == service::BookingChange::kSeal     ? "sealed"
                             : change == service::BookingChange::kUnseal ? "active"
                                                                         : "expunged";
  return Done(a.json, {{"booking_number", a.booking}, {"status", status}},
              a.booking + ": " + status + "\n");
}

int RunStats(const GalleryArgs& a) {
  auto store = OpenExisting(a.db, a.snapshot_dir);
  if (!store.ok()) return PrintError(store.status());
  auto s = (*store)->Stats();
  if (!s.ok()) return PrintError(s.status());
  nlohmann::json models = nlohmann::json::array();
  for (const auto& [m, n] : s->templates_per_model) {
    models.push_back({{"model_id", m.id},
                      {"model_version", m.version},
                      {"dim", m.dim},
                      {"templates", n},
                      {"active", s->active_model && *s->active_model == m}});
  }
  nlohmann::json j = {{"bookings_active", s->bookings_active},
                      {"bookings_sealed", s->bookings_sealed},
                      {"bookings_expunged", s->bookings_expunged},
                      {"photos", s->photos},
                      {"photo_bytes", s->photo_bytes},
                      {"templates", s->templates},
                      {"searchable_templates", s->searchable_templates},
                      {"change_counter", s->change_counter},
                      {"models", models}};
  if (a.json) {
    std::cout << JsonText(j) << '\n';
  } else {
    for (const auto& [k, v] : j.items()) {
      if (k != "models") std::cout << k << ": " << JsonText(v) << '\n';
    }
    for (const auto& m : models) {
      std::cout << "model " << m["model_id"].get<std::string>() << " v" << m["model_version"]
                << " (" << m["dim"] << " numbers): " << m["templates"] << " templates"
                << (m["active"].get<bool>() ? ", active (searches use it)" : "") << '\n';
    }
  }
  return 0;
}

int RunSearch(const SearchArgs& a) {
  auto store = OpenExisting(a.db, a.snapshot_dir);
  if (!store.ok()) return PrintError(store.status());
  auto bytes = ReadFileBytes(a.probe);
  if (!bytes.ok()) return PrintError(bytes.status());
  auto active = (*store)->ActiveModel();
  if (!active.ok()) return PrintError(active.status());
  if (!*active) return PrintError(FailedPrecondition(a.db + ": the gallery holds no photos yet"));
  vision::PipelineOptions base;
  base.models_dir = a.models_dir;
  auto po = gallery::ActiveModelPipeline(**store, base);
  if (!po.ok()) return PrintError(po.status());
  auto pipeline = vision::FacePipeline::Create(*po);
  if (!pipeline.ok()) return PrintError(pipeline.status());
  // The candidate threshold: given, else the one `facetrail eval` calibrated for this model.
  const auto& calibration = (*pipeline)->model_manifest().calibration;
  if (!a.min_score && !calibration) {
    return PrintError(FailedPrecondition(
        "model '" + (*pipeline)->model_manifest().name +
        "' has no calibrated candidate threshold: give --min-score, or calibrate it"));
  }
  const float min_score =
      a.min_score ? *a.min_score : static_cast<float>(calibration->candidate.score);
  auto index = gallery::GalleryIndex::Open(**store, gallery::ModelOf(**pipeline));
  if (!index.ok()) return PrintError(index.status());
  gallery::ProbeSearchOptions o;
  o.face = a.face;
  const int top = a.top > 0 ? a.top : kDevelopmentTop;
  o.search.k = top;
  o.search.min_score = min_score;
  auto r = gallery::SearchProbe(**pipeline, **index, *bytes, o);
  if (!r.ok()) return PrintError(r.status().WithContext("search " + a.probe));
  if (a.json) {
    nlohmann::json c = nlohmann::json::array();
    for (const auto& x : r->candidates) {
      c.push_back({{"rank", x.rank},
                   {"booking_number", x.owner.booking_number},
                   {"name", x.owner.name},
                   {"booking_date", x.owner.booking_date ? nlohmann::json(*x.owner.booking_date)
                                                         : nlohmann::json(nullptr)},
                   {"score", x.score},
                   {"photo_id", x.owner.photo_id},
                   {"template_id", x.owner.template_id}});
    }
    nlohmann::json j = {
        {"probe", a.probe},
        {"num_faces", r->num_faces},
        {"face", r->face},
        {"box",
         {{"x", r->box.x}, {"y", r->box.y}, {"width", r->box.width}, {"height", r->box.height}}},
        {"top", top},
        {"min_score", min_score},
        {"model", {{"id", (*index)->model().id}, {"version", (*index)->model().version}}},
        {"gallery_templates", (*index)->num_active()},
        {"candidates", c}};
    std::cout << JsonText(j) << '\n';
    return 0;
  }
  std::cout << "probe " << a.probe << ": " << r->num_faces << " face(s), searched face " << r->face
            << " against " << (*index)->num_active() << " templates\n";
  if (r->candidates.empty()) {
    std::cout << "no candidate above the threshold (" << min_score << ")\n";
    return 0;
  }
  std::cout
      << "rank  booking          name                            booking date  score   photo\n";
  for (const auto& x : r->candidates) {
    std::cout << std::left << std::setw(6) << x.rank << std::setw(17) << x.owner.booking_number
              << std::setw(32) << x.owner.name << std::setw(14) << x.owner.booking_date.value_or("")
              << std::fixed << std::setprecision(4) << std::setw(8) << x.score << x.owner.photo_id
              << '\n';
  }
  std::cout << "Investigative lead only: not an identification.\n";
  return 0;
}

}  // namespace

void RegisterGalleryCommands(CLI::App& app, CommandResult& result) {
  static EnrollArgs enroll_args;
  static GalleryArgs gallery_args;
  static SearchArgs search_args;

  auto* enroll = app.add_subcommand(
      "enroll", "Enroll booking photos from a CSV manifest or ANSI/NIST-ITL transactions");
  AddDatabaseOption(enroll, enroll_args.db,
                    "Gallery database (a SQLite file, created if missing, or postgresql://…)");
  AddSnapshotDirOption(enroll, enroll_args.snapshot_dir);
  auto* manifest_option =
      enroll->add_option("--manifest", enroll_args.manifest,
                         "CSV with a header: booking_number, photo, name, dob, sex, "
                         "race_ethnicity, booking_date, agency, charge, capture_date");
  auto* ansi_nist_option =
      enroll
          ->add_option("--ansi-nist", enroll_args.ansi_nist,
                       "ANSI/NIST-ITL transaction files, traditional or NIEM XML, or folders of "
                       "them (.an2 .eft .ebts .nist .int .xml): one photo per Type-10 face "
                       "record (docs/INTEROP.md)")
          ->excludes(manifest_option);
  auto* watch_option =
      enroll
          ->add_option("--watch", enroll_args.watch,
                       "A folder a booking system drops ANSI/NIST-ITL transactions into: each new "
                       "file is imported, then moved to done/ or rejected/ (with a reason file)")
          ->excludes(manifest_option)
          ->excludes(ansi_nist_option);
  enroll
      ->add_flag("--once", enroll_args.watch_once,
                 "With --watch: one pass over the files there, then return")
      ->needs(watch_option);
  enroll->add_option("--poll", enroll_args.poll_seconds, "With --watch: seconds between looks")
      ->check(CLI::Range(1, 3600))
      ->needs(watch_option);
  enroll->add_flag("--json", enroll_args.json,
                   "The summary as one JSON object on stdout (with --watch: one per file); "
                   "progress stays on stderr");
  enroll->add_option("--mapping", enroll_args.mapping,
                     "With --ansi-nist or --watch: JSON file mapping Type-2 fields to booking "
                     "fields (default: the FBI EBTS fields)");
  enroll->callback([&result] {
    if (enroll_args.manifest.empty() && enroll_args.ansi_nist.empty() &&
        enroll_args.watch.empty()) {
      throw CLI::RequiredError("--manifest, --ansi-nist or --watch");
    }
    result.exit_code = RunEnroll(enroll_args);
  });
  enroll->add_option("--images", enroll_args.images,
                     "Folder the photo paths are relative to (default: the manifest's)");
  enroll->add_flag("--allow-photos-outside-images", enroll_args.allow_outside_images,
                   "Let manifest photo paths be absolute, contain '..' or lead out of --images "
                   "through a symbolic link (refused by default)");
  enroll->add_option("--rejects", enroll_args.rejects,
                     "Rejects CSV (default: MANIFEST.rejects.csv; with --ansi-nist "
                     "DB.ansi-nist.rejects.csv)");
  enroll->add_option("--threads", enroll_args.threads, "Workers, one pipeline each (0 = per core)")
      ->check(CLI::Range(0, 256));
  enroll->add_option("--models", enroll_args.models_dir, kModelsOptionHelp)
      ->envname("FACETRAIL_MODELS");
  enroll->add_option("--model", enroll_args.model,
                     "Recognition model of a new gallery (default fr_feature); an existing "
                     "gallery enrols with its active model");
  enroll->add_option("--user", enroll_args.user,
                     "Enrol as this user (a supervisor or admin); required once 'admin init' "
                     "ran. Password from FACETRAIL_PASSWORD or the terminal");
  enroll->add_flag("--no-snapshot", enroll_args.no_snapshot,
                   "Do not update the search snapshot at the end");

  auto* g = app.add_subcommand("gallery", "Inspect and manage booking records");
  g->require_subcommand(1);
  auto add_db = [&](CLI::App* c) {
    AddDatabaseOption(c, gallery_args.db, "Gallery database");
    AddSnapshotDirOption(c, gallery_args.snapshot_dir);
  };
  auto* show = g->add_subcommand("show", "A booking record and its photos");
  add_db(show);
  show->add_option("booking", gallery_args.booking, "Booking number")->required();
  show->add_flag("--json", gallery_args.json, "JSON output");
  show->add_option("--user", gallery_args.user,
                   "Look up as this user (examiner or supervisor); required once 'admin init' ran");
  show->callback([&result] { result.exit_code = RunShow(gallery_args); });
  for (service::BookingChange change :
       {service::BookingChange::kSeal, service::BookingChange::kUnseal,
        service::BookingChange::kExpunge}) {
    const std::string act(service::BookingChangeName(change));
    auto* c = g->add_subcommand(
        act, act == "seal"     ? "Seal a record: it leaves every search at once"
             : act == "unseal" ? "Unseal a record: it returns to search"
                               : "Expunge a record: delete photos and templates, keep the booking "
                                 "number and photo hashes");
    add_db(c);
    c->add_option("booking", gallery_args.booking, "Booking number")->required();
    c->add_option("--user", gallery_args.user,
                  "Act as this user (a supervisor); required once 'admin init' ran. Password "
                  "from FACETRAIL_PASSWORD or the terminal");
    c->add_option("--reason", gallery_args.reason,
                  "The order or decision behind the change (required with --user; audited)");
    c->add_flag("--json", gallery_args.json, "JSON output (the result, a refusal or an error)");
    c->callback([&result, change] { result.exit_code = RunSetStatus(gallery_args, change); });
  }
  auto* exp = g->add_subcommand(
      "export", "Write a booking and its photos as an ANSI/NIST-ITL transaction (Type-10)");
  add_db(exp);
  exp->add_option("booking", gallery_args.booking, "Booking number")->required();
  exp->add_option("--ansi-nist", gallery_args.ansi_nist_out, "The transaction file to write")
      ->required();
  exp->add_option("--mapping", gallery_args.mapping,
                  "JSON Type-2 mapping the booking fields are written back by (default: EBTS)");
  exp->callback([&result] { result.exit_code = RunExport(gallery_args); });
  auto* stats = g->add_subcommand("stats", "Counts of bookings, photos and templates");
  add_db(stats);
  stats->add_flag("--json", gallery_args.json, "JSON output");
  stats->callback([&result] { result.exit_code = RunStats(gallery_args); });

  auto* search = app.add_subcommand("search", "Exact 1:N search of a probe face in the gallery");
  AddDatabaseOption(search, search_args.db, "Gallery database");
  AddSnapshotDirOption(search, search_args.snapshot_dir);
  search->add_option("--probe", search_args.probe, "Probe image")->required();
  search
      ->add_option("--face", search_args.face,
                   "Which face of the probe (0-based, as `detect` lists; default: largest frontal)")
      ->check(CLI::Range(0, 1000));
  search
      ->add_option("--top", search_args.top,
                   "Candidates to list (fewer when fewer pass the threshold). Under "
                   "accountability at most, and by default, the department's list length "
                   "(policy max_top_k); on a development gallery 1-1000, default 20")
      ->check(CLI::Range(1, 1000));
  search
      ->add_option("--min-score", search_args.min_score,
                   "Development galleries only: lowest similarity listed (default: the model's "
                   "calibrated threshold). Under accountability the department's candidate-list "
                   "policy sets it")
      ->check(CLI::Range(-1.0, 1.0));
  search->add_option("--models", search_args.models_dir, kModelsOptionHelp)
      ->envname("FACETRAIL_MODELS");
  search->add_flag("--json", search_args.json, "JSON output");
  // Issue 4: with --user the search is the accountable one (cli/accountable_search.cpp); the
  // plain search runs only on a database without users (development and evaluation galleries).
  static AccountableSearchArgs accountable;
  AddAccountableSearchOptions(*search, accountable);
  search->callback([&result] {
    const SearchArgs& a = search_args;
    if (!accountable.user.empty()) {
      result.exit_code = RunAccountableSearch(
          accountable,
          {a.db, a.probe, a.models_dir, a.snapshot_dir, a.top, a.min_score, a.json, a.face});
    } else if (int refused = RefuseUnaccountableSearch(a.db, a.json); refused != 0) {
      result.exit_code = refused;
    } else {
      result.exit_code = RunSearch(a);
    }
  });
}

}  // namespace facetrail::cli
