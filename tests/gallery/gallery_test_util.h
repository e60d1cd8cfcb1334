// Helpers for gallery tests: a temporary folder of fake images and manifests, a canonical dump of a
// gallery database for "exactly the same gallery" comparisons, and the two back-ends the
// storage-facing tests run on (SQLite, and PostgreSQL from tests/common/pg_cluster.h).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/db.h"
#include "common/db_query.h"
#include "common/file.h"
#include "common/pg_cluster.h"

namespace facetrail::gallery::testing {

// The engine a parameterised test runs on: INSTANTIATE_TEST_SUITE_P(Backends, X, kBackends,
// BackendName).
enum class Backend { kSqlite, kPostgres };
inline const auto kBackends = ::testing::Values(Backend::kSqlite, Backend::kPostgres);
inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

// `uri` = a new gallery database for `backend`: `sqlite_path` (a file, or ":memory:"), or a fresh
// database on the test cluster (skips, or fails with FACETRAIL_REQUIRE_POSTGRES=1, without one).
#define FT_GALLERY_DB_OR_SKIP(backend, sqlite_path, uri)                  \
  do {                                                                    \
    if ((backend) == ::facetrail::gallery::testing::Backend::kPostgres) { \
      FT_PG_DATABASE_OR_SKIP(uri);                                        \
    } else {                                                              \
      (uri) = (sqlite_path);                                              \
    }                                                                     \
  } while (0)

class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    path_ = std::filesystem::temp_directory_path() /
            ("ft_" + name + "_" + std::to_string(getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& f) const { return (path_ / f).string(); }
  void Write(const std::string& f, const std::string& text) const {
    std::ofstream(path_ / f, std::ios::binary) << text;
  }
  static void WriteFile(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

inline std::string ReadText(const std::string& path) {
  auto bytes = ReadFileBytes(path);
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : std::string("<unreadable>");
}

// Every row of every gallery table except the random gallery id, in a fixed order.
inline std::string DumpGallery(const std::string& db_path) {
  auto db = Db::Open(db_path, false);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return "";
  struct Table {
    const char* name;
    const char* columns;
  };
  const Table tables[] = {
      {"bookings",
       "id, booking_number, name, dob, sex, race_ethnicity, booking_date, agency, "
       "charge, status"},
      {"photos",
       "id, booking_id, sha256, size_bytes, capture_date, source, image, note, searchable, "
       "origin"},
      {"templates",
       "id, photo_id, face_index, model_id, model_version, dim, templ, box_x, box_y, "
       "box_w, box_h, detector_score, eye_distance_px, sharpness, yaw_deg, "
       "roll_deg, pitch_deg"},
      {"template_changes", "seq, template_id, model_id, model_version, kind"},
      {"expunged_photos", "sha256, booking_id"}};
  std::string out;
  for (const Table& t : tables) {
    std::string cols = t.columns, expr;
    size_t start = 0;
    while (start < cols.size()) {
      size_t comma = cols.find(',', start);
      if (comma == std::string::npos) comma = cols.size();
      std::string c = cols.substr(start, comma - start);
      while (!c.empty() && c[0] == ' ') c.erase(0, 1);
      // quote(): SQLite's literal of any value; PostgreSQL's quote_nullable is the same idea.
      expr += (expr.empty() ? "" : " || '|' || ") +
              std::string(db->dialect() == SqlDialect::kPostgres ? "quote_nullable(" : "quote(") +
              c + ")";
      start = comma + 1;
    }
    auto st = db->Prepare("SELECT " + expr + " FROM " + t.name + " ORDER BY 1");
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return "";
    out += std::string("## ") + t.name + "\n" + ::facetrail::testing::ColumnLines(*st);
  }
  return out;
}

// The gallery's content without surrogate ids, for comparisons across runs whose ids may
// differ: PostgreSQL's identities are handed out outside transactions, so a killed or
// rolled-back write leaves a gap (docs/DATABASE.md) where SQLite would reuse the id.
// Every row of every gallery table, in id order (the commit order), with each reference written
// as the natural key it points at: a photo's booking number, a template's photo SHA-256 and face
// index, a change's template likewise. A lost, duplicated, reordered or re-pointed row, or a
// dangling reference (NULL), changes the text; only the id values themselves do not count.
// The value text is the engine's (quote / quote_nullable): compare dumps of one engine.
inline std::string DumpGalleryContent(const std::string& uri) {
  auto db = Db::Open(uri, false);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return "";
  const std::string q = db->dialect() == SqlDialect::kPostgres ? "quote_nullable(" : "quote(";
  auto join = [&](std::initializer_list<const char*> columns) {
    std::string expr;
    for (const char* c : columns) expr += (expr.empty() ? "" : " || '|' || ") + q + c + ")";
    return expr;
  };
  const std::pair<const char*, std::string> tables[] = {
      {"bookings", "SELECT " +
                       join({"booking_number", "name", "dob", "sex", "race_ethnicity",
                             "booking_date", "agency", "charge", "status"}) +
                       " FROM bookings ORDER BY id"},
      {"photos", "SELECT " +
                     join({"b.booking_number", "p.sha256", "p.size_bytes", "p.capture_date",
                           "p.source", "p.image", "p.note", "p.searchable", "p.origin"}) +
                     " FROM photos p LEFT JOIN bookings b ON b.id = p.booking_id ORDER BY p.id"},
      {"templates",
       "SELECT " +
           join({"p.sha256", "t.face_index", "t.model_id", "t.model_version", "t.dim", "t.templ",
                 "t.box_x", "t.box_y", "t.box_w", "t.box_h", "t.detector_score",
                 "t.eye_distance_px", "t.sharpness", "t.yaw_deg", "t.roll_deg", "t.pitch_deg"}) +
           " FROM templates t LEFT JOIN photos p ON p.id = t.photo_id ORDER BY t.id"},
      {"template_changes",
       "SELECT " +
           join({"p.sha256", "t.face_index", "t.model_id", "c.model_id", "c.model_version",
                 "c.kind"}) +
           " FROM template_changes c LEFT JOIN templates t ON t.id = c.template_id "
           "LEFT JOIN photos p ON p.id = t.photo_id ORDER BY c.seq"},
      {"expunged_photos", "SELECT " + join({"e.sha256", "b.booking_number"}) +
                              " FROM expunged_photos e LEFT JOIN bookings b ON b.id = "
                              "e.booking_id ORDER BY e.sha256"}};
  std::string out;
  for (const auto& [name, sql] : tables) {
    auto st = db->Prepare(sql);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return "";
    out += std::string("## ") + name + "\n" + ::facetrail::testing::ColumnLines(*st);
  }
  return out;
}

// `text` with every "photo <id>" (how enrolment's rejects name the photo a duplicate repeats)
// replaced by "photo sha256:<hex>" of that photo in the gallery at `uri`: the same rejects file
// compared across runs whose ids differ. An id without a photo becomes "photo <id>?".
inline std::string PhotoIdsAsHashes(const std::string& text, const std::string& uri) {
  auto db = Db::Open(uri, false);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return text;
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t at = text.find("photo ", pos);
    if (at == std::string::npos) break;
    size_t end = at + 6;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    out += text.substr(pos, end - pos);
    if (end > at + 6) {
      out.resize(out.size() - (end - at - 6));
      auto st = db->Prepare("SELECT sha256 FROM photos WHERE id = ?");
      EXPECT_TRUE(st.ok());
      if (!st.ok()) return text;
      st->Bind(1, int64_t{std::stoll(text.substr(at + 6, end - at - 6))});
      auto row = st->Step();
      out += row.ok() && *row ? "sha256:" + st->Text(0) : text.substr(at + 6, end - at - 6) + "?";
    }
    pos = end;
  }
  return out + text.substr(pos);
}

}  // namespace facetrail::gallery::testing
