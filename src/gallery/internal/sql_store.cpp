#include "gallery/internal/sql_store.h"

#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>

#include "common/db.h"
#include "common/db_uri.h"
#include "common/sha256.h"
#include "common/sql_dialect.h"
#include "gallery/internal/schema.h"
#include "search/flat_index.h"

namespace facetrail::gallery::internal {
namespace {

std::string RandomId() {
  std::random_device rd;
  uint8_t bytes[16];
  for (auto& b : bytes) b = static_cast<uint8_t>(rd());
  return ToHex(bytes);
}

std::string_view ChangeKindName(TemplateChange::Kind k) {
  switch (k) {
    case TemplateChange::Kind::kAdded: return "added";
    case TemplateChange::Kind::kActivated: return "activated";
    case TemplateChange::Kind::kDeactivated: return "deactivated";
    case TemplateChange::Kind::kDeleted: return "deleted";
  }
  return "added";
}

TemplateChange::Kind ParseChangeKind(std::string_view s) {
  if (s == "activated") return TemplateChange::Kind::kActivated;
  if (s == "deactivated") return TemplateChange::Kind::kDeactivated;
  if (s == "deleted") return TemplateChange::Kind::kDeleted;
  return TemplateChange::Kind::kAdded;
}

// Fields that must agree when a booking already exists (a booking with several photos appears
// on several manifest lines).
Status CompareBooking(const BookingRecord& stored, const BookingRecord& given) {
  auto differs = [&](const char* field, const auto& a, const auto& b) -> Status {
    if (a == b) return Status::Ok();
    auto show = [](const auto& v) -> std::string {
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
        return "'" + v + "'";
      } else {
        return v ? "'" + *v + "'" : std::string("empty");
      }
    };
    return InvalidArgument("booking " + given.booking_number + ": field " + field + " is " +
                           show(b) + " but the stored record has " + show(a));
  };
  FT_RETURN_IF_ERROR(differs("name", stored.name, given.name));
  FT_RETURN_IF_ERROR(differs("dob", stored.dob, given.dob));
  FT_RETURN_IF_ERROR(differs("sex", stored.sex, given.sex));
  FT_RETURN_IF_ERROR(differs("race_ethnicity", stored.race_ethnicity, given.race_ethnicity));
  FT_RETURN_IF_ERROR(differs("booking_date", stored.booking_date, given.booking_date));
  FT_RETURN_IF_ERROR(differs("agency", stored.agency, given.agency));
  FT_RETURN_IF_ERROR(differs("charge", stored.charge, given.charge));
  return Status::Ok();
}

// Rows per statement of AddPhotos: 256 (its largest statement, the templates', binds 16 a row:
// far below both engines' parameter limits), the rest of a batch in statements of 64, 16, 4 and
// 1 rows, so that a few SQL texts serve every batch size (each is prepared once per connection,
// and PostgreSQL's cache of them is bounded: common/postgres.cpp).
constexpr size_t kBulkRows = 256;
size_t BulkChunk(size_t remaining) {
  size_t n = kBulkRows;
  while (n > remaining) n /= 4;
  return n;
}

// The template's row: photo_id first, then the columns of kTemplateColumns in order.
constexpr const char* kTemplateColumns =
    "photo_id, face_index, model_id, model_version, templ, box_x, box_y, box_w, box_h, "
    "detector_score, eye_distance_px, sharpness, yaw_deg, roll_deg, pitch_deg, dim";
constexpr size_t kTemplateColumnCount = 16;

// Binds template `t` of photo `photo_id` as the kTemplateColumnCount parameters from `first`.
void BindTemplate(Stmt& st, int first, int64_t photo_id, const ModelRef& model,
                  const NewTemplate& t) {
  st.Bind(first, photo_id).Bind(first + 1, static_cast<int64_t>(t.face_index));
  st.Bind(first + 2, model.id).Bind(first + 3, static_cast<int64_t>(model.version));
  st.BindBlob(first + 4,
              {reinterpret_cast<const uint8_t*>(t.templ.data()), t.templ.size() * sizeof(float)});
  const float reals[] = {t.box.x,
                         t.box.y,
                         t.box.width,
                         t.box.height,
                         t.quality.detector_score,
                         t.quality.eye_distance_px,
                         t.quality.sharpness,
                         t.quality.yaw_deg,
                         t.quality.roll_deg,
                         t.quality.pitch_deg};
  for (int i = 0; i < 10; ++i) st.Bind(first + 5 + i, static_cast<double>(reals[i]));
  st.Bind(first + 15, static_cast<int64_t>(model.dim));
}

class SqlGalleryStore final : public GalleryStore {
 public:
  // Owns its connection.
  SqlGalleryStore(Db&& db, std::string snapshot_prefix, std::string gallery_id)
      : owned_(std::move(db)),
        db_(*owned_),
        name_(db_.path()),
        snapshot_prefix_(std::move(snapshot_prefix)),
        gallery_id_(std::move(gallery_id)) {}
  // Borrows the caller's connection (OpenSqlStoreOn).
  SqlGalleryStore(Db& db, std::string snapshot_prefix, std::string gallery_id)
      : db_(db),
        name_(db.path()),
        snapshot_prefix_(std::move(snapshot_prefix)),
        gallery_id_(std::move(gallery_id)) {}

  const std::string& gallery_id() const override { return gallery_id_; }
  std::string snapshot_prefix() const override { return snapshot_prefix_; }

  // One photo is a batch of one: AddPhotos decides it, so the two cannot disagree.
  Expected<AddPhotoResult> AddPhoto(const BookingRecord& booking, const NewPhoto& photo,
                                    const ModelRef& model,
                                    std::span<const NewTemplate> templates) override {
    const PhotoToAdd one{booking, photo, {templates.begin(), templates.end()}};
    auto results = AddPhotos(model, {&one, 1});
    if (!results.ok()) return results.status().WithContext("booking " + booking.booking_number);
    return results->front();
  }

  Expected<std::vector<Expected<AddPhotoResult>>> AddPhotos(
      const ModelRef& model, std::span<const PhotoToAdd> photos) override {
    FT_RETURN_IF_ERROR(ValidateTemplates(model, {}));
    std::vector<Expected<AddPhotoResult>> checked;  // what needs no database
    std::vector<std::string> shas(photos.size());
    checked.reserve(photos.size());
    for (size_t i = 0; i < photos.size(); ++i) {
      const PhotoToAdd& p = photos[i];
      Status s = p.booking.booking_number.empty() ? InvalidArgument("empty booking number")
                 : p.photo.bytes.empty()          ? InvalidArgument("empty photo")
                                                  : ValidateTemplates(model, p.templates);
      if (s.ok()) {
        shas[i] = Sha256Hex(p.photo.bytes);
        checked.emplace_back(AddPhotoResult::kAdded);
      } else {
        checked.emplace_back(s);  // as AddPhoto: no context (the caller knows the element)
      }
    }
    std::lock_guard lock(mu_);
    std::vector<Expected<AddPhotoResult>> results;
    FT_RETURN_IF_ERROR(db_.InTransaction([&]() -> Status {
      results = checked;
      return AddPhotosLocked(model, photos, shas, results);
    }));
    return results;
  }

