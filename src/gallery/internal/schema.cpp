#include "gallery/internal/schema.h"

namespace facetrail::gallery::internal {

const std::vector<SqliteMigration>& GalleryMigrations() {
  static const std::vector<SqliteMigration> kMigrations = {
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
  };
  return kMigrations;
}

}  // namespace facetrail::gallery::internal
