// A gallery file made by an older schema is upgraded in place, keeping its data.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/db.h"
#include "gallery/gallery_store.h"
#include "gallery/internal/schema.h"

namespace facetrail::gallery {
namespace {

TEST(GalleryMigration, UpgradesVersion1InPlace) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("ft_migrate_" + std::to_string(getpid()) + ".db"))
          .string();
  std::filesystem::remove(path);
  {
    auto db = Db::Open(path);
    ASSERT_TRUE(db.ok());
    const auto& all = internal::GalleryMigrations();
    ASSERT_GE(all.size(), 2u);
    ASSERT_TRUE(db->Migrate("gallery", {all[0]}).ok());
    ASSERT_TRUE(db->Exec("INSERT INTO gallery_meta VALUES ('gallery_id', 'old-gallery');"
                         "INSERT INTO bookings(booking_number, name) VALUES ('B-OLD', 'Old One');"
                         "INSERT INTO photos(booking_id, sha256, size_bytes, source, image) "
                         "VALUES (1, 'abc', 3, 'old.jpg', x'010203');")
                    .ok());
    EXPECT_EQ(db->SchemaVersion("gallery").value(), 1);
  }
  {
    auto store = GalleryStore::Open(path, {.create_if_missing = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->gallery_id(), "old-gallery");
    EXPECT_EQ((*store)->GetBooking("B-OLD")->name, "Old One");
    auto photos = (*store)->ListPhotos("B-OLD");
    ASSERT_EQ(photos->size(), 1u);
    EXPECT_EQ((*photos)[0].note, "");  // column added by version 2
    EXPECT_EQ((*store)->ReadPhoto((*photos)[0].id).value(), (std::vector<uint8_t>{1, 2, 3}));
  }
  auto db = Db::Open(path, false);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->SchemaVersion("gallery").value(), internal::GalleryMigrations().back().version);
  // A newer file than the program knows is refused.
  ASSERT_TRUE(db->Exec("UPDATE schema_versions SET version = 99 WHERE component = 'gallery'").ok());
  EXPECT_EQ(GalleryStore::Open(path).status().code(), StatusCode::kFailedPrecondition);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

// Version 3 makes the template dimension a column: a version-2 gallery's 128-number templates
// keep their bytes, gain dim = 128, and their model becomes the active one (searches go on).
TEST(GalleryMigration, Version2TemplatesBecome128DimensionalAndActive) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("ft_migrate3_" + std::to_string(getpid()) + ".db"))
          .string();
  std::filesystem::remove(path);
  std::vector<uint8_t> blob(512);
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<uint8_t>(i * 7);
  {
    auto db = Db::Open(path);
    ASSERT_TRUE(db.ok());
    const auto& all = internal::GalleryMigrations();
    ASSERT_GE(all.size(), 3u);
    ASSERT_TRUE(db->Migrate("gallery", {all[0], all[1]}).ok());
    ASSERT_TRUE(db->Exec("INSERT INTO gallery_meta VALUES ('gallery_id', 'v2-gallery');"
                         "INSERT INTO bookings(booking_number, name) VALUES ('B-1', 'One');"
                         "INSERT INTO photos(booking_id, sha256, size_bytes, source, image) "
                         "VALUES (1, 'abc', 3, 'one.jpg', x'010203');")
                    .ok());
    auto ins = db->Prepare(
        "INSERT INTO templates(photo_id, face_index, model_id, model_version, templ) "
        "VALUES (1, 0, 'faceapi-1.7.15-resnet29/similarity-flip', 1, ?)");
    ASSERT_TRUE(ins.ok());
    ins->BindBlob(1, blob);
    ASSERT_TRUE(ins->Run().ok());
  }
  auto store = GalleryStore::Open(path, {.create_if_missing = false});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto active = (*store)->ActiveModel();
  ASSERT_TRUE(active.ok());
  ASSERT_TRUE(active->has_value());
  EXPECT_EQ(**active, (ModelRef{"faceapi-1.7.15-resnet29/similarity-flip", 1, 128}));
  int rows = 0;
  ASSERT_TRUE((*store)
                  ->ScanTemplates(
                      **active, [](int64_t, int64_t) { return Status::Ok(); },
                      [&](int64_t, bool, std::span<const float> t) {
                        ++rows;
                        EXPECT_EQ(t.size(), 128u);
                        EXPECT_EQ(std::memcmp(t.data(), blob.data(), blob.size()), 0);
                        return Status::Ok();
                      })
                  .ok());
  EXPECT_EQ(rows, 1);
  // The new CHECK holds: a blob that disagrees with its dimension cannot be written.
  auto db = Db::Open(path, false);
  ASSERT_TRUE(db.ok());
  EXPECT_FALSE(db->Exec("UPDATE templates SET dim = 256").ok());
  store->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

// A gallery that never had a photo has no active model until its first enrolment.
TEST(GalleryMigration, NewGalleryHasNoActiveModelUntilItsFirstPhoto) {
  auto store = GalleryStore::Open(":memory:");
  ASSERT_TRUE(store.ok());
  auto active = (*store)->ActiveModel();
  ASSERT_TRUE(active.ok());
  EXPECT_FALSE(active->has_value());
}

}  // namespace
}  // namespace facetrail::gallery