  Expected<std::optional<PhotoInfo>> FindPhoto(std::string_view sha256_hex) override {
    std::lock_guard lock(mu_);
    return FindPhotoLocked(sha256_hex);
  }

  Expected<BookingRecord> GetBooking(std::string_view booking_number) override {
    std::lock_guard lock(mu_);
    FT_ASSIGN_OR_RETURN(
        auto st,
        Prepare(
            "SELECT booking_number, name, dob, sex, race_ethnicity, booking_date, agency, charge, "
            "status FROM bookings WHERE booking_number = ?"));
    st.Bind(1, booking_number);
    FT_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return NotFound("no booking " + std::string(booking_number));
    BookingRecord b;
    b.booking_number = st.Text(0);
    b.name = st.Text(1);
    b.dob = st.OptText(2);
    b.sex = st.OptText(3);
    b.race_ethnicity = st.OptText(4);
    b.booking_date = st.OptText(5);
    b.agency = st.OptText(6);
    b.charge = st.OptText(7);
    FT_ASSIGN_OR_RETURN(b.status, ParseRecordStatus(st.Text(8)));
    return b;
  }

  Expected<std::vector<PhotoInfo>> ListPhotos(std::string_view booking_number) override {
    std::lock_guard lock(mu_);
    FT_ASSIGN_OR_RETURN(
        auto st, Prepare(std::string(kPhotoSelect) + " WHERE b.booking_number = ? ORDER BY p.id"));
    st.Bind(1, booking_number);
    std::vector<PhotoInfo> out;
    for (;;) {
      FT_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(ReadPhotoInfo(st));
    }
    return out;
  }

  Expected<std::vector<uint8_t>> ReadPhoto(int64_t photo_id) override {
    std::lock_guard lock(mu_);
    FT_ASSIGN_OR_RETURN(auto st, Prepare("SELECT image FROM photos WHERE id = ?"));
    st.Bind(1, photo_id);
    FT_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return NotFound("no photo " + std::to_string(photo_id));
    return st.Blob(0);
  }

  Status SetStatus(std::string_view booking_number, RecordStatus status) override {
    if (status == RecordStatus::kExpunged) return InvalidArgument("use Expunge() to expunge");
    std::lock_guard lock(mu_);
    return db_.InTransaction([&]() -> Status {
      FT_ASSIGN_OR_RETURN(int64_t id, BookingId(booking_number));
      FT_ASSIGN_OR_RETURN(RecordStatus current, BookingStatus(id));
      if (current == RecordStatus::kExpunged) {
        return FailedPrecondition("booking " + std::string(booking_number) + " is expunged");
      }
      if (current == status) return Status::Ok();
      FT_ASSIGN_OR_RETURN(auto up, Prepare("UPDATE bookings SET status = ? WHERE id = ?"));
      up.Bind(1, RecordStatusName(status)).Bind(2, id);
      FT_RETURN_IF_ERROR(up.Run());
      return LogBookingTemplates(id, status == RecordStatus::kActive
                                         ? TemplateChange::Kind::kActivated
                                         : TemplateChange::Kind::kDeactivated);
    });
  }

  Status Expunge(std::string_view booking_number) override {
    std::lock_guard lock(mu_);
    Status s = db_.InTransaction([&]() -> Status {
      FT_ASSIGN_OR_RETURN(int64_t id, BookingId(booking_number));
      FT_ASSIGN_OR_RETURN(RecordStatus current, BookingStatus(id));
      if (current == RecordStatus::kExpunged) return Status::Ok();
      FT_RETURN_IF_ERROR(LogBookingTemplates(id, TemplateChange::Kind::kDeleted));
      for (const char* sql :
           {"INSERT INTO expunged_photos(sha256, booking_id) "
            "SELECT sha256, booking_id FROM photos WHERE booking_id = ?1 "
            "ON CONFLICT DO NOTHING",
            "DELETE FROM templates WHERE photo_id IN (SELECT id FROM photos WHERE booking_id = ?1)",
            "DELETE FROM photos WHERE booking_id = ?1",
            "UPDATE bookings SET name = NULL, dob = NULL, sex = NULL, race_ethnicity = NULL, "
            "booking_date = NULL, agency = NULL, charge = NULL, status = 'expunged' "
            "WHERE id = ?1"}) {
        FT_ASSIGN_OR_RETURN(auto st, Prepare(sql));
        st.Bind(1, id);
        FT_RETURN_IF_ERROR(st.Run());
      }
      return Status::Ok();
    });
    // Best effort: move the change out of the WAL (which still holds the old pages) into the
    // main file, where secure_delete has zeroed them. Readers may keep it from completing.
    // Inside a caller's transaction (a borrowed connection) the caller does it after commit.
    if (s.ok() && !db_.in_transaction()) (void)db_.CheckpointWal();
    return s;
  }

  Expected<GalleryStats> Stats() override {
    std::lock_guard lock(mu_);
    GalleryStats s;
    FT_ASSIGN_OR_RETURN(auto b, Prepare("SELECT status, count(*) FROM bookings GROUP BY status"));
    for (;;) {
      FT_ASSIGN_OR_RETURN(bool row, b.Step());
      if (!row) break;
      std::string st = b.Text(0);
      (st == "active"   ? s.bookings_active
       : st == "sealed" ? s.bookings_sealed
                        : s.bookings_expunged) = b.Int(1);
    }
    FT_ASSIGN_OR_RETURN(auto p,
                        Prepare("SELECT count(*), coalesce(sum(size_bytes), 0) FROM photos"));
    FT_RETURN_IF_ERROR(p.Step().status());
    s.photos = p.Int(0);
    s.photo_bytes = p.Int(1);
    FT_ASSIGN_OR_RETURN(
        auto t,
        Prepare("SELECT t.model_id, t.model_version, count(*), "
                "sum(CASE WHEN b.status = 'active' AND p.searchable <> 0 THEN 1 ELSE 0 END), "
                "max(t.dim) FROM templates t "
                "JOIN photos p ON p.id = t.photo_id JOIN bookings b ON b.id = p.booking_id "
                "GROUP BY t.model_id, t.model_version ORDER BY t.model_id, t.model_version"));
    for (;;) {
      FT_ASSIGN_OR_RETURN(bool row, t.Step());
      if (!row) break;
      s.templates_per_model.push_back(
          {{t.Text(0), static_cast<int>(t.Int(1)), static_cast<int>(t.Int(4))}, t.Int(2)});
      s.templates += t.Int(2);
      s.searchable_templates += t.Int(3);
    }
    FT_ASSIGN_OR_RETURN(s.change_counter, ChangeCounterLocked());
    FT_ASSIGN_OR_RETURN(s.active_model, ActiveModelLocked());
    return s;
  }

