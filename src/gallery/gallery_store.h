// gallery: the booking-photo gallery — booking records, photos, face templates — behind one
// narrow interface, so no caller ever sees SQL. It lives in a SQLite file or a PostgreSQL
// database (common/db.h; one SQL text for both, docs/DATABASE.md). Schema: docs/GALLERY.md.
//
// WHAT THIS OBJECT REPRESENTS
//   A GalleryStore is a handle on one gallery database. Every mutating call is one transaction:
//   after a crash the gallery holds the call's whole effect or none of it. Every change that
//   affects which templates are searchable (enrolment, seal, unseal, expunge) advances the
//   gallery's change counter, which the search snapshot records (gallery/gallery_index.h).
//
// THREAD SAFETY
//   All methods may be called from several threads; calls on one store are serialised. Several
//   processes may open the same SQLite file (WAL: readers do not wait for the writer) or the same
//   PostgreSQL database (writers are serialised by the database; the change counter orders
//   every change, so each process's index follows the others').
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace facetrail {
class Db;
}  // namespace facetrail

namespace facetrail::gallery {

enum class RecordStatus { kActive, kSealed, kExpunged };
std::string_view RecordStatusName(RecordStatus status);  // "active", "sealed", "expunged"
Expected<RecordStatus> ParseRecordStatus(std::string_view name);

// A booking as the booking system recorded it. Dates are ISO 8601 (YYYY-MM-DD).
struct BookingRecord {
  std::string booking_number;  // unique, non-empty
  std::string name;
  std::optional<std::string> dob;
  std::optional<std::string> sex;
  // As recorded by the booking system; kept for accuracy audits only, never a search filter.
  std::optional<std::string> race_ethnicity;
  std::optional<std::string> booking_date;
  std::optional<std::string> agency;
  std::optional<std::string> charge;
  RecordStatus status = RecordStatus::kActive;  // ignored by AddPhoto (new bookings are active)
  friend bool operator==(const BookingRecord&, const BookingRecord&) = default;
};

// Which recognition model made a template (vision::TemplateModel, as numbers and text). One
// (id, version) has one dimension in a gallery.
struct ModelRef {
  std::string id;
  int version = 1;
  int dim = 0;  // numbers per template
  friend bool operator==(const ModelRef&, const ModelRef&) = default;
};

struct FaceBox {
  float x = 0, y = 0, width = 0, height = 0;  // pixels of the upright image
};

struct TemplateQuality {
  float detector_score = 0;
  float eye_distance_px = 0;
  float sharpness = 0;
  float yaw_deg = 0;
  float roll_deg = 0;
  float pitch_deg = 0;
};

struct NewTemplate {
  int face_index = 0;  // position in the pipeline's face list for this photo
  FaceBox box;
  TemplateQuality quality;
  std::vector<float> templ;  // ModelRef::dim floats, finite, unit norm
};

struct NewPhoto {
  std::vector<uint8_t> bytes;               // the original file, stored unchanged
  std::optional<std::string> capture_date;  // YYYY-MM-DD
  std::string source;                       // where it came from ("manifest.csv:12 a/b.jpg")
  std::string note;                         // e.g. "several faces: enrolled the largest of 3"
  // False for a photo kept with its booking but left out of searches (a profile view): its
  // templates are stored inactive and stay inactive when the booking is unsealed.
  bool searchable = true;
  // What the source said about the photo that no booking field holds, as JSON text ("" for
  // nothing): e.g. an ANSI/NIST-ITL import's unmapped Type-2 fields and Type-10 attributes.
  std::string origin;
};

struct PhotoInfo {
  int64_t id = 0;
  std::string booking_number;
  std::string sha256;  // lower-case hex
  int64_t size_bytes = 0;
  std::optional<std::string> capture_date;
  std::string source;
  std::string note;
  int num_templates = 0;
  bool searchable = true;  // NewPhoto::searchable
  std::string origin;      // NewPhoto::origin
};

enum class AddPhotoResult { kAdded, kAlreadyPresent };

// One element of GalleryStore::AddPhotos: what one AddPhoto call takes.
struct PhotoToAdd {
  BookingRecord booking;
  NewPhoto photo;
  std::vector<NewTemplate> templates;
};

// One searchable-state change of a template, in change-counter order.
struct TemplateChange {
  int64_t seq = 0;
  int64_t template_id = 0;
  enum class Kind { kAdded, kActivated, kDeactivated, kDeleted } kind = Kind::kAdded;
};

// A stored photo that has no template of some model yet (gallery retemplate), with the face the
// gallery already holds for it (from a template of another model), so the same face is chosen.
struct PhotoToRetemplate {
  int64_t photo_id = 0;
  std::string booking_number;
  int face_index = -1;         // -1: no template of any model (choose as enrolment does)
  std::optional<FaceBox> box;  // that template's box
};

// What a search hit refers to.
struct TemplateOwner {
  int64_t template_id = 0;
  int64_t photo_id = 0;
  std::string booking_number;
  std::string name;
  std::optional<std::string> booking_date;
  RecordStatus status = RecordStatus::kActive;
};

struct GalleryStats {
  int64_t bookings_active = 0, bookings_sealed = 0, bookings_expunged = 0;
  int64_t photos = 0;
  int64_t photo_bytes = 0;
  int64_t templates = 0;
  int64_t searchable_templates = 0;  // of searchable photos of active bookings
  int64_t change_counter = 0;
  std::vector<std::pair<ModelRef, int64_t>> templates_per_model;
  std::optional<ModelRef> active_model;  // the model searches use
};

// On PostgreSQL, the channel every change to the searchable set is announced on (NOTIFY, sent by
// a trigger when the change commits: schema v5). A server LISTENs on it (common/db_listener.h)
// to refresh its indexes early; the change counter checked by each search stays the guarantee.
inline constexpr const char* kGalleryChannel = "facetrail_gallery";

struct StoreOptions {
  bool create_if_missing = true;  // SQLite: create the file (a PostgreSQL database must exist)
  // Where this process keeps its search-index snapshot files (created owner-only if missing):
  // "<snapshot_dir>/gallery-<gallery id>.<model tag>.snapshot". Empty: beside a SQLite file
  // ("<file>.<model tag>.snapshot"); for PostgreSQL (no file) the index is then built from the
  // rows in memory each time a process opens it. Each server has its own (docs/DATABASE.md).
  std::string snapshot_dir;
};

class GalleryStore {
 public:
  // Opens the gallery at `uri` (common/db_uri.h: a SQLite path, sqlite:PATH, or a
  // postgresql://USER@HOST:PORT/DB URI without a password). Creates the SQLite file when allowed
  // and brings the schema up to date in place. kNotFound (missing file and !create_if_missing),
  // kDataLoss (not a database), kFailedPrecondition (schema newer than this program),
  // kInvalidArgument (a password in the URI), kUnavailable (the server cannot be reached).
  static Expected<std::unique_ptr<GalleryStore>> Open(const std::string& uri,
                                                      const StoreOptions& options = {});
  // Opens the gallery on a connection the caller already holds, so that the caller can
  // make a gallery change and its own rows one transaction: the store's transactions join an
  // open Db::InTransaction. The accountability layer uses this to commit a seal, unseal
  // or expunge together with its audit entry (service/gallery_admin.h). Creates the schema when
  // missing. requires: db outlives the store.
  static Expected<std::unique_ptr<GalleryStore>> OpenOn(Db& db, const StoreOptions& options = {});
  virtual ~GalleryStore() = default;

