// A gallery file made by an older schema is upgraded in place, keeping its data.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/sqlite.h"
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
    auto db = SqliteDb::Open(path);
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
  auto db = SqliteDb::Open(path, false);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->SchemaVersion("gallery").value(), internal::GalleryMigrations().back().version);
  // A newer file than the program knows is refused.
  ASSERT_TRUE(db->Exec("UPDATE schema_versions SET version = 99 WHERE component = 'gallery'").ok());
  EXPECT_EQ(GalleryStore::Open(path).status().code(), StatusCode::kFailedPrecondition);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

}  // namespace
}  // namespace facetrail::gallery