  Expected<int64_t> ChangeCounter() override {
    std::lock_guard lock(mu_);
    return ChangeCounterLocked();
  }

  Status ScanTemplates(
      const ModelRef& model, const std::function<Status(int64_t, int64_t)>& begin,
      const std::function<Status(int64_t, bool, std::span<const float>)>& row_fn) override {
    std::lock_guard lock(mu_);
    // One read transaction: the count, the counter and the rows describe the same state.
    return InReadTransaction([&]() -> Status {
      FT_ASSIGN_OR_RETURN(
          auto c,
          Prepare("SELECT count(*) FROM templates WHERE model_id = ? AND model_version = ?"));
      c.Bind(1, model.id).Bind(2, static_cast<int64_t>(model.version));
      FT_RETURN_IF_ERROR(c.Step().status());
      FT_ASSIGN_OR_RETURN(int64_t counter, ChangeCounterLocked());
      FT_RETURN_IF_ERROR(begin(c.Int(0), counter));
      // The page's estimated cost (the per-row subquery below) passes PostgreSQL's
      // jit_above_cost: compiling it would cost more than running it, for every page.
      if (db_.dialect() == SqlDialect::kPostgres) {
        FT_RETURN_IF_ERROR(db_.Exec("SET LOCAL jit = off"));
      }
      // In pages of kScanPage rows by id (keyset), inside the one read transaction: a
      // PostgreSQL result is held whole in the client's memory (10M 512-d templates in one
      // query would need ~21 GB); a page holds ~kScanPage × (the template's size). The photo
      // and booking are looked up per row (a correlated subquery: two primary-key probes): a
      // join would let PostgreSQL's generic plan for `t.id > ?` hash all photos and bookings
      // for every page, quadratic in the gallery's size.
      FT_ASSIGN_OR_RETURN(
          auto st,
          Prepare("SELECT t.id, (SELECT " + std::string(kSearchable) +
                  " FROM photos p JOIN bookings b ON b.id = p.booking_id WHERE p.id = t.photo_id)"
                  ", t.templ FROM templates t "
                  "WHERE t.model_id = ? AND t.model_version = ? AND t.id > ? ORDER BY t.id "
                  "LIMIT " +
                  std::to_string(kScanPage)));
      std::vector<float> templ(static_cast<size_t>(model.dim));
      int64_t last = std::numeric_limits<int64_t>::min();
      for (int64_t rows = kScanPage; rows == kScanPage;) {
        st.Reset();
        st.Bind(1, model.id).Bind(2, static_cast<int64_t>(model.version)).Bind(3, last);
        for (rows = 0;; ++rows) {
          FT_ASSIGN_OR_RETURN(bool row, st.Step());
          if (!row) break;
          last = st.Int(0);
          FT_RETURN_IF_ERROR(CopyTemplate(st, 2, last, templ));
          FT_RETURN_IF_ERROR(row_fn(last, st.Int(1) != 0, templ));
        }
      }
      return Status::Ok();
    });
  }

  Status ReadTemplates(
      const ModelRef& model, std::span<const int64_t> ids,
      const std::function<Status(int64_t, bool, std::span<const float>)>& row_fn) override {
    std::lock_guard lock(mu_);
    return InReadTransaction([&]() -> Status {
      FT_ASSIGN_OR_RETURN(
          auto st,
          Prepare(std::string("SELECT ") + kSearchable +
                  ", t.templ FROM templates t "
                  "JOIN photos p ON p.id = t.photo_id JOIN bookings b ON b.id = p.booking_id "
                  "WHERE t.id = ? AND t.model_id = ? AND t.model_version = ?"));
      std::vector<float> templ(static_cast<size_t>(model.dim));
      for (int64_t id : ids) {
        st.Reset();
        st.Bind(1, id).Bind(2, model.id).Bind(3, static_cast<int64_t>(model.version));
        FT_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) continue;
        FT_RETURN_IF_ERROR(CopyTemplate(st, 1, id, templ));
        FT_RETURN_IF_ERROR(row_fn(id, st.Int(0) != 0, templ));
      }
      return Status::Ok();
    });
  }

  Expected<std::vector<TemplateChange>> ChangesSince(const ModelRef& model,
                                                     int64_t after_counter) override {
    std::lock_guard lock(mu_);
    FT_ASSIGN_OR_RETURN(
        auto st, Prepare("SELECT seq, template_id, kind FROM template_changes "
                         "WHERE seq > ? AND model_id = ? AND model_version = ? ORDER BY seq"));
    st.Bind(1, after_counter).Bind(2, model.id).Bind(3, static_cast<int64_t>(model.version));
    std::vector<TemplateChange> out;
    for (;;) {
      FT_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back({st.Int(0), st.Int(1), ParseChangeKind(st.Text(2))});
    }
    return out;
  }

  Expected<std::vector<TemplateOwner>> DescribeTemplates(std::span<const int64_t> ids) override {
    std::lock_guard lock(mu_);
    FT_ASSIGN_OR_RETURN(
        auto st,
        Prepare("SELECT p.id, b.booking_number, b.name, b.booking_date, b.status FROM templates t "
                "JOIN photos p ON p.id = t.photo_id JOIN bookings b ON b.id = p.booking_id "
                "WHERE t.id = ?"));
    std::vector<TemplateOwner> out;
    for (int64_t id : ids) {
      st.Reset();
      st.Bind(1, id);
      FT_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return NotFound("template " + std::to_string(id) + " is not in the gallery");
      TemplateOwner o;
      o.template_id = id;
      o.photo_id = st.Int(0);
      o.booking_number = st.Text(1);
      o.name = st.Text(2);
      o.booking_date = st.OptText(3);
      FT_ASSIGN_OR_RETURN(o.status, ParseRecordStatus(st.Text(4)));
      out.push_back(std::move(o));
    }
    return out;
  }

  Expected<std::optional<ModelRef>> ActiveModel() override {
    std::lock_guard lock(mu_);
    return ActiveModelLocked();
  }