  // A random identifier fixed when the gallery was created (snapshots check it).
  virtual const std::string& gallery_id() const = 0;
  // The path prefix of this gallery's snapshot files ("<prefix>.<model tag>.snapshot"): the
  // SQLite file, or "<snapshot_dir>/gallery-<id>" (StoreOptions::snapshot_dir); "" for none (an
  // in-memory database, or PostgreSQL without a snapshot folder: indexes are built in memory).
  virtual std::string snapshot_prefix() const = 0;

  // Adds one photo of `booking` with its templates, creating the booking if new — atomically.
  // The first photo of a gallery without an active model makes `model` the active one.
  //   kAdded           stored.
  //   kAlreadyPresent  this photo (same SHA-256) is already stored for this booking from the same
  //                    source: nothing changes (re-running an import is harmless).
  // Errors (nothing stored): kAlreadyExists (the photo is stored under another booking or
  // source: "duplicate of photo 12 (booking B-1)"), kFailedPrecondition (the booking or the
  // photo was expunged; `model` is not the gallery's active model, so the photo would be left
  // out of searches), kInvalidArgument (bad template, a dimension other than the model's,
  // empty booking number, fields that contradict the stored booking).
  virtual Expected<AddPhotoResult> AddPhoto(const BookingRecord& booking, const NewPhoto& photo,
                                            const ModelRef& model,
                                            std::span<const NewTemplate> templates) = 0;

