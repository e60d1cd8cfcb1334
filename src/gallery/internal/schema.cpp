#include "gallery/internal/schema.h"

#include "common/sql_dialect.h"

namespace facetrail::gallery::internal {

namespace {

// v3: templates of any dimension (one per model: dim), and the model searches use. A gallery made
// before holds 128-number templates of one model, which becomes the active one.
constexpr const char* kV3 = R"sql(
CREATE TABLE templates_v3 (
  id            INTEGER PRIMARY KEY,
  photo_id      INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
  face_index    INTEGER NOT NULL,
  model_id      TEXT NOT NULL,
  model_version INTEGER NOT NULL,
  dim           INTEGER NOT NULL CHECK (dim BETWEEN 16 AND 4096 AND dim % 16 = 0),
  templ         BLOB NOT NULL CHECK (length(templ) = 4 * dim),
  box_x REAL, box_y REAL, box_w REAL, box_h REAL,
  detector_score REAL, eye_distance_px REAL, sharpness REAL,
  yaw_deg REAL, roll_deg REAL, pitch_deg REAL
);
INSERT INTO templates_v3
  SELECT id, photo_id, face_index, model_id, model_version, 128, templ, box_x, box_y, box_w, box_h,
         detector_score, eye_distance_px, sharpness, yaw_deg, roll_deg, pitch_deg
  FROM templates;
DROP TABLE templates;
ALTER TABLE templates_v3 RENAME TO templates;
CREATE INDEX templates_by_model ON templates(model_id, model_version, id);
CREATE INDEX templates_by_photo ON templates(photo_id);
INSERT INTO gallery_meta(key, value)
  SELECT 'active_model_id', model_id FROM templates
  GROUP BY model_id, model_version ORDER BY count(*) DESC, model_id LIMIT 1;
INSERT INTO gallery_meta(key, value)
  SELECT 'active_model_version', model_version FROM templates
  GROUP BY model_id, model_version ORDER BY count(*) DESC, model_id LIMIT 1;
INSERT INTO gallery_meta(key, value)
  SELECT 'active_model_dim', 128 FROM templates LIMIT 1;
)sql";

// On PostgreSQL v3 runs with the types mapped, then moves the identity of the copied table past
// the ids it was given explicitly (an identity column does not follow explicit values as
// SQLite's rowid does: the next enrolment would reuse template id 1).
constexpr const char* kV3PostgresIdentity = R"sql(
SELECT setval(pg_get_serial_sequence('templates', 'id'), coalesce(max(id), 0) + 1, false)
  FROM templates;
)sql";

}  // namespace

const std::vector<Migration>& GalleryMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
CREATE TABLE gallery_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE bookings (
  id             INTEGER PRIMARY KEY,
  booking_number TEXT NOT NULL UNIQUE CHECK (booking_number <> ''),
  name           TEXT,
  dob            TEXT,
  sex            TEXT,
  race_ethnicity TEXT,
  booking_date   TEXT,
  agency         TEXT,
  charge         TEXT,
  status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'sealed', 'expunged'))
);
CREATE TABLE photos (
  id           INTEGER PRIMARY KEY,
  booking_id   INTEGER NOT NULL REFERENCES bookings(id),
  sha256       TEXT NOT NULL UNIQUE,
  size_bytes   INTEGER NOT NULL,
  capture_date TEXT,
  source       TEXT NOT NULL,
  image        BLOB NOT NULL
);
CREATE TABLE templates (
  id            INTEGER PRIMARY KEY,
  photo_id      INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
  face_index    INTEGER NOT NULL,
  model_id      TEXT NOT NULL,
  model_version INTEGER NOT NULL,
  templ         BLOB NOT NULL CHECK (length(templ) = 512),
  box_x REAL, box_y REAL, box_w REAL, box_h REAL,
  detector_score REAL, eye_distance_px REAL, sharpness REAL,
  yaw_deg REAL, roll_deg REAL, pitch_deg REAL
);
CREATE INDEX templates_by_model ON templates(model_id, model_version, id);
CREATE INDEX templates_by_photo ON templates(photo_id);
CREATE TABLE template_changes (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  template_id   INTEGER NOT NULL,
  model_id      TEXT NOT NULL,
  model_version INTEGER NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('added', 'activated', 'deactivated', 'deleted'))
);
CREATE TABLE expunged_photos (
  sha256     TEXT PRIMARY KEY,
  booking_id INTEGER NOT NULL REFERENCES bookings(id)
);
)sql"},
      // v2: a note per photo (why an import flagged it), photos by booking.
      {2, R"sql(
ALTER TABLE photos ADD COLUMN note TEXT NOT NULL DEFAULT '';
CREATE INDEX photos_by_booking ON photos(booking_id);
)sql"},
      // v3: see kV3.
      {3, kV3, SqliteDdlToPostgres(kV3) + kV3PostgresIdentity},
      // v4: photos that are kept but not searched (a profile view from an ANSI/NIST-ITL Type-10
      // record: searchable = 0; its templates stay inactive whatever the booking's status), and
      // what the source said about a photo that no booking column holds (origin: JSON text, ''
      // for none), so that an import loses no field.
      {4, R"sql(
ALTER TABLE photos ADD COLUMN searchable INTEGER NOT NULL DEFAULT 1 CHECK (searchable IN (0, 1));
ALTER TABLE photos ADD COLUMN origin TEXT NOT NULL DEFAULT '';
)sql"},
      // v5: on PostgreSQL, every change to the searchable set (a row in template_changes) sends
      // NOTIFY facetrail_gallery, delivered to the other servers when its transaction commits,
      // so they catch up before their next search arrives (kGalleryChannel, gallery_store.h).
      // The per-search check of the change counter stays the guarantee. SQLite: nothing to do.
      {5, "SELECT 1;", R"sql(
CREATE FUNCTION facetrail_gallery_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('facetrail_gallery', '');
  RETURN NULL;
END $$;
CREATE TRIGGER template_changes_notify AFTER INSERT ON template_changes
  FOR EACH STATEMENT EXECUTE FUNCTION facetrail_gallery_notify();
)sql"},
  };
  return kMigrations;
}

}  // namespace facetrail::gallery::internal