  Status SetActiveModel(const ModelRef& model) override {
    if (model.id.empty() || model.dim <= 0) return InvalidArgument("no model given");
    std::lock_guard lock(mu_);
    return db_.InTransaction([&]() -> Status {
      FT_RETURN_IF_ERROR(CheckModelDim(model));
      FT_ASSIGN_OR_RETURN(int64_t missing, CountPhotosWithoutLocked(model));
      if (missing > 0) {
        FT_ASSIGN_OR_RETURN(auto first, Prepare(std::string("SELECT p.id, b.booking_number ") +
                                                kPhotosWithout + " ORDER BY p.id LIMIT 1"));
        first.Bind(1, model.id).Bind(2, static_cast<int64_t>(model.version));
        FT_RETURN_IF_ERROR(first.Step().status());
        return FailedPrecondition(std::to_string(missing) + " photo(s) have no template of " +
                                  model.id + " v" + std::to_string(model.version) +
                                  " (the first: photo " + std::to_string(first.Int(0)) +
                                  ", booking " + first.Text(1) +
                                  "); run `facetrail gallery retemplate` to the end first");
      }
      return SetActiveModelLocked(model);
    });
  }

  Expected<int64_t> CountPhotosWithout(const ModelRef& model) override {
    std::lock_guard lock(mu_);
    return CountPhotosWithoutLocked(model);
  }

  Expected<std::vector<PhotoToRetemplate>> PhotosWithout(const ModelRef& model,
                                                         int64_t after_photo_id,
                                                         int limit) override {
    std::lock_guard lock(mu_);
    // The face: the active model's template of the photo, else any template's (lowest id).
    FT_ASSIGN_OR_RETURN(auto active, ActiveModelLocked());
    FT_ASSIGN_OR_RETURN(
        auto st, Prepare(std::string("SELECT p.id, b.booking_number, "
                                     "(SELECT t.id FROM templates t WHERE t.photo_id = p.id "
                                     "ORDER BY (t.model_id = ?3 AND t.model_version = ?4) DESC, "
                                     "t.id LIMIT 1) ") +
                         kPhotosWithout + " AND p.id > ?5 ORDER BY p.id LIMIT ?6"));
    st.Bind(1, model.id).Bind(2, static_cast<int64_t>(model.version));
    st.Bind(3, active ? active->id : std::string());
    st.Bind(4, static_cast<int64_t>(active ? active->version : 0));
    st.Bind(5, after_photo_id).Bind(6, static_cast<int64_t>(limit));
    std::vector<PhotoToRetemplate> out;
    std::vector<std::optional<int64_t>> face_template;
    for (;;) {
      FT_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      PhotoToRetemplate p;
      p.photo_id = st.Int(0);
      p.booking_number = st.Text(1);
      face_template.push_back(st.IsNull(2) ? std::nullopt : std::optional<int64_t>(st.Int(2)));
      out.push_back(std::move(p));
    }
    FT_ASSIGN_OR_RETURN(auto face, Prepare("SELECT face_index, box_x, box_y, box_w, box_h FROM "
                                           "templates WHERE id = ?"));
    for (size_t i = 0; i < out.size(); ++i) {
      if (!face_template[i]) continue;
      face.Reset();
      face.Bind(1, *face_template[i]);
      FT_RETURN_IF_ERROR(face.Step().status());
      out[i].face_index = static_cast<int>(face.Int(0));
      out[i].box = FaceBox{static_cast<float>(face.Double(1)), static_cast<float>(face.Double(2)),
                           static_cast<float>(face.Double(3)), static_cast<float>(face.Double(4))};
    }
    return out;
  }

  Expected<AddPhotoResult> AddTemplates(int64_t photo_id, const ModelRef& model,
                                        std::span<const NewTemplate> templates) override {
    FT_RETURN_IF_ERROR(ValidateTemplates(model, templates));
    std::lock_guard lock(mu_);
    AddPhotoResult result = AddPhotoResult::kAdded;
    Status s = db_.InTransaction([&]() -> Status {
      FT_RETURN_IF_ERROR(CheckModelDim(model));
      FT_ASSIGN_OR_RETURN(auto photo,
                          Prepare("SELECT b.status, p.searchable FROM photos p JOIN bookings b ON "
                                  "b.id = p.booking_id WHERE p.id = ?"));
      photo.Bind(1, photo_id);
      FT_ASSIGN_OR_RETURN(bool found, photo.Step());
      if (!found) return NotFound("photo " + std::to_string(photo_id) + " is not in the gallery");
      FT_ASSIGN_OR_RETURN(RecordStatus status, ParseRecordStatus(photo.Text(0)));
      const bool searchable = photo.Int(1) != 0;
      FT_ASSIGN_OR_RETURN(auto has, Prepare("SELECT 1 FROM templates WHERE photo_id = ? AND "
                                            "model_id = ? AND model_version = ? LIMIT 1"));
      has.Bind(1, photo_id).Bind(2, model.id).Bind(3, static_cast<int64_t>(model.version));
      FT_ASSIGN_OR_RETURN(bool present, has.Step());
      if (present) {
        result = AddPhotoResult::kAlreadyPresent;
        return Status::Ok();
      }
      for (const NewTemplate& t : templates) {
        FT_RETURN_IF_ERROR(
            InsertTemplate(photo_id, model, t, status == RecordStatus::kActive && searchable));
      }
      return Status::Ok();
    });
    if (!s.ok()) return s.WithContext("photo " + std::to_string(photo_id));
    return result;
  }