  // Bulk load: adds `photos` in ONE transaction with a few statements per few hundred photos
  // instead of ~14 round trips per photo (what makes AddPhoto slow on PostgreSQL). Element i
  // gets what AddPhoto would have returned had it been called for photos[0..i] in order: an
  // element AddPhoto would refuse (bad template, duplicate of a stored photo or of an earlier
  // element, expunged photo or booking, fields contradicting the stored booking or the one an
  // earlier element created) is refused alone with the same error and stores nothing, the rest
  // are stored together. The call's own error stores nothing at all: a database failure, or
  // kFailedPrecondition / kInvalidArgument when `model` is not the active model or has another
  // dimension here. Ids are assigned in element order, as by successive AddPhoto calls.
  virtual Expected<std::vector<Expected<AddPhotoResult>>> AddPhotos(
      const ModelRef& model, std::span<const PhotoToAdd> photos) = 0;

  // The photo with this SHA-256 (hex), if stored.
  virtual Expected<std::optional<PhotoInfo>> FindPhoto(std::string_view sha256_hex) = 0;
  virtual Expected<BookingRecord> GetBooking(std::string_view booking_number) = 0;
  virtual Expected<std::vector<PhotoInfo>> ListPhotos(std::string_view booking_number) = 0;
  virtual Expected<std::vector<uint8_t>> ReadPhoto(int64_t photo_id) = 0;

  // Seal (kSealed) or unseal (kActive) a booking: its templates leave or rejoin search.
  // kNotFound, kFailedPrecondition (an expunged booking cannot change).
  virtual Status SetStatus(std::string_view booking_number, RecordStatus status) = 0;
  // Deletes the booking's photos and templates and every field but the booking number, keeping
  // the photo hashes so an expunged photo can never be enrolled again. Idempotent.
  virtual Status Expunge(std::string_view booking_number) = 0;

  virtual Expected<GalleryStats> Stats() = 0;
  virtual Expected<int64_t> ChangeCounter() = 0;

  // Reads every template of `model` (expunged ones are gone) in ascending id order, with
  // active = booking is active, from one consistent read: `begin` first gets the number of rows
  // and the change counter they correspond to.
  virtual Status ScanTemplates(
      const ModelRef& model, const std::function<Status(int64_t count, int64_t counter)>& begin,
      const std::function<Status(int64_t id, bool active, std::span<const float> templ)>& row) = 0;
  // The templates of `model` among `ids`, in the order given, with active = booking is active;
  // an id that is gone (expunged) or of another model is skipped. One consistent read.
  virtual Status ReadTemplates(
      const ModelRef& model, std::span<const int64_t> ids,
      const std::function<Status(int64_t id, bool active, std::span<const float> templ)>& row) = 0;
  // Changes of `model`'s templates with seq > after_counter, in order.
  virtual Expected<std::vector<TemplateChange>> ChangesSince(const ModelRef& model,
                                                             int64_t after_counter) = 0;
  // Owners of the given templates, in the same order; kNotFound if one is gone.
  virtual Expected<std::vector<TemplateOwner>> DescribeTemplates(std::span<const int64_t> ids) = 0;

  // ---- Models: which one searches use, and moving a gallery from one to another ----
  // The model searches use; nullopt for a gallery that never had one (no photo yet).
  virtual Expected<std::optional<ModelRef>> ActiveModel() = 0;
  // Makes `model` the one searches use, atomically. kFailedPrecondition when a photo of a
  // booking that is not expunged (active or sealed: a sealed booking can be unsealed) has no
  // template of `model`: the message says how many and names the first. kInvalidArgument when
  // the gallery holds `model`'s templates with another dimension.
  virtual Status SetActiveModel(const ModelRef& model) = 0;
  // Photos of bookings that are not expunged without a template of `model`.
  virtual Expected<int64_t> CountPhotosWithout(const ModelRef& model) = 0;
  // Up to `limit` of them with id > after_photo_id, ascending.
  virtual Expected<std::vector<PhotoToRetemplate>> PhotosWithout(const ModelRef& model,
                                                                 int64_t after_photo_id,
                                                                 int limit) = 0;
  // Adds templates of `model` to a stored photo, atomically, logged as added (searchable when
  // its booking is active). kAlreadyPresent when the photo already has templates of `model`
  // (nothing changes); kNotFound when the photo is gone (expunged meanwhile);
  // kInvalidArgument for a bad template or dimension.
  virtual Expected<AddPhotoResult> AddTemplates(int64_t photo_id, const ModelRef& model,
                                                std::span<const NewTemplate> templates) = 0;
  // Deletes up to `limit` templates of `model` in one transaction, logged as deleted, and
  // returns how many (0: none left). kFailedPrecondition for the active model.
  virtual Expected<int64_t> DeleteModelTemplates(const ModelRef& model, int64_t limit) = 0;
};

}  // namespace facetrail::gallery
