// A gallery made by an older schema is upgraded in place, keeping its data: on SQLite and on
// PostgreSQL (tests/common/pg_cluster.h), from an empty database and from every earlier version.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/db.h"
#include "gallery/fake_extractor.h"
#include "gallery/gallery_store.h"
#include "gallery/gallery_test_util.h"
#include "gallery/internal/schema.h"

namespace facetrail::gallery {
namespace {

class GalleryMigrationTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    FT_GALLERY_DB_OR_SKIP(GetParam(), dir_ / ("gallery" + std::to_string(++n_) + ".db"), uri_);
  }
  // The gallery schema up to `version` (1-based), on a raw connection.
  Expected<Db> OpenAtVersion(int version) {
    FT_ASSIGN_OR_RETURN(Db db, Db::Open(uri_));
    const auto& all = internal::GalleryMigrations();
    std::vector<Migration> steps(all.begin(), all.begin() + version);
    FT_RETURN_IF_ERROR(db.Migrate("gallery", steps));
    return db;
  }
  // A booking and its photo (bytes 1, 2, 3), written as the old schema allows.
  static void AddOldRows(Db& db, const std::string& gallery_id, const std::string& booking,
                         const std::string& name) {
    auto meta = db.Prepare("INSERT INTO gallery_meta(key, value) VALUES ('gallery_id', ?)");
    ASSERT_TRUE(meta.ok());
    meta->Bind(1, gallery_id);
    ASSERT_TRUE(meta->Run().ok());
    auto b = db.Prepare("INSERT INTO bookings(booking_number, name) VALUES (?, ?)");
    ASSERT_TRUE(b.ok());
    b->Bind(1, booking).Bind(2, name);
    ASSERT_TRUE(b->Run().ok());
    auto p = db.Prepare(
        "INSERT INTO photos(booking_id, sha256, size_bytes, source, image) "
        "VALUES (1, 'abc', 3, 'old.jpg', ?)");
    ASSERT_TRUE(p.ok());
    const std::vector<uint8_t> image = {1, 2, 3};
    p->BindBlob(1, image);
    ASSERT_TRUE(p->Run().ok());
  }
  testing::TempDir dir_{"gallery_migration"};
  int n_ = 0;
  std::string uri_;
};

TEST_P(GalleryMigrationTest, UpgradesVersion1InPlace) {
  {
    auto db = OpenAtVersion(1);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    AddOldRows(*db, "old-gallery", "B-OLD", "Old One");
    EXPECT_EQ(db->SchemaVersion("gallery").value(), 1);
  }
  {
    auto store = GalleryStore::Open(uri_, {.create_if_missing = false, .snapshot_dir = {}});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->gallery_id(), "old-gallery");
    EXPECT_EQ((*store)->GetBooking("B-OLD")->name, "Old One");
    auto photos = (*store)->ListPhotos("B-OLD");
    ASSERT_EQ(photos->size(), 1u);
    EXPECT_EQ((*photos)[0].note, "");      // column added by version 2
    EXPECT_TRUE((*photos)[0].searchable);  // version 4
    EXPECT_EQ((*store)->ReadPhoto((*photos)[0].id).value(), (std::vector<uint8_t>{1, 2, 3}));
  }
  auto db = Db::Open(uri_, false);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->SchemaVersion("gallery").value(), internal::GalleryMigrations().back().version);
  // A newer database than the program knows is refused.
  ASSERT_TRUE(db->Exec("UPDATE schema_versions SET version = 99 WHERE component = 'gallery'").ok());
  EXPECT_EQ(GalleryStore::Open(uri_).status().code(), StatusCode::kFailedPrecondition);
}