  Expected<int64_t> DeleteModelTemplates(const ModelRef& model, int64_t limit) override {
    std::lock_guard lock(mu_);
    int64_t deleted = 0;
    Status s = db_.InTransaction([&]() -> Status {
      FT_ASSIGN_OR_RETURN(auto active, ActiveModelLocked());
      if (active && active->id == model.id && active->version == model.version) {
        return FailedPrecondition("model " + model.id + " v" + std::to_string(model.version) +
                                  " is the one searches use; activate another model first");
      }
      FT_ASSIGN_OR_RETURN(auto pick, Prepare("SELECT id FROM templates WHERE model_id = ? AND "
                                             "model_version = ? ORDER BY id LIMIT ?"));
      pick.Bind(1, model.id).Bind(2, static_cast<int64_t>(model.version)).Bind(3, limit);
      std::vector<int64_t> ids;
      for (;;) {
        FT_ASSIGN_OR_RETURN(bool row, pick.Step());
        if (!row) break;
        ids.push_back(pick.Int(0));
      }
      FT_ASSIGN_OR_RETURN(auto del, Prepare("DELETE FROM templates WHERE id = ?"));
      for (int64_t id : ids) {
        FT_RETURN_IF_ERROR(LogTemplate(id, model, TemplateChange::Kind::kDeleted));
        del.Reset();
        del.Bind(1, id);
        FT_RETURN_IF_ERROR(del.Run());
      }
      deleted = static_cast<int64_t>(ids.size());
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return deleted;
  }

 private:
  static constexpr const char* kPhotoSelect =
      "SELECT p.id, b.booking_number, p.sha256, p.size_bytes, p.capture_date, p.source, p.note, "
      "(SELECT count(*) FROM templates t WHERE t.photo_id = p.id), p.searchable, p.origin "
      "FROM photos p JOIN bookings b ON b.id = p.booking_id";

  // 1 when a template is searchable (its booking active, its photo searchable), else 0: an
  // integer on both engines (PostgreSQL's comparisons are booleans, which read as 't'/'f').
  // Rows a ScanTemplates query reads at a time.
  static constexpr int64_t kScanPage = 20000;
  static constexpr const char* kSearchable =
      "CASE WHEN b.status = 'active' AND p.searchable <> 0 THEN 1 ELSE 0 END";

  Expected<Stmt> Prepare(std::string_view sql) { return db_.Prepare(sql); }

  // Runs `fn` in one read transaction, so that its statements see one state of the database
  // (SQLite: a deferred BEGIN reads one WAL snapshot; PostgreSQL: REPEATABLE READ, as its
  // default gives every statement its own snapshot). Inside a transaction the caller holds, `fn`
  // joins it.
  Status InReadTransaction(const std::function<Status()>& fn) {
    if (db_.EngineInTransaction()) return fn();
    FT_RETURN_IF_ERROR(db_.Exec(db_.dialect() == SqlDialect::kPostgres
                                    ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                    : "BEGIN"));
    Status s = fn();
    if (!s.ok()) {
      (void)db_.Exec("ROLLBACK");
      return s;
    }
    return db_.Exec("COMMIT");
  }

  // AddPhotos inside its transaction: results[i] is kAdded for an element still to decide, an
  // error for one already refused; on return every element is decided. Lookups first (stored
  // photos, expunged hashes, bookings: IN lists of kBulkRows), then the decisions in element
  // order in memory, then multi-row INSERTs of the new bookings, photos, templates and their
  // change-log rows.
  Status AddPhotosLocked(const ModelRef& model, std::span<const PhotoToAdd> photos,
                         const std::vector<std::string>& shas,
                         std::vector<Expected<AddPhotoResult>>& results) {
    FT_ASSIGN_OR_RETURN(auto active, ActiveModelLocked());
    FT_RETURN_IF_ERROR(CheckEnrolmentModel(active, model));
    std::vector<std::string> keys_sha, keys_booking;
    for (size_t i = 0; i < photos.size(); ++i) {
      if (!results[i].ok()) continue;
      keys_sha.push_back(shas[i]);
      keys_booking.push_back(photos[i].booking.booking_number);
    }
    std::sort(keys_booking.begin(), keys_booking.end());
    keys_booking.erase(std::unique(keys_booking.begin(), keys_booking.end()), keys_booking.end());

    std::set<std::string> expunged;
    FT_RETURN_IF_ERROR(ForEachIn("SELECT sha256 FROM expunged_photos WHERE sha256 IN ", keys_sha,
                                 [&](const Stmt& st) { expunged.insert(st.Text(0)); }));
    std::map<std::string, PhotoInfo> stored;
    FT_RETURN_IF_ERROR(
        ForEachIn(std::string(kPhotoSelect) + " WHERE p.sha256 IN ", keys_sha, [&](const Stmt& st) {
          PhotoInfo info = ReadPhotoInfo(st);
          stored.emplace(info.sha256, std::move(info));
        }));
    struct Booking {
      int64_t id = 0;  // 0 until a new one is inserted
      BookingRecord record;
      bool expunged = false;
      bool is_new = false;
    };
    std::map<std::string, Booking> bookings;
    FT_RETURN_IF_ERROR(ForEachIn(
        "SELECT id, booking_number, name, dob, sex, race_ethnicity, booking_date, agency, "
        "charge, status FROM bookings WHERE booking_number IN ",
        keys_booking, [&](const Stmt& st) {
          Booking b;
          b.id = st.Int(0);
          b.record = {st.Text(1),    st.Text(2),    st.OptText(3), st.OptText(4),
                      st.OptText(5), st.OptText(6), st.OptText(7), st.OptText(8)};
          b.expunged = st.Text(9) == "expunged";
          b.record.status = b.expunged               ? RecordStatus::kExpunged
                            : st.Text(9) == "sealed" ? RecordStatus::kSealed
                                                     : RecordStatus::kActive;
          bookings.emplace(b.record.booking_number, std::move(b));
        }));

    // Decide each element as AddPhoto would, in order.
    std::vector<size_t> accepted, new_bookings;
    std::map<std::string, size_t> batch_photos;         // sha → accepted element
    std::vector<std::pair<size_t, size_t>> duplicates;  // (refused element, earlier element)
    for (size_t i = 0; i < photos.size(); ++i) {
      if (!results[i].ok()) continue;
      const PhotoToAdd& p = photos[i];
      const std::string& number = p.booking.booking_number;
      auto refuse = [&](const Status& s) { results[i] = s.WithContext("booking " + number); };
      if (expunged.count(shas[i])) {
        refuse(FailedPrecondition("photo " + shas[i] + " belongs to an expunged record"));
        continue;
      }
      if (auto it = stored.find(shas[i]); it != stored.end()) {
        if (it->second.booking_number == number && it->second.source == p.photo.source) {
          results[i] = AddPhotoResult::kAlreadyPresent;
        } else {
          refuse(AlreadyExists("duplicate of photo " + std::to_string(it->second.id) +
                               " (booking " + it->second.booking_number + ", " + it->second.source +
                               ")"));
        }
        continue;
      }
      if (auto it = batch_photos.find(shas[i]); it != batch_photos.end()) {
        const PhotoToAdd& earlier = photos[it->second];
        if (earlier.booking.booking_number == number && earlier.photo.source == p.photo.source) {
          results[i] = AddPhotoResult::kAlreadyPresent;
        } else {
          duplicates.emplace_back(i, it->second);  // refused once the earlier one has its id
        }
        continue;
      }
      auto [booking, inserted] = bookings.try_emplace(number);
      if (inserted) {
        booking->second.record = p.booking;
        booking->second.record.status = RecordStatus::kActive;
        booking->second.is_new = true;
        new_bookings.push_back(i);
      } else if (booking->second.expunged) {
        refuse(FailedPrecondition("booking " + number + " is expunged"));
        continue;
      } else if (Status s = CompareBooking(booking->second.record, p.booking); !s.ok()) {
        refuse(s);
        continue;
      }
      batch_photos.emplace(shas[i], i);
      accepted.push_back(i);
    }

    // New bookings, then photos, then templates, each in element order (ids as AddPhoto's).
    FT_RETURN_IF_ERROR(InsertRows(
        "INSERT INTO bookings(booking_number, name, dob, sex, race_ethnicity, booking_date, "
        "agency, charge, status) VALUES ",
        "RETURNING id, booking_number", new_bookings.size(), 9,
        [&](Stmt& st, int first, size_t k) {
          const BookingRecord& b = photos[new_bookings[k]].booking;
          st.Bind(first, b.booking_number).Bind(first + 1, b.name).Bind(first + 2, b.dob);
          st.Bind(first + 3, b.sex).Bind(first + 4, b.race_ethnicity);
          st.Bind(first + 5, b.booking_date).Bind(first + 6, b.agency);
          st.Bind(first + 7, b.charge).Bind(first + 8, "active");
        },
        [&](const Stmt& st) { bookings.at(st.Text(1)).id = st.Int(0); }));
    std::map<std::string, int64_t> photo_ids;  // sha → id
    FT_RETURN_IF_ERROR(InsertRows(
        "INSERT INTO photos(booking_id, sha256, size_bytes, capture_date, source, image, note, "
        "searchable, origin) VALUES ",
        "RETURNING id, sha256", accepted.size(), 9,
        [&](Stmt& st, int first, size_t k) {
          const size_t i = accepted[k];
          const NewPhoto& p = photos[i].photo;
          st.Bind(first, bookings.at(photos[i].booking.booking_number).id);
          st.Bind(first + 1, shas[i]).Bind(first + 2, static_cast<int64_t>(p.bytes.size()));
          st.Bind(first + 3, p.capture_date).Bind(first + 4, p.source);
          st.BindBlob(first + 5, p.bytes).Bind(first + 6, p.note);
          st.Bind(first + 7, static_cast<int64_t>(p.searchable ? 1 : 0));
          st.Bind(first + 8, p.origin);
        },
        [&](const Stmt& st) { photo_ids[st.Text(1)] = st.Int(0); }));
    for (const auto& [refused, earlier] : duplicates) {
      const PhotoToAdd& e = photos[earlier];
      results[refused] =
          AlreadyExists("duplicate of photo " + std::to_string(photo_ids.at(shas[earlier])) +
                        " (booking " + e.booking.booking_number + ", " + e.photo.source + ")")
              .WithContext("booking " + photos[refused].booking.booking_number);
    }

    struct TemplateRow {
      int64_t photo_id;
      const NewTemplate* t;
      bool active;
    };
    std::vector<TemplateRow> rows;
    for (size_t i : accepted) {
      const bool searchable =
          bookings.at(photos[i].booking.booking_number).record.status == RecordStatus::kActive &&
          photos[i].photo.searchable;
      for (const NewTemplate& t : photos[i].templates) {
        rows.push_back({photo_ids.at(shas[i]), &t, searchable});
      }
    }
    std::vector<std::pair<int64_t, std::pair<int64_t, int64_t>>> inserted;  // id, (photo, face)
    FT_RETURN_IF_ERROR(InsertRows(
        std::string("INSERT INTO templates(") + kTemplateColumns + ") VALUES ",
        "RETURNING id, photo_id, face_index", rows.size(), kTemplateColumnCount,
        [&](Stmt& st, int first, size_t r) {
          BindTemplate(st, first, rows[r].photo_id, model, *rows[r].t);
        },
        [&](const Stmt& st) {
          inserted.push_back({st.Int(0), {st.Int(1), st.Int(2)}});
        }));
    // Both engines number a multi-row INSERT's rows in VALUES order; checked, not assumed.
    std::sort(inserted.begin(), inserted.end());
    if (inserted.size() != rows.size()) return Internal("templates inserted out of step");
    std::vector<std::pair<int64_t, const char*>> changes;  // (template id, kind), in seq order
    for (size_t r = 0; r < rows.size(); ++r) {
      if (inserted[r].second !=
          std::make_pair(rows[r].photo_id, static_cast<int64_t>(rows[r].t->face_index))) {
        return Internal("templates were numbered out of their insertion order");
      }
      // An added template of a sealed booking is in the snapshot, inactive.
      changes.emplace_back(inserted[r].first, "added");
      if (!rows[r].active) changes.emplace_back(inserted[r].first, "deactivated");
    }
    FT_RETURN_IF_ERROR(InsertRows(
        "INSERT INTO template_changes(template_id, model_id, model_version, kind) VALUES ", "",
        changes.size(), 4,
        [&](Stmt& st, int first, size_t c) {
          st.Bind(first, changes[c].first).Bind(first + 1, model.id);
          st.Bind(first + 2, static_cast<int64_t>(model.version))
              .Bind(first + 3, changes[c].second);
        },
        [](const Stmt&) {}));
    if (!active && !accepted.empty()) FT_RETURN_IF_ERROR(SetActiveModelLocked(model));
    return Status::Ok();
  }

  // Runs `select_prefix` + "(?, …)" over `keys` in IN lists of BulkChunk sizes, calling `row`
  // for each result row.
  Status ForEachIn(const std::string& select_prefix, const std::vector<std::string>& keys,
                   const std::function<void(const Stmt&)>& row) {
    for (size_t first = 0, n = 0; first < keys.size(); first += n) {
      n = BulkChunk(keys.size() - first);
      FT_ASSIGN_OR_RETURN(auto st, Prepare(select_prefix + PlaceholderRows(1, n)));
      for (size_t k = 0; k < n; ++k) st.Bind(static_cast<int>(k + 1), keys[first + k]);
      for (;;) {
        FT_ASSIGN_OR_RETURN(bool more, st.Step());
        if (!more) break;
        row(st);
      }
    }
    return Status::Ok();
  }

  // Inserts rows 0..count-1 with `insert_prefix` + multi-row VALUES + `returning`, BulkChunk
  // rows a statement: `bind(st, first parameter, k)` binds row k's `columns` values, `row`
  // reads each RETURNING row.
  Status InsertRows(const std::string& insert_prefix, const std::string& returning, size_t count,
                    size_t columns, const std::function<void(Stmt&, int, size_t)>& bind,
                    const std::function<void(const Stmt&)>& row) {
    for (size_t first = 0, n = 0; first < count; first += n) {
      n = BulkChunk(count - first);
      std::string sql = insert_prefix;
      sql += PlaceholderRows(n, columns);
      sql += " ";
      sql += returning;
      FT_ASSIGN_OR_RETURN(auto st, Prepare(sql));
      for (size_t k = 0; k < n; ++k) {
        bind(st, static_cast<int>(k * columns + 1), first + k);
      }
      for (;;) {
        FT_ASSIGN_OR_RETURN(bool more, st.Step());
        if (!more) break;
        row(st);
      }
    }
    return Status::Ok();
  }

  // Template `id`'s blob in column `col` of the current row into `out` (its size: the model's
  // dimension); kDataLoss when the blob has another size.
  Status CopyTemplate(const Stmt& st, int col, int64_t id, std::span<float> out) const {
    auto blob = st.BlobView(col);
    if (blob.size() != out.size_bytes()) {
      return DataLoss(name_ + ": template " + std::to_string(id) + " has " +
                      std::to_string(blob.size()) + " bytes, its model " +
                      std::to_string(out.size_bytes()));
    }
    std::memcpy(out.data(), blob.data(), out.size_bytes());
    return Status::Ok();
  }

  static Status ValidateTemplates(const ModelRef& model, std::span<const NewTemplate> templates) {
    if (model.id.empty() || model.dim <= 0) {
      return InvalidArgument("template model '" + model.id + "' without a dimension");
    }
    for (const NewTemplate& t : templates) {
      Status s = search::ValidateTemplate(t.templ, model.dim);
      if (!s.ok()) return s.WithContext("face " + std::to_string(t.face_index));
    }
    return Status::Ok();
  }

  // Photos may be enrolled with `model`: it is the `active` one (or there is none yet) and its
  // templates here have its dimension.
  Status CheckEnrolmentModel(const std::optional<ModelRef>& active, const ModelRef& model) {
    if (active && !(*active == model)) {
      return FailedPrecondition("the gallery searches with model " + active->id + " v" +
                                std::to_string(active->version) + "; a photo enrolled with " +
                                model.id +
                                " would be left out of searches (enrol with the "
                                "active model; `gallery retemplate` migrates a gallery)");
    }
    return CheckModelDim(model);
  }

  // kInvalidArgument when the gallery holds templates of model (id, version) of another dimension.
  Status CheckModelDim(const ModelRef& model) {
    FT_ASSIGN_OR_RETURN(auto st, Prepare("SELECT dim FROM templates WHERE model_id = ? AND "
                                         "model_version = ? LIMIT 1"));
    st.Bind(1, model.id).Bind(2, static_cast<int64_t>(model.version));
    FT_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && st.Int(0) != model.dim) {
      return InvalidArgument("model " + model.id + " v" + std::to_string(model.version) + " has " +
                             std::to_string(st.Int(0)) + "-number templates in this gallery, not " +
                             std::to_string(model.dim));
    }
    return Status::Ok();
  }

  Expected<std::optional<std::string>> Meta(std::string_view key) {
    FT_ASSIGN_OR_RETURN(auto st, Prepare("SELECT value FROM gallery_meta WHERE key = ?"));
    st.Bind(1, key);
    FT_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(st.Text(0));
  }

  Status PutMeta(std::string_view key, const std::string& value) {
    FT_ASSIGN_OR_RETURN(auto st, Prepare("INSERT INTO gallery_meta(key, value) VALUES (?, ?) "
                                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
    st.Bind(1, key).Bind(2, value);
    return st.Run();
  }

  Expected<std::optional<ModelRef>> ActiveModelLocked() {
    FT_ASSIGN_OR_RETURN(auto id, Meta("active_model_id"));
    FT_ASSIGN_OR_RETURN(auto version, Meta("active_model_version"));
    FT_ASSIGN_OR_RETURN(auto dim, Meta("active_model_dim"));
    if (!id) return std::optional<ModelRef>();
    if (!version || !dim) return DataLoss(name_ + ": the active model is recorded incompletely");
    ModelRef m;
    m.id = *id;
    try {
      m.version = std::stoi(*version);
      m.dim = std::stoi(*dim);
    } catch (const std::exception&) {
      return DataLoss(name_ + ": the active model's version or dimension is not a number");
    }
    return std::optional<ModelRef>(m);
  }

  Status SetActiveModelLocked(const ModelRef& model) {
    FT_RETURN_IF_ERROR(PutMeta("active_model_id", model.id));
    FT_RETURN_IF_ERROR(PutMeta("active_model_version", std::to_string(model.version)));
    return PutMeta("active_model_dim", std::to_string(model.dim));
  }

  // Photos of bookings that are not expunged, without a template of the model (?1, ?2).
  static constexpr const char* kPhotosWithout =
      "FROM photos p JOIN bookings b ON b.id = p.booking_id WHERE b.status <> 'expunged' AND "
      "NOT EXISTS (SELECT 1 FROM templates t WHERE t.photo_id = p.id AND t.model_id = ?1 AND "
      "t.model_version = ?2)";

  Expected<int64_t> CountPhotosWithoutLocked(const ModelRef& model) {
    FT_ASSIGN_OR_RETURN(auto st, Prepare(std::string("SELECT count(*) ") + kPhotosWithout));
    st.Bind(1, model.id).Bind(2, static_cast<int64_t>(model.version));
    FT_RETURN_IF_ERROR(st.Step().status());
    return st.Int(0);
  }

  static PhotoInfo ReadPhotoInfo(const Stmt& st) {
    PhotoInfo p;
    p.id = st.Int(0);
    p.booking_number = st.Text(1);
    p.sha256 = st.Text(2);
    p.size_bytes = st.Int(3);
    p.capture_date = st.OptText(4);
    p.source = st.Text(5);
    p.note = st.Text(6);
    p.num_templates = static_cast<int>(st.Int(7));
    p.searchable = st.Int(8) != 0;
    p.origin = st.Text(9);
    return p;
  }

  Expected<std::optional<PhotoInfo>> FindPhotoLocked(std::string_view sha) {
    FT_ASSIGN_OR_RETURN(auto st, Prepare(std::string(kPhotoSelect) + " WHERE p.sha256 = ?"));
    st.Bind(1, sha);
    FT_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<PhotoInfo>();
    return std::optional<PhotoInfo>(ReadPhotoInfo(st));
  }

  Expected<int64_t> BookingId(std::string_view booking_number) {
    FT_ASSIGN_OR_RETURN(auto st, Prepare("SELECT id FROM bookings WHERE booking_number = ?"));
    st.Bind(1, booking_number);
    FT_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return NotFound("no booking " + std::string(booking_number));
    return st.Int(0);
  }

  Expected<RecordStatus> BookingStatus(int64_t id) {
    FT_ASSIGN_OR_RETURN(auto st, Prepare("SELECT status FROM bookings WHERE id = ?"));
    st.Bind(1, id);
    FT_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Internal("booking row " + std::to_string(id) + " vanished");
    return ParseRecordStatus(st.Text(0));
  }

  Status InsertTemplate(int64_t photo_id, const ModelRef& model, const NewTemplate& t,
                        bool active) {
    FT_ASSIGN_OR_RETURN(
        auto ins, Prepare(std::string("INSERT INTO templates(") + kTemplateColumns + ") VALUES " +
                          PlaceholderRows(1, kTemplateColumnCount) + " RETURNING id"));
    BindTemplate(ins, 1, photo_id, model, t);
    FT_ASSIGN_OR_RETURN(const int64_t id, ins.InsertedId());
    // An added template of a sealed booking is in the snapshot, inactive.
    FT_RETURN_IF_ERROR(LogTemplate(id, model, TemplateChange::Kind::kAdded));
    if (!active) FT_RETURN_IF_ERROR(LogTemplate(id, model, TemplateChange::Kind::kDeactivated));
    return Status::Ok();
  }

  Status LogTemplate(int64_t template_id, const ModelRef& model, TemplateChange::Kind kind) {
    FT_ASSIGN_OR_RETURN(
        auto log,
        Prepare("INSERT INTO template_changes(template_id, model_id, model_version, kind) "
                "VALUES (?, ?, ?, ?)"));
    log.Bind(1, template_id).Bind(2, model.id).Bind(3, static_cast<int64_t>(model.version));
    log.Bind(4, ChangeKindName(kind));
    return log.Run();
  }

  Status LogBookingTemplates(int64_t booking_id, TemplateChange::Kind kind) {
    FT_ASSIGN_OR_RETURN(
        auto st,
        Prepare("INSERT INTO template_changes(template_id, model_id, model_version, kind) "
                "SELECT t.id, t.model_id, t.model_version, CAST(? AS TEXT) FROM templates t "
                "JOIN photos p ON p.id = t.photo_id WHERE p.booking_id = ? "
                "AND (p.searchable <> 0 OR ? <> 0) ORDER BY t.id"));
    // A photo kept out of searches is never activated (nor deactivated: it is inactive).
    st.Bind(1, ChangeKindName(kind)).Bind(2, booking_id);
    st.Bind(3, static_cast<int64_t>(kind == TemplateChange::Kind::kDeleted ? 1 : 0));
    return st.Run();
  }

  Expected<int64_t> ChangeCounterLocked() {
    FT_ASSIGN_OR_RETURN(auto st, Prepare("SELECT coalesce(max(seq), 0) FROM template_changes"));
    FT_RETURN_IF_ERROR(st.Step().status());
    return st.Int(0);
  }

  std::mutex mu_;
  std::optional<Db> owned_;            // empty when the connection is borrowed
  Db& db_;                             // guarded by mu_
  const std::string name_;             // the database, for messages
  const std::string snapshot_prefix_;  // GalleryStore::snapshot_prefix
  const std::string gallery_id_;
};

}  // namespace

namespace {

// Schema, secure_delete and the gallery id on `db`.
Expected<std::string> PrepareGallery(Db& db) {
  // Deleted content (expunged photos) is overwritten with zeros, not left in free pages.
  FT_RETURN_IF_ERROR(db.SecureDelete());
  FT_RETURN_IF_ERROR(db.Migrate(kSchemaComponent, GalleryMigrations()));
  std::string gallery_id;
  FT_RETURN_IF_ERROR(db.InTransaction([&]() -> Status {
    FT_ASSIGN_OR_RETURN(auto get,
                        db.Prepare("SELECT value FROM gallery_meta WHERE key = 'gallery_id'"));
    FT_ASSIGN_OR_RETURN(bool row, get.Step());
    if (row) {
      gallery_id = get.Text(0);
      return Status::Ok();
    }
    gallery_id = RandomId();
    FT_ASSIGN_OR_RETURN(
        auto put, db.Prepare("INSERT INTO gallery_meta(key, value) VALUES ('gallery_id', ?)"));
    put.Bind(1, gallery_id);
    return put.Run();
  }));
  return gallery_id;
}

// Where the snapshot files of the gallery `gallery_id` on `db` go (GalleryStore::snapshot_prefix):
// "<snapshot_dir>/gallery-<id>" when a folder is given (created owner-only when missing), else
// beside a SQLite file, else nowhere ("": the index is built in memory).
Expected<std::string> SnapshotPrefix(const Db& db, const StoreOptions& options,
                                     const std::string& gallery_id) {
  if (!options.snapshot_dir.empty()) {
    const std::filesystem::path dir(options.snapshot_dir);
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (ec) return IoError(dir.string() + ": cannot create the snapshot folder: " + ec.message());
      std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, ec);
    }
    if (!std::filesystem::is_directory(dir, ec)) {
      return InvalidArgument(dir.string() + ": the snapshot folder is not a folder");
    }
    // The id names a file: only the hex RandomId writes (a stored value is not trusted as a path).
    if (gallery_id.empty() ||
        gallery_id.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return DataLoss(db.path() + ": the gallery id is not hexadecimal");
    }
    return (dir / ("gallery-" + gallery_id)).string();
  }
  if (db.dialect() == SqlDialect::kSqlite && db.path() != ":memory:") return db.path();
  return std::string();
}

}  // namespace

Expected<std::unique_ptr<GalleryStore>> OpenSqlStore(const std::string& uri,
                                                     const StoreOptions& options) {
  if (!options.create_if_missing && uri != ":memory:" && !IsPostgresUri(uri)) {
    struct stat st {};
    if (stat(uri.c_str(), &st) != 0) return NotFound(uri + ": no gallery database");
  }
  FT_ASSIGN_OR_RETURN(auto db, Db::Open(uri, options.create_if_missing));
  FT_ASSIGN_OR_RETURN(std::string gallery_id, PrepareGallery(db));
  FT_ASSIGN_OR_RETURN(std::string prefix, SnapshotPrefix(db, options, gallery_id));
  return std::unique_ptr<GalleryStore>(
      new SqlGalleryStore(std::move(db), std::move(prefix), std::move(gallery_id)));
}

Expected<std::unique_ptr<GalleryStore>> OpenSqlStoreOn(Db& db, const StoreOptions& options) {
  FT_ASSIGN_OR_RETURN(std::string gallery_id, PrepareGallery(db));
  FT_ASSIGN_OR_RETURN(std::string prefix, SnapshotPrefix(db, options, gallery_id));
  return std::unique_ptr<GalleryStore>(
      new SqlGalleryStore(db, std::move(prefix), std::move(gallery_id)));
}

}  // namespace facetrail::gallery::internal