// From an empty database, and from each earlier version (empty), to the last: every step runs
// on the engine, and the result takes an enrolment and finds it.
TEST_P(GalleryMigrationTest, UpgradesFromEveryEarlierVersion) {
  const int last = internal::GalleryMigrations().back().version;
  for (int from = 0; from < last; ++from) {
    SCOPED_TRACE("from version " + std::to_string(from));
    if (from > 0) {
      SetUp();  // a fresh database
      auto db = OpenAtVersion(from);
      ASSERT_TRUE(db.ok()) << db.status().ToString();
    }
    auto store = GalleryStore::Open(uri_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const std::string text = "photo";
    std::vector<NewTemplate> t = {{0, {}, {}, testing::SeedTemplate(5)}};
    BookingRecord r;
    r.booking_number = "B-1";
    r.name = "One";
    ASSERT_TRUE((*store)
                    ->AddPhoto(r, {{text.begin(), text.end()}, {}, "a.jpg", "", true, ""},
                               testing::FakeModel(), t)
                    .ok());
    EXPECT_EQ((*store)->Stats()->searchable_templates, 1);
    EXPECT_EQ((*store)->ChangeCounter().value(), 1);
  }
}

// Version 3 makes the template dimension a column: a version-2 gallery's 128-number templates
// keep their bytes (and ids), gain dim = 128, and their model becomes the active one (searches
// go on). On PostgreSQL the copied table's identity continues after the copied ids.
TEST_P(GalleryMigrationTest, Version2TemplatesBecome128DimensionalAndActive) {
  std::vector<uint8_t> blob(512);
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<uint8_t>(i * 7);
  {
    auto db = OpenAtVersion(2);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    AddOldRows(*db, "v2-gallery", "B-1", "One");
    auto ins = db->Prepare(
        "INSERT INTO templates(photo_id, face_index, model_id, model_version, templ) "
        "VALUES (1, 0, 'faceapi-1.7.15-resnet29/similarity-flip', 1, ?)");
    ASSERT_TRUE(ins.ok());
    ins->BindBlob(1, blob);
    ASSERT_TRUE(ins->Run().ok());
  }
  auto store = GalleryStore::Open(uri_, {.create_if_missing = false, .snapshot_dir = {}});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto active = (*store)->ActiveModel();
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  ASSERT_TRUE(active->has_value());
  EXPECT_EQ(**active, (ModelRef{"faceapi-1.7.15-resnet29/similarity-flip", 1, 128}));
  int rows = 0;
  ASSERT_TRUE((*store)
                  ->ScanTemplates(
                      **active, [](int64_t, int64_t) { return Status::Ok(); },
                      [&](int64_t id, bool, std::span<const float> t) {
                        ++rows;
                        EXPECT_EQ(id, 1);
                        EXPECT_EQ(t.size(), 128u);
                        EXPECT_EQ(std::memcmp(t.data(), blob.data(), blob.size()), 0);
                        return Status::Ok();
                      })
                  .ok());
  EXPECT_EQ(rows, 1);
  // The next template gets a new id (PostgreSQL: the identity was moved past the copy).
  const std::string text = "new photo";
  std::vector<NewTemplate> t = {{0, {}, {}, testing::SeedTemplate(9)}};
  BookingRecord r;
  r.booking_number = "B-2";
  r.name = "Two";
  auto added =
      (*store)->AddPhoto(r, {{text.begin(), text.end()}, {}, "b.jpg", "", true, ""}, **active, t);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  auto owners = (*store)->DescribeTemplates(std::vector<int64_t>{2});
  ASSERT_TRUE(owners.ok()) << owners.status().ToString();
  EXPECT_EQ((*owners)[0].booking_number, "B-2");
  // The new CHECK holds: a blob that disagrees with its dimension cannot be written.
  auto db = Db::Open(uri_, false);
  ASSERT_TRUE(db.ok());
  EXPECT_FALSE(db->Exec("UPDATE templates SET dim = 256").ok());
}

// A gallery that never had a photo has no active model until its first enrolment.
TEST_P(GalleryMigrationTest, NewGalleryHasNoActiveModelUntilItsFirstPhoto) {
  auto store = GalleryStore::Open(uri_);
  ASSERT_TRUE(store.ok());
  auto active = (*store)->ActiveModel();
  ASSERT_TRUE(active.ok());
  EXPECT_FALSE(active->has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, GalleryMigrationTest, testing::kBackends, testing::BackendName);

}  // namespace
}  // namespace facetrail::gallery
